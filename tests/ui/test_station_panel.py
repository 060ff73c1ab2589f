"""The Station tab as an operator uses it (issue 13): a strip of the last failed parts that opens
each in History, a counter reset that asks first and leaves the record alone, a reason that never
moves the buttons, distinct labels, Trigger on a free-running camera that says nothing odd, and
the yield against a target on the Station and Statistics tabs (the Pareto counts parts).

Offscreen, on the real window, station, store (SQLite) and the model-free reference judge run on
the demo camera: twelve boards, a defective one and its good template in turn."""

from __future__ import annotations

import dataclasses
import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from inspector.config import Settings, StationProfile
from inspector.domain import Outcome
from inspector.store import InspectionFilter, Store
from tests.support.paths import ROOT

DEMO = ROOT / "assets" / "demo"
RECIPE = DEMO / "recipe-reference.yaml"
PARTS = 12


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    from inspector.ui.app import application
    from inspector.ui.main_window import MainWindow

    monkeypatch.setenv("INSPECTOR_CONFIG", str(tmp_path / "station.yaml"))
    application()
    settings = Settings.from_env(data_dir=tmp_path / "data", database_url=None)
    store = Store.open(settings)
    window = MainWindow(
        settings,
        StationProfile(),
        store,
        f"folder:{DEMO / 'camera'}",
        str(DEMO / "recipe-reference.yaml"),
    )
    qtbot.addWidget(window)
    window.resize(1024, 738)
    window.show()
    yield window
    window.runner.stop(wait=True)
    store.close()


def _run_the_demo(window, qtbot, parts: list | None = None) -> None:
    """Start, and wait until the demo folder's twelve parts are judged and the station stops."""
    seen = parts if parts is not None else []
    window.bridge.part.connect(seen.append)
    before = len(seen)
    window.station.start()
    qtbot.waitUntil(
        lambda: (
            len(seen) - before == PARTS
            and window.runner.station is None
            and window.station.status.text().startswith("Stopped")
        ),  # the queued stop, shown
        timeout=90_000,
    )


def _failed_ids(store: Store) -> list[int]:
    return [r.id for r in store.page(InspectionFilter(outcomes=(Outcome.FAIL,)), 100)]


def test_the_strip_shows_the_last_failed_parts_and_a_click_opens_one_in_history(window, qtbot):
    from PySide6.QtCore import Qt

    strip = window.station.failed_strip
    assert strip.shown_ids() == [] and not any(b.isEnabled() for b in strip.buttons)
    _run_the_demo(window, qtbot)

    failed = _failed_ids(window.store)  # newest first
    assert len(failed) == PARTS // 2
    assert strip.shown_ids() == failed
    shown = [b for b in strip.buttons if b.isEnabled()]
    assert len(shown) == len(failed) and not strip.buttons[len(failed)].isEnabled()
    assert all(not b.icon().isNull() for b in shown)
    assert f"#{failed[0]} · part " in strip.buttons[0].toolTip()
    # The thumbnails are the failed boards themselves: the first one's pixels are not blank.
    image = strip.buttons[0].icon().pixmap(48, 48).toImage()
    colours = {image.pixel(x, y) for x in range(0, 48, 4) for y in range(0, 48, 4)}
    assert len(colours) > 4

    qtbot.mouseClick(strip.buttons[2], Qt.MouseButton.LeftButton)
    history = window.history
    assert window.tabs.currentWidget() is history
    assert history.detail.shown_id == failed[2]
    [row] = {index.row() for index in history.table.selectionModel().selectedRows()}
    assert history.model.rows[row].id == failed[2]


def test_a_new_window_shows_the_failed_parts_on_record_then_live_ones(window, qtbot):
    """The strip is not session-only: a window opened later (a new shift, a restart) shows the
    last failed parts on record, each opens its record, and live ones push in at the left."""
    from PySide6.QtCore import Qt

    from inspector.ui.failed_strip import FAILED_SHOWN
    from inspector.ui.main_window import MainWindow

    _run_the_demo(window, qtbot)
    on_record = _failed_ids(window.store)
    assert len(on_record) == PARTS // 2 < FAILED_SHOWN
    later = MainWindow(
        window.settings, StationProfile(), window.store, f"folder:{DEMO / 'camera'}", str(RECIPE)
    )
    qtbot.addWidget(later)
    later.resize(1024, 738)
    later.show()
    try:
        strip = later.station.failed_strip
        assert strip.shown_ids() == on_record  # newest first, before any part this session
        assert all(b.isEnabled() for b in strip.buttons[: len(on_record)])
        assert f"#{on_record[0]} · part " in strip.buttons[0].toolTip()
        assert "Last failed parts (6)" in strip.title.text()
        image = strip.buttons[0].icon().pixmap(48, 48).toImage()
        assert len({image.pixel(x, y) for x in range(0, 48, 4) for y in range(0, 48, 4)}) > 4

        qtbot.mouseClick(strip.buttons[1], Qt.MouseButton.LeftButton)
        assert later.tabs.currentWidget() is later.history
        assert later.history.detail.shown_id == on_record[1]

        _run_the_demo(later, qtbot)
        assert strip.shown_ids() == _failed_ids(later.store)[:FAILED_SHOWN]
        assert strip.shown_ids()[-2:] == on_record[:2]  # the recorded ones moved right
    finally:
        later.runner.stop(wait=True)


def test_the_strip_opens_a_part_that_history_filters_out(window, qtbot):
    _run_the_demo(window, qtbot)
    failed = _failed_ids(window.store)
    history = window.history
    history.outcome.setCurrentText(next(t for t in _outcome_filters() if "PASS" in t.upper()))
    history.apply_filters()
    window.station.failed_strip.buttons[0].click()
    assert window.tabs.currentWidget() is history
    assert history.detail.shown_id == failed[0]  # the part asked for, not a stale one
    assert not history.table.selectionModel().selectedRows()


def _outcome_filters() -> list[str]:
    from inspector.ui.history_view import OUTCOME_FILTERS

    return list(OUTCOME_FILTERS)


def test_reset_asks_first_and_zeroes_only_the_counters_on_screen(window, qtbot):
    view, store = window.station, window.store
    _run_the_demo(window, qtbot)
    recorded, waiting = store.count(), store.review_count()
    assert view.count_labels["Total"].text() == "12" and recorded == PARTS

    view.confirm_reset = lambda: False  # the operator cancels
    assert not view.reset_counters()
    assert view.count_labels["Total"].text() == "12" and view.counters.failed == 6

    view.confirm_reset = lambda: True
    assert view.reset_counters()
    assert [view.count_labels[n].text() for n in ("Total", "Pass", "Fail", "Unsure")] == ["0"] * 4
    assert view.count_labels["Yield"].text() == "-"
    assert view.counted_since.text().startswith("Counted since ")
    # The record is untouched: every inspection, the review queue, the strip of failed parts.
    assert store.count() == recorded and store.review_count() == waiting
    assert len(view.failed_strip.shown_ids()) == 6

    _run_the_demo(window, qtbot)  # counting starts again from zero
    assert view.count_labels["Total"].text() == "12" and view.counters.failed == 6
    assert store.count() == 2 * PARTS


def test_a_long_reason_never_moves_the_buttons(window, qtbot):
    from PySide6.QtCore import QPoint

    view = window.station
    controls = (view.start_button, view.stop_button, view.trigger_button, view.reset_button)

    def where() -> list[QPoint]:
        return [c.mapTo(window, QPoint(0, 0)) for c in controls]

    at_rest = where()
    parts: list = []
    places = []
    window.bridge.part.connect(lambda _: places.append(where()))  # after the view's own slot
    _run_the_demo(window, qtbot, parts)
    assert view.reason.font().pointSize() >= 12
    assert places == [at_rest] * PARTS

    # A verdict whose reason runs to many lines, as a chatty model writes them.
    part = parts[0]
    [result] = part.views
    chatty = "The solder joint at the lower left looks bridged and the trace beside it. " * 12
    long = dataclasses.replace(
        part,
        views=(
            dataclasses.replace(result, verdict=dataclasses.replace(result.verdict, reason=chatty)),
        ),
    )
    window.bridge.part.emit(long)
    qtbot.waitUntil(lambda: view.reason.text().startswith("The solder joint"))
    assert where() == at_rest
    # It scrolls; the panel holds still.
    qtbot.waitUntil(lambda: view.reason_box.verticalScrollBar().maximum() > 0)
    assert where() == at_rest


def test_every_row_of_the_panel_has_its_own_label(window):
    from PySide6.QtWidgets import QFormLayout, QLabel

    labels = []
    for form in window.station.panel.findChildren(QFormLayout):
        for row in range(form.rowCount()):
            item = form.itemAt(row, QFormLayout.ItemRole.LabelRole)
            if item is not None and isinstance(item.widget(), QLabel) and item.widget().text():
                labels.append(item.widget().text())
    assert "Camera state" in labels and "Camera source" in labels
    assert len(labels) == len(set(labels)), labels


def test_the_stations_own_buttons_look_disabled_when_they_are(window, qtbot):
    button = window.station.stop_button
    assert not button.isEnabled()  # stopped: Stop cannot be used

    def pixels():
        image = button.grab().toImage()
        return [image.pixel(x, y) for y in range(image.height()) for x in range(image.width())]

    disabled = pixels()
    button.setEnabled(True)
    enabled = pixels()
    button.setEnabled(False)
    changed = sum(a != b for a, b in zip(enabled, disabled, strict=True))
    assert changed > len(enabled) // 4


def test_trigger_on_a_free_running_camera_says_nothing_odd(window, qtbot):
    from PySide6.QtCore import Qt

    view = window.station
    view.start()
    qtbot.waitUntil(lambda: view.stop_button.isEnabled() and window.runner.station, timeout=60_000)
    qtbot.waitUntil(lambda: view.status.text().startswith("Running"), timeout=60_000)
    assert not view.trigger_button.isEnabled()
    assert "runs free" in view.trigger_button.toolTip()
    status = view.status.text()
    qtbot.keyClick(view, Qt.Key.Key_Space)
    view.trigger()
    assert view.status.text() == status  # no configuration text, no contradiction
    assert "yaml" not in status.lower() and "trigger:" not in status


def test_the_yield_is_shown_against_its_target_and_the_pareto_counts_parts(window, qtbot):
    """The target is a site setting (the database, audited), set by an admin on the Settings
    page and drawn by the Station and Statistics tabs; an engineer sees it read-only."""
    from tests.support.records_data import make_users

    view, stats, store = window.station, window.stats, window.store
    people = make_users(store)
    box = window.settings_view.site
    window.log_in(people["erin"])
    assert not box.yield_target.isEnabled() and not box.save_button.isEnabled()
    assert "only an admin" in box.access_note.text() and "erin (engineer)" in box.access_note.text()
    box.yield_target.setText("90")
    assert not box.save() and store.site_settings().yield_target is None

    window.log_in(people["ada"])
    assert box.yield_target.isEnabled() and not box.access_note.isVisibleTo(box)
    box.yield_target.setText("90 %")
    box.reason.setText("the plant's goal for 2027")
    assert box.save()
    assert store.site_settings().yield_target == 90  # kept in the database, for every station
    assert not (StationProfile.path().exists() and "yield" in StationProfile.path().read_text())
    [entry] = [e for e in store.audit_entries(20) if e.action == "setting.changed"]
    assert (entry.user_name, entry.entity_id, entry.reason) == (
        "ada",
        "yield_target",
        "the plant's goal for 2027",
    )
    _run_the_demo(window, qtbot)
    assert view.count_labels["Yield"].text() == "50.0 %"
    assert "#ff5252" in view.count_labels["Yield"].styleSheet()  # below the target: red
    assert view.count_labels["Yield"].toolTip() == "target 90 %"

    window.tabs.setCurrentWidget(stats)
    assert "yield 50.0 % · target 90 %: 40.0 points below" in stats.summary.text()
    assert stats.target_line() is not None and stats.target_line().value() == 90

    # Each failed board shows several regions of one class; the bar counts the boards.
    regions = sum(len(store.detail(i).defects) for i in _failed_ids(store))
    [(_name, parts)] = stats.defects
    assert parts == PARTS // 2 < regions

    box.yield_target.setText("40")
    assert box.save()
    assert "#ff5252" not in view.count_labels["Yield"].styleSheet()
    assert "target 40 %: met (+10.0 points)" in stats.summary.text()
    box.yield_target.setText("")
    assert box.save() and store.site_settings().yield_target is None
    assert stats.target_line() is None and "target" not in stats.summary.text()
    box.yield_target.setText("101")
    assert not box.save() and "less than or equal to 100" in box.message.text()

    # Set elsewhere (the command line, another station's admin): read when the tab is shown.
    store.set_setting(people["ada"], "yield_target", "55")
    window.tabs.setCurrentWidget(view)
    window.tabs.setCurrentWidget(stats)
    assert stats.yield_target == 55 and view.yield_target == 55


def test_an_older_station_yaml_target_is_used_then_moved_to_the_site(tmp_path, qtbot, monkeypatch):
    """A station.yaml from before the move keeps its target until an admin saves the site's:
    then the file's is removed, with a note, never dropped silently."""
    from inspector.ui.app import application
    from inspector.ui.main_window import MainWindow
    from tests.support.records_data import make_users

    path = tmp_path / "station.yaml"
    monkeypatch.setenv("INSPECTOR_CONFIG", str(path))
    path.write_text("station: line-7\nyield_target: '97.5'\n")
    application()
    settings = Settings.from_env(data_dir=tmp_path / "data", database_url=None)
    with Store.open(settings) as store:
        people = make_users(store)
        window = MainWindow(
            settings, StationProfile.load(), store, "usb:0", str(RECIPE), people["ada"]
        )
        qtbot.addWidget(window)
        box = window.settings_view.site
        assert window.stats.yield_target == 97.5 and window.station.yield_target == 97.5
        assert box.yield_target.text() == "97.5" and "station.yaml" in box.source.text()
        assert store.site_settings().yield_target is None
        assert box.save()  # the admin keeps it: it becomes the site's
        assert store.site_settings().yield_target == 97.5
        assert path.read_text() == "station: line-7\n"
        assert "removed from" in box.message.text() and str(path) in box.message.text()
        assert window.stats.yield_target == 97.5 and "site's target" in box.source.text()

        path.write_text("yield_target: high\n")  # a garbled one is said, not used
        box.set_profile(StationProfile.load())
        store.set_setting(people["ada"], "yield_target", "none")
        box.refresh()
        assert (
            box.yield_target.text() == "" and "'high', which is no percentage" in box.source.text()
        )


def test_yield_targets_are_read_and_refused_plainly():
    from inspector.ui.stats_view import against_target, parse_yield_target

    assert parse_yield_target("") is None and parse_yield_target(" 98.5 % ") == 98.5
    for bad in ("high", "0", "101", "-3"):
        with pytest.raises(ValueError, match=r"Yield target .*give a percentage"):
            parse_yield_target(bad)
    assert against_target(97.0, 98.5) == ("target 98.5 %: 1.5 points below", False)
    assert against_target(None, 95.0) == ("target 95 %", True)
    assert against_target(80.0, None) == ("", True)


def test_a_recorded_part_is_read_small_with_its_boxes_scaled(tmp_path):
    """A large evidence file is decoded at a quarter of its size for the strip (the window opens
    faster), its boxes scaled with it; an unreadable one is still shown, saying why."""
    import cv2
    import numpy as np

    from inspector.ui.failed_strip import recorded_part
    from tests.store.test_parts_counted import FAIL, Line

    with Store.open(Settings.from_env(data_dir=tmp_path / "data", database_url=None)) as store:
        line = Line(store)
        [inspection] = line.part("P-1", ("top", FAIL, ["scratch"]))
        record = store.detail(inspection)
        image = np.zeros((1080, 1920, 3), np.uint8)
        cv2.rectangle(image, (800, 400), (1200, 600), (0, 0, 255), -1)
        # The record as a 1080p camera's: its evidence file and box replaced by large ones.
        cv2.imwrite(str(record.evidence_path), image)
        large = dataclasses.replace(
            record,
            image_width=1920,
            defects=(dataclasses.replace(record.defects[0], box=(800, 400, 1200, 600)),),
        )
        part = recorded_part(large)
        assert part.image.shape[:2] == (270, 480)
        assert part.boxes == ((200, 100, 300, 150),)
        blue, _green, red = part.image[125, 250]  # inside the scaled box: the red patch
        assert red > 200 and blue < 50
        record.evidence_path.unlink()
        missing = recorded_part(large)
        assert missing.boxes == () and "evidence image: no such file" in missing.caption
