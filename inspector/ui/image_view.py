"""An image with the region of interest and defect boxes drawn over it, scaled to fit."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QMouseEvent, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

ROI_COLOUR = QColor(80, 170, 255)
DEFECT_COLOUR = QColor(255, 70, 60)


@dataclass(frozen=True)
class Overlay:
    roi: tuple[int, int, int, int] | None = None  # x, y, width, height in image pixels
    boxes: tuple[tuple[tuple[int, int, int, int], str], ...] = ()  # (x0, y0, x1, y1), label


def to_qimage(image: np.ndarray) -> QImage:
    """A QImage that owns a copy of the pixels (BGR, BGRA or mono uint8)."""
    image = np.ascontiguousarray(image)
    height, width = image.shape[:2]
    if image.ndim == 2:
        fmt, line = QImage.Format.Format_Grayscale8, width
    elif image.shape[2] == 4:
        fmt, line = QImage.Format.Format_ARGB32, width * 4
    else:
        fmt, line = QImage.Format.Format_BGR888, width * 3
    return QImage(image.data, width, height, line, fmt).copy()


class ImageView(QWidget):
    """Shows one image; optionally lets the user drag a rectangle (to draw an ROI)."""

    rectangle_drawn = Signal(int, int, int, int)  # x, y, width, height in image pixels

    def __init__(self, parent: QWidget | None = None, placeholder: str = "No image") -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 240)
        self._image: QImage | None = None
        self._overlay = Overlay()
        self._placeholder = placeholder
        self._drawing = False
        self._drag_start: QPointF | None = None
        self._drag_now: QPointF | None = None
        self.image_size: tuple[int, int] | None = None

    def set_image(self, image: np.ndarray | None, overlay: Overlay | None = None) -> None:
        self._image = to_qimage(image) if image is not None else None
        self.image_size = (image.shape[1], image.shape[0]) if image is not None else None
        if overlay is not None:
            self._overlay = overlay
        self.update()

    def set_overlay(self, overlay: Overlay) -> None:
        self._overlay = overlay
        self.update()

    def set_placeholder(self, text: str) -> None:
        self._placeholder = text
        self.update()

    def enable_drawing(self, enabled: bool) -> None:
        self._drawing = enabled
        self.setCursor(Qt.CursorShape.CrossCursor if enabled else Qt.CursorShape.ArrowCursor)

    # -- geometry --------------------------------------------------------------------------
    def _target(self) -> tuple[QRectF, float]:
        assert self._image is not None
        scale = min(self.width() / self._image.width(), self.height() / self._image.height())
        w, h = self._image.width() * scale, self._image.height() * scale
        return QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h), scale

    def _to_image(self, point: QPointF) -> QPointF:
        target, scale = self._target()
        return QPointF((point.x() - target.x()) / scale, (point.y() - target.y()) / scale)

    # -- painting --------------------------------------------------------------------------
    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(24, 26, 30))
        if self._image is None:
            painter.setPen(QColor(150, 150, 150))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self._placeholder)
            return
        target, scale = self._target()
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.drawImage(target, self._image)

        def rect(x0: float, y0: float, x1: float, y1: float) -> QRectF:
            return QRectF(
                target.x() + x0 * scale,
                target.y() + y0 * scale,
                (x1 - x0) * scale,
                (y1 - y0) * scale,
            )

        if self._overlay.roi is not None:
            x, y, w, h = self._overlay.roi
            painter.setPen(QPen(ROI_COLOUR, 2, Qt.PenStyle.DashLine))
            painter.drawRect(rect(x, y, x + w, y + h))
        font = QFont(self.font())
        font.setBold(True)
        painter.setFont(font)
        for (x0, y0, x1, y1), label in self._overlay.boxes:
            box = rect(x0, y0, x1, y1)
            painter.setPen(QPen(DEFECT_COLOUR, 3))
            painter.drawRect(box)
            if label:
                text_rect = painter.fontMetrics().boundingRect(label).adjusted(-3, -1, 3, 1)
                text_rect.moveTopLeft(
                    box.topLeft().toPoint() - text_rect.bottomLeft() + text_rect.topLeft()
                )
                painter.fillRect(text_rect, DEFECT_COLOUR)
                painter.setPen(QColor(255, 255, 255))
                painter.drawText(text_rect, Qt.AlignmentFlag.AlignCenter, label)
        if self._drag_start is not None and self._drag_now is not None:
            painter.setPen(QPen(ROI_COLOUR, 2))
            painter.drawRect(QRectF(self._drag_start, self._drag_now).normalized())

    # -- drawing an ROI --------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        if self._drawing and self._image is not None:
            self._drag_start = self._drag_now = event.position()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._drag_start is not None:
            self._drag_now = event.position()
            self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._drag_start is None or self._image is None:
            return
        a, b = self._to_image(self._drag_start), self._to_image(event.position())
        self._drag_start = self._drag_now = None
        x0 = int(max(0, min(a.x(), b.x())))
        y0 = int(max(0, min(a.y(), b.y())))
        x1 = int(min(self._image.width(), max(a.x(), b.x())))
        y1 = int(min(self._image.height(), max(a.y(), b.y())))
        self.update()
        if x1 - x0 >= 4 and y1 - y0 >= 4:
            self.rectangle_drawn.emit(x0, y0, x1 - x0, y1 - y0)
