"""The recipe editor keeps references relative to the recipe file, whatever the working
directory (issue 13: `--recipe assets/demo/recipe-reference.yaml` made "Try on this frame" look
for assets/demo/assets/demo/camera/...), asks before unsaved edits are dropped, and records
why a new version was saved. Offscreen, on the real store and the reference judge (no model)."""

from __future__ import annotations

import shutil

import pytest

from inspector.config import Settings
from inspector.store import Store
from tests.support.paths import ROOT
from tests.support.records_data import make_users

pytest.importorskip("PySide6")

DEMO = ROOT / "assets" / "demo"


@pytest.fixture
def editor(qtbot, tmp_path, monkeypatch):
    from inspector.ui.app import application
    from inspector.ui.recipe_editor import RecipeEditor

    application()
    # The demo copied, and started from the folder above it with a relative path, as the
    # README says: the references are relative to the recipe file, not to this folder.
    shutil.copytree(DEMO, tmp_path / "assets" / "demo")
    monkeypatch.chdir(tmp_path)
    with Store.open(Settings.from_env(data_dir=tmp_path / "data")) as store:
        people = make_users(store)
        editor = RecipeEditor(store, tmp_path / "data" / "recipes", None, lambda: people["erin"])
        qtbot.addWidget(editor)
        yield editor


def _references(editor) -> list[str]:
    return [editor.references.item(i).text() for i in range(editor.references.count())]


def test_a_relative_recipe_path_round_trips_and_try_finds_the_images(editor, qtbot, tmp_path):
    from inspector.cameras.images import read_image

    editor.open("assets/demo/recipe-reference.yaml")
    assert _references(editor)[0] == "camera/02_00041000_good.jpg"  # as the file writes it
    assert not editor.unsaved
    recipe = editor.recipe_from_form()
    assert all(path.is_file() for path in recipe.references)
    assert recipe.references[0] == tmp_path / "assets/demo/camera/02_00041000_good.jpg"

    editor.set_frame(read_image(tmp_path / "assets/demo/camera/01_00041000_test.jpg"))
    editor.try_on_frame()
    qtbot.waitUntil(lambda: editor.try_button.isEnabled(), timeout=60_000)
    assert editor.result.text().startswith(("FAIL", "PASS")), editor.result.text()
    assert "no image at" not in editor.result.text()

    asked = []
    editor.ask_reason = lambda recipe: asked.append(recipe.name) or "threshold for lot 7"
    editor.prompt.setPlainText(editor.prompt.toPlainText() + " Mind the pads.")
    assert editor.unsaved
    path = editor.save()
    assert path is not None and path.name == "v2.yaml", editor.result.text()
    assert asked == ["demo-pcb-reference"]
    assert not editor.unsaved and editor.path == path
    saved = _references(editor)
    assert len(saved) == 6 and all(r.startswith("references/") for r in saved)  # relative
    assert saved[0] == "references/02_00041000_good.jpg"  # under the name the engineer knows
    assert all(ref.is_file() for ref in editor.recipe_from_form().references)
    [entry] = editor.store.audit_entries(limit=1, entity_type="recipe_version")
    assert (entry.action, entry.user_name, entry.reason) == (
        "recipe.saved",
        "erin",
        "threshold for lot 7",
    )


def test_save_without_a_reason_saves_nothing(editor, tmp_path):
    editor.open("assets/demo/recipe-reference.yaml")
    editor.prompt.setPlainText("Look harder.")
    editor.ask_reason = lambda recipe: None  # the person cancels the question
    assert editor.save() is None
    assert "needs a reason" in editor.result.text()
    assert editor.unsaved and editor.prompt.toPlainText() == "Look harder."
    assert not list((tmp_path / "data" / "recipes").rglob("v*.yaml"))


def test_open_asks_before_unsaved_edits_are_dropped(editor):
    editor.open("assets/demo/recipe-reference.yaml")
    editor.prompt.setPlainText("An edit not saved yet.")
    asked = []
    editor.confirm_discard = lambda: asked.append("keep") and False
    assert not editor.open_other("assets/demo/recipe.yaml")
    assert asked == ["keep"] and editor.prompt.toPlainText() == "An edit not saved yet."
    editor.confirm_discard = lambda: True  # the person chooses to drop them
    assert editor.open_other("assets/demo/recipe.yaml")
    assert editor.name.text() == "demo-pcb" and not editor.unsaved
    asked.clear()
    editor.confirm_discard = lambda: asked.append("asked") or True
    assert editor.open_other("assets/demo/recipe-reference.yaml")  # no edits: no question
    assert asked == []


def test_shown_path_is_relative_to_the_recipe_folder(tmp_path):
    from inspector.ui.recipe_editor import shown_path

    folder = tmp_path / "recipes"
    assert shown_path(folder / "camera" / "a.jpg", folder) == "camera/a.jpg"
    assert shown_path(tmp_path / "elsewhere.jpg", folder) == str(tmp_path / "elsewhere.jpg")


def test_a_recipe_saved_under_a_new_name_starts_at_version_1(editor, tmp_path):
    """A new part's recipe set up from the demo's is version 1 of its name; the same name again
    is its version 2, and an edit of the demo under its own name goes above the demo's file."""
    editor.open("assets/demo/recipe-reference.yaml")
    editor.name.setText("bracket-a")
    editor.ask_reason = lambda recipe: "a new part"
    first = editor.save()
    assert first == tmp_path / "data" / "recipes" / "bracket-a" / "v1.yaml"
    editor.prompt.setPlainText("Look at the holes too.")
    assert editor.save() == tmp_path / "data" / "recipes" / "bracket-a" / "v2.yaml"
    editor.open("assets/demo/recipe-reference.yaml")
    demo = editor.name.text()
    editor.prompt.setPlainText("An edit of the demo.")
    saved = editor.save()
    assert saved is not None and saved.name == "v2.yaml" and saved.parent.name == demo


def test_two_good_images_of_one_name_are_both_kept(editor, tmp_path):
    """Two different images called `good.png` (from two folders): the second is kept beside
    the first, its name told apart by its content's hash, and neither is lost."""
    import cv2
    import numpy as np

    editor.open("assets/demo/recipe-reference.yaml")
    editor.ask_reason = lambda recipe: "two folders of good parts"
    folders = []
    for shade in (90, 160):
        folder = tmp_path / f"good-{shade}"
        folder.mkdir()
        cv2.imwrite(str(folder / "good.png"), np.full((480, 640, 3), shade, np.uint8))
        folders.append(folder / "good.png")
    editor.references.clear()
    for path in folders:
        editor.references.addItem(str(path))
    saved_path = editor.save()
    assert saved_path is not None, editor.result.text()
    saved = _references(editor)
    assert saved[0] == "references/good.png"
    assert saved[1].startswith("references/good-") and saved[1].endswith(".png")
    copies = [saved_path.parent / name for name in saved]
    assert [p.read_bytes() for p in copies] == [p.read_bytes() for p in folders]


COMMENTED = """\
# Bracket A, line 3: the engineer's notes stay with the recipe.
name: bracket-a
version: 1
product: Bracket A  # the stamped one, not the cast one
prompt: |
  Look at the bracket's two holes and its bend.
  Burrs on the edge are fine.
defects:
  # what the line rejects
  - name: deviation
    severity: major
references:
  - camera/02_00041000_good.jpg   # lot 7, first shift
engines:
  - engine: reference
    # raised after lot 7: the bends vary more than the first golden images showed
    threshold: 3.0
    min_defect_area: 20   # pixels
pass_rule:
  fail_severities: [major, critical]  # minor is logged only
"""


def test_a_saved_version_keeps_the_files_comments_and_the_change(editor, tmp_path):
    """Issue 13: saving a recipe lost the YAML's comments. The new version is the file as the
    engineer wrote it, comments, order and layout kept, with only the changed field rewritten."""
    from inspector.recipes import load_recipe

    folder = tmp_path / "assets" / "demo"
    source = folder / "bracket.yaml"
    source.write_text(COMMENTED)
    editor.open(source)
    editor.chain.editors[0].field("threshold").set_text("4.5")
    editor.ask_reason = lambda recipe: "bends vary more in lot 8"
    path = editor.save()
    assert path is not None and path.name == "v2.yaml", editor.result.text()
    text = path.read_text()
    for line in COMMENTED.splitlines():
        if "#" in line:  # every comment, in its place in the line
            assert line[line.index("#") :] in text, line
    assert (
        "  # raised after lot 7: the bends vary more than the first golden images showed\n"
        "    threshold: 4.5\n" in text
    )  # the comment above a changed field stays above it
    assert "min_defect_area: 20   # pixels" in text  # untouched: the same text
    assert "prompt: |\n  Look at the bracket's two holes and its bend.\n" in text
    expected = COMMENTED.replace("version: 1", "version: 2").replace(
        "threshold: 3.0", "threshold: 4.5"
    )
    # The copied reference's path is longer: its comment keeps its column where it can.
    expected = expected.replace(
        "camera/02_00041000_good.jpg   #", "references/02_00041000_good.jpg #"
    )
    assert text == expected  # nothing else moved: the rest is byte for byte the engineer's
    saved = load_recipe(path)
    assert saved.engines[0]["threshold"] == 4.5 and saved.version == 2
    assert saved.references[0].read_bytes() == (folder / "camera/02_00041000_good.jpg").read_bytes()
    assert editor.recipe_from_form() == saved  # the file reads back as the form shows it
