"""The engine chain edited in a form (issue 13): engines added, removed and reordered, each with
typed fields made from its settings class, the screen mode; a recipe opened and saved unchanged
is the same recipe (what the form does not show is kept); a bad field is shown beside it.
Offscreen, real widgets, a real SQLite store, the model-free engines."""

from __future__ import annotations

import shutil

import pytest
import yaml

from inspector.config import Settings
from inspector.recipes import load_recipe
from inspector.store import Store
from tests.support.paths import ROOT
from tests.support.records_data import make_users

pytest.importorskip("PySide6")

CAMERA = ROOT / "assets" / "demo" / "camera"

# Written as an engineer would: ints where floats are allowed, settings the form has no widget
# for (privacy, zoom, the chain's other settings, a defect's examples), a comment.
RECIPE = """\
# a screen in front of nothing: two model-free engines
name: board-chain
version: 3
prompt: Look at the board.
defects:
  - name: deviation
    severity: major
    examples:
      - image: camera/01_00041000_test.jpg
        box: [10, 10, 60, 60]
  - name: texture
    severity: minor
references:
  - camera/02_00041000_good.jpg
  - camera/04_00041001_good.jpg
engines:
  - engine: reference
    threshold: 3
    screen: true
    align: none
    min_defect_area: 20
  - engine: texture
    learned: ''
    memory: 500
chain:
  screen: advisory
  retries: 1
privacy:
  max_side: 512
zoom:
  max_crops: 2
pass_rule:
  min_confidence: 0.4375
"""


@pytest.fixture
def editor(qtbot, tmp_path):
    from inspector.ui.app import application
    from inspector.ui.recipe_editor import RecipeEditor

    application()
    folder = tmp_path / "recipes-src"
    shutil.copytree(CAMERA, folder / "camera")
    (folder / "chain.yaml").write_text(RECIPE)
    with Store.open(Settings.from_env(data_dir=tmp_path / "data")) as store:
        people = make_users(store)
        editor = RecipeEditor(store, tmp_path / "data" / "recipes", None, lambda: people["erin"])
        qtbot.addWidget(editor)
        editor.open(folder / "chain.yaml")
        yield editor


def test_opened_and_saved_unchanged_is_the_same_recipe(editor, tmp_path):
    from inspector.ui.engine_chain_form import EngineEditor

    original = load_recipe(editor.path)
    chain = editor.chain
    assert chain.engine_names() == ["reference", "texture"]
    assert chain.screen_mode() == "advisory"
    first = chain.editors[0]
    assert isinstance(first, EngineEditor)
    # Typed fields from the settings class: a choice, a check box, a number.
    assert first.field("align").widget.currentText() == "none"
    assert first.field("screen").widget.isChecked()
    assert first.field("threshold").text() == "3"
    assert (
        first.field("blur").text() == ""
        and "default: 3" in first.field("blur").widget.placeholderText()
    )
    assert not editor.unsaved

    edited = editor.recipe_from_form()
    assert edited == original
    assert edited.to_yaml() == original.to_yaml()  # the same bytes: the same recorded version
    assert edited.engines[0] == {
        "engine": "reference",
        "threshold": 3,
        "screen": True,
        "align": "none",
        "min_defect_area": 20,
    }

    editor.ask_reason = lambda recipe: "no change, a new number"
    path = editor.save()
    assert path is not None and path.name == "v4.yaml", editor.result.text()
    saved = load_recipe(path)
    assert saved.version == 4
    assert [p.read_bytes() for p in saved.references] == [
        p.read_bytes() for p in original.references
    ]
    unchanged = saved.model_copy(update={"version": 3, "references": original.references})
    assert unchanged == original


def test_engines_are_added_reordered_removed_and_the_screen_mode_set(editor):
    chain = editor.chain
    added = chain.add_engine("reference")
    added.field("threshold").set_text("4.5")
    added.field("defect_class").set_text("deviation")
    assert editor.unsaved
    chain.move_engine(2, -2)  # to the front
    assert chain.engine_names() == ["reference", "reference", "texture"]
    assert chain.list.item(0).text().startswith("1. reference")
    chain.remove_engine(2)  # the texture engine
    chain.screen.setCurrentText("veto")
    recipe = editor.recipe_from_form()
    assert recipe.engines == (
        {"engine": "reference", "threshold": 4.5, "defect_class": "deviation"},
        {
            "engine": "reference",
            "threshold": 3,
            "screen": True,
            "align": "none",
            "min_defect_area": 20,
        },
    )
    assert recipe.chain.screen == "veto" and recipe.chain.retries == 1  # the rest is kept
    # Cleared, a field is left out of the entry: the engine's default.
    chain.editors[0].field("threshold").set_text("")
    assert editor.recipe_from_form().engines[0] == {
        "engine": "reference",
        "defect_class": "deviation",
    }


def test_a_bad_field_is_shown_beside_it_and_nothing_is_saved(editor, tmp_path):
    reference = editor.chain.editors[0]
    threshold = reference.field("threshold")
    threshold.set_text("-1")
    editor.ask_reason = lambda recipe: pytest.fail("asked for a reason with a bad field")
    assert editor.save() is None
    assert not threshold.error.isHidden()
    assert "greater than 0" in threshold.error.text()
    assert "engines.0.threshold" in editor.result.text()
    assert editor.chain.list.item(0).text().startswith("⚠")
    assert not list((tmp_path / "data" / "recipes").rglob("v*.yaml"))

    threshold.set_text("three")
    assert editor.save() is None
    assert threshold.error.text() == "should be a number, e.g. 0.5"
    threshold.set_text("2.5")
    editor.chain.validate()
    assert threshold.error.isHidden() and not editor.chain.list.item(0).text().startswith("⚠")

    # A model engine without its required model: said beside `model`.
    model_engine = editor.chain.add_engine("transformers")
    problems = editor.chain.validate()
    assert any("engines.2.model" in p for p in problems)
    assert model_engine.field("model").error.text() == "Field required"


def test_an_engine_not_installed_is_kept_as_yaml(qtbot):
    from inspector.ui.app import application
    from inspector.ui.engine_chain_form import EngineChainForm

    application()
    form = EngineChainForm()
    qtbot.addWidget(form)
    entry = {"engine": "acme-vision", "model": "x", "knob": 3}
    form.set_chain([entry], "veto")
    assert form.entries() == [entry]
    assert yaml.safe_load(form.editors[0].raw.toPlainText()) == entry
    assert form.validate() == ["field `engines.0.engine`: unknown engine 'acme-vision'"]


@pytest.mark.parametrize("name", ["recipe.yaml", "recipe-reference.yaml"])
def test_the_demo_recipes_round_trip_through_the_form(editor, name):
    path = ROOT / "assets" / "demo" / name
    editor.open(path)
    original = load_recipe(path)
    assert editor.recipe_from_form() == original
    assert editor.recipe_from_form().to_yaml() == original.to_yaml()
