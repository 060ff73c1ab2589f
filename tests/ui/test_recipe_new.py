"""Issue 13, the recipe editor's last gaps: "New recipe…" starts a new part's recipe from a
template, guarded like Open…, saved as version 1 in the folder chosen; and an engine's own
defect class ("deviation", "texture") is listed when the engine is added or its class is set,
and said, with a one-click fix, where the recipe lacks it. Offscreen, real widgets, a real
SQLite store, the model-free engines."""

from __future__ import annotations

import shutil

import pytest

from inspector.config import Settings
from inspector.recipes import load_recipe
from inspector.store import Store
from tests.support.paths import ROOT
from tests.support.records_data import make_users

pytest.importorskip("PySide6")

DEMO = ROOT / "assets" / "demo"


@pytest.fixture
def editor(qtbot, tmp_path):
    from inspector.ui.app import application
    from inspector.ui.recipe_editor import RecipeEditor

    application()
    shutil.copytree(DEMO, tmp_path / "demo")
    with Store.open(Settings.from_env(data_dir=tmp_path / "data")) as store:
        people = make_users(store)
        editor = RecipeEditor(store, tmp_path / "data" / "recipes", None, lambda: people["erin"])
        qtbot.addWidget(editor)
        yield editor


def _defects(editor) -> list[tuple[str, str]]:
    return [
        (editor.defects.item(r, 0).text(), editor.defects.cellWidget(r, 1).currentText())
        for r in range(editor.defects.rowCount())
    ]


def test_new_recipe_asks_before_dropping_edits_and_saves_version_1_where_chosen(editor, tmp_path):
    editor.open(tmp_path / "demo" / "recipe-reference.yaml")
    editor.prompt.setPlainText("An edit not saved yet.")
    asked = []
    editor.ask_new = lambda: asked.append("name") or ("bracket-a", tmp_path / "line3")
    editor.confirm_discard = lambda: asked.append("discard?") and False  # the person keeps them
    assert not editor.new_recipe()
    assert asked == ["discard?"] and editor.prompt.toPlainText() == "An edit not saved yet."

    editor.confirm_discard = lambda: asked.append("discard?") or True
    assert editor.new_recipe()
    assert asked == ["discard?", "discard?", "name"]
    # The template: the name given, version 1, the demo's kind of prompt and classes, no good
    # parts yet, the model-free engine (no station runs) with its class listed.
    assert editor.name.text() == "bracket-a" and editor.version.text() == "1"
    assert "images of good parts" in editor.prompt.toPlainText()
    assert editor.references.count() == 0
    assert editor.chain.engine_names() == ["reference"]
    assert ("deviation", "major") in _defects(editor) and ("crack", "critical") in _defects(editor)
    assert editor.class_notice.isHidden()
    assert str(tmp_path / "line3" / "bracket-a" / "v1.yaml") in editor.file_label.text()
    assert editor.path is None and not editor.unsaved

    editor.references.addItem(str(tmp_path / "demo" / "camera" / "02_00041000_good.jpg"))
    reasons = []
    editor.ask_reason = lambda recipe: reasons.append(recipe.name) or "bracket A goes live"
    first = editor.save()
    assert first == tmp_path / "line3" / "bracket-a" / "v1.yaml", editor.result.text()
    assert reasons == ["bracket-a"]
    saved = load_recipe(first)
    assert saved.version == 1 and saved.engines == ({"engine": "reference"},)
    assert saved.references == (first.parent / "references" / "02_00041000_good.jpg",)
    assert editor.store.latest_version("bracket-a") == 1
    [entry] = editor.store.audit_entries(limit=1, entity_type="recipe_version")
    assert (entry.action, entry.reason) == ("recipe.saved", "bracket A goes live")
    # Its next version goes beside it, in the folder chosen.
    editor.prompt.setPlainText("Look at the holes too.")
    assert editor.save() == tmp_path / "line3" / "bracket-a" / "v2.yaml", editor.result.text()


def test_a_name_in_use_is_refused_in_the_dialog_which_keeps_what_was_typed(editor, tmp_path):
    from inspector.ui.new_recipe_dialog import NewRecipeDialog
    from inspector.ui.recipe_versions import new_recipe_problem

    editor.open(tmp_path / "demo" / "recipe-reference.yaml")
    editor.ask_reason = lambda recipe: "on record"
    assert editor.save() is not None  # demo-pcb-reference is now on record (v2)

    dialog = NewRecipeDialog(
        tmp_path / "recipes", lambda n, f: new_recipe_problem(n, f, editor.store), editor
    )
    dialog.name.setText("demo-pcb-reference")
    assert "demo-pcb-reference" in dialog.where.text() and "v1.yaml" in dialog.where.text()
    dialog._accept()  # OK pressed
    assert dialog.result() != NewRecipeDialog.DialogCode.Accepted
    assert "on record already (v2)" in dialog.error.text() and not dialog.error.isHidden()
    assert dialog.name.text() == "demo-pcb-reference"  # kept, to be corrected
    dialog.name.setText("-bad")
    dialog._accept()
    assert "letters, digits" in dialog.error.text()
    dialog.name.setText("bracket-b")
    dialog._accept()
    assert dialog.result() == NewRecipeDialog.DialogCode.Accepted
    assert dialog.answer() == ("bracket-b", tmp_path / "recipes")
    # Whoever asks, the editor refuses a name in use, and keeps the recipe open.
    editor.ask_new = lambda: ("demo-pcb-reference", tmp_path / "recipes")
    assert not editor.new_recipe()
    assert "on record already" in editor.result.text()
    assert editor.name.text() == "demo-pcb-reference" and editor.path is not None
    # A new recipe renamed, before its first save, to a name in use: refused, nothing written.
    editor.ask_new = lambda: ("bracket-c", tmp_path / "recipes")
    assert editor.new_recipe()
    editor.name.setText("demo-pcb-reference")
    editor.ask_reason = lambda recipe: pytest.fail("asked why, for a name in use")
    assert editor.save() is None
    assert "on record already (v2)" in editor.result.text()
    assert not (tmp_path / "recipes").exists()


def test_an_engine_added_lists_its_class_and_a_missing_class_is_said_and_fixed(editor, tmp_path):
    editor.open(tmp_path / "demo" / "recipe-reference.yaml")
    assert [name for name, _ in _defects(editor)] == ["deviation"]
    assert editor.class_notice.isHidden()

    editor.chain.add_engine("texture")  # reports "texture" by default
    assert ("texture", "major") in _defects(editor)
    assert "'texture'" in editor.result.text() and "Check its severity" in editor.result.text()
    assert editor.class_notice.isHidden()

    # Its class set to one the recipe lacks: listed once the field is committed.
    texture = editor.chain.editors[1]
    texture.field("defect_class").set_text("stain")
    assert not editor.class_notice.isHidden()  # said while it is typed
    assert "engine 2 (texture)" in editor.class_notice.label.text()
    texture.field("defect_class").widget.editingFinished.emit()
    assert ("stain", "major") in _defects(editor) and editor.class_notice.isHidden()

    # A class removed from the table: said, naming the engine, the class and the fix...
    row = [name for name, _ in _defects(editor)].index("deviation")
    editor.defects.removeRow(row)
    assert not editor.class_notice.isHidden()
    notice = editor.class_notice.label.text()
    assert "engine 1 (reference)" in notice and "'deviation'" in notice
    assert "UNSURE" in notice and "Add a defect class named 'deviation'" in notice
    editor.unknown.setCurrentText("fail")
    assert "FAIL with no severity" in editor.class_notice.label.text()
    # ...and fixed by one click.
    editor.class_notice.button.click()
    assert "deviation" in [name for name, _ in _defects(editor)]
    assert editor.class_notice.isHidden()

    # A screen hands on "suspect": its class is not needed.
    editor.defects.removeRow([name for name, _ in _defects(editor)].index("deviation"))
    editor.chain.editors[0].field("screen").widget.setChecked(True)
    assert editor.class_notice.isHidden()


def test_opening_a_recipe_that_lacks_its_engines_class_says_so_and_try_says_why(
    editor, tmp_path, qtbot
):
    from inspector.cameras.images import read_image

    demo = tmp_path / "demo"
    text = (demo / "recipe-reference.yaml").read_text().replace("- name: deviation", "- name: flaw")
    (demo / "flaw.yaml").write_text(text)
    editor.open(demo / "flaw.yaml")
    assert _defects(editor) == [("flaw", "major")]  # opening changes nothing
    assert not editor.unsaved
    assert not editor.class_notice.isHidden()
    assert "'deviation'" in editor.class_notice.label.text()

    editor.set_frame(read_image(demo / "camera" / "01_00041000_test.jpg"))  # a defective board
    editor.try_on_frame()
    qtbot.waitUntil(lambda: editor.try_button.isEnabled(), timeout=60_000)
    said = editor.result.text()
    assert said.startswith("UNSURE"), said
    assert "Why: engine 1 (reference) reports what it finds as defect class 'deviation'" in said


def test_a_class_listed_for_an_engine_goes_with_it_unless_the_person_touched_it(editor, tmp_path):
    """A screen's class is not left in a model's prompt: listed when `reference` is added, gone
    when it becomes a screen (or is removed, or its class renamed), unless the person set it."""
    editor.open(tmp_path / "demo" / "recipe.yaml")  # a model's chain: no class of its own

    def names() -> list[str]:
        return [name for name, _ in _defects(editor)]

    assert "deviation" not in names()
    screen = editor.chain.add_engine("reference")
    assert "deviation" in names()
    screen.field("screen").widget.setChecked(True)  # now a screen: it hands on "suspect"
    assert "deviation" not in names() and editor.class_notice.isHidden()

    texture = editor.chain.add_engine("texture")
    texture.field("defect_class").set_text("weave")  # typed: the class as added is renamed
    texture.field("defect_class").widget.editingFinished.emit()
    assert "texture" not in names() and "weave" in names()
    row = names().index("weave")
    editor.defects.cellWidget(row, 1).setCurrentText("critical")  # the person's choice
    editor.chain.remove_engine(len(editor.chain.editors) - 1)
    assert ("weave", "critical") in _defects(editor)  # touched: kept
