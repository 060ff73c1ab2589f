"""The window's Doctor page: the checks of `inspector doctor` (one implementation), run when the
page is shown, each with what was found on this machine and how to fix a miss."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from PySide6.QtGui import QGuiApplication

from inspector.config import Settings, StationProfile
from inspector.station.doctor import run_checks
from inspector.store import Store
from tests.support.recipes import recipe_file


@pytest.fixture
def window_on(qtbot, tmp_path, monkeypatch):
    from inspector.ui.app import application
    from inspector.ui.main_window import MainWindow

    monkeypatch.setenv("INSPECTOR_CONFIG", str(tmp_path / "station.yaml"))
    monkeypatch.setenv("INSPECTOR_MODEL_STORE", str(tmp_path / "data" / "models"))
    _no_hub_cache(tmp_path, monkeypatch)
    application()
    stores = []

    def make(profile: StationProfile):
        settings = Settings.from_env(data_dir=tmp_path / "data")
        store = Store.open(settings)
        stores.append(store)
        window = MainWindow(settings, profile, store, "folder:/nonexistent", "")
        qtbot.addWidget(window)
        window.show()
        return window

    yield make
    for store in stores:
        store.close()


def _rows(view) -> dict[str, tuple[str, str, str]]:
    table = view.table
    return {
        table.item(r, 1).text(): (
            table.item(r, 0).text(),
            table.item(r, 2).text(),
            table.item(r, 3).text(),
        )
        for r in range(table.rowCount())
    }


def test_the_page_shows_the_doctors_checks_true_to_this_machine(window_on, qtbot):
    window = window_on(StationProfile())
    view = window.doctor_view
    assert view.table.rowCount() == 0  # nothing runs before the page is looked at
    window.tabs.setCurrentWidget(view)
    assert window.tabs.tabText(window.tabs.indexOf(view)) == "Doctor"
    qtbot.waitUntil(lambda: view.table.rowCount() > 0 and not view.busy, timeout=120_000)

    rows = _rows(view)
    expected = run_checks(window.settings, StationProfile())  # the command's implementation
    assert list(rows) == [c.name for c in expected]
    platform = QGuiApplication.platformName()  # offscreen here, xcb under Xvfb (ui_stress)
    assert rows["window"][0] == "OK" and f"(platform {platform})" in rows["window"][1]
    assert rows["data"][0] == "OK" and str(window.settings.data_dir) in rows["data"][1]
    assert rows["database"][0] == "OK" and "sqlite" in rows["database"][1]
    # No model installed: the demo works model-free (WARN), and the page says how to fix it.
    status, found, fix = rows["models"]
    assert status == "WARN" and "Qwen/Qwen2.5-VL-3B-Instruct is not installed" in found
    assert "inspector models import" in fix
    assert "FAIL" not in view.summary.text().split("(")[0]
    assert "0 FAIL" in view.summary.text()


def test_a_station_recipe_whose_model_is_missing_is_a_fail_with_its_fix(window_on, qtbot, tmp_path):
    recipe = recipe_file(tmp_path, [{"engine": "transformers", "model": "site/tiny-gemma"}])
    window = window_on(StationProfile(recipe=str(recipe)))
    view = window.doctor_view
    window.tabs.setCurrentWidget(view)
    qtbot.waitUntil(lambda: view.table.rowCount() > 0 and not view.busy, timeout=120_000)
    status, found, fix = _rows(view)["models"]
    assert status == "FAIL" and "site/tiny-gemma is not installed" in found
    assert fix.startswith("inspector models pull site/tiny-gemma")
    assert view.summary.text().startswith("This station cannot work as set up")

    # Check again after the miss is fixed: a plain model folder imported under that id.
    from inspector.judges.model_store import ModelStore

    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text("{}")
    ModelStore().import_bundle(model, "site/tiny-gemma")
    view.run()
    qtbot.waitUntil(lambda: not view.busy, timeout=120_000)
    assert _rows(view)["models"][0] == "OK"


def _no_hub_cache(tmp_path, monkeypatch) -> None:
    """An empty hub cache: the demo's model is not on this machine, whatever this one holds."""
    try:
        import huggingface_hub.constants
    except ImportError:
        return
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub"))


def test_the_station_tabs_notice_opens_the_models_page(window_on, qtbot):
    """The demo's notice about a missing model is the way to set one up: a click on it."""
    from PySide6.QtCore import Qt

    window = window_on(StationProfile())
    window.station.show_notice("the demo judges model-free: Qwen/Qwen2.5-VL-3B-Instruct is missing")
    assert "Models page" in window.station.notice.toolTip()
    qtbot.mouseClick(window.station.notice, Qt.MouseButton.LeftButton)
    assert window.tabs.currentWidget() is window.models_view
