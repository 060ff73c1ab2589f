"""Passwords in the window, offscreen, on a real SQLite store: the Account menu's "Change
password…" dialog, and the login dialog once wrong passwords have locked an account."""

from __future__ import annotations

import os
import re

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from inspector.config import Settings, StationProfile
from inspector.store import Store
from tests.support.paths import ROOT
from tests.support.recipes import recipe_file
from tests.support.records_data import PASSWORDS, make_users

CAMERA = ROOT / "assets" / "demo" / "camera"


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("INSPECTOR_CONFIG", str(tmp_path / "station.yaml"))
    with Store.open(Settings.from_env(data_dir=tmp_path / "data")) as opened:
        yield opened


@pytest.fixture
def window(store, tmp_path, qtbot):
    from inspector.ui.app import application
    from inspector.ui.main_window import MainWindow

    application()
    people = make_users(store)
    recipe = recipe_file(tmp_path, [{"engine": "scripted"}])
    settings = Settings.from_env(data_dir=tmp_path / "data")
    shown = MainWindow(
        settings, StationProfile(), store, f"folder:{CAMERA}", str(recipe), people["olly"]
    )
    qtbot.addWidget(shown)
    shown.show()
    return shown


def _typing(monkeypatch, current: str, new: str, again: str | None = None) -> list:
    """Make the dialog, when the menu opens it, be typed into and confirmed; returns the dialogs
    it opened, to look at afterwards."""
    from inspector.ui import password_dialog

    opened = []

    def exec_(self):
        opened.append(self)
        self.current.setText(current)
        self.new.setText(new)
        self.again.setText(new if again is None else again)
        return self.DialogCode.Accepted if self.try_change() else self.DialogCode.Rejected

    monkeypatch.setattr(password_dialog.ChangePasswordDialog, "exec", exec_)
    return opened


def test_the_account_menu_changes_the_logged_in_users_password(window, store, monkeypatch):
    menu = window.menuBar().actions()[0]
    assert menu.text() == "&Account"
    shown = [a.text() for a in menu.menu().actions() if not a.isSeparator()]
    assert shown == ["Log in…", "Log out", "Switch user…", "Change password…"]
    assert window.change_password.isEnabled()

    opened = _typing(monkeypatch, PASSWORDS["olly"], "a new shift, a new secret")
    window.change_password.trigger()
    [dialog] = opened
    assert dialog.result() == dialog.DialogCode.Accepted
    assert window.statusBar().currentMessage() == "Password of olly changed"
    assert store.authenticate("olly", "a new shift, a new secret").name == "olly"
    [entry] = [e for e in store.audit_entries(20, "user", "olly") if "changed" in e.action]
    assert (entry.action, entry.user_name) == ("user.password_changed", "olly")


@pytest.mark.parametrize(
    ("current", "new", "again", "shown"),
    [
        (PASSWORDS["olly"], "a new secret 1", "a new secret 2", "the two new passwords differ"),
        (PASSWORDS["olly"], "password", None, "one of the 10,000 most common passwords"),
        (PASSWORDS["olly"], "olly on shift 3", None, "contains the user name"),
        ("not the current one", "a new shift, a new secret", None, "wrong current password"),
    ],
)
def test_a_refused_change_says_why_and_keeps_nothing_typed(
    window, store, monkeypatch, current, new, again, shown
):
    opened = _typing(monkeypatch, current, new, again)
    window.change_password.trigger()
    [dialog] = opened
    assert dialog.result() != dialog.DialogCode.Accepted
    assert shown in dialog.message.text()
    assert (dialog.current.text(), dialog.new.text(), dialog.again.text()) == ("", "", "")
    assert store.authenticate("olly", PASSWORDS["olly"]).name == "olly"  # unchanged


def test_no_login_no_password_to_change(window, monkeypatch):
    window.identity = None
    window.menuBar().actions()[0].menu().aboutToShow.emit()
    assert not window.change_password.isEnabled()
    opened = _typing(monkeypatch, "", "")
    window.change_password.trigger()  # disabled: nothing opens
    assert opened == []


def test_the_login_dialog_shows_the_lock(store, qtbot):
    from inspector.ui.app import application
    from inspector.ui.login_dialog import LoginDialog

    application()
    people = make_users(store)
    store.set_setting(people["ada"], "lockout_attempts", "2")
    dialog = LoginDialog(store)
    qtbot.addWidget(dialog)
    dialog.name.setText("olly")
    for _ in range(2):
        dialog.password.setText("a wrong guess")
        assert not dialog.try_login()
    dialog.password.setText(PASSWORDS["olly"])
    assert not dialog.try_login()
    assert re.fullmatch(
        r"account olly is locked until \d\d:\d\d \(2 failed attempts\); an admin can unlock it "
        r"with `inspector user unlock olly`",
        dialog.message.text(),
    )
    assert dialog.password.text() == ""
    store.unlock_user(people["ada"], "olly")
    dialog.password.setText(PASSWORDS["olly"])
    assert dialog.try_login() and dialog.identity.name == "olly"
