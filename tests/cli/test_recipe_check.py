"""`inspector recipe check RECIPE.yaml`, as an engineer runs it: what a station start checks of
a recipe (fields, engines, references), without a model, and the warnings that say a recipe
will not judge as meant (issue 13: an engine's defect class the recipe does not list)."""

from __future__ import annotations

import shutil

import yaml

from tests.support.command_line import inspector
from tests.support.paths import ROOT

DEMO = ROOT / "assets" / "demo"


def test_a_recipe_whose_engine_class_is_unlisted_is_warned_and_exits_1(tmp_path):
    shutil.copytree(DEMO / "camera", tmp_path / "camera")
    recipe = yaml.safe_load((DEMO / "recipe-reference.yaml").read_text())
    recipe["engines"].append({"engine": "texture", "defect_class": "stain"})
    path = tmp_path / "board.yaml"
    path.write_text(yaml.safe_dump(recipe, sort_keys=False))
    result = inspector("recipe", "check", str(path), data_dir=tmp_path / "data")
    assert result.returncode == 1, result.stderr
    assert (
        f"recipe {path}: demo-pcb-reference v1 loads; engines reference, texture" in result.stdout
    )
    assert "engine 2 (texture)" in result.stderr and "defect class 'stain'" in result.stderr
    assert "Add a defect class named 'stain'" in result.stderr

    recipe["defects"].append({"name": "stain", "severity": "minor"})
    path.write_text(yaml.safe_dump(recipe, sort_keys=False))
    result = inspector("recipe", "check", str(path), data_dir=tmp_path / "data")
    assert result.returncode == 0 and result.stderr == "", result.stderr


def test_a_recipe_that_does_not_load_says_why(tmp_path):
    recipe = yaml.safe_load((DEMO / "recipe-reference.yaml").read_text())
    path = tmp_path / "board.yaml"
    path.write_text(yaml.safe_dump(recipe, sort_keys=False))  # its images are not beside it
    result = inspector("recipe", "check", str(path), data_dir=tmp_path / "data")
    assert result.returncode not in (0, 1)
    assert "field `references.0`: no image at" in result.stderr
    assert "Traceback" not in result.stderr
