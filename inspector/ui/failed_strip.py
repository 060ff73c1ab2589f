"""The last failed parts, as thumbnails under the verdict: a glance says whether failures repeat
(the same spot, the same board) and a click opens that inspection in History.

When the window opens, the strip shows the last failed parts on record (`load_recorded`: through
the `Store`, a part seen by several cameras once, from any earlier session or station sharing
the database); live parts then push in at the left. A live part's thumbnail is made from the
frame the station already holds (no file read); a recorded one from its evidence file, once, at
start. Only the newest `FAILED_SHOWN` are kept, so a long shift never grows the window's memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import cv2
import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QToolButton, QVBoxLayout, QWidget

from inspector.cameras.images import UnreadableImage, read_image
from inspector.domain import Outcome
from inspector.station import PartInspected
from inspector.store import InspectionRecord, Store
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


def recorded_part(record: InspectionRecord, today: datetime | None = None) -> FailedPart:
    """The strip's entry for a failed part on record (Qt-free): its evidence image (a grey one,
    saying so, where the file cannot be read: the failure is still shown) and its boxes."""
    boxes = tuple(d.box for d in record.defects if d.box is not None)
    problem = ""
    try:
        if record.evidence_path is None:
            raise UnreadableImage("no evidence file")
        image = _small_image(record.evidence_path, record.image_width)
        scale = image.shape[1] / max(1, record.image_width)
        boxes = tuple(tuple(round(v * scale) for v in box) for box in boxes)
    except UnreadableImage as exc:
        image = np.full((THUMB_PX, THUMB_PX, 3), 60, np.uint8)
        boxes, problem = (), f"\n(evidence image: {exc})"
    captured = record.captured_at.astimezone()
    now = (today or datetime.now()).astimezone()
    when = captured.strftime("%H:%M:%S" if captured.date() == now.date() else "%Y-%m-%d %H:%M")
    part = record.part_id or "(no id)"
    caption = f"#{record.id} · part {part} ({record.camera_id}) · {when}\n{record.reason}"
    return FailedPart(record.id, image, boxes, caption + problem)


def _small_image(path: Path, width: int) -> np.ndarray:
    """The evidence image, decoded at a quarter of its size where that is still larger than a
    thumbnail (eight 1080p files: about four times faster, at the window's opening)."""
    if width >= 4 * THUMB_PX * 2:
        small = cv2.imread(str(path), cv2.IMREAD_REDUCED_COLOR_4)
        if small is not None:
            return small
    return read_image(path)  # small, or unreadable: then its reason


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

    def load_recorded(self, store: Store) -> None:
        """The last failed parts on record, newest first (the window opening)."""
        self.parts = [recorded_part(r) for r in store.last_failed_parts(FAILED_SHOWN)]
        self._show_parts()

    def add(self, part: FailedPart) -> None:
        """A live failed part, pushed in at the left."""
        self.parts = [part, *self.parts][:FAILED_SHOWN]
        self._show_parts()

    def _show_parts(self) -> None:
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
        if self.parts:
            shown = len(self.parts)
            self.title.setText(f"Last failed parts ({shown}), newest first: click to open")
        else:
            self.title.setText("Last failed parts: none yet")

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
