"""The strip above every tab: what a person must see from across the room, whatever tab is open.

The run state (RUN / STARTING / STOPPED / FAULT) in big coloured letters, the recipe and version
the station runs, who is logged in (a button that opens the Account menu), and how many parts
wait for review (a button to the queue).
It only shows what it is told: the main window decides the state from the station view.
"""

from __future__ import annotations

from enum import StrEnum

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QWidget,
)

from inspector.store.audit.users import Identity


class RunState(StrEnum):
    RUN = "RUN"
    STARTING = "STARTING"
    STOPPED = "STOPPED"
    FAULT = "FAULT"


STATE_STYLES = {
    RunState.RUN: "background:#1f8f3a; color:white;",
    RunState.STARTING: "background:#1e5a9e; color:white;",
    RunState.STOPPED: "background:#4a4f57; color:#f0f0f0;",
    RunState.FAULT: "background:#6a1b9a; color:white;",  # the Station tab's FAULT colour
}
NOBODY_STYLE = "color:#e0a800; font-weight:bold;"
REVIEW_WAITING_STYLE = "color:#202020; background:#e0a800; font-weight:bold;"


def review_text(waiting: int) -> str:
    """The review count as the header says it (Qt-free, tested on its own)."""
    if waiting == 0:
        return "Review: none waiting"
    return f"Review: {waiting:,} waiting"


class Header(QFrame):
    review_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.state = RunState.STOPPED
        self.state_label = QLabel()
        self.state_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        font = QFont(self.font())
        font.setPointSize(20)
        font.setBold(True)
        self.state_label.setFont(font)
        self.state_label.setMinimumWidth(170)
        self.state_label.setMinimumHeight(44)
        self.recipe_label = QLabel("Recipe: -")
        # Who is logged in, as a button: its menu logs in, out, switches user (set_account_menu).
        self.user_label = QToolButton()
        self.user_label.setText("User: no login")
        self.user_label.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.user_label.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.user_label.setToolTip("Log in, log out, switch user, change password")
        for label in (self.recipe_label, self.user_label):
            label_font = QFont(self.font())
            label_font.setPointSize(12)
            label.setFont(label_font)
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.review_button = QPushButton("Review: -")
        self.review_button.setToolTip("Open the review queue")
        self.review_button.setMinimumHeight(36)
        self.review_button.clicked.connect(self.review_requested)
        row = QHBoxLayout(self)
        row.setContentsMargins(6, 4, 6, 4)
        row.addWidget(self.state_label)
        row.addWidget(self.recipe_label, 3)
        row.addWidget(self.user_label, 2)
        row.addWidget(self.review_button)
        self.set_state(RunState.STOPPED)
        self.set_user(None)
        self.review_waiting: int | None = None

    def set_state(self, state: RunState, detail: str = "") -> None:
        self.state = state
        self.state_label.setText(state.value)
        self.state_label.setStyleSheet(STATE_STYLES[state] + "border-radius:6px; padding:0 12px;")
        self.state_label.setToolTip(detail)

    def set_recipe(self, text: str) -> None:
        self.recipe_label.setText(f"Recipe: {text}")
        self.recipe_label.setToolTip(text)

    def set_user(self, identity: Identity | None) -> None:
        who = f"{identity.full_name or identity.name} ({identity.role})" if identity else "no login"
        self.user_label.setText(f"User: {who}")
        # Nobody logged in is a state to notice: nothing can be signed until someone does.
        self.user_label.setStyleSheet("" if identity else NOBODY_STYLE)

    def set_account_menu(self, menu: QMenu) -> None:
        self.user_label.setMenu(menu)

    def set_review_count(self, waiting: int) -> None:
        self.review_waiting = waiting
        self.review_button.setText(review_text(waiting))
        self.review_button.setStyleSheet(REVIEW_WAITING_STYLE if waiting else "")
