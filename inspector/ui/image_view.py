"""An image with the region of interest and defect boxes drawn over it: fitted, or zoomed and
panned by a person (wheel about the cursor, drag, double-click or Fit, the + and - buttons).

Boxes and labels are drawn in screen pixels after the image is placed, so they read the same at
any zoom: a line two pixels wide, a label font of a fixed pixel size, a box never smaller than a
few pixels, and labels placed where they do not cover one another (`place_labels`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSizeF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPen,
    QWheelEvent,
)
from PySide6.QtWidgets import QSizePolicy, QToolButton, QWidget

ROI_COLOUR = QColor(80, 170, 255)
DEFECT_COLOUR = QColor(255, 70, 60)
HALO_COLOUR = QColor(0, 0, 0, 160)  # under each line, so red reads on a red or bright part
BOX_LINE_PX = 2
LABEL_PX = 14  # the label font's height in screen pixels, whatever the zoom
MIN_BOX_PX = 10  # a defect of a few image pixels still shows as a box a person can see
ZOOM_STEP = 1.25  # one wheel notch or one press of + / -
MAX_ZOOM = 64.0  # times the fitted size
PAN_BUTTONS = (Qt.MouseButton.MiddleButton, Qt.MouseButton.RightButton)


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


def place_labels(boxes: list[QRectF], sizes: list[QSizeF], bounds: QRectF) -> list[QRectF]:
    """Where each box's label goes: above its top-left corner, else below the box, else inside
    it; where all three cover a label already placed, stacked downward until free. Kept inside
    `bounds` (the widget). Labels never cover one another while there is room."""
    placed: list[QRectF] = []
    for box, size in zip(boxes, sizes, strict=True):
        w, h = size.width(), size.height()
        candidates = [
            QRectF(box.left(), box.top() - h - 1, w, h),  # above
            QRectF(box.left(), box.bottom() + 2, w, h),  # below
            QRectF(box.left() + 2, box.top() + 2, w, h),  # inside
        ]
        candidates = [_inside(c, bounds) for c in candidates]
        chosen = next((c for c in candidates if not _covers(c, placed)), None)
        if chosen is None:
            chosen = candidates[0]
            for _ in range(200):  # stacked: one label height further down each time
                if not _covers(chosen, placed):
                    break
                moved = chosen.translated(0, h + 1)
                if moved.bottom() > bounds.bottom():  # no room below: try the next column
                    moved = QRectF(chosen.right() + 2, bounds.top(), w, h)
                chosen = _inside(moved, bounds)
        placed.append(chosen)
    return placed


def _inside(rect: QRectF, bounds: QRectF) -> QRectF:
    x = min(max(rect.left(), bounds.left()), max(bounds.left(), bounds.right() - rect.width()))
    y = min(max(rect.top(), bounds.top()), max(bounds.top(), bounds.bottom() - rect.height()))
    return QRectF(x, y, rect.width(), rect.height())


def _covers(rect: QRectF, placed: list[QRectF]) -> bool:
    return any(rect.intersects(other) for other in placed)


class ImageView(QWidget):
    """Shows one image, zoomable and pannable; optionally lets the user drag a rectangle (an
    ROI) with the left button, and then pans with the middle or right button."""

    rectangle_drawn = Signal(int, int, int, int)  # x, y, width, height in image pixels

    def __init__(self, parent: QWidget | None = None, placeholder: str = "No image") -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 240)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)  # + / - / 0 once clicked
        self._image: QImage | None = None
        self._overlay = Overlay()
        self._placeholder = placeholder
        self._drawing = False
        self._drag_start: QPointF | None = None
        self._drag_now: QPointF | None = None
        self._pan_from: QPointF | None = None
        self.zoom = 1.0  # times the fitted size
        self._origin: QPointF | None = None  # where image pixel (0, 0) lies; None: fitted
        self.image_size: tuple[int, int] | None = None
        self._buttons = []
        for text, tip, action in (
            ("−", "Zoom out (wheel down, or -)", lambda: self.zoom_by(1 / ZOOM_STEP)),
            ("+", "Zoom in (wheel up, or +)", lambda: self.zoom_by(ZOOM_STEP)),
            ("Fit", "The whole image (double-click, or 0)", self.fit),
        ):
            button = QToolButton(self)
            button.setText(text)
            button.setToolTip(tip + "; drag to pan")
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.clicked.connect(action)
            button.hide()
            self._buttons.append(button)
        self.zoom_out_button, self.zoom_in_button, self.fit_button = self._buttons

    def set_image(self, image: np.ndarray | None, overlay: Overlay | None = None) -> None:
        """Show `image`; a zoom is kept while images of one size follow (a live camera), and
        reset to the fitted view when the size changes."""
        size = (image.shape[1], image.shape[0]) if image is not None else None
        if size != self.image_size:
            self.zoom, self._origin = 1.0, None
        self._image = to_qimage(image) if image is not None else None
        self.image_size = size
        for button in self._buttons:
            button.setVisible(image is not None)
        self._place_buttons()
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
    def fit_scale(self) -> float:
        assert self._image is not None
        return min(self.width() / self._image.width(), self.height() / self._image.height())

    def scale(self) -> float:
        """Screen pixels per image pixel, as shown now."""
        return self.fit_scale() * self.zoom

    def _target(self) -> tuple[QRectF, float]:
        assert self._image is not None
        scale = self.scale()
        w, h = self._image.width() * scale, self._image.height() * scale
        if self._origin is None:
            return QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h), scale
        return QRectF(self._origin.x(), self._origin.y(), w, h), scale

    def image_to_widget(self, point: QPointF) -> QPointF:
        target, scale = self._target()
        return QPointF(target.x() + point.x() * scale, target.y() + point.y() * scale)

    def widget_to_image(self, point: QPointF) -> QPointF:
        target, scale = self._target()
        return QPointF((point.x() - target.x()) / scale, (point.y() - target.y()) / scale)

    _to_image = widget_to_image

    def image_rect_to_widget(self, x0: float, y0: float, x1: float, y1: float) -> QRectF:
        """Image pixels (x0, y0)-(x1, y1) where they are on the screen now, exactly."""
        return QRectF(self.image_to_widget(QPointF(x0, y0)), self.image_to_widget(QPointF(x1, y1)))

    def zoom_by(self, factor: float, anchor: QPointF | None = None) -> None:
        """Zoom by `factor` about `anchor` (a widget point, the centre by default): the image
        point under it stays under it, unless that would pull the image off its edge."""
        if self._image is None:
            return
        anchor = anchor if anchor is not None else QPointF(self.width() / 2, self.height() / 2)
        under = self.widget_to_image(anchor)
        zoom = min(MAX_ZOOM, max(1.0, self.zoom * factor))
        if zoom == 1.0:
            self.fit()
            return
        self.zoom = zoom
        scale = self.scale()
        self._origin = QPointF(anchor.x() - under.x() * scale, anchor.y() - under.y() * scale)
        self._keep_in_view()
        self.update()

    def pan_by(self, dx: float, dy: float) -> None:
        if self._image is None or self._origin is None:
            return  # fitted: the whole image is in view, nothing to pan to
        self._origin = QPointF(self._origin.x() + dx, self._origin.y() + dy)
        self._keep_in_view()
        self.update()

    def fit(self) -> None:
        """The whole image, centred (the view each new image starts with)."""
        self.zoom, self._origin = 1.0, None
        self.update()

    def _keep_in_view(self) -> None:
        """The image covers the widget where it is larger than it, and is centred where not."""
        target, _ = self._target()

        def axis(start: float, length: float, room: float) -> float:
            if length <= room:
                return (room - length) / 2
            return min(0.0, max(room - length, start))

        self._origin = QPointF(
            axis(target.x(), target.width(), self.width()),
            axis(target.y(), target.height(), self.height()),
        )

    def overlay_geometry(self) -> tuple[list[QRectF], list[tuple[str, QRectF, QRectF]]]:
        """The defect boxes on the screen now, and each label shown with where it goes and its
        box (a box panned out of view shows no label): what `paintEvent` draws."""
        if self._image is None:
            return [], []
        boxes: list[QRectF] = []
        for (x0, y0, x1, y1), _label in self._overlay.boxes:
            box = self.image_rect_to_widget(x0, y0, x1, y1).normalized()
            if box.width() < MIN_BOX_PX or box.height() < MIN_BOX_PX:
                centre = box.center()
                w, h = max(box.width(), MIN_BOX_PX), max(box.height(), MIN_BOX_PX)
                box = QRectF(centre.x() - w / 2, centre.y() - h / 2, w, h)
            boxes.append(box)
        metrics = QFontMetricsF(self._label_font())
        bounds = QRectF(self.rect())
        labelled = [
            (box, label)
            for box, (_, label) in zip(boxes, self._overlay.boxes, strict=True)
            if label and box.intersects(bounds)
        ]
        sizes = [QSizeF(metrics.horizontalAdvance(label) + 8, metrics.height() + 2)
                 for _, label in labelled]  # fmt: skip
        where = place_labels([box for box, _ in labelled], sizes, bounds)
        return boxes, [
            (label, rect, box) for (box, label), rect in zip(labelled, where, strict=True)
        ]

    def _label_font(self) -> QFont:
        font = QFont(self.font())
        font.setBold(True)
        font.setPixelSize(LABEL_PX)
        return font

    def _place_buttons(self) -> None:
        x = self.width() - 4
        for button in reversed(self._buttons):
            hint = button.sizeHint()
            x -= hint.width()
            button.setGeometry(x, 4, hint.width(), hint.height())
            x -= 2

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._place_buttons()
        if self._origin is not None:
            self._keep_in_view()

    # -- painting --------------------------------------------------------------------------
    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(24, 26, 30))
        if self._image is None:
            painter.setPen(QColor(150, 150, 150))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self._placeholder)
            return
        target, scale = self._target()
        # Zoomed in far, each image pixel shows as a square: a person inspects pixels, not blur.
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, scale < 4)
        painter.drawImage(target, self._image)
        if self._overlay.roi is not None:
            x, y, w, h = self._overlay.roi
            painter.setPen(QPen(ROI_COLOUR, BOX_LINE_PX, Qt.PenStyle.DashLine))
            painter.drawRect(self.image_rect_to_widget(x, y, x + w, y + h))
        boxes, labels = self.overlay_geometry()
        for box in boxes:
            painter.setPen(QPen(HALO_COLOUR, BOX_LINE_PX + 2))
            painter.drawRect(box)
            painter.setPen(QPen(DEFECT_COLOUR, BOX_LINE_PX))
            painter.drawRect(box)
        painter.setFont(self._label_font())
        for label, rect, box in labels:
            if not rect.intersects(box.adjusted(-3, -3, 3, 3)):  # stacked away: a leader line
                painter.setPen(QPen(DEFECT_COLOUR, 1))
                painter.drawLine(QPointF(rect.left(), rect.center().y()), box.topLeft())
            painter.fillRect(rect, DEFECT_COLOUR)
            painter.setPen(QColor(255, 255, 255))
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, label)
        if self._drag_start is not None and self._drag_now is not None:
            painter.setPen(QPen(ROI_COLOUR, BOX_LINE_PX))
            painter.drawRect(QRectF(self._drag_start, self._drag_now).normalized())

    # -- zoom, pan and drawing an ROI ------------------------------------------------------
    def wheelEvent(self, event: QWheelEvent) -> None:
        notches = event.angleDelta().y() / 120
        if self._image is None or notches == 0:
            event.ignore()
            return
        self.zoom_by(ZOOM_STEP**notches, event.position())
        event.accept()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        self.fit()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom_by(ZOOM_STEP)
        elif key == Qt.Key.Key_Minus:
            self.zoom_by(1 / ZOOM_STEP)
        elif key == Qt.Key.Key_0:
            self.fit()
        else:
            super().keyPressEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if self._image is None:
            return
        left = event.button() == Qt.MouseButton.LeftButton
        if self._drawing and left:
            self._drag_start = self._drag_now = event.position()
        elif left or event.button() in PAN_BUTTONS:
            self._pan_from = event.position()
            if self._origin is not None:
                self.setCursor(Qt.CursorShape.ClosedHandCursor)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._drag_start is not None:
            self._drag_now = event.position()
            self.update()
        elif self._pan_from is not None:
            delta = event.position() - self._pan_from
            self._pan_from = event.position()
            self.pan_by(delta.x(), delta.y())

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._pan_from is not None:
            self._pan_from = None
            self.enable_drawing(self._drawing)  # its cursor back
            return
        if self._drag_start is None or self._image is None:
            return
        a, b = self.widget_to_image(self._drag_start), self.widget_to_image(event.position())
        self._drag_start = self._drag_now = None
        x0 = int(max(0, min(a.x(), b.x())))
        y0 = int(max(0, min(a.y(), b.y())))
        x1 = int(min(self._image.width(), max(a.x(), b.x())))
        y1 = int(min(self._image.height(), max(a.y(), b.y())))
        self.update()
        if x1 - x0 >= 4 and y1 - y0 >= 4:
            self.rectangle_drawn.emit(x0, y0, x1 - x0, y1 - y0)
