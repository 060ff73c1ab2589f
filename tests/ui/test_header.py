"""The header above every tab: the run state (RUN / STOPPED / FAULT) big and coloured, the recipe
and version, the user, the true review count; and disabled buttons that look disabled.
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
from tests.support.records_data import make_users, populate

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


def test_the_header_shows_run_state_recipe_user_and_review_count_on_every_tab(window, qtbot):
    from inspector.ui.header import RunState

    header = window.header
    assert header.state is RunState.STOPPED and header.state_label.text() == "STOPPED"
    assert "recipe-reference.yaml (not running)" in header.recipe_label.text()
    assert header.user_label.text() == "User: no login"
    stopped_style = header.state_label.styleSheet()

    window.station.start()
    qtbot.waitUntil(lambda: header.state is RunState.RUN, timeout=60_000)
    assert header.state_label.text() == "RUN" and "#1f8f3a" in header.state_label.styleSheet()
    assert header.recipe_label.text() == "Recipe: demo-pcb-reference v1"
    for index in range(window.tabs.count()):  # seen whatever tab is open
        window.tabs.setCurrentIndex(index)
        assert header.isVisible() and header.state_label.isVisible()

    # The folder ends: the station stops by itself, and the header says so.
    qtbot.waitUntil(lambda: header.state is RunState.STOPPED, timeout=60_000)
    assert header.state_label.styleSheet() == stopped_style
    store = window.store
    qtbot.waitUntil(lambda: header.review_waiting == store.review_count(), timeout=5_000)
    assert store.review_count() > 0  # the demo has failing boards
    assert header.review_button.text() == f"Review: {store.review_count()} waiting"
    assert window.tabs.tabText(window.tabs.indexOf(window.review)).startswith("Review (")
    header.review_button.click()
    assert window.tabs.currentWidget() is window.review


def test_a_fault_shows_in_the_header(window, qtbot):
    from inspector.ui.header import RunState

    window.store.min_free_disk_mb = 10**9  # above the real free space: FAULT at start
    window.station.start()
    qtbot.waitUntil(lambda: window.header.state is RunState.FAULT, timeout=60_000)
    assert window.header.state_label.text() == "FAULT"
    assert "#6a1b9a" in window.header.state_label.styleSheet()
    assert "disk" in window.header.state_label.toolTip()


def test_the_review_count_is_the_true_number_not_the_page(tmp_path, qtbot):
    from inspector.ui.header import review_text
    from inspector.ui.review_view import ReviewView, waiting_text

    assert waiting_text(200, 2414) == "200 of 2,414 parts waiting for review (oldest first)"
    assert waiting_text(12, 12) == "12 parts waiting for review"
    assert review_text(2414) == "Review: 2,414 waiting"
    with Store.open(Settings.from_env(data_dir=tmp_path / "data")) as store:
        people = make_users(store)
        populate(store, 9)  # FAIL, PASS, UNSURE in turn: 6 wait
        review = ReviewView(store, lambda: people["olly"])
        qtbot.addWidget(review)
        review.refresh()
        assert review.count.text() == "6 parts waiting for review"
        assert store.review_count() == 6 == len(store.review_queue())
        assert len(store.review_queue(limit=4)) == 4  # the page is capped, the count is not


def _pixels(widget):
    image = widget.grab().toImage()
    return [image.pixel(x, y) for y in range(image.height()) for x in range(image.width())]


def test_a_disabled_button_does_not_look_like_an_enabled_one(qtbot):
    from PySide6.QtWidgets import QPushButton

    from inspector.ui.app import application

    application()
    button = QPushButton("Confirm FAIL")
    qtbot.addWidget(button)
    button.resize(160, 44)
    button.show()
    enabled = _pixels(button)
    button.setEnabled(False)
    disabled = _pixels(button)
    changed = sum(a != b for a, b in zip(enabled, disabled, strict=True))
    assert changed > len(enabled) // 4  # the face changes, not only a few text pixels
    button.setEnabled(True)
    assert _pixels(button) == enabled
