"""Accounts in the window, offscreen, on a real SQLite store: log in, log out and switch user
from the Account menu (and who then signs), the admin-only Users page, and a user an admin
adds there logging in (issue 13: no restart to change user)."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from inspector.config import Settings, StationProfile
from inspector.errors import InspectorError
from inspector.store import Store
from tests.support.paths import ROOT
from tests.support.recipes import recipe_file
from tests.support.records_data import PASSWORDS, make_users, populate

CAMERA = ROOT / "assets" / "demo" / "camera"
NINA = "a long passphrase at night"


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("INSPECTOR_CONFIG", str(tmp_path / "station.yaml"))
    with Store.open(Settings.from_env(data_dir=tmp_path / "data")) as opened:
        yield opened


@pytest.fixture
def people(store):
    return make_users(store)


@pytest.fixture
def window(store, people, tmp_path, qtbot):
    """The window of a site with accounts, nobody logged in yet."""
    from inspector.ui.app import application
    from inspector.ui.main_window import MainWindow

    application()
    populate(store, 6)  # FAIL, PASS, UNSURE in turn: 4 wait for review
    recipe = recipe_file(tmp_path, [{"engine": "scripted"}])
    settings = Settings.from_env(data_dir=tmp_path / "data")
    shown = MainWindow(settings, StationProfile(), store, f"folder:{CAMERA}", str(recipe))
    qtbot.addWidget(shown)
    shown.show()
    return shown


def typing(name: str, password: str):
    """A login dialog that a person types `name` and `password` into, then presses OK."""
    from inspector.ui.login_dialog import LoginDialog

    class Typed(LoginDialog):
        def exec(self):
            self.name.setText(name)
            self.password.setText(password)
            return self.DialogCode.Accepted if self.try_login() else self.DialogCode.Rejected

    return Typed


def log_in(window, name: str, switch: bool = False) -> None:
    window.account.login_factory = typing(name, PASSWORDS.get(name, NINA))
    assert (window.account.switch_user if switch else window.account.log_in)()
    assert window.identity.name == name


def sign_as(password: str):
    """The signature dialog typed into by whoever is logged in, then Sign."""
    from PySide6.QtWidgets import QDialog

    from inspector.ui.login_dialog import SignatureDialog

    class Signing(SignatureDialog):
        def exec(self):
            self.reason.setText("checked under the lamp")
            self.password.setText(password)
            signed = self.try_sign()
            return QDialog.DialogCode.Accepted if signed else QDialog.DialogCode.Rejected

    return Signing


def _visible(window, page) -> bool:
    return window.tabs.isTabVisible(window.tabs.indexOf(page))


def test_log_in_log_out_and_switch_user_change_who_signs(window, store):
    review = window.review
    account = window.account
    assert window.identity is None and "no login" in window.header.user_label.text()
    assert account.log_in_action.isEnabled() and not account.log_out_action.isEnabled()
    assert not window.history.export_button.isEnabled()
    assert "nobody is logged in" in window.history.export_button.toolTip()
    assert not window.recipes.save_button.isEnabled()  # not the station's account either

    log_in(window, "olly")
    assert window.header.user_label.text() == "User: Olly Ørsted (operator)"
    assert window.header.user_label.menu() is account.menu
    assert not account.log_in_action.isEnabled() and account.log_out_action.isEnabled()
    assert window.history.export_button.isEnabled()
    assert not window.recipes.save_button.isEnabled()
    assert "olly (operator) may not save recipe versions" in window.recipes.save_button.toolTip()
    review.refresh()
    assert review.confirm_button.isEnabled()

    assert account.log_out()
    assert window.identity is None and window.header.user_label.text() == "User: no login"
    assert not review.confirm_button.isEnabled()
    assert "log in" in review.confirm_button.toolTip()
    assert not window.history.export_button.isEnabled()
    review.dialog_factory = sign_as(PASSWORDS["olly"])
    assert not review.decide("FAIL")  # nobody: nothing is signed

    log_in(window, "olly")
    log_in(window, "erin", switch=True)
    assert window.header.user_label.text() == "User: Erin Engineer (engineer)"
    assert window.recipes.save_button.isEnabled()
    review.refresh()
    chosen = review.selected_id()
    review.dialog_factory = sign_as(PASSWORDS["erin"])
    assert review.decide("PASS")
    [decision] = store.detail(chosen).decisions
    assert decision.user_name == "erin"  # the person switched to signs, not the one before

    trail = [(e.action, e.entity_id, e.reason) for e in store.audit_entries(20, "user")]
    sessions = [t for t in trail if t[0] in ("user.login", "user.logout")]
    assert sessions[:4] == [
        ("user.logout", "olly", "switched to erin"),
        ("user.login", "erin", ""),
        ("user.login", "olly", ""),
        ("user.logout", "olly", ""),
    ]
    assert store.verify(evidence=False).ok


def test_a_cancelled_switch_keeps_the_person_and_a_wrong_password_logs_nobody_in(window):
    log_in(window, "olly")
    window.account.login_factory = typing("erin", "not erin's password")
    assert not window.account.switch_user()
    assert window.identity.name == "olly"
    window.account.log_out()
    assert not window.account.log_in()
    assert window.identity is None


def test_only_an_admin_sees_and_uses_user_management(window, store):
    users, audit = window.users_view, window.audit_view
    assert not _visible(window, users) and not _visible(window, audit)
    log_in(window, "olly")
    assert not _visible(window, users) and not _visible(window, audit)
    assert not users.add_user()  # called anyway: refused, and nothing listed
    assert users.message.text() == "Only an administrator manages users."
    users.refresh()
    assert users.table.rowCount() == 0
    log_in(window, "erin", switch=True)
    assert not _visible(window, users) and _visible(window, audit)  # engineers read the trail
    log_in(window, "ada", switch=True)
    assert _visible(window, users) and _visible(window, audit)
    window.tabs.setCurrentWidget(users)
    names = [users.table.item(row, 0).text() for row in range(users.table.rowCount())]
    assert names == [u.name for u in store.list_users()]
    assert users.table.item(names.index("olly"), 5).text() != "-"  # last login, from the trail
    window.account.log_out()
    assert not _visible(window, users) and window.tabs.currentWidget() is not users
    assert users.table.rowCount() == 0  # nothing left to read behind the hidden tab


def _answer(monkeypatch, dialog_class, fill):
    """Make `dialog_class`, when opened, be filled by `fill(dialog)` and confirmed."""
    opened = []

    def exec_(self):
        opened.append(self)
        fill(self)
        return self.DialogCode.Accepted if self.submit() else self.DialogCode.Rejected

    monkeypatch.setattr(dialog_class, "exec", exec_)
    return opened


def test_an_admin_adds_a_user_who_then_logs_in(window, store, monkeypatch):
    from inspector.ui import users_view

    log_in(window, "ada")
    users = window.users_view
    window.tabs.setCurrentWidget(users)

    def fill(dialog):
        dialog.name.setText("nina")
        dialog.full_name.setText("Nina Night-shift")
        dialog.role.setCurrentText("operator")
        dialog.password.setText("nina2")  # the policy answers as it is typed
        assert "needs at least 10 characters" in dialog.hint.text()
        dialog.password.setText("nina on the night shift")
        assert "contains the user name" in dialog.hint.text()
        dialog.password.setText(NINA)
        dialog.again.setText(NINA)
        assert dialog.hint.text() == "Password: acceptable"
        dialog.reason_edit.setText("new hire")

    opened = _answer(monkeypatch, users_view.AddUserDialog, fill)
    assert users.add_user()
    [dialog] = opened
    assert dialog.password.text() == dialog.again.text() == ""
    assert users.selected().name == "nina" and users.message.text() == (
        "User nina added as operator."
    )
    [added] = [e for e in store.audit_entries(5, "user", "nina") if e.action == "user.added"]
    assert (added.user_name, added.reason) == ("ada", "new hire")

    log_in(window, "nina", switch=True)
    assert window.header.user_label.text() == "User: Nina Night-shift (operator)"


def test_an_admin_changes_role_deactivates_reactivates_and_sets_a_password(
    window, store, monkeypatch
):
    from inspector.ui import users_view

    log_in(window, "ada")
    users = window.users_view
    window.tabs.setCurrentWidget(users)

    def reason(text):
        return lambda dialog: dialog.reason_edit.setText(text)

    users.select("olly")
    _answer(monkeypatch, users_view.ChangeRoleDialog, lambda d: d.role.setCurrentText("engineer"))
    assert users.change_role()
    assert users.selected().role.value == "engineer"
    opened = _answer(monkeypatch, users_view.ReasonDialog, reason("left the site"))
    assert users.deactivate()
    assert opened[-1].hint.text() == "The account stays on record; it can be reactivated."
    assert users.table.item(users.table.currentRow(), 3).text() == "deactivated"
    assert not users.deactivate_button.isEnabled() and users.reactivate_button.isEnabled()
    window.account.login_factory = typing("olly", PASSWORDS["olly"])
    assert not window.account.switch_user()  # deactivated: no login
    assert users.reactivate()

    def new_password(dialog):
        dialog.new.setText("a fresh start for olly?")
        dialog.again.setText("a fresh start for olly?")
        assert "contains the user name" in dialog.hint.text()
        dialog.new.setText("a fresh start at dawn")
        dialog.again.setText("a fresh start at dawn")
        dialog.signature.setText(PASSWORDS["ada"])

    _answer(monkeypatch, users_view.ResetPasswordDialog, new_password)
    assert users.set_password()
    assert store.authenticate("olly", "a fresh start at dawn").role.value == "engineer"
    actions = [e.action for e in store.audit_entries(10, "user", "olly")]
    assert actions[:6] == [
        "user.login",
        "user.password_changed",
        "user.enabled",
        "user.login_failed",  # "user disabled"
        "user.disabled",
        "user.role_changed",
    ]

    store.set_setting(window.identity, "lockout_attempts", "2")
    for _ in range(2):
        with pytest.raises(InspectorError):
            store.authenticate("olly", "a wrong guess")
    users.refresh()
    assert users.table.item(users.table.currentRow(), 3).text().startswith("locked until")
    _answer(monkeypatch, users_view.ReasonDialog, reason("it was me, on the wrong keyboard"))
    assert users.unlock()
    assert users.table.item(users.table.currentRow(), 3).text() == "active"
    assert store.audit_entries(1, "user", "olly")[0].action == "user.unlocked"
    assert store.verify(evidence=False).ok


def test_an_admin_demoting_themselves_loses_the_admin_pages(window, store, monkeypatch):
    from inspector.ui import users_view

    ada = store.authenticate("ada", PASSWORDS["ada"])
    store.add_user(ada, "root", "admin", "Another-Admin-42!")
    log_in(window, "ada")
    users = window.users_view
    window.tabs.setCurrentWidget(users)
    users.select("ada")
    _answer(monkeypatch, users_view.ChangeRoleDialog, lambda d: d.role.setCurrentText("engineer"))
    assert users.change_role()
    assert window.identity.role.value == "engineer"
    assert not _visible(window, users)


def test_closing_the_window_ends_the_session_on_record(window, store):
    log_in(window, "olly")
    window.close()
    [entry] = store.audit_entries(1, "user", "olly")
    assert (entry.action, entry.user_name, entry.reason) == ("user.logout", "olly", "window closed")
