"""The bar over a list that a person is working on: "12 new — show". Records that arrive meanwhile
are counted here instead of moving the list; a click loads them (the selection is kept)."""

from __future__ import annotations

from PySide6.QtWidgets import QPushButton


def new_text(count: int) -> str:
    """The bar's words (Qt-free): "1 new — show", "2,414 new — show"."""
    return f"{count:,} new — show"


class NewRecordsBar(QPushButton):
    """Hidden while nothing new waits; `set_count(n)` shows it, a click emits `clicked`."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.count = 0
        self.setToolTip("Records that arrived while you worked; the list waits for you")
        self.setStyleSheet(
            "QPushButton{background:#1565c0;color:white;font-weight:bold;padding:4px;"
            "border-radius:3px;}"
        )
        self.hide()

    def set_count(self, count: int) -> None:
        self.count = count
        self.setText(new_text(count))
        self.setVisible(count > 0)
