"""Changing one's own password in the window: the current one, the new one twice.

The store checks everything (the current password, counted towards the lockout; the password
policy); the dialog only shows its answer. Nothing typed outlives a try: the fields are cleared
whatever the outcome.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
)

from inspector.errors import InspectorError
from inspector.store import Store
from inspector.store.audit import password_policy, users

RULES = (
    f"At least {password_policy.MIN_LENGTH} characters (administrators "
    f"{password_policy.MIN_LENGTH_ADMIN}, mixing three kinds of character unless "
    f"{password_policy.PASSPHRASE_LENGTH} or more); not a common password; not containing "
    "your user name."
)


class ChangePasswordDialog(QDialog):
    def __init__(self, store: Store, identity: users.Identity, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Change the password of {identity.name}")
        self.store = store
        self.identity = identity
        self.current = QLineEdit()
        self.new = QLineEdit()
        self.again = QLineEdit()
        for field in (self.current, self.new, self.again):
            field.setEchoMode(QLineEdit.EchoMode.Password)
        rules = QLabel(RULES)
        rules.setWordWrap(True)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color:#ff8a80;")
        form = QFormLayout()
        form.addRow("Current password", self.current)
        form.addRow("New password", self.new)
        form.addRow("New password again", self.again)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.try_change)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(rules)
        layout.addWidget(self.message)
        layout.addWidget(buttons)

    def try_change(self) -> bool:
        current, new, again = self.current.text(), self.new.text(), self.again.text()
        for field in (self.current, self.new, self.again):
            field.clear()
        if new != again:
            self.message.setText("the two new passwords differ; type them again")
            return False
        try:
            self.store.change_own_password(self.identity.name, current, new)
        except InspectorError as exc:
            self.message.setText(str(exc))
            return False
        self.accept()
        return True
