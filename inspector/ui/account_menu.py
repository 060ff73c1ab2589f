"""Who is at the station: the Account menu (Log in…, Log out, Switch user…, Change password…)
and the gate that enables what needs a person.

The window keeps one identity (`MainWindow.identity`, None: nobody); every tab reads it when it
acts, so a logout or a switch of user changes who signs, exports and saves at once. Each login
is audited by the store as it checks the password (`user.login`), each logout and switch here
(`Store.log_out`: `user.logout`). The lockout and the password policy are the store's; the
dialogs only show its answers.

`PersonGate` disables each control that needs a person who may do something, with a tooltip
saying why (nobody is logged in, or the person's role may not), and shows the admin-only tabs
only to those allowed; it is updated whenever the identity changes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDialog, QMainWindow, QMenu, QTabWidget, QWidget

from inspector.store import Store
from inspector.store.audit.users import Identity, Permission
from inspector.ui.login_dialog import LoginDialog
from inspector.ui.password_dialog import ChangePasswordDialog

log = logging.getLogger(__name__)


class AccountMenu(QObject):
    """The Account menu on the window's menu bar; `menu` is also the header's user button's."""

    def __init__(
        self,
        window: QMainWindow,
        store: Store,
        who: Callable[[], Identity | None],
        set_who: Callable[[Identity | None], None],
    ) -> None:
        super().__init__(window)
        self.window = window
        self.store = store
        self.who = who
        self.set_who = set_who
        self.login_factory = LoginDialog  # tests type into the dialog the way a person would
        self.password_factory = ChangePasswordDialog
        self.menu: QMenu = window.menuBar().addMenu("&Account")
        self.log_in_action = self._action("Log in…", self.log_in)
        self.log_out_action = self._action("Log out", self.log_out)
        self.switch_action = self._action("Switch user…", self.switch_user)
        self.menu.addSeparator()
        self.change_password = self._action("Change password…", self.change_own_password)
        self.menu.aboutToShow.connect(self.update)
        self.update()

    def _action(self, text: str, slot: Callable[[], object]) -> QAction:
        action = QAction(text, self.window)
        action.triggered.connect(lambda: slot())
        self.menu.addAction(action)
        return action

    def update(self) -> None:
        someone = self.who() is not None
        people = someone or self.store.has_people()
        self.log_in_action.setEnabled(not someone and people)
        self.log_in_action.setToolTip(
            ""
            if people
            else "This site has no accounts yet: `inspector user add NAME --role admin`"
        )
        self.log_out_action.setEnabled(someone)
        self.switch_action.setEnabled(someone)
        self.change_password.setEnabled(someone)

    def _ask_login(self, title: str) -> Identity | None:
        dialog = self.login_factory(self.store, self.window)
        dialog.setWindowTitle(title)
        accepted = dialog.exec() == QDialog.DialogCode.Accepted
        return dialog.identity if accepted else None

    def log_in(self) -> bool:
        if self.who() is not None:
            return False
        identity = self._ask_login("Inspector: log in")
        if identity is None:
            return False
        self.set_who(identity)
        self._say(f"Logged in as {identity.name} ({identity.role.value})")
        return True

    def log_out(self) -> bool:
        identity = self.who()
        if identity is None:
            return False
        self.store.log_out(identity)
        self.set_who(None)
        self._say(f"{identity.name} logged out: nothing can be signed until someone logs in")
        return True

    def switch_user(self) -> bool:
        """Another person logs in; the one before is logged out only once they have (a
        cancelled switch leaves the station as it was)."""
        before = self.who()
        identity = self._ask_login("Inspector: switch user")
        if identity is None:
            return False
        if before is not None and before.name != identity.name:
            self.store.log_out(before, f"switched to {identity.name}")
        self.set_who(identity)
        self._say(f"Logged in as {identity.name} ({identity.role.value})")
        return True

    def change_own_password(self) -> bool:
        identity = self.who()
        if identity is None:
            return False
        dialog = self.password_factory(self.store, identity, self.window)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return False
        self._say(f"Password of {identity.name} changed")
        return True

    def window_closed(self) -> None:
        """The window closes: the session of whoever is logged in ends with it, on record. A
        store that cannot write it (the database gone) must not keep the window open."""
        identity = self.who()
        if identity is None:
            return
        try:
            self.store.log_out(identity, "window closed")
        except Exception as exc:  # closing goes on; the reason is logged
            log.warning("logout of %s not recorded: %s", identity.name, exc)

    def account_changed(self, name: str) -> None:
        """An admin changed an account: if it is the one logged in, the window acts with its
        role as it is now, or as nobody if it was deactivated."""
        identity = self.who()
        if identity is None or identity.name != name:
            return
        now = next((u for u in self.store.list_users() if u.name == name), None)
        if now is None or now.disabled:
            self.set_who(None)
            self._say(f"{name} was deactivated and is logged out")
            return
        self.set_who(Identity(now.name, now.role, now.full_name))

    def _say(self, text: str) -> None:
        self.window.statusBar().showMessage(text, 10_000)


class PersonGate:
    """Controls that need a person allowed to do something, and tabs only some may see."""

    def __init__(self, store: Store, who: Callable[[], Identity | None]) -> None:
        self.store = store
        self.who = who
        self._controls: list[tuple[QWidget, Permission, Identity | None, str]] = []
        self._tabs: list[tuple[QTabWidget, QWidget, Callable, Callable]] = []

    def require(
        self, control: QWidget, permission: Permission, fallback: Identity | None = None
    ) -> None:
        """`control` works only for a person who may `permission`; on a site with no accounts
        yet, `fallback` (the station's account) acts where given."""
        self._controls.append((control, permission, fallback, control.toolTip()))
        self.update()

    def tab(
        self,
        tabs: QTabWidget,
        page: QWidget,
        allowed: Callable[[Identity | None], bool],
        forget: Callable[[], object],
    ) -> None:
        """`page` is a tab only while the person logged in is `allowed` it; once hidden,
        `forget` empties it, so nothing stays readable behind it."""
        self._tabs.append((tabs, page, allowed, forget))
        self.update()

    def update(self) -> None:
        who = self.who()
        people = who is not None or self.store.has_people()
        for control, permission, fallback, tip in self._controls:
            acting = who or (None if people else fallback)
            allowed = acting is not None and acting.can(permission)
            control.setEnabled(allowed)
            control.setToolTip(tip if allowed else why_disabled(who, permission))
        for tabs, page, allowed, forget in self._tabs:
            index = tabs.indexOf(page)
            shown = allowed(who)
            if not shown and tabs.currentIndex() == index:
                tabs.setCurrentIndex(0)
            tabs.setTabVisible(index, shown)
            page.setEnabled(shown)
            if not shown:
                forget()


def why_disabled(who: Identity | None, permission: Permission) -> str:
    """A disabled control's tooltip (Qt-free)."""
    if who is None:
        return f"Disabled: nobody is logged in. Log in (Account menu) to {permission.value}."
    return f"Disabled: {who.name} ({who.role.value}) may not {permission.value}."
