"""The recipe editor's Learn button (issue 14): for a chain with a `texture` engine, the learning
of `inspector learn RECIPE` runs on a worker thread with a progress bar and Cancel, the window
stays responsive, and the artefact's hash is shown with the recipe version that loads it.
Offscreen, real widgets, a real SQLite store, procedural good textures made in the test; the
learning is held at one step (not replaced) so the test can look at the window meanwhile."""

from __future__ import annotations

import hashlib
import re
import threading

import pytest
import yaml

from inspector.config import Settings
from inspector.store import Store
from tests.support import textures
from tests.support.records_data import make_users

pytest.importorskip("PySide6")


def _recipe(folder, good: int):
    references = textures.references(folder / "good", good)
    data = {
        "name": "tiles",
        "version": 1,
        "prompt": "Look for defects on the tile's surface.",
        "defects": [{"name": "texture", "severity": "major"}],
        "references": [str(p.relative_to(folder)) for p in references],
        "engines": [{"engine": "texture"}],
    }
    path = folder / "tiles.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.fixture
def editor(qtbot, tmp_path, monkeypatch):
    from inspector.ui.app import application
    from inspector.ui.recipe_editor import RecipeEditor

    monkeypatch.setenv("INSPECTOR_DATA_DIR", str(tmp_path / "data"))  # where the station looks
    application()
    with Store.open(Settings.from_env()) as store:
        people = make_users(store)
        editor = RecipeEditor(store, tmp_path / "data" / "recipes", None, lambda: people["erin"])
        qtbot.addWidget(editor)
        editor.show()
        yield editor


@pytest.fixture
def held(monkeypatch):
    """The learning, paused at its first step until `release` is set; each step's thread kept."""
    from inspector.ui import learn_box

    state = {"held": threading.Event(), "release": threading.Event(), "threads": []}
    real = learn_box._Learning._step

    def step(self, done, total, what):
        state["threads"].append(threading.current_thread())
        if not state["held"].is_set():
            state["held"].set()
            state["release"].wait(60)
        return real(self, done, total, what)

    monkeypatch.setattr(learn_box._Learning, "_step", step)
    return state


def test_learn_runs_off_the_gui_thread_and_shows_the_artefacts_hash(editor, qtbot, tmp_path, held):
    from inspector.station.learning import loads_for

    editor.open(_recipe(tmp_path, 12))
    box = editor.learn
    assert box.isVisible() and box.button.isEnabled()
    values = []
    box.bar.valueChanged.connect(values.append)
    ticks = []
    from PySide6.QtCore import QTimer

    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(10)

    box.button.click()
    qtbot.waitUntil(held["held"].is_set, timeout=60_000)
    # Learning is under way on its thread: the window goes on handling events meanwhile.
    qtbot.waitUntil(lambda: len(ticks) >= 5, timeout=30_000)
    assert box.bar.isVisible() and box.cancel_button.isVisible()
    assert not box.button.isEnabled()  # one learning at a time
    held["release"].set()

    qtbot.waitUntil(box.button.isEnabled, timeout=120_000)  # the learning has ended
    timer.stop()
    assert not box.cancel_button.isVisible() and not box.bar.isVisible()
    sha256 = re.search(r"sha256 ([0-9a-f]{64})", box.message.text()).group(1)
    artefact = tmp_path / "data" / "learned" / f"tiles-v1-{sha256[:12]}.npz"
    assert hashlib.sha256(artefact.read_bytes()).hexdigest() == sha256
    assert loads_for(editor.path) == artefact  # the recipe version loads this one
    assert "recipe tiles v1 loads it from the station's next start" in box.message.text()
    assert "from 12 good images" in box.message.text()
    assert values and values[-1] == 15  # 12 images and 3 steps, shown as they came
    assert threading.main_thread() not in held["threads"]


def test_cancel_stops_the_learning_and_writes_nothing(editor, qtbot, tmp_path, held):
    editor.open(_recipe(tmp_path, 12))
    box = editor.learn
    box.button.click()
    qtbot.waitUntil(held["held"].is_set, timeout=60_000)
    box.cancel_button.click()
    held["release"].set()
    qtbot.waitUntil(box.button.isEnabled, timeout=60_000)
    assert box.message.text() == "Learning cancelled; nothing was written."
    assert not list((tmp_path / "data").rglob("*.npz"))


def test_learn_is_offered_for_a_texture_chain_and_says_what_stops_it(editor, qtbot, tmp_path):
    from tests.support.paths import ROOT

    editor.open(ROOT / "assets" / "demo" / "recipe-reference.yaml")
    assert not editor.learn.isVisible()  # no engine that learns
    editor.chain.add_engine("texture")
    assert editor.learn.isVisible()
    editor.learn.button.click()  # edits not saved: the artefact belongs to a saved version
    assert "Save the edits as a new version first" in editor.learn.message.text()

    editor.open(_recipe(tmp_path, 4))
    editor.learn.button.click()
    qtbot.waitUntil(editor.learn.button.isEnabled, timeout=60_000)
    assert "4 images of good parts; learning needs at least 10" in editor.learn.message.text()
    assert not list((tmp_path / "data").rglob("*.npz"))
