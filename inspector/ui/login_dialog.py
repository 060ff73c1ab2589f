"""Logging in, and signing: both ask for the password, neither keeps it."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
)

from inspector.errors import InspectorError
from inspector.store import Store
from inspector.store.audit import users
from inspector.store.audit.signatures import Meaning


class LoginDialog(QDialog):
    def __init__(self, store: Store, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Inspector: log in")
        self.store = store
        self.identity: users.Identity | None = None
        self.name = QLineEdit()
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.message = QLabel("")
        self.message.setStyleSheet("color:#ff8a80;")
        form = QFormLayout()
        form.addRow("User", self.name)
        form.addRow("Password", self.password)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.try_login)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(buttons)

    def try_login(self) -> bool:
        try:
            self.identity = self.store.authenticate(self.name.text().strip(), self.password.text())
        except InspectorError as exc:
            self.message.setText(str(exc))
            return False
        finally:
            self.password.clear()
        self.accept()
        return True


class SignatureDialog(QDialog):
    """A decision on an inspection, signed: outcome, meaning, reason, the password again."""

    def __init__(self, signer: users.Identity, inspection_id: int, outcome: str, parent=None):
        super().__init__(parent)
        self.setWindowTitle(f"Sign your decision on inspection {inspection_id}")
        self.outcome = QComboBox()
        self.outcome.addItems(["FAIL", "PASS"])
        self.outcome.setCurrentText(outcome)
        self.meaning = QComboBox()
        self.meaning.addItems([m.value for m in Meaning])
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("Why (required: auditors read it)")
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        form = QFormLayout()
        form.addRow("Signed by", QLabel(f"{signer.full_name or signer.name} ({signer.role})"))
        form.addRow("Decision", self.outcome)
        form.addRow("Meaning", self.meaning)
        form.addRow("Reason", self.reason)
        form.addRow("Password", self.password)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)
