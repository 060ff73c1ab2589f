"""Reading the audit trail with one filter (CLI `audit log`, the window's audit view, its CSV),
and the account changes the window makes (role, reactivation, logout): real SQLite file and
real PostgreSQL schema."""

from __future__ import annotations

from datetime import timedelta

import pytest

from inspector.domain import utc_now
from inspector.errors import InputError
from inspector.store import Store
from inspector.store.audit.trail_query import AuditFilter
from tests.support.records_data import PASSWORDS, inspector, make_users, plain_sql, populate


@pytest.fixture
def trail(settings):
    with Store.open(settings) as store:
        _, ids = populate(store, 4)
        people = make_users(store)
        olly = store.authenticate("olly", PASSWORDS["olly"])
        decided = store.override_verdict(
            olly, PASSWORDS["olly"], ids[2], "PASS", "dust, not a scratch", "reviewed"
        )
        store.log_out(olly)
        yield store, ids, people, decided


def test_an_inspections_entries_include_its_override_in_the_store_and_the_cli(trail, settings):
    store, ids, _, decided = trail
    found = store.audit_search(AuditFilter.of_entity(f"inspection:{ids[2]}"), 10)
    assert [(e.action, e.entity_type, e.entity_id) for e in found] == [
        ("verdict.overridden", "override", str(decided.id)),
        ("inspection.recorded", "inspection", str(ids[2])),
    ]
    # Another inspection's entries hold no override (id 1 must not match 12, 13...).
    first = AuditFilter.of_entity(f"inspection:{ids[0]}")
    assert [e.action for e in store.audit_search(first, 9)] == ["inspection.recorded"]
    # `audit_entries` keeps to the one record named.
    assert [e.action for e in store.audit_entries(10, "inspection", ids[2])] == [
        "inspection.recorded"
    ]
    result = inspector(settings, "audit", "log", "--entity", f"inspection:{ids[2]}")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 2 and "verdict.overridden" in lines[0] and "olly" in lines[0]
    # The override row gone (as retention purges it): its entry still names the inspection.
    plain_sql(settings, f"DELETE FROM overrides WHERE id = {decided.id}")
    assert [
        e.action for e in store.audit_search(AuditFilter.of_entity(f"inspection:{ids[2]}"), 10)
    ] == ["verdict.overridden", "inspection.recorded"]


def test_filters_match_as_typed_and_pages_cover_the_trail_once(trail):
    store, _, _, _ = trail
    everything = store.audit_search(AuditFilter(), limit=1000)
    assert len(everything) == store.audit_count(AuditFilter()) == store.audit_head().seq
    assert [e.seq for e in everything] == sorted((e.seq for e in everything), reverse=True)

    by_olly = store.audit_search(AuditFilter(actor="OLL"), limit=1000)
    assert {e.user_name for e in by_olly} == {"olly"}
    assert {e.action for e in by_olly} == {"user.login", "verdict.overridden", "user.logout"}
    logins = AuditFilter(action="login")
    assert {e.action for e in store.audit_search(logins, 100)} == {"user.login"}
    assert store.audit_count(AuditFilter(action="100%_")) == 0  # wildcards are literal
    assert store.audit_count(AuditFilter.of_entity("user:olly")) == len(
        [e for e in everything if (e.entity_type, e.entity_id) == ("user", "olly")]
    )

    now = utc_now()
    assert store.audit_count(AuditFilter(since=now + timedelta(minutes=1))) == 0
    assert store.audit_count(AuditFilter(until=now + timedelta(minutes=1))) == len(everything)

    pages = [store.audit_search(AuditFilter(), 5, offset) for offset in range(0, 100, 5)]
    assert [e.seq for page in pages for e in page] == [e.seq for e in everything]
    streamed = store.iter_audit_entries(AuditFilter(actor="a"))
    assert [e.seq for e in streamed] == [
        e.seq for e in store.audit_search(AuditFilter(actor="a"), 1000)
    ]
    assert "user.logout" in store.audit_actions()
    assert set(store.last_logins()) == {"olly"}


def test_role_changes_and_reactivation_are_audited_and_the_chain_verifies(trail):
    store, _, people, _ = trail
    ada = people["ada"]
    assert store.set_user_role(ada, "olly", "engineer", "trained").value == "operator"
    with pytest.raises(InputError, match="last administrator"):
        store.set_user_role(ada, "ada", "operator")
    with pytest.raises(InputError, match="service account"):
        store.set_user_role(ada, "station", "admin")
    store.disable_user(ada, "erin", "left")
    store.enable_user(ada, "erin", "back")
    with pytest.raises(InputError, match="active already"):
        store.enable_user(ada, "erin")
    by_role = {u.name: (u.role.value, u.disabled) for u in store.list_users()}
    assert by_role["olly"] == ("engineer", False) and by_role["erin"] == ("engineer", False)
    actions = [e.action for e in store.audit_entries(3)]
    assert actions == ["user.enabled", "user.disabled", "user.role_changed"]
    assert store.verify(evidence=False).ok
    assert store.password_problem("short", "olly", "operator").startswith("a password needs")
    assert store.password_problem("a long enough one", "olly", "operator") is None
    assert "administrator" in store.password_problem("a long enough one", "olly", "admin")


def test_the_cli_filters_by_actor_action_and_date(trail, settings):
    def log(*args: str) -> list[str]:
        result = inspector(settings, "audit", "log", "--limit", "500", *args)
        assert result.returncode == 0, result.stderr
        return result.stdout.splitlines()

    lines = log("--actor", "olly", "--action", "log")
    assert [line.split()[4] for line in lines] == ["user.logout", "user.login"]
    today = utc_now().astimezone().date()
    assert len(log("--since", str(today))) == trail[0].audit_count(AuditFilter())
    assert log("--since", str(today + timedelta(days=1))) == []
    refused = inspector(settings, "audit", "log", "--until", "last tuesday")
    assert refused.returncode == 2 and "--until 'last tuesday': give a date" in refused.stderr
