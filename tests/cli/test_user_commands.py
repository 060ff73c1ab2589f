"""`inspector user` as a person runs it (a process of its own), on real SQLite and PostgreSQL:
the lockout and `user unlock`, `user passwd`, and the password policy at `user add`."""

from __future__ import annotations

import json
import re
import subprocess

from inspector.store import Store
from tests.support import command_line
from tests.support.records_data import PASSWORDS, make_users

LOCKED = re.compile(
    r"^inspector: account olly is locked until \d\d:\d\d \(3 failed attempts\); "
    r"an admin can unlock it with `inspector user unlock olly`$"
)


def run(settings, *args: str, user: str | None = None, password: str | None = None, stdin=None):
    """`inspector ARGS` acting as `user` with `password` (INSPECTOR_USER / INSPECTOR_PASSWORD)."""
    env = {}
    if user is not None:
        env["INSPECTOR_USER"] = user
    if password is not None:
        env["INSPECTOR_PASSWORD"] = password
    return command_line.inspector(
        *args,
        data_dir=settings.data_dir,
        database_url=settings.database_url,
        env=env,
        input=stdin,
    )


def one_line_error(result: subprocess.CompletedProcess, code: int) -> str:
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    return line


def test_wrong_passwords_lock_an_account_until_an_admin_unlocks_it(settings):
    with Store.open(settings) as store:
        make_users(store)
    changed = run(
        settings, "setting", "set", "lockout_attempts", "3", user="ada", password=PASSWORDS["ada"]
    )
    assert changed.returncode == 0, changed.stderr
    for attempt in range(1, 4):
        wrong = run(settings, "purge", user="olly", password=f"guess {attempt}")
        line = one_line_error(wrong, 4)
        if attempt < 3:
            assert line == "inspector: login failed for 'olly': wrong user name or password"
        else:
            assert LOCKED.match(line), line
    # The right password now opens nothing, whichever command asks for it.
    right = run(settings, "purge", user="olly", password=PASSWORDS["olly"])
    assert LOCKED.match(one_line_error(right, 4))
    listed = json.loads(run(settings, "user", "list", "--json").stdout)
    [olly] = [u for u in listed if u["name"] == "olly"]
    assert olly["failed_logins"] == 3 and olly["locked_until"] is not None
    assert "(locked until " in run(settings, "user", "list").stdout

    refused = run(settings, "user", "unlock", "olly", user="erin", password=PASSWORDS["erin"])
    assert "may not manage users" in one_line_error(refused, 4)
    unlocked = run(
        settings,
        "user",
        "unlock",
        "olly",
        "--reason",
        "typo",
        user="ada",
        password=PASSWORDS["ada"],
    )
    assert unlocked.returncode == 0, unlocked.stderr
    assert re.fullmatch(
        r"user olly unlocked \(was locked until \d\d:\d\d after 3 failed attempts\)\n",
        unlocked.stdout,
    )
    # Logged in again: refused only for what an operator may not do.
    after = run(settings, "purge", user="olly", password=PASSWORDS["olly"])
    assert "olly (operator) may not purge records" in one_line_error(after, 4)
    again = run(settings, "user", "unlock", "olly", user="ada", password=PASSWORDS["ada"])
    assert "olly is not locked" in one_line_error(again, 2)

    log = run(settings, "audit", "log", "--entity", "user:olly").stdout.splitlines()
    actions = [line.split()[4] for line in log]
    assert actions.count("user.login_failed") == 4  # 3 wrong, then the right one while locked
    assert {"user.locked", "user.unlocked", "user.login"} <= set(actions)
    assert all("guess" not in line and PASSWORDS["olly"] not in line for line in log)
    assert run(settings, "audit", "verify").returncode == 0


def test_a_person_changes_their_password_and_an_admin_resets_one(settings):
    with Store.open(settings) as store:
        make_users(store)
    weak = run(
        settings,
        "user",
        "passwd",
        "olly",
        "--password-stdin",
        password=PASSWORDS["olly"],
        stdin="password\n",
    )
    assert one_line_error(weak, 2) == (
        "inspector: password for olly refused: it is one of the 10,000 most common passwords; "
        "choose another"
    )
    wrong = run(
        settings,
        "user",
        "passwd",
        "olly",
        "--password-stdin",
        password="not hers",
        stdin="a fine new secret\n",
    )
    assert one_line_error(wrong, 4) == (
        "inspector: password not changed: wrong current password for olly"
    )
    own = run(
        settings,
        "user",
        "passwd",
        "olly",
        "--password-stdin",
        password=PASSWORDS["olly"],
        stdin="a fine new secret\n",
    )
    assert own.returncode == 0, own.stderr
    assert own.stdout == "password of olly changed\n"

    by_engineer = run(
        settings,
        "user",
        "passwd",
        "olly",
        "--password-stdin",
        user="erin",
        password=PASSWORDS["erin"],
        stdin="an admin's choice 1\n",
    )
    assert "erin (engineer) may not manage users" in one_line_error(by_engineer, 4)
    reset = run(
        settings,
        "user",
        "passwd",
        "olly",
        "--password-stdin",
        "--reason",
        "forgot it",
        user="ada",
        password=PASSWORDS["ada"],
        stdin="an admin's choice 1\n",
    )
    assert reset.returncode == 0, reset.stderr
    assert re.fullmatch(r"password of olly changed by ada \(signature \d+\)\n", reset.stdout)
    # Only the newest password opens the account.
    assert run(settings, "purge", user="olly", password="a fine new secret").returncode == 4
    works = run(settings, "purge", user="olly", password="an admin's choice 1")
    assert "may not purge records" in one_line_error(works, 4)  # logged in, then refused

    no_terminal = run(settings, "user", "passwd", "olly", password="an admin's choice 1")
    assert "--password-stdin" in one_line_error(no_terminal, 2)
    assert run(settings, "audit", "verify").returncode == 0


def test_user_add_refuses_weak_passwords_naming_the_rule(settings):
    cases = {
        "12345678": "it is one of the 10,000 most common passwords",
        "password": "it is one of the 10,000 most common passwords",
        "Ada's own 2026 key": "it contains the user name",
        "long but plain words": None,  # twenty characters: a passphrase, fine for an admin
    }
    for typed, rule in cases.items():
        added = run(
            settings,
            "user",
            "add",
            "ada",
            "--role",
            "admin",
            "--password-stdin",
            stdin=typed + "\n",
        )
        if rule is None:
            assert added.returncode == 0, added.stderr
        else:
            assert one_line_error(added, 2) == f"inspector: password for ada refused: {rule}" + (
                "; choose another" if "common" in rule else "; choose one that does not"
            )


def test_an_admin_changes_a_role_and_reactivates_a_user(settings):
    with Store.open(settings) as store:
        make_users(store)
    ada = {"user": "ada", "password": PASSWORDS["ada"]}
    refused = run(settings, "user", "role", "olly", "engineer", user="erin", password="x")
    assert "erin" in one_line_error(refused, 4)
    changed = run(settings, "user", "role", "olly", "engineer", "--reason", "trained", **ada)
    assert changed.stdout.strip() == "user olly is now engineer (was operator)"
    last = run(settings, "user", "role", "ada", "operator", **ada)
    assert "ada is the last administrator" in one_line_error(last, 2)
    assert run(settings, "user", "disable", "olly", **ada).returncode == 0
    enabled = run(settings, "user", "enable", "olly", "--reason", "back from leave", **ada)
    assert enabled.stdout.strip() == "user olly reactivated"
    listed = json.loads(run(settings, "user", "list", "--json").stdout)
    olly = next(u for u in listed if u["name"] == "olly")
    assert (olly["role"], olly["disabled"]) == ("engineer", False)
    assert olly["last_login"] is None  # olly never logged in; ada did, to act
    assert next(u for u in listed if u["name"] == "ada")["last_login"]
    log = run(settings, "audit", "log", "--entity", "user:olly", "--action", "user.")
    actions = [line.split()[4] for line in log.stdout.splitlines()]
    assert actions[:3] == ["user.enabled", "user.disabled", "user.role_changed"]
    assert run(settings, "audit", "verify", "--no-evidence").returncode == 0
