"""The window's layout: it fits a 1024 x 768 panel PC (every Station control on screen), the side
panel and the verdict grow with a large screen, and the last verdict says which part and when.
Offscreen, on the real station, store and reference judge (issue 13)."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from inspector.config import Settings, StationProfile
from inspector.store import Store
from tests.support.paths import ROOT

DEMO = ROOT / "assets" / "demo"


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    from inspector.ui.app import application
    from inspector.ui.main_window import MainWindow

    monkeypatch.setenv("INSPECTOR_CONFIG", str(tmp_path / "station.yaml"))
    application()
    settings = Settings.from_env(data_dir=tmp_path / "data")
    store = Store.open(settings)
    window = MainWindow(
        settings,
        StationProfile(),
        store,
        f"folder:{DEMO / 'camera'}",
        str(DEMO / "recipe-reference.yaml"),
    )
    qtbot.addWidget(window)
    window.show()
    yield window
    window.runner.stop()
    store.close()


def _inside(widget, window) -> bool:
    """The widget is shown whole inside the window's client area."""
    top_left = widget.mapTo(window, widget.rect().topLeft())
    bottom_right = widget.mapTo(window, widget.rect().bottomRight())
    return window.rect().contains(top_left) and window.rect().contains(bottom_right)


def test_the_window_fits_1024_by_768_with_every_station_control_shown(window, qtbot):
    hint = window.minimumSizeHint()
    assert hint.width() <= 1024 and hint.height() <= 768 - 30  # a title bar above it
    for index in range(window.tabs.count()):
        window.tabs.setCurrentIndex(index)
        hint = window.minimumSizeHint()
        assert hint.width() <= 1024 and hint.height() <= 738, window.tabs.tabText(index)
    window.tabs.setCurrentWidget(window.station)
    window.resize(1024, 738)
    qtbot.waitUntil(lambda: window.width() == 1024)
    station = window.station
    controls = (
        station.start_button,
        station.stop_button,
        station.trigger_button,
        station.banner,
        station.count_labels["Yield"],
    )
    for control in controls:
        assert control.isVisible() and _inside(control, window), control


LONG_CAMERA = f"folder:{DEMO / 'camera'}"  # the demo's boards: an address longer than the cell


def test_the_views_table_fits_1024_by_768_with_every_column_and_control_shown(window, qtbot):
    """Several cameras per part (Add view), run: the table, its columns, the views side by side
    and every control still fit a 1024 x 768 panel PC; a long camera address is cut in its
    middle, whole in its tooltip."""
    station = window.station
    window.tabs.setCurrentWidget(station)
    window.resize(1024, 738)  # the panel PC's screen, less a title bar
    qtbot.waitUntil(lambda: (window.width(), window.height()) == (1024, 738))
    station.add_view()  # the one camera becomes view1, and view2 is added
    station.add_view()
    station.add_view()  # four views: the table scrolls past two rows
    table = station.views_table
    assert table.rowCount() == 4
    for row in range(4):
        table.item(row, 1).setText(LONG_CAMERA)
    station.start()  # the live area shows the four views side by side
    qtbot.waitUntil(lambda: len(station.live.images) == 4, timeout=60_000)
    qtbot.waitUntil(lambda: window.runner.station is None, timeout=60_000)  # the boards judged
    qtbot.wait(50)  # the layout takes the shown table, the views and the hidden fields in
    hint = window.minimumSizeHint()
    assert hint.width() <= 1024 and hint.height() <= 738, hint
    # Opening the table did not push the window past the screen, not even for a moment.
    assert (window.width(), window.height()) == (1024, 738)
    controls = (
        table,
        station.add_view_button,
        station.remove_view_button,
        station.settings_button,
        station.start_button,
        station.stop_button,
        station.trigger_button,
        station.banner,
        station.count_labels["Yield"],
        station.status,
    )
    for control in controls:
        assert control.isVisible() and _inside(control, window), control
    # Every column inside the table, none scrolled off to the side; two rows shown whole.
    assert table.horizontalScrollBar().maximum() == 0
    right = table.columnViewportPosition(2) + table.columnWidth(2)
    assert right <= table.viewport().width()
    assert all(table.columnWidth(c) >= 40 for c in range(3))
    assert table.viewport().height() >= 2 * table.rowHeight(0)
    assert table.item(0, 1).toolTip() == LONG_CAMERA
    # The one camera's fields are unused with several views: hidden, their height the table's.
    assert not station.source_edit.isVisible() and not station.recipe_box.isVisible()
    station.views_table.selectAll()
    station.remove_view()
    assert station.source_edit.isVisible() and not table.isVisible()


def test_the_side_panel_and_verdict_grow_with_the_window(window, qtbot):
    station = window.station
    window.resize(1024, 738)
    qtbot.waitUntil(lambda: window.width() == 1024)
    small_panel, small_font = station.panel.width(), station.banner.font().pointSize()
    small_banner = station.banner.height()
    window.resize(1920, 1050)
    qtbot.waitUntil(lambda: window.width() == 1920)
    assert station.panel.width() > small_panel + 100
    assert station.panel.width() >= 1920 // 5
    assert station.banner.font().pointSize() > small_font
    # The verdict takes the height the larger screen adds: no empty band below the controls.
    qtbot.waitUntil(lambda: station.banner.height() >= small_banner + 250)
    status = station.status
    bottom = status.mapTo(station.panel, status.rect().bottomLeft()).y()
    assert station.panel.height() - bottom < 40
    # Back to the panel PC: the large letters do not hold the window open.
    window.resize(1024, 738)
    qtbot.waitUntil(lambda: window.width() == 1024)
    assert window.minimumSizeHint().height() <= 738
    assert station.banner.font().pointSize() <= small_font + 2


def test_the_last_verdict_shows_the_part_and_its_time(window, qtbot):
    station = window.station
    assert station.last_part_label.text() == "No part inspected yet"
    station.start()
    qtbot.waitUntil(lambda: station.counters.total == 12, timeout=60_000)
    part = station.last_part
    text = station.last_part_label.text()
    [view] = part.views
    when = view.frame.captured_at.astimezone().strftime("%H:%M:%S")
    assert text.startswith(f"{when} · Part {part.part_id} · ")
    assert text.endswith(f"#{view.inspection_id}")
    # Defects grouped with counts, not "deviation, deviation, deviation...".
    if view.verdict.defects:
        assert "deviation, deviation" not in station.reason.text()


def test_defects_are_grouped_with_counts():
    from inspector.domain import Defect, Severity
    from inspector.ui.station_view import grouped_defects

    found = [Defect("deviation", Severity.MAJOR)] * 3 + [Defect("scratch", Severity.MINOR)]
    assert grouped_defects(found) == "deviation ×3, scratch"
