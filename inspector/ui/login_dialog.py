"""Logging in, and signing: both ask for the password, neither keeps it."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC
from html import escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from inspector.cameras.images import UnreadableImage, read_image
from inspector.errors import InspectorError
from inspector.store import InspectionRecord, Store
from inspector.store.audit import users
from inspector.store.audit.signatures import Meaning
from inspector.ui.image_view import ImageView, Overlay


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


# The meanings a signature may carry, per decision: no "rejected" beside a PASS.
MEANINGS = {
    "FAIL": (
        (Meaning.REJECTED, "rejected: the part is bad, it is scrapped or reworked"),
        (Meaning.REVIEWED, "reviewed: I looked, and the failure stands"),
    ),
    "PASS": (
        (Meaning.APPROVED, "approved: the part is good, it ships"),
        (Meaning.REVIEWED, "reviewed: I looked, and the part is good"),
    ),
}
THUMBNAIL = (560, 340)  # the evidence, large enough to see the defect the decision is about


def without_flags(message: str) -> str:
    """A store message for the window: no command-line flag text (`(--reason TEXT)`)."""
    return re.sub(r"\s*\(--[a-z-]+(?: [A-Z]+)?\)", "", message)


class SignatureDialog(QDialog):
    """A decision on one inspection, signed: the part shown large (id, time, evidence), the
    decision and what the signature means, a reason, the password again.

    It is for one inspection only: the id is fixed when it opens, and `sign` (bound to that
    inspection by the caller) is called from here. It closes only once the decision is
    recorded: an empty reason or a refused password is said inline, and what was typed stays
    (but the password, which is never kept)."""

    def __init__(
        self,
        signer: users.Identity,
        inspection_id: int,
        outcome: str,
        parent=None,
        record: InspectionRecord | None = None,
        sign: Callable[[str, str, str, str], object] | None = None,
    ):
        super().__init__(parent)
        if record is not None and record.id != inspection_id:
            raise ValueError(f"the dialog for inspection {inspection_id} got record {record.id}")
        self.inspection_id = inspection_id
        self.record = record
        self.sign = sign
        self.signed: object | None = None  # what `sign` returned, once the decision is recorded
        self.setWindowTitle(f"Sign: inspection #{inspection_id}")
        self.setMinimumWidth(720)  # the height is the layout's: nothing overlaps the image
        self.part = QLabel(self._part_text())
        self.part.setTextFormat(Qt.TextFormat.RichText)
        self.part.setWordWrap(True)
        self.part.setToolTip(self._utc_text())
        self.evidence = ImageView(placeholder="No evidence image")
        self.evidence.setMinimumSize(*THUMBNAIL)
        self._show_evidence()
        self.outcome = QComboBox()
        self.outcome.addItems(["FAIL", "PASS"])
        self.meaning = QComboBox()
        self.outcome.currentTextChanged.connect(self._meanings_for)
        self.outcome.setCurrentText(outcome)
        self._meanings_for(self.outcome.currentText())
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("Why (required: auditors read it)")
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("Your password, to sign")
        self.error = QLabel("")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color:#ff8a80; font-weight:bold;")
        form = QFormLayout()
        form.addRow("Signed by", QLabel(f"{signer.full_name or signer.name} ({signer.role})"))
        form.addRow("Decision", self.outcome)
        form.addRow("Meaning", self.meaning)
        form.addRow("Reason", self.reason)
        form.addRow("Password", self.password)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Sign")
        buttons.accepted.connect(self.try_sign)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.part)
        layout.addWidget(self.evidence, 1)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.resize(760, 720)  # fits a 1024 x 768 screen

    def _part_text(self) -> str:
        record = self.record
        if record is None:
            return f"<span style='font-size:16pt'><b>Inspection #{self.inspection_id}</b></span>"
        local = record.captured_at.astimezone()
        return (
            f"<span style='font-size:16pt'><b>Inspection #{record.id}</b> · "
            f"{escape(record.outcome.value)}</span><br>"
            f"{local:%Y-%m-%d %H:%M:%S} (local) · part {escape(record.part_id or '-')} · "
            f"{escape(record.recipe)} v{record.recipe_version}<br>"
            f"The model said: {escape(record.reason or '-')}"
        )

    def _utc_text(self) -> str:
        if self.record is None:
            return ""
        return f"captured {self.record.captured_at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"

    def _show_evidence(self) -> None:
        record = self.record
        if record is None or record.evidence_path is None:
            return
        boxes = tuple((d.box, d.class_name) for d in record.defects if d.box is not None)
        try:
            self.evidence.set_image(read_image(record.evidence_path), Overlay(record.roi, boxes))
        except UnreadableImage as exc:
            self.evidence.set_placeholder(f"Evidence image {record.evidence_path.name}: {exc}")

    def _meanings_for(self, outcome: str) -> None:
        self.meaning.clear()
        for meaning, text in MEANINGS.get(outcome, ()):
            self.meaning.addItem(text, meaning.value)

    def meaning_value(self) -> str:
        """The signature's meaning as recorded (`rejected`, `approved`, `reviewed`)."""
        return str(self.meaning.currentData())

    def try_sign(self) -> bool:
        """Record the decision and close; or say what is wrong and stay open."""
        reason = self.reason.text().strip()
        if not reason:
            return self._refuse("A reason is required: auditors read it.", self.reason)
        if not self.password.text():
            return self._refuse("Enter your password to sign.", self.password)
        if self.sign is None:
            self.accept()
            return True
        try:
            self.signed = self.sign(
                self.outcome.currentText(), self.meaning_value(), reason, self.password.text()
            )
        except InspectorError as exc:
            return self._refuse(without_flags(str(exc)), self.password)
        finally:
            self.password.clear()
        self.accept()
        return True

    def _refuse(self, message: str, focus: QWidget) -> bool:
        self.error.setText(message)
        self.password.clear()
        focus.setFocus()
        return False
