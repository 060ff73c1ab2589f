"""The recipe editor and the running station (issue 13): "Try on this frame" judges with the
station's loaded engine (no second load), and loads one only where the station holds none,
saying so; a saved version is offered to the station, which switches between parts and shows
it; a recipe selected from the line is followed by the window. Offscreen, on the real window,
station, SQLite store and the model-free reference engine (its loads counted)."""

from __future__ import annotations

import os
import shutil
import threading

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from inspector.cameras.images import read_image
from inspector.config import Settings, StationProfile
from inspector.judges.engines.reference import ReferenceJudge
from inspector.store import Store
from tests.support.paths import ROOT
from tests.support.records_data import make_users

DEMO = ROOT / "assets" / "demo"


@pytest.fixture
def loads(monkeypatch):
    """Every ReferenceJudge.load, counted (the real load runs)."""
    counted: list[ReferenceJudge] = []
    real = ReferenceJudge.load

    def load(self, progress=None):
        counted.append(self)
        return real(self, progress)

    monkeypatch.setattr(ReferenceJudge, "load", load)
    return counted


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    from inspector.ui.app import application
    from inspector.ui.main_window import MainWindow

    monkeypatch.setenv("INSPECTOR_CONFIG", str(tmp_path / "station.yaml"))
    application()
    demo = tmp_path / "demo"
    shutil.copytree(DEMO, demo)
    settings = Settings.from_env(data_dir=tmp_path / "data")
    store = Store.open(settings)
    people = make_users(store)
    window = MainWindow(
        settings,
        StationProfile(),
        store,
        f"folder:{demo / 'camera'}?loop=1&fps=4",  # a camera that keeps giving parts
        str(demo / "recipe-reference.yaml"),
        people["erin"],  # an engineer: may save recipes
    )
    qtbot.addWidget(window)
    window.show()
    yield window
    window.runner.stop()
    store.close()


def _start(window, qtbot) -> None:
    from inspector.ui.header import RunState

    window.station.start()
    qtbot.waitUntil(lambda: window.header.state is RunState.RUN, timeout=60_000)
    qtbot.waitUntil(lambda: window.station.counters.total >= 1, timeout=60_000)


def _try(editor, qtbot) -> str:
    editor.set_frame(read_image(DEMO / "camera" / "01_00041000_test.jpg"))
    editor.try_on_frame()
    qtbot.waitUntil(lambda: editor.try_button.isEnabled(), timeout=60_000)
    return editor.result.text()


def test_try_uses_the_stations_loaded_judge_and_loads_only_what_it_lacks(window, qtbot, loads):
    _start(window, qtbot)
    assert len(loads) == 1  # the station's
    station_judge = loads[0]
    editor = window.recipes
    editor.prompt.setPlainText("Look harder at the pads.")  # an edit the station does not run

    said = _try(editor, qtbot)
    assert said.startswith(("PASS", "FAIL")), said
    assert "the station's loaded reference golden-template" in said
    assert len(loads) == 1  # no second load
    # The station's judge is as it was: its golden sets were not cleared by the try.
    assert station_judge._golden

    # Other settings: no loaded judge has them, so one is loaded for the try, and it says so.
    editor.chain.editors[0].field("threshold").set_text("4")
    said = _try(editor, qtbot)
    assert said.startswith(("PASS", "FAIL")), said
    assert "loaded for this try (the station holds none): reference golden-template" in said
    assert len(loads) == 2


def test_a_saved_version_is_offered_and_the_station_switches_to_it(window, qtbot):
    _start(window, qtbot)
    editor = window.recipes
    assert window.header.recipe_label.text() == "Recipe: demo-pcb-reference v1"
    asked = []

    def switch(name, running, version):
        asked.append((name, running, version))
        return True

    editor.confirm_switch = switch
    editor.ask_reason = lambda recipe: "tighter pads"
    editor.prompt.setPlainText("Look harder at the pads.")
    path = editor.save()
    assert path is not None and path.name == "v2.yaml", editor.result.text()
    assert asked == [("demo-pcb-reference", "v1", 2)]

    station = window.runner.station
    qtbot.waitUntil(lambda: station.views[0].recipe.version == 2, timeout=60_000)
    qtbot.waitUntil(
        lambda: window.header.recipe_label.text() == "Recipe: demo-pcb-reference v2",
        timeout=10_000,
    )
    # The station tab follows (its own signal; the header also refreshes by its timer).
    qtbot.waitUntil(lambda: window.station.recipe_box.currentText() == str(path), timeout=10_000)
    assert "v2" in window.station.status.text()
    qtbot.waitUntil(lambda: "runs it from the next part" in editor.result.text(), timeout=10_000)
    # Parts recorded from now on are the new version's.
    first_new = window.store.count()

    def recorded_v2() -> bool:
        rows = window.store.history(limit=5)
        return any(r.id > first_new and r.recipe_version == 2 for r in rows)

    qtbot.waitUntil(recorded_v2, timeout=60_000)


def test_declining_the_switch_says_the_station_keeps_the_old_version(window, qtbot):
    _start(window, qtbot)
    editor = window.recipes
    editor.confirm_switch = lambda name, running, version: False
    editor.ask_reason = lambda recipe: "later"
    editor.prompt.setPlainText("Look harder.")
    assert editor.save() is not None
    assert "The station keeps running demo-pcb-reference v1." in editor.result.text()
    assert window.runner.station.views[0].recipe.version == 1


def test_the_window_follows_a_recipe_selected_from_the_line(window, qtbot, tmp_path):
    demo = tmp_path / "demo"
    other = (
        (demo / "recipe-reference.yaml")
        .read_text()
        .replace("name: demo-pcb-reference", "name: other-board")
    )
    (demo / "other-board.yaml").write_text(other)
    _start(window, qtbot)
    station = window.runner.station
    # The line's commands (MQTT `recipe`, OPC UA SelectRecipe) call this hook on their thread.
    assert station.select_recipe is not None
    said = []
    line = threading.Thread(target=lambda: said.append(station.select_recipe("other-board")))
    line.start()
    line.join(60)
    assert said == ["recipe other-board version 1 selected (other-board.yaml)"]
    qtbot.waitUntil(
        lambda: window.header.recipe_label.text() == "Recipe: other-board v1", timeout=10_000
    )
    qtbot.waitUntil(
        lambda: window.station.recipe_box.currentText() == str(demo / "other-board.yaml"),
        timeout=10_000,
    )
    assert "other-board v1" in window.station.status.text()


def test_a_new_recipe_starts_with_the_running_stations_engine_and_shares_it(window, qtbot, loads):
    """ "New recipe…" while the station runs: the template's chain is the station's (a new part
    on the same line), without the other part's images, and Try uses the loaded engine."""
    _start(window, qtbot)
    editor = window.recipes
    editor.ask_new = lambda: ("bracket-a", window.recipes.recipes_dir)
    assert editor.new_recipe()
    running = window.runner.station.views[0].recipe.engines
    assert editor.chain.entries() == [dict(e) for e in running]
    assert editor.name.text() == "bracket-a" and editor.version.text() == "1"
    loaded = len(loads)
    said = _try(editor, qtbot)
    assert "the station's loaded reference" in said, said
    assert len(loads) == loaded  # no second copy beside the station's
