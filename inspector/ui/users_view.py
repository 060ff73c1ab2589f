"""User management, for administrators: the accounts, and adding, changing, deactivating,
reactivating, unlocking them and setting their passwords.

Everything goes through the store's methods, which check the acting person again inside the
transaction (a demoted admin can do nothing more), apply the password policy and the lockout,
and write the audit entries the command line writes (`inspector user ...`). The page only
shows their answers; a password typed here is cleared whatever the outcome.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from inspector.errors import InspectorError
from inspector.store import Store
from inspector.store.audit.users import Identity, Permission, UserInfo
from inspector.ui.password_dialog import RULES

PERSON_ROLES = ("operator", "engineer", "admin")  # a service account is added on the command line
COLUMNS = ("Name", "Full name", "Role", "State", "Failed attempts", "Last login", "Created")
ERROR_STYLE = "color:#ff8a80;"
OK_STYLE = "color:#7bd88f;"


def allowed(identity: Identity | None) -> bool:
    """Whether the page is shown to this person (administrators only)."""
    return identity is not None and identity.can(Permission.MANAGE_USERS)


def state_text(user: UserInfo) -> str:
    """An account's state in words (Qt-free)."""
    if user.disabled:
        return "deactivated"
    if user.locked_until is not None:
        return f"locked until {user.locked_until.astimezone():%H:%M}"
    return "active"


def _when(moment: datetime | None) -> str:
    return f"{moment.astimezone():%Y-%m-%d %H:%M}" if moment else "-"


def _password_fields(*fields: QLineEdit) -> None:
    for field in fields:
        field.setEchoMode(QLineEdit.EchoMode.Password)


class _Form(QDialog):
    """A dialog with a form, a live hint, an inline error, and OK that runs `submit`."""

    def __init__(self, title: str, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(520)
        self.form = QFormLayout()
        self.hint = QLabel("")
        self.hint.setWordWrap(True)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setStyleSheet(ERROR_STYLE)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addWidget(self.hint)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)

    def submit(self) -> bool:
        try:
            self.apply()
        except InspectorError as exc:
            self.message.setText(str(exc))
            return False
        finally:
            self.clear_secrets()
        self.accept()
        return True

    def apply(self) -> None:
        raise NotImplementedError

    def clear_secrets(self) -> None:
        pass

    def reason(self) -> str:
        return self.reason_edit.text().strip()

    def add_reason(self) -> None:
        self.reason_edit = QLineEdit()
        self.reason_edit.setPlaceholderText("Why (kept in the audit trail)")
        self.form.addRow("Reason", self.reason_edit)


class AddUserDialog(_Form):
    def __init__(self, store: Store, actor: Identity, parent: QWidget | None = None) -> None:
        super().__init__("Add a user", parent)
        self.store, self.actor = store, actor
        self.name = QLineEdit()
        self.full_name = QLineEdit()
        self.full_name.setPlaceholderText("The printed name shown on signatures")
        self.role = QComboBox()
        self.role.addItems(PERSON_ROLES)
        self.password = QLineEdit()
        self.again = QLineEdit()
        _password_fields(self.password, self.again)
        for label, field in (
            ("User name", self.name),
            ("Full name", self.full_name),
            ("Role", self.role),
            ("Password", self.password),
            ("Password again", self.again),
        ):
            self.form.addRow(label, field)
        self.add_reason()
        for field in (self.name, self.password, self.again):
            field.textChanged.connect(self.check_password)
        self.role.currentTextChanged.connect(self.check_password)
        self.check_password()
        self.added: Identity | None = None

    def check_password(self) -> None:
        """The policy's answer as the password is typed (the store's own rules)."""
        typed = self.password.text()
        if not typed:
            self.hint.setStyleSheet("")
            self.hint.setText(RULES)
            return
        problem = self.store.password_problem(
            typed, self.name.text().strip(), self.role.currentText()
        )
        if problem is None and self.again.text() and self.again.text() != typed:
            problem = "the two passwords differ"
        self.hint.setStyleSheet(ERROR_STYLE if problem else OK_STYLE)
        self.hint.setText(f"Password: {problem}" if problem else "Password: acceptable")

    def apply(self) -> None:
        if self.password.text() != self.again.text():
            raise InspectorError("the two passwords differ; type them again")
        self.added = self.store.add_user(
            self.actor,
            self.name.text().strip(),
            self.role.currentText(),
            self.password.text(),
            self.full_name.text().strip(),
            self.reason(),
        )

    def clear_secrets(self) -> None:
        for field in (self.password, self.again):
            field.blockSignals(True)
            field.clear()
            field.blockSignals(False)


class ResetPasswordDialog(_Form):
    """An admin sets another user's password, signed with the admin's own password; it also
    ends a lockout (`inspector user passwd NAME --user ADMIN`)."""

    def __init__(
        self, store: Store, actor: Identity, user: UserInfo, parent: QWidget | None = None
    ) -> None:
        super().__init__(f"Set the password of {user.name}", parent)
        self.store, self.actor, self.user = store, actor, user
        self.new = QLineEdit()
        self.again = QLineEdit()
        self.signature = QLineEdit()
        _password_fields(self.new, self.again, self.signature)
        self.signature.setPlaceholderText(f"{actor.name}'s own password, to sign")
        self.form.addRow("New password", self.new)
        self.form.addRow("New password again", self.again)
        self.form.addRow("Your password", self.signature)
        self.add_reason()
        self.new.textChanged.connect(self.check_password)
        self.again.textChanged.connect(self.check_password)
        self.check_password()
        self.signature_id: int | None = None

    def check_password(self) -> None:
        typed = self.new.text()
        if not typed:
            self.hint.setStyleSheet("")
            self.hint.setText(RULES)
            return
        problem = self.store.password_problem(typed, self.user.name, self.user.role.value)
        if problem is None and self.again.text() and self.again.text() != typed:
            problem = "the two passwords differ"
        self.hint.setStyleSheet(ERROR_STYLE if problem else OK_STYLE)
        self.hint.setText(f"Password: {problem}" if problem else "Password: acceptable")

    def apply(self) -> None:
        if self.new.text() != self.again.text():
            raise InspectorError("the two new passwords differ; type them again")
        self.signature_id = self.store.reset_password(
            self.actor, self.signature.text(), self.user.name, self.new.text(), self.reason()
        )

    def clear_secrets(self) -> None:
        for field in (self.new, self.again, self.signature):
            field.blockSignals(True)
            field.clear()
            field.blockSignals(False)


class ChangeRoleDialog(_Form):
    def __init__(
        self, store: Store, actor: Identity, user: UserInfo, parent: QWidget | None = None
    ) -> None:
        super().__init__(f"Change the role of {user.name}", parent)
        self.store, self.actor, self.user = store, actor, user
        self.role = QComboBox()
        self.role.addItems(PERSON_ROLES)
        self.role.setCurrentText(user.role.value)
        self.form.addRow("Role", self.role)
        self.add_reason()
        self.hint.setText(
            "A new administrator's next password must meet the administrators' rules."
        )

    def apply(self) -> None:
        self.store.set_user_role(self.actor, self.user.name, self.role.currentText(), self.reason())


class ReasonDialog(_Form):
    """Deactivate, reactivate or unlock: the reason, then `action(reason)`."""

    def __init__(
        self, title: str, action: Callable[[str], object], parent: QWidget | None = None
    ) -> None:
        super().__init__(title, parent)
        self.action = action
        self.add_reason()

    def apply(self) -> None:
        self.action(self.reason())


class UsersView(QWidget):
    accounts_changed = Signal(str)  # the user name whose account changed

    def __init__(self, store: Store, who: Callable[[], Identity | None]) -> None:
        super().__init__()
        self.store = store
        self.who = who
        self.users: list[UserInfo] = []
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.add_button = QPushButton("Add user…")
        self.role_button = QPushButton("Change role…")
        self.deactivate_button = QPushButton("Deactivate…")
        self.reactivate_button = QPushButton("Reactivate…")
        self.password_button = QPushButton("Set password…")
        self.unlock_button = QPushButton("Unlock…")
        self.add_button.clicked.connect(self.add_user)
        self.role_button.clicked.connect(self.change_role)
        self.deactivate_button.clicked.connect(self.deactivate)
        self.reactivate_button.clicked.connect(self.reactivate)
        self.password_button.clicked.connect(self.set_password)
        self.unlock_button.clicked.connect(self.unlock)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons = QHBoxLayout()
        for button in (
            self.add_button,
            self.role_button,
            self.deactivate_button,
            self.reactivate_button,
            self.password_button,
            self.unlock_button,
        ):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.message)
        self._update_buttons()

    # -- reading ---------------------------------------------------------------------------
    def refresh(self) -> None:
        """Reload the accounts (only for an administrator: nobody else reads them here)."""
        selected = self.selected()
        if not allowed(self.who()):
            self.users = []
            self.table.setRowCount(0)
            self._update_buttons()
            return
        self.users = self.store.list_users()
        logins = self.store.last_logins()
        self.table.setRowCount(len(self.users))
        for row, user in enumerate(self.users):
            cells = (
                user.name,
                user.full_name,
                user.role.value,
                state_text(user),
                str(user.failed_logins),
                _when(logins.get(user.name)),
                _when(user.created_at),
            )
            for column, text in enumerate(cells):
                self.table.setItem(row, column, QTableWidgetItem(text))
            if selected is not None and user.name == selected.name:
                self.table.selectRow(row)
        self._update_buttons()

    def selected(self) -> UserInfo | None:
        rows = {index.row() for index in self.table.selectionModel().selectedRows()}
        if len(rows) != 1:
            return None
        row = rows.pop()
        return self.users[row] if row < len(self.users) else None

    def select(self, name: str) -> None:
        for row, user in enumerate(self.users):
            if user.name == name:
                self.table.selectRow(row)
                return

    def _update_buttons(self) -> None:
        admin = allowed(self.who())
        user = self.selected()
        person = user is not None and user.role.value in PERSON_ROLES
        self.add_button.setEnabled(admin)
        states = (
            (self.role_button, person, "select a person's account"),
            (
                self.deactivate_button,
                user is not None and not user.disabled,
                "select an active account",
            ),
            (
                self.reactivate_button,
                user is not None and user.disabled,
                "select a deactivated account",
            ),
            (self.password_button, person, "select a person's account"),
            (
                self.unlock_button,
                user is not None and (user.locked_until is not None or user.failed_logins > 0),
                "select a locked account (or one with failed attempts)",
            ),
        )
        for button, ok, why in states:
            button.setEnabled(admin and ok)
            button.setToolTip("" if admin and ok else f"Disabled: {why}" if admin else "")

    # -- changes ---------------------------------------------------------------------------
    def _actor(self) -> Identity | None:
        who = self.who()
        if not allowed(who):
            self._say("Only an administrator manages users.", ok=False)
            return None
        return who

    def _done(self, dialog: _Form, name: str, text: str) -> bool:
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return False
        self.refresh()
        self.select(name)
        self._say(text, ok=True)
        self.accounts_changed.emit(name)
        return True

    def add_user(self) -> bool:
        actor = self._actor()
        if actor is None:
            return False
        dialog = AddUserDialog(self.store, actor, self)
        if dialog.exec() != QDialog.DialogCode.Accepted or dialog.added is None:
            return False
        added = dialog.added
        self.refresh()
        self.select(added.name)
        self._say(f"User {added.name} added as {added.role.value}.", ok=True)
        return True

    def change_role(self) -> bool:
        actor, user = self._actor(), self.selected()
        if actor is None or user is None:
            return False
        dialog = ChangeRoleDialog(self.store, actor, user, self)
        return self._done(dialog, user.name, f"Role of {user.name} changed.")

    def deactivate(self) -> bool:
        user = self.selected()
        warning = (
            f"Stations record as {user.name}: while it is deactivated they record nothing."
            if user is not None and user.role.value not in PERSON_ROLES
            else "The account stays on record; it can be reactivated."
        )
        return self._with_reason(
            "Deactivate", self.store.disable_user, "deactivated (kept on record)", warning
        )

    def reactivate(self) -> bool:
        return self._with_reason("Reactivate", self.store.enable_user, "reactivated")

    def unlock(self) -> bool:
        return self._with_reason("Unlock", self.store.unlock_user, "unlocked")

    def _with_reason(self, verb: str, change: Callable, done: str, hint: str = "") -> bool:
        actor, user = self._actor(), self.selected()
        if actor is None or user is None:
            return False
        name = user.name
        dialog = ReasonDialog(f"{verb} {name}", lambda why: change(actor, name, why), self)
        dialog.hint.setText(hint)
        return self._done(dialog, name, f"User {name} {done}.")

    def set_password(self) -> bool:
        actor, user = self._actor(), self.selected()
        if actor is None or user is None:
            return False
        dialog = ResetPasswordDialog(self.store, actor, user, self)
        return self._done(
            dialog, user.name, f"Password of {user.name} set (signed by {actor.name})."
        )

    def _say(self, text: str, ok: bool) -> None:
        self.message.setStyleSheet(OK_STYLE if ok else ERROR_STYLE)
        self.message.setText(text)
