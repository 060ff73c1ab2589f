"""The window runs a part seen by several cameras: two views of the demo boards, judged by the
model-free reference recipe, one verdict per part on the banner and each view beside it."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from inspector.config import Settings, StationProfile
from inspector.domain import Outcome
from inspector.station.runner import ViewPlan
from inspector.store import Store
from tests.support.paths import ROOT

DEMO = ROOT / "assets" / "demo"
RECIPE = str(DEMO / "recipe-reference.yaml")
CAMERA = f"folder:{DEMO / 'camera'}"


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    from inspector.ui.app import application
    from inspector.ui.main_window import MainWindow

    monkeypatch.setenv("INSPECTOR_CONFIG", str(tmp_path / "station.yaml"))
    application()
    settings = Settings.from_env(data_dir=tmp_path / "data", database_url=None)
    store = Store.open(settings)
    window = MainWindow(settings, StationProfile(), store, CAMERA, RECIPE)
    qtbot.addWidget(window)
    window.show()
    yield window
    window.runner.stop(wait=True)
    store.close()


def test_a_two_view_part_shows_the_part_verdict_and_each_view(window, qtbot):
    view = window.station
    view.set_views([ViewPlan("top", CAMERA, RECIPE), ViewPlan("side", CAMERA, RECIPE)])
    assert not view.source_edit.isEnabled()  # the views replace the one camera
    parts = []
    window.bridge.part.connect(parts.append)
    view.start()
    # The station's own end (the folder ran out) reaches the window as a queued signal: wait
    # for the Stopped line, not only for the runner to let go of the station.
    qtbot.waitUntil(
        lambda: (
            window.runner.station is None
            and len(parts) == 12
            and view.status.text().startswith("Stopped")
        ),
        timeout=60_000,
    )

    # The demo camera alternates a defective board and its good template; both views see the
    # same board, so each part is what each of its views is.
    assert [p.outcome for p in parts] == [Outcome.FAIL, Outcome.PASS] * 6
    assert [[r.view for r in p.views] for p in parts] == [["top", "side"]] * 12
    assert [p.part_id for p in parts[:2]] == ["01_00041000_test", "02_00041000_good"]
    c = view.counters
    assert (c.total, c.passed, c.failed, c.unsure) == (12, 6, 6, 0)
    assert view.count_labels["Total"].text() == "12"
    assert view.count_labels["Yield"].text() == "50.0 %"
    assert view.banner.text() == "PASS"  # the last part: a good board
    assert "Part 12_00041005_good: PASS (top: PASS, side: PASS)" in view.reason.text()
    assert list(view.live.images) == ["top", "side"]
    assert view.live.captions["top"].text() == "top: PASS"
    assert view.live.captions["side"].text() == "side: PASS"
    assert view.live.images["side"].image_size == view.image.image_size == (640, 640)
    assert "Stopped: 12 parts, 24 captured, 24 judged, 24 recorded" in view.status.text()
    # The strip of failed parts: one thumbnail a part, opening the part's first failing view.
    strip = view.failed_strip.shown_ids()
    assert len(strip) == 6
    failed_tops = [p.views[0].inspection_id for p in parts if p.outcome is Outcome.FAIL]
    assert strip == failed_tops[::-1]
    # Read back from the record (a window opened later): the same parts, one entry each, though
    # both views read one folder (one camera id).
    assert [r.id for r in window.store.last_failed_parts(8)] == strip
    assert "(top)" in view.failed_strip.buttons[0].toolTip()
    assert view.start_button.isEnabled()
    # Each view is an inspection of its own, tied to the part by one part id.
    records = window.store.history(limit=100)
    assert len(records) == 24
    assert {r.part_id for r in records} == {p.part_id for p in parts}


def test_views_added_in_the_window_start_a_several_view_part(window, qtbot):
    view = window.station
    view.add_view()  # the one camera becomes view1, and view2 is added
    assert [p.name for p in view.view_plans()] == ["view1", "view2"]
    assert view.view_plans()[0] == ViewPlan("view1", CAMERA, RECIPE)
    view.views_table.item(1, 1).setText(CAMERA)
    parts = []
    window.bridge.part.connect(parts.append)
    view.start()
    qtbot.waitUntil(lambda: len(parts) >= 2, timeout=60_000)
    view.stop()
    qtbot.waitUntil(lambda: window.runner.station is None, timeout=30_000)
    assert [p.outcome for p in parts[:2]] == [Outcome.FAIL, Outcome.PASS]
    assert [r.view for r in parts[0].views] == ["view1", "view2"]
    view.remove_view()
    view.remove_view()
    assert view.view_plans() == [] and view.source_edit.isEnabled()


def test_a_view_that_cannot_open_leaves_the_window_open_with_the_reason(window, qtbot):
    view = window.station
    view.set_views([ViewPlan("top", CAMERA, RECIPE), ViewPlan("side", "nowhere:cam", RECIPE)])
    view.start()
    qtbot.waitUntil(lambda: view.banner.text() == "NOT RUNNING", timeout=60_000)
    assert "nowhere:cam" in view.reason.text()
    assert window.runner.station is None and view.start_button.isEnabled()
    assert window.store.history(limit=10) == []


def test_inspector_window_passes_its_views_to_the_window(monkeypatch, tmp_path):
    import inspector.ui.app as app
    from inspector.cli import main

    monkeypatch.setenv("INSPECTOR_CONFIG", str(tmp_path / "station.yaml"))
    seen = {}

    def run_window(settings, profile, source, recipe, autostart=True, views=None, notice=None):
        seen.update(views=views, autostart=autostart)
        return 0

    monkeypatch.setattr(app, "run_window", run_window)
    code = main(
        [
            "--data-dir",
            str(tmp_path / "data"),
            "window",
            "--view",
            "top",
            CAMERA,
            RECIPE,
            "--view",
            "side",
            "usb:1",
            "side.yaml",
            "--no-start",
        ]
    )
    assert code == 0
    assert seen == {
        "views": [ViewPlan("top", CAMERA, RECIPE), ViewPlan("side", "usb:1", "side.yaml")],
        "autostart": False,
    }
