"""The last failed parts, as thumbnails under the verdict: a glance says whether failures repeat
(the same spot, the same board) and a click opens that inspection in History.

Thumbnails are made on the GUI thread from the frame the station already holds (no file read);
only the newest `FAILED_SHOWN` are kept, so a long shift never grows the window's memory.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QToolButton, QVBoxLayout, QWidget

from inspector.domain import Outcome
from inspector.station import PartInspected
from inspector.ui.image_view import DEFECT_COLOUR, to_qimage

FAILED_SHOWN = 8
THUMB_PX = 96  # drawn at this size, shown smaller or larger as the panel allows
ICON_MIN_PX = 34
ROW_PX = 46  # the row's height, whatever the window's width: the panel's minimum stays put


@dataclass(frozen=True)
class FailedPart:
    """One failed part as the strip shows it (Qt-free): the record a click opens, the image of
    its first failing view and that view's defect boxes, and its tooltip."""

    inspection_id: int
    image: np.ndarray
    boxes: tuple[tuple[int, int, int, int], ...]
    caption: str


def failed_part(event: PartInspected, when: str) -> FailedPart | None:
    """The strip's entry for a part, or None when the part did not fail or has no record."""
    if event.outcome is not Outcome.FAIL:
        return None
    for result in event.views:
        verdict = result.verdict
        if verdict is None or result.frame is None or result.inspection_id is None:
            continue
        if verdict.outcome is not Outcome.FAIL:
            continue
        boxes = tuple(
            (d.box.x0, d.box.y0, d.box.x1, d.box.y1) for d in verdict.defects if d.box is not None
        )
        part = event.part_id or "(no id)"
        view = f" ({result.view})" if len(event.views) > 1 else ""
        caption = f"#{result.inspection_id} · part {part}{view} · {when}\n{verdict.reason}"
        return FailedPart(result.inspection_id, result.frame.image, boxes, caption)
    return None


def thumbnail(part: FailedPart, size: int = THUMB_PX) -> QPixmap:
    """The part's image scaled into a square, its defect boxes drawn in red."""
    image = to_qimage(part.image)
    scale = min(size / image.width(), size / image.height())
    w, h = image.width() * scale, image.height() * scale
    target = QRectF((size - w) / 2, (size - h) / 2, w, h)
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.black)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    painter.drawImage(target, image)
    painter.setPen(QPen(DEFECT_COLOUR, 2))
    for x0, y0, x1, y1 in part.boxes:
        x, y = target.x() + x0 * scale, target.y() + y0 * scale
        painter.drawRect(QRectF(x, y, (x1 - x0) * scale, (y1 - y0) * scale))
    painter.end()
    return pixmap


class FailedStrip(QWidget):
    """Newest first, left to right; empty slots keep their place so nothing below moves."""

    opened = Signal(int)  # the inspection id of the thumbnail clicked

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.parts: list[FailedPart] = []
        self.title = QLabel("Last failed parts: none yet")
        self.title.setStyleSheet("color:#8a8f98;")
        self.buttons: list[QToolButton] = []
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(3)
        for slot in range(FAILED_SHOWN):
            button = QToolButton()
            button.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
            button.setMinimumWidth(ICON_MIN_PX)
            button.setFixedHeight(ROW_PX)
            button.setEnabled(False)
            button.clicked.connect(lambda _=False, s=slot: self._clicked(s))
            row.addWidget(button, 1)
            self.buttons.append(button)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addWidget(self.title)
        column.addLayout(row)
        self._fit_icons()

    def add(self, part: FailedPart) -> None:
        self.parts = [part, *self.parts][:FAILED_SHOWN]
        for slot, button in enumerate(self.buttons):
            if slot < len(self.parts):
                shown = self.parts[slot]
                button.setIcon(QIcon(thumbnail(shown)))
                button.setToolTip(shown.caption + "\nClick to open it in History.")
                button.setEnabled(True)
            else:
                button.setIcon(QIcon())
                button.setToolTip("")
                button.setEnabled(False)
        self.title.setText(f"Last failed parts ({len(self.parts)}), newest first: click to open")

    def shown_ids(self) -> list[int]:
        return [part.inspection_id for part in self.parts]

    def _clicked(self, slot: int) -> None:
        if slot < len(self.parts):
            self.opened.emit(self.parts[slot].inspection_id)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit_icons()

    def _fit_icons(self) -> None:
        # Square thumbnails as large as a slot allows in a row of fixed height, so neither a
        # new part nor the window's size moves what is below.
        width = max(ICON_MIN_PX, (self.width() - 3 * (FAILED_SHOWN - 1)) // FAILED_SHOWN)
        side = min(width, ROW_PX) - 6
        for button in self.buttons:
            button.setIconSize(QSize(side, side))
