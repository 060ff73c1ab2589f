"""The window in FAULT: the banner says FAULT with the cause, no later part replaces it, and the
next Start writes the journal first. Offscreen, on the real station, store and reference judge."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from inspector.config import Settings
from inspector.store import Store
from tests.support.paths import ROOT
from tests.support.store_faults import REFUSAL, accept_inspections, refuse_inspections

DEMO = ROOT / "assets" / "demo"


@pytest.fixture
def station_view(qtbot, tmp_path):
    from inspector.station.runner import StationRunner
    from inspector.ui.app import application
    from inspector.ui.bridge import StationBridge
    from inspector.ui.station_view import StationView

    application()
    settings = Settings.from_env(data_dir=tmp_path / "data")
    store = Store.open(settings)
    bridge = StationBridge()
    view = StationView(
        StationRunner(store),
        bridge,
        f"folder:{DEMO / 'camera'}",
        str(DEMO / "recipe-reference.yaml"),
        "auto",
    )
    qtbot.addWidget(view)
    yield view, store, settings
    view.runner.stop()
    store.close()


def test_a_disk_below_the_threshold_shows_fault_with_the_path(station_view, qtbot):
    view, store, settings = station_view
    store.min_free_disk_mb = 10**9  # above the real free space
    view.start()
    qtbot.waitUntil(
        lambda: view.fault is not None and not view.stop_button.isEnabled(), timeout=30_000
    )
    assert view.banner.text() == "FAULT"
    assert "#6a1b9a" in view.banner.styleSheet()  # its own colour, unlike any verdict
    assert "disk nearly full" in view.reason.text() and str(settings.data_dir) in view.reason.text()
    assert "journal" in view.status.text() and "ff8a80" in view.status.styleSheet()
    assert view.counters.total == 0 and store.count() == 0
    assert view.start_button.isEnabled()  # stopped: the operator may start again once fixed


def test_a_database_fault_stays_on_screen_and_the_next_start_writes_the_journal(
    station_view, qtbot
):
    view, store, settings = station_view
    refuse_inspections(settings)
    view.start()
    qtbot.waitUntil(lambda: view.runner.station is None and view.fault is not None, timeout=60_000)
    qtbot.wait(200)  # any part event still queued for the window arrives
    assert view.banner.text() == "FAULT"
    assert REFUSAL in view.reason.text() and "NOT RECORDED" in view.reason.text()
    assert view.counters.total == 0  # no verdict shown for a part that is not recorded
    kept = len(store.journal_entries())
    assert kept >= 1 and store.count() == 0

    accept_inspections(settings)
    view.start()
    qtbot.waitUntil(lambda: view.counters.total == 12, timeout=60_000)
    assert view.fault is None and view.banner.text() in {"PASS", "FAIL"}
    qtbot.waitUntil(lambda: store.count() == kept + 12, timeout=10_000)
    assert store.journal_entries() == []
