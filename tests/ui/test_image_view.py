"""The evidence viewer: zoom about the cursor, pan, fit; boxes land exactly where their image
pixels are at every zoom, in lines and labels of a fixed screen size that do not cover one
another; an ROI drawn on a zoomed image is in image pixels. Offscreen, real widgets and pixels."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("PySide6")

BOX = (50, 20, 80, 45)  # x0, y0, x1, y1 in image pixels


@pytest.fixture
def view(qtbot):
    from inspector.ui.app import application
    from inspector.ui.image_view import ImageView, Overlay

    application()
    widget = ImageView()
    qtbot.addWidget(widget)
    widget.resize(400, 240)  # a 200x120 image fits at exactly 2 screen pixels a pixel
    widget.set_image(np.zeros((120, 200, 3), np.uint8), Overlay(None, ((BOX, "scratch"),)))
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def _rect(r) -> tuple[float, float, float, float]:
    return (r.left(), r.top(), r.right(), r.bottom())


def _is_red(image, x: int, y: int) -> bool:
    from PySide6.QtGui import QColor

    from inspector.ui.image_view import DEFECT_COLOUR

    return QColor(image.pixel(x, y)) == DEFECT_COLOUR


def _is_black(image, x: int, y: int) -> bool:
    from PySide6.QtGui import QColor

    return QColor(image.pixel(x, y)).getRgb()[:3] == (0, 0, 0)


def _send_mouse(widget, kind, x: float, y: float, button) -> None:
    from PySide6.QtCore import QPointF, Qt
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    point = QPointF(x, y)
    held = Qt.MouseButton.NoButton if kind.name == "MouseButtonRelease" else button
    event = QMouseEvent(kind, point, widget.mapToGlobal(point), button, held, Qt.NoModifier)
    QApplication.sendEvent(widget, event)


def test_a_box_lands_on_its_image_pixels_at_two_zoom_levels(view):
    from PySide6.QtCore import QPointF

    assert view.scale() == 2.0
    assert _rect(view.image_rect_to_widget(*BOX)) == (100, 40, 160, 90)
    grabbed = view.grab().toImage()
    assert _is_red(grabbed, 100, 65) and _is_red(grabbed, 160, 65)  # left and right edges
    assert _is_red(grabbed, 130, 90)  # bottom edge
    assert _is_black(grabbed, 130, 65) and _is_black(grabbed, 95, 65)  # inside and outside

    view.zoom_by(2.0, QPointF(100, 40))  # twice as near, about the box's top-left corner
    assert view.scale() == 4.0
    assert view.widget_to_image(QPointF(100, 40)) == QPointF(50, 20)  # it stayed under
    assert _rect(view.image_rect_to_widget(*BOX)) == (100, 40, 220, 140)
    grabbed = view.grab().toImage()
    assert _is_red(grabbed, 100, 90) and _is_red(grabbed, 220, 90)
    assert _is_red(grabbed, 160, 140)
    assert _is_black(grabbed, 160, 90) and not _is_red(grabbed, 160, 65)  # the old edge: image


def test_wheel_zooms_about_the_cursor_drag_pans_double_click_fits(view):
    from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    from inspector.ui.image_view import ZOOM_STEP

    cursor = QPointF(130, 70)
    under = view.widget_to_image(cursor)
    wheel = QWheelEvent(
        cursor,
        view.mapToGlobal(cursor),
        QPoint(),
        QPoint(0, 240),  # two notches up
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(view, wheel)
    assert view.zoom == pytest.approx(ZOOM_STEP**2)
    after = view.widget_to_image(cursor)
    assert (after.x(), after.y()) == pytest.approx((under.x(), under.y()))

    before = view.image_to_widget(QPointF(50, 20))
    left = Qt.MouseButton.LeftButton
    _send_mouse(view, QEvent.Type.MouseButtonPress, 200, 100, left)
    _send_mouse(view, QEvent.Type.MouseMove, 170, 90, left)
    _send_mouse(view, QEvent.Type.MouseMove, 150, 80, left)
    _send_mouse(view, QEvent.Type.MouseButtonRelease, 150, 80, left)
    moved = view.image_to_widget(QPointF(50, 20))
    assert (moved.x() - before.x(), moved.y() - before.y()) == pytest.approx((-50, -20))

    _send_mouse(view, QEvent.Type.MouseButtonDblClick, 150, 80, left)
    assert view.zoom == 1.0 and _rect(view.image_rect_to_widget(*BOX)) == (100, 40, 160, 90)


def test_the_buttons_zoom_and_fit_and_the_image_never_leaves_the_view(view):
    from PySide6.QtCore import QPointF

    from inspector.ui.image_view import ZOOM_STEP

    assert view.zoom_in_button.isVisible() and view.fit_button.isVisible()
    view.zoom_in_button.click()
    view.zoom_in_button.click()
    assert view.zoom == pytest.approx(ZOOM_STEP**2)
    view.pan_by(10_000, 10_000)  # dragged far past the corner: the image stays in view
    assert view.image_to_widget(QPointF(0, 0)) == QPointF(0, 0)
    view.zoom_out_button.click()
    assert view.zoom == pytest.approx(ZOOM_STEP)
    view.fit_button.click()
    assert view.zoom == 1.0 and view.image_to_widget(QPointF(0, 0)) == QPointF(0, 0)
    view.zoom_out_button.click()  # never smaller than the whole image
    assert view.zoom == 1.0


def test_labels_keep_their_screen_size_and_never_cover_one_another(view):
    from PySide6.QtCore import QPointF, QRectF

    from inspector.ui.image_view import BOX_LINE_PX, MIN_BOX_PX, Overlay

    crowded = tuple(((60 + i, 30 + i, 70 + i, 40 + i), f"defect {i}") for i in range(6))
    tiny = ((10, 10, 11, 11), "pinhole")  # one image pixel
    view.set_overlay(Overlay(None, (*crowded, tiny)))
    heights = set()
    for zoom in (1.0, 3.0):
        view.fit()
        view.zoom_by(zoom, QPointF(20, 20))
        boxes, labels = view.overlay_geometry()
        assert [text for text, _, _ in labels] == [f"defect {i}" for i in range(6)] + ["pinhole"]
        rects = [rect for _, rect, _ in labels]
        for i, a in enumerate(rects):
            assert QRectF(view.rect()).contains(a)
            assert not any(a.intersects(b) for b in rects[i + 1 :]), (zoom, i)
        heights |= {round(rect.height(), 3) for rect in rects}
        assert boxes[-1].width() >= MIN_BOX_PX and boxes[-1].height() >= MIN_BOX_PX
    assert len(heights) == 1  # the same font at every zoom
    assert BOX_LINE_PX >= 2
    view.zoom_by(4.0, QPointF(380, 220))  # the pinhole far out of view: its label too
    assert "pinhole" not in [text for text, _, _ in view.overlay_geometry()[1]]


def test_an_roi_drawn_on_a_zoomed_image_is_in_image_pixels(view, qtbot):
    from PySide6.QtCore import QEvent, QPointF, Qt

    drawn: list[tuple[int, int, int, int]] = []
    view.rectangle_drawn.connect(lambda *r: drawn.append(r))
    view.enable_drawing(True)
    view.zoom_by(2.0, QPointF(100, 40))  # 4 screen pixels an image pixel, origin (-100, -40)
    left = Qt.MouseButton.LeftButton
    _send_mouse(view, QEvent.Type.MouseButtonPress, 20, 20, left)  # image (30, 15)
    _send_mouse(view, QEvent.Type.MouseMove, 100, 80, left)
    _send_mouse(view, QEvent.Type.MouseButtonRelease, 180, 140, left)  # image (70, 45)
    assert drawn == [(30, 15, 40, 30)]
    assert view.zoom == 2.0  # drawing did not pan
    # The middle button pans while drawing is on.
    before = view.image_to_widget(QPointF(50, 20))
    middle = Qt.MouseButton.MiddleButton
    _send_mouse(view, QEvent.Type.MouseButtonPress, 200, 100, middle)
    _send_mouse(view, QEvent.Type.MouseMove, 190, 100, middle)
    _send_mouse(view, QEvent.Type.MouseButtonRelease, 190, 100, middle)
    assert view.image_to_widget(QPointF(50, 20)).x() == before.x() - 10
    assert drawn == [(30, 15, 40, 30)]
