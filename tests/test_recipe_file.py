"""A recipe written back to its file keeps the engineer's comments and layout, rewrites only
what changed, and always means exactly the recipe given (inspector/recipe_file.py)."""

from __future__ import annotations

import re
import shutil

from inspector.recipe_file import recipe_text
from inspector.recipes import load_recipe
from tests.support.paths import ROOT

CAMERA = ROOT / "assets" / "demo" / "camera"

SOURCE = """\
# stamped brackets
name: bracket-a
version: 3
prompt: Look at the holes.   # short on purpose
defects:
  - name: deviation   # the reference engine's class
    severity: major
    examples:
      - image: camera/01_00041000_test.jpg   # a real one from lot 7
roi: {x: 10, y: 10, width: 200, height: 100}   # the bend only
references:
  - camera/02_00041000_good.jpg
engines:
  - engine: reference
    threshold: 3
"""


def _source(tmp_path):
    folder = tmp_path / "src"
    shutil.copytree(CAMERA, folder / "camera")
    path = folder / "bracket.yaml"
    path.write_text(SOURCE)
    return path


def test_unchanged_is_the_same_text_and_a_change_rewrites_only_its_field(tmp_path):
    source = _source(tmp_path)
    recipe = load_recipe(source)
    assert recipe_text(recipe, source.with_name("copy.yaml"), source) == SOURCE
    edited = recipe.model_copy(update={"version": 4, "roi": None})
    text = recipe_text(edited, source.with_name("v4.yaml"), source)
    # The ROI cleared (the whole image): its line says so, its comment stays; nothing else moved.
    roi_line = next(line for line in text.splitlines() if line.startswith("roi:"))
    assert re.fullmatch(r"roi: +# the bend only", roi_line), roi_line
    assert text == SOURCE.replace("version: 3", "version: 4").replace(
        "roi: {x: 10, y: 10, width: 200, height: 100}   # the bend only", roi_line
    )
    target = source.with_name("v4.yaml")
    target.write_text(text)
    assert load_recipe(target) == edited
    assert "# short on purpose" in text and "# a real one from lot 7" in text


def test_a_relative_path_is_rewritten_where_the_new_file_lies_elsewhere(tmp_path):
    source = _source(tmp_path)
    recipe = load_recipe(source)
    target = tmp_path / "recipes" / "bracket-a" / "v4.yaml"
    target.parent.mkdir(parents=True)
    text = recipe_text(recipe.model_copy(update={"version": 4}), target, source)
    target.write_text(text)
    moved = load_recipe(target)  # each image found from the new folder
    assert moved.defects[0].examples[0].image == source.parent / "camera/01_00041000_test.jpg"
    assert moved.references == recipe.references
    assert "# stamped brackets" in text and "# the bend only" in text


def test_without_a_source_or_with_an_unreadable_one_the_plain_yaml(tmp_path):
    source = _source(tmp_path)
    recipe = load_recipe(source)
    target = source.with_name("v4.yaml")
    assert recipe_text(recipe, target) == recipe.to_yaml()
    assert recipe_text(recipe, target, tmp_path / "gone.yaml") == recipe.to_yaml()
    (tmp_path / "list.yaml").write_text("- not a recipe\n")
    assert recipe_text(recipe, target, tmp_path / "list.yaml") == recipe.to_yaml()
