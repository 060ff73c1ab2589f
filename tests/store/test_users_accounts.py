"""Accounts on a real SQLite file and a real PostgreSQL schema: the lockout after wrong
passwords (logins, signatures, password changes), the password policy, changing a password,
and the lockout's migration from a database made before it."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from inspector.domain import utc_now
from inspector.errors import InputError
from inspector.store import Store
from inspector.store import database as store_database
from inspector.store.audit import password_policy, users
from tests.support.records_data import PASSWORDS, make_users, plain_query, plain_sql, populate

LOCKED = re.compile(
    r"^account olly is locked until \d\d:\d\d \((\d+) failed attempts\); "
    r"an admin can unlock it with `inspector user unlock olly`$"
)


def _actions(store: Store, name: str) -> list[str]:
    return [e.action for e in reversed(store.audit_entries(200, "user", name))]


def _every_stored_text(settings) -> str:
    """Everything the trail and the users table hold, as one text: where a password must not be."""
    entries = plain_query(
        settings, "SELECT user_name, action, old_value, new_value, reason FROM audit_entries"
    )
    people = plain_query(settings, "SELECT name, full_name, password_hash FROM users")
    return repr(entries) + repr(people)


def test_wrong_passwords_lock_the_account_even_against_the_right_one(settings):
    """The issue's case: 25 wrong passwords, then the right one, no longer logs in."""
    with Store.open(settings) as store:
        make_users(store)
        for attempt in range(1, 26):
            with pytest.raises(users.LoginFailed) as refused:
                store.authenticate("olly", f"guess number {attempt}")
            # The default site setting: the fifth wrong password locks, and says so.
            assert isinstance(refused.value, users.AccountLocked) == (attempt >= 5)
        with pytest.raises(users.AccountLocked) as locked:
            store.authenticate("olly", PASSWORDS["olly"])
        assert LOCKED.match(str(locked.value)).group(1) == "5"
        actions = _actions(store, "olly")
        assert actions.count("user.login_failed") == 26
        assert actions.count("user.locked") == 1 and "user.login" not in actions
        entries = store.audit_entries(200, "user", "olly")
        reasons = [e.reason for e in entries]
        counts = [e.new for e in reversed(entries) if e.reason == "wrong password"]
        assert counts == [{"failed_attempts": n, "lockout_attempts": 5} for n in range(1, 6)]
        assert reasons.count("account locked") == 21  # 20 guesses and the right one, unchecked
        [olly] = [u for u in store.list_users() if u.name == "olly"]
        assert olly.failed_logins == 5 and olly.locked_until > utc_now()
        # Other accounts are not touched, and the chain still verifies.
        assert store.authenticate("erin", PASSWORDS["erin"]).name == "erin"
        assert store.verify().ok
    stored = _every_stored_text(settings)
    assert "guess number" not in stored and PASSWORDS["olly"] not in stored


def test_the_lock_ends_by_itself_or_by_an_admin(settings, monkeypatch):
    with Store.open(settings) as store:
        people = make_users(store)
        ada = people["ada"]
        store.set_setting(ada, "lockout_attempts", "3", "three strikes")
        store.set_setting(ada, "lockout_minutes", "10")
        for _ in range(3):
            with pytest.raises(users.LoginFailed):
                store.authenticate("olly", "not the password")
        with pytest.raises(users.AccountLocked, match=r"\(3 failed attempts\)"):
            store.authenticate("olly", PASSWORDS["olly"])
        with pytest.raises(users.PermissionDenied, match="may not manage users"):
            store.unlock_user(people["erin"], "olly")
        before = store.unlock_user(ada, "olly", "called the line lead")
        assert before.failed_logins == 3 and before.locked_until is not None
        assert store.authenticate("olly", PASSWORDS["olly"]).name == "olly"
        with pytest.raises(InputError, match="olly is not locked"):
            store.unlock_user(ada, "olly")
        entry = next(e for e in store.audit_entries(50, "user", "olly") if e.action != "user.login")
        assert (entry.action, entry.user_name, entry.reason) == (
            "user.unlocked",
            "ada",
            "called the line lead",
        )
        assert entry.old["failed_logins"] == 3 and entry.new == {
            "failed_logins": 0,
            "locked_until": None,
        }
        # Locked again; eleven minutes later the lock has run out and the count starts over.
        for _ in range(3):
            with pytest.raises(users.LoginFailed):
                store.authenticate("olly", "not the password")
        later = utc_now() + timedelta(minutes=11)
        monkeypatch.setattr(users, "utc_now", lambda: later)
        with pytest.raises(users.LoginFailed) as again:
            store.authenticate("olly", "one more guess")
        assert not isinstance(again.value, users.AccountLocked)  # 1 of 3, not locked
        assert store.authenticate("olly", PASSWORDS["olly"]).name == "olly"
        [olly] = [u for u in store.list_users() if u.name == "olly"]
        assert (olly.failed_logins, olly.locked_until) == (0, None)
        changes = [e for e in store.audit_entries(50, "setting") if e.action == "setting.changed"]
        assert {(e.entity_id, e.new["value"]) for e in changes} == {
            ("lockout_attempts", 3),
            ("lockout_minutes", 10),
        }
        with pytest.raises(InputError, match="lockout_attempts = '0'"):
            store.set_setting(ada, "lockout_attempts", "0")
        assert store.verify().ok


def test_signatures_count_wrong_passwords_and_respect_the_lock(settings):
    with Store.open(settings) as store:
        people = make_users(store)
        store.set_setting(people["ada"], "lockout_attempts", "2")
        _, ids = populate(store, 1)
        olly = people["olly"]
        with pytest.raises(users.LoginFailed, match="signature refused"):
            store.override_verdict(olly, "wrong", ids[0], "FAIL", "burr", "rejected")
        with pytest.raises(users.AccountLocked, match=r"\(2 failed attempts\)"):
            store.override_verdict(olly, "wrong again", ids[0], "FAIL", "burr", "rejected")
        # Locked: the right password signs nothing, and logging in is refused too.
        with pytest.raises(users.AccountLocked):
            store.override_verdict(olly, PASSWORDS["olly"], ids[0], "FAIL", "burr", "rejected")
        with pytest.raises(users.AccountLocked):
            store.authenticate("olly", PASSWORDS["olly"])
        assert store.signatures_of("inspection", ids[0]) == []
        assert _actions(store, "olly").count("signature.failed") == 3
        store.unlock_user(people["ada"], "olly")
        store.override_verdict(olly, PASSWORDS["olly"], ids[0], "FAIL", "burr", "rejected")
        assert len(store.signatures_of("inspection", ids[0])) == 1


def test_a_right_password_clears_the_count(settings):
    with Store.open(settings) as store:
        make_users(store)
        for _ in range(4):  # one short of the default lock, twice over
            with pytest.raises(users.LoginFailed):
                store.authenticate("olly", "nope nope")
        store.authenticate("olly", PASSWORDS["olly"])
        for _ in range(4):
            with pytest.raises(users.LoginFailed) as refused:
                store.authenticate("olly", "nope nope")
            assert not isinstance(refused.value, users.AccountLocked)


@pytest.mark.parametrize(
    ("password", "admin", "rule"),
    [
        ("12345678", False, "10,000 most common"),
        ("password", False, "10,000 most common"),
        ("12345678", True, "10,000 most common"),
        ("password", True, "10,000 most common"),
        ("PASSWORD", False, "10,000 most common"),
        ("qwertyuiop", False, "10,000 most common"),
        ("nine char", False, "at least 10 characters (this one has 9)"),
        ("Fourteen chars", True, "at least 15 characters (this one has 14)"),
        ("Password2024!!", False, "a common password with digits or symbols added"),
        ("Monkey 1234 5678", False, "a common password with digits or symbols added"),
        ("Olly's own secret", False, "contains the user name"),
        ("aaaaaaaaaaaaaaaa", False, "repeats a few characters"),
        ("abcabcabcabcabca", False, "repeats a few characters"),
        ("lowercase only pw", True, "mixes at least 3 of"),
        ("x" * 257, False, "at most 256 characters"),
    ],
)
def test_the_password_policy_names_the_rule(password, admin, rule):
    with pytest.raises(InputError) as refused:
        password_policy.check(password, "olly", admin=admin)
    message = str(refused.value)
    assert message.startswith("password for olly refused: ") and rule in message
    assert repr(password) not in message  # the refusal never repeats the password
    assert "monkey" not in message.lower()  # nor a part of it


@pytest.mark.parametrize(
    ("password", "admin"),
    [
        ("line shift seven", False),  # ten or more, not common: enough for a person
        ("Tr0ub4dor&3 x", False),
        ("Lathe 7, bay 4 B", True),  # fifteen, three kinds of character
        ("correct horse battery staple", True),  # a passphrase of 20 or more
    ],
)
def test_the_password_policy_accepts_good_passwords(password, admin):
    assert password_policy.problem(password, "olly", admin=admin) is None


def test_the_shipped_list_holds_ten_thousand_common_passwords_and_its_source():
    common = password_policy.common_passwords()
    assert len(common) == 10_000
    assert {"123456", "password", "12345678", "qwerty", "iloveyou"} <= common
    from importlib import resources

    text = resources.files("inspector.store.audit").joinpath("common_passwords.txt").read_text()
    header = "\n".join(line for line in text.splitlines() if line.startswith("#"))
    assert "zxcvbn" in header and "MIT" in header and "Permission is hereby granted" in header


def test_adding_a_user_applies_the_policy_for_everyone_and_more_for_admins(settings):
    with Store.open(settings) as store:
        for weak in ("12345678", "password", "Password1", "ada12345678901234"):
            with pytest.raises(InputError, match="password for ada refused"):
                store.add_user(None, "ada", "admin", weak, "Ada")
        ada = store.add_user(None, "ada", "admin", PASSWORDS["ada"], "Ada")
        for weak in ("12345678", "password"):
            with pytest.raises(InputError, match="10,000 most common"):
                store.add_user(ada, "olly", "operator", weak, "Olly")
        with pytest.raises(InputError, match="an administrator's password"):
            store.add_user(ada, "root2", "admin", "short but ok 1", "R")
        store.add_user(ada, "olly", "operator", "short but ok 1", "Olly")  # a person's is fine
        assert [u.name for u in store.list_users()] == ["ada", "olly", "station"]


def test_a_person_changes_their_own_password(settings):
    with Store.open(settings) as store:
        make_users(store)
        with pytest.raises(InputError, match="10,000 most common"):
            store.change_own_password("olly", PASSWORDS["olly"], "password")
        with pytest.raises(InputError, match="it is the current password"):
            store.change_own_password("olly", PASSWORDS["olly"], PASSWORDS["olly"])
        with pytest.raises(users.LoginFailed, match="wrong current password for olly"):
            store.change_own_password("olly", "not it at all", "a brand new secret")
        store.change_own_password("olly", PASSWORDS["olly"], "a brand new secret")
        with pytest.raises(users.LoginFailed):
            store.authenticate("olly", PASSWORDS["olly"])
        assert store.authenticate("olly", "a brand new secret").name == "olly"
        [changed] = [e for e in store.audit_entries(50, "user", "olly") if "changed" in e.action]
        assert (changed.action, changed.user_name, changed.signature_id) == (
            "user.password_changed",
            "olly",
            None,
        )
        assert "user.password_change_failed" in _actions(store, "olly")
        with pytest.raises(InputError, match="service account"):
            store.change_own_password("station", "", "a brand new secret")
        assert store.verify().ok
    stored = _every_stored_text(settings)
    assert "a brand new secret" not in stored and "not it at all" not in stored


def test_wrong_current_passwords_lock_too(settings):
    with Store.open(settings) as store:
        people = make_users(store)
        store.set_setting(people["ada"], "lockout_attempts", "2")
        for _ in range(2):
            with pytest.raises(users.LoginFailed):
                store.change_own_password("olly", "not it at all", "a brand new secret")
        with pytest.raises(users.AccountLocked):
            store.change_own_password("olly", PASSWORDS["olly"], "a brand new secret")
        with pytest.raises(users.AccountLocked):
            store.authenticate("olly", PASSWORDS["olly"])


def test_an_admin_sets_another_users_password_with_a_signature(settings):
    with Store.open(settings) as store:
        people = make_users(store)
        ada, erin = people["ada"], people["erin"]
        store.set_setting(ada, "lockout_attempts", "2")
        for _ in range(2):
            with pytest.raises(users.LoginFailed):
                store.authenticate("olly", "forgotten it")
        with pytest.raises(users.PermissionDenied, match="may not manage users"):
            store.reset_password(erin, PASSWORDS["erin"], "olly", "a fresh start 42")
        with pytest.raises(users.LoginFailed, match="signature refused"):
            store.reset_password(ada, "not ada's", "olly", "a fresh start 42")
        with pytest.raises(InputError, match="contains the user name"):
            store.reset_password(ada, PASSWORDS["ada"], "olly", "olly starts afresh")
        signature_id = store.reset_password(
            ada, PASSWORDS["ada"], "olly", "a fresh start 42", "forgot it"
        )
        # The new password works at once: an admin's reset ends the lock.
        assert store.authenticate("olly", "a fresh start 42").name == "olly"
        [signature] = store.signatures_of("user", "olly")
        assert signature.id == signature_id
        assert (signature.user_name, signature.meaning) == ("ada", "approved")
        assert "set a new password for user olly. Reason: forgot it" in signature.statement
        [entry] = [e for e in store.audit_entries(50, "user", "olly") if "changed" in e.action]
        assert (entry.user_name, entry.signature_id, entry.reason) == (
            "ada",
            signature_id,
            "forgot it",
        )
        assert store.verify().ok


def test_a_password_changed_behind_the_trail_is_caught(settings):
    """The password change's entry holds the user's digest: an SQL edit of the hash is named."""
    with Store.open(settings) as store:
        make_users(store)
        store.change_own_password("olly", PASSWORDS["olly"], "a brand new secret")
    erin_hash = plain_query(settings, "SELECT password_hash FROM users WHERE name = 'erin'")[0][0]
    plain_sql(settings, f"UPDATE users SET password_hash = '{erin_hash}' WHERE name = 'olly'")
    with Store.open(settings) as store:
        report = store.verify()
    assert not report.ok
    assert any("user olly was changed after it" in p.message for p in report.problems)


def test_an_older_database_gains_the_lockout_and_keeps_its_users(settings):
    """A database made before migration 0005 (users from 0003, the 0004 branch too) upgrades on
    open; its users keep their passwords and start with no failed attempts."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    for revision in ("0003", "0004"):
        store_database.migrate(settings.database_url, revision)
    stored = users.hash_password(PASSWORDS["olly"])
    plain_sql(
        settings,
        "INSERT INTO users (name, full_name, role, password_hash, disabled, created_at) "
        f"VALUES ('olly', 'Olly', 'operator', '{stored}', false, '2026-11-01 08:00:00+00:00')",
    )
    with Store.open(settings) as store:
        assert "0005" in store.revisions()
        assert store.schema_differences() == []
        [olly] = [u for u in store.list_users() if u.name == "olly"]
        assert (olly.failed_logins, olly.locked_until) == (0, None)
        assert store.authenticate("olly", PASSWORDS["olly"]).name == "olly"
        with pytest.raises(users.LoginFailed):
            store.authenticate("olly", "a wrong one")
        [olly] = [u for u in store.list_users() if u.name == "olly"]
        assert olly.failed_logins == 1
