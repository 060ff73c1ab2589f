"""The audit trail against tampering: plain SQL on the real SQLite file and on PostgreSQL.

Each tamper is what someone with a SQL client could do; `inspector audit verify` must catch it,
name the first bad entry, and exit non-zero.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from inspector.domain import utc_now
from inspector.store import Store
from inspector.store.audit import retention, users
from inspector.store.audit.hash_chain import GENESIS, canonical_json, entry_hash
from tests.support.records_data import (
    PASSWORDS,
    inspector,
    make_users,
    plain_query,
    plain_sql,
    populate,
)


def _entry_of(store: Store, entity_type: str, entity_id: object) -> int:
    [entry] = store.audit_entries(5, entity_type, entity_id)
    return entry.seq


@pytest.fixture
def chain(settings):
    """A station's records, people, an override and a recipe approval: a chain of ~20 entries."""
    with Store.open(settings) as store:
        _, ids = populate(store, 5)
        people = make_users(store)
        erin = store.authenticate("erin", PASSWORDS["erin"])
        store.approve_recipe(erin, PASSWORDS["erin"], "bracket", 1, "approved")
        olly = people["olly"]
        store.override_verdict(
            olly, PASSWORDS["olly"], ids[2], "PASS", "dust, not a scratch", "reviewed"
        )
        yield store, ids


def test_every_change_is_an_entry_and_the_untouched_chain_verifies(chain, settings):
    store, ids = chain
    actions = [e.action for e in reversed(store.audit_entries(100))]
    assert actions[:3] == ["chain.started", "user.added", "recipe.saved"]
    assert actions.count("inspection.recorded") == 5
    assert {"user.login", "recipe.approved", "verdict.overridden"} <= set(actions)
    recorded = store.audit_entries(1, "inspection", ids[0])[0]
    assert recorded.user_name == "station"  # the headless station's service account
    report = store.verify()
    assert report.ok, report.problems
    assert report.entries == report.head.seq == len(actions)

    result = inspector(settings, "audit", "verify")
    assert result.returncode == 0, result.stderr
    assert f"audit chain intact: {len(actions)} entries" in result.stdout


def _tamper_verdict(store, settings, ids):
    plain_sql(
        settings,
        "UPDATE inspections SET outcome = CASE outcome WHEN 'PASS' THEN 'FAIL' ELSE 'PASS' END "
        f"WHERE id = {ids[0]}",
    )
    return _entry_of(store, "inspection", ids[0]), "was changed after it was recorded"


def _delete_entry(store, settings, ids):
    seq = _entry_of(store, "inspection", ids[1])
    plain_sql(settings, f"DELETE FROM audit_entries WHERE seq = {seq}")
    return seq, "missing: deleted from the chain"


def _insert_entry(store, settings, ids):
    """A forged entry with a correct hash, as someone who read the code would write it."""
    head = store.audit_head()
    new = canonical_json({"outcome": "PASS"})
    at = utc_now()
    digest = entry_hash(
        head.seq + 1,
        at,
        "ada",
        "verdict.overridden",
        "override",
        "99",
        None,
        new,
        "",
        None,
        head.hash,
    )
    plain_sql(
        settings,
        "INSERT INTO audit_entries (seq, at, user_name, action, entity_type, entity_id, "
        "old_value, new_value, reason, signature_id, prev_hash, hash) VALUES "
        f"({head.seq + 1}, '{_sql_time(settings, at)}', 'ada', 'verdict.overridden', "
        f"'override', '99', NULL, '{new}', '', NULL, '{head.hash}', '{digest}')",
    )
    return head.seq + 1, "past the chain head: inserted"


def _sql_time(settings, at) -> str:
    """A UTC time as each database's own SQLAlchemy type stores it."""
    text = at.strftime("%Y-%m-%d %H:%M:%S.%f")
    return text if settings.database_url.startswith("sqlite") else f"{text}+00:00"


def _swap_entries(store, settings, ids):
    first = _entry_of(store, "inspection", ids[2])
    plain_sql(
        settings,
        f"UPDATE audit_entries SET seq = -1 WHERE seq = {first}",
        f"UPDATE audit_entries SET seq = {first} WHERE seq = {first + 1}",
        f"UPDATE audit_entries SET seq = {first + 1} WHERE seq = -1",
    )
    return first, f"out of order: it was written after entry #{first + 1} (moved)"


def _edit_entry(store, settings, ids):
    entries = store.audit_entries(50, "user", "olly")
    seq = min(e.seq for e in entries if e.action == "user.added")
    plain_sql(settings, f"UPDATE audit_entries SET reason = 'hired' WHERE seq = {seq}")
    return seq, "was changed after it was written"


def _promote_user(store, settings, ids):
    plain_sql(settings, "UPDATE users SET role = 'admin' WHERE name = 'olly'")
    entries = store.audit_entries(50, "user", "olly")
    return min(e.seq for e in entries if e.action == "user.added"), "user olly was changed"


def _delete_inspection(store, settings, ids):
    victim = ids[3]
    plain_sql(
        settings,
        f"DELETE FROM defects WHERE inspection_id = {victim}",
        f"DELETE FROM judge_attempts WHERE inspection_id = {victim}",
        f"DELETE FROM inspections WHERE id = {victim}",
    )
    return _entry_of(store, "inspection", victim), "was deleted outside a purge"


def _forge_override(store, settings, ids):
    signed = "SELECT signature_id FROM audit_entries WHERE signature_id IS NOT NULL"
    signature = plain_query(settings, signed)[0][0]
    plain_sql(
        settings,
        "INSERT INTO overrides (inspection_id, previous_outcome, outcome, reason, user_name, "
        f"created_at, signature_id) VALUES ({ids[0]}, 'FAIL', 'PASS', 'x', 'ada', "
        f"'2026-01-01 00:00:00', {signature})",
    )
    return None, "override 2 has no audit entry"


TAMPERS = {
    "verdict changed": _tamper_verdict,
    "audit row deleted": _delete_entry,
    "audit row inserted": _insert_entry,
    "two audit rows swapped": _swap_entries,
    "audit row edited": _edit_entry,
    "user promoted": _promote_user,
    "inspection deleted": _delete_inspection,
    "override forged": _forge_override,
}

# The four the issue names also go through the command line; the others through the API.
CLI_TAMPERS = (
    "verdict changed",
    "audit row deleted",
    "audit row inserted",
    "two audit rows swapped",
)


@pytest.mark.parametrize("tamper", TAMPERS)
def test_tampering_is_caught_and_the_first_bad_entry_named(tamper, chain, settings):
    store, ids = chain
    seq, words = TAMPERS[tamper](store, settings, ids)
    report = store.verify()
    assert not report.ok
    assert report.first.seq == seq
    assert words in report.first.message
    if seq is not None:
        assert f"#{seq}" in report.first.message

    if tamper not in CLI_TAMPERS:
        return
    result = inspector(settings, "audit", "verify")
    assert result.returncode == 1
    first_line = result.stdout.splitlines()[0]
    assert first_line.startswith("audit chain BROKEN: ") and words in first_line
    if seq is not None:
        assert f"#{seq}" in first_line


def test_a_rewritten_chain_fails_against_an_anchor_from_an_earlier_export(chain, settings):
    """Rewriting every hash from an entry on passes the chain alone; an anchor catches it."""
    store, ids = chain
    anchor = store.audit_head()
    entries = sorted(store.audit_entries(1000), key=lambda e: e.seq)
    edited = _entry_of(store, "inspection", ids[0])
    prev = GENESIS
    statements = []
    for e in entries:
        reason = "rewritten" if e.seq == edited else e.reason
        fields = (e.seq, e.at, e.user_name, e.action, e.entity_type, e.entity_id)
        old, new = canonical_json(e.old), canonical_json(e.new)
        rehashed = entry_hash(*fields, old, new, reason, e.signature_id, prev)
        if e.seq >= edited:
            statements.append(
                f"UPDATE audit_entries SET reason = '{reason}', "
                f"prev_hash = '{prev}', hash = '{rehashed}' WHERE seq = {e.seq}"
            )
        else:
            assert rehashed == e.hash  # recomputed from what the store reads, as it was hashed
        prev = rehashed
    statements.append(f"UPDATE audit_head SET hash = '{prev}'")
    plain_sql(settings, *statements)
    assert store.verify().ok  # a consistent forgery of the whole tail
    result = inspector(settings, "audit", "verify", "--anchor", f"{anchor.seq}:{anchor.hash}")
    assert result.returncode == 1
    assert "anchor" in result.stdout and f"#{anchor.seq}" in result.stdout


def test_purging_old_records_is_audited_and_keeps_the_chain_whole(settings):
    with Store.open(settings) as store:
        people = make_users(store)
        version_id, old = populate(store, 4, days_ago=400)
        from tests.support.records_data import record

        recent = [record(store, version_id, n) for n in (10, 11)]
        store.override_verdict(
            people["olly"], PASSWORDS["olly"], old[0], "PASS", "checked", "reviewed"
        )
        old_files = [r.evidence_path for r in store.history(10) if r.id in old]
        assert all(p.exists() for p in old_files)

        with pytest.raises(users.PermissionDenied, match="may not purge records"):
            store.purge(people["erin"], 365)
        result = store.purge(people["ada"], 365, "policy")
        assert (result.inspections, result.overrides, result.evidence_files) == (4, 1, 4)
        assert sorted(r.id for r in store.history(10)) == recent
        assert not any(p.exists() for p in old_files)
        [entry] = store.audit_entries(1, None, None)
        assert entry.action == "records.purged" and entry.user_name == "ada"
        assert entry.new["inspections"] == retention.ranges(old)
        report = store.verify()
        assert report.ok, report.problems
        # A purge entry covers exactly what it names: deleting a recent record still shows.
        plain_sql(
            settings,
            f"DELETE FROM judge_attempts WHERE inspection_id = {recent[0]}",
            f"DELETE FROM defects WHERE inspection_id = {recent[0]}",
            f"DELETE FROM inspections WHERE id = {recent[0]}",
        )
        assert "deleted outside a purge" in store.verify().first.message


def test_purge_through_the_cli_uses_the_retention_setting(sqlite_settings):
    settings = sqlite_settings
    with Store.open(settings) as store:
        make_users(store)
        populate(store, 3, days_ago=40)
    missing = inspector(settings, "purge", user="ada")
    assert missing.returncode == 2 and "no retention period" in missing.stderr
    changed = inspector(settings, "setting", "set", "retention_days", "30", user="ada")
    assert changed.returncode == 0 and "retention_days: None -> 30" in changed.stdout
    denied = inspector(settings, "purge", user="olly")
    assert denied.returncode == 4 and "may not purge records" in denied.stderr
    purged = inspector(settings, "purge", user="ada")
    assert purged.returncode == 0, purged.stderr
    assert purged.stdout.startswith("purged 3 inspections")
    assert inspector(settings, "audit", "verify").returncode == 0
    [entry] = json.loads(inspector(settings, "audit", "log", "--json", "--limit", "1").stdout)
    assert (entry["action"], entry["user_name"], entry["new"]["count"]) == (
        "records.purged",
        "ada",
        3,
    )
    assert entry["reason"] == "retention: older than 30 days"


def test_concurrent_writers_never_fork_the_chain(settings):
    """Stations on many threads, each with its own store (own connections), append at once."""
    import threading

    stores = [Store.open(settings) for _ in range(4)]
    version_id, _ = populate(stores[0], 1)
    from tests.support.records_data import record

    errors = []

    def station(store, base):
        try:
            for n in range(base, base + 15):
                record(store, version_id, n)
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [
        threading.Thread(target=station, args=(s, 100 * (i + 1))) for i, s in enumerate(stores)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    report = stores[0].verify()
    assert report.ok, report.problems
    assert len(stores[0].audit_entries(200, "inspection")) == 61
    for store in stores:
        store.close()


def test_an_old_database_gets_a_chain_that_its_earlier_records_do_not_break(tmp_path):
    """Records written before the audit trail existed are named by entry #1, not flagged."""
    from inspector.config import Settings
    from inspector.store import database

    settings = Settings.from_env(data_dir=tmp_path / "data", database_url=None)
    database.migrate(settings.database_url, "0001")
    plain_sql(
        settings,
        "INSERT INTO recipe_versions (name, version, sha256, content, reference_sha256, "
        "created_at) VALUES ('old', 1, 'abc', 'x', '', '2025-01-01 00:00:00')",
    )
    with Store.open(settings) as store:
        [first] = [e for e in store.audit_entries(10) if e.seq == 1]
        assert first.action == "chain.started"
        assert first.new == {"inspections_before": 0, "recipe_versions_before": 1}
        assert store.verify().ok


def test_failed_logins_are_entries_without_the_password(settings):
    with Store.open(settings) as store:
        make_users(store)
        with pytest.raises(users.LoginFailed, match="wrong user name or password"):
            store.authenticate("olly", "not my password")
        with pytest.raises(users.LoginFailed):
            store.authenticate("mallory", "guess")
        failed = [e for e in store.audit_entries(10) if e.action == "user.login_failed"]
        assert [(e.entity_id, e.reason) for e in failed] == [
            ("mallory", "unknown user"),
            ("olly", "wrong password"),
        ]
        everything = " ".join(
            str(v) for row in plain_query(settings, "SELECT * FROM audit_entries") for v in row
        )
        assert "not my password" not in everything and "guess" not in everything
        assert store.verify().ok


def test_an_entry_from_before_a_verify_run_is_not_flagged_as_inserted(settings):
    """Entries appended while verify runs are past the head it read: left for the next run."""
    with Store.open(settings) as store:
        populate(store, 2)
        calls = []

        def append_meanwhile(count):
            if not calls:
                calls.append(count)
                from tests.support.records_data import record

                record(store, 1, 50)

        report = store.verify(batch=1, progress=append_meanwhile)
        assert report.ok, report.problems
        assert store.verify().entries == report.entries + 1


def test_the_time_of_an_entry_is_utc_with_microseconds(settings):
    with Store.open(settings) as store:
        populate(store, 1)
        entry = store.audit_entries(1)[0]
        assert entry.at.utcoffset() == timedelta(0)
        assert abs(utc_now() - entry.at) < timedelta(minutes=1)
