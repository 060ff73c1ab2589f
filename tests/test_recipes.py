"""Recipe files: a good one loads; every mistake is named by file, field and problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from inspector.domain import Severity
from inspector.errors import InputError
from inspector.judges import build_chain
from inspector.recipes import load_recipe, parse_recipe
from tests.support.paths import ROOT

DEMO = ROOT / "assets" / "demo" / "recipe.yaml"


def test_the_demo_recipe_loads_with_its_references_resolved():
    recipe = load_recipe(DEMO)
    assert recipe.name == "demo-pcb"
    assert recipe.defect_class("SHORT").severity is Severity.CRITICAL
    assert all(path.is_file() for path in recipe.references)
    assert [j.engine for j in build_chain(recipe, str(DEMO)).judges] == ["transformers"]


def test_defaults_are_the_local_model_and_a_conservative_pass_rule():
    recipe = parse_recipe({"name": "r", "version": 1, "prompt": "Look."}, "r.yaml")
    # README, "Set up": the default model is Qwen/Qwen2.5-VL-3B-Instruct through transformers.
    default = {"engine": "transformers", "model": "Qwen/Qwen2.5-VL-3B-Instruct"}
    assert recipe.engines == (default,)
    assert recipe.pass_rule.min_confidence == 0.5
    assert recipe.pass_rule.unknown_defect == "unsure"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "recipe.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name: r\nversion: 0\nprompt: p\n", "field `version`: Input should be greater than"),
        ("name: r\nversion: 1\nprompt: p\ncolour: red\n", "field `colour`: unknown field"),
        ("name: r\nversion: 1\n", "field `prompt`: Field required"),
        (
            "name: r\nversion: 1\nprompt: p\nroi: {x: 0, y: 0, width: -5, height: 4}\n",
            "field `roi.width`",
        ),
        (
            "name: r\nversion: 1\nprompt: p\ndefects: [{name: a, severity: awful}]\n",
            "field `defects.0.severity`",
        ),
        (
            "name: r\nversion: 1\nprompt: p\ndefects: [{name: dent}, {name: Dent}]\n",
            "defect classes listed twice: dent",
        ),
        ("name: r\nversion: 1\nprompt: p\nengines: [{model: x}]\n", "needs `engine:`"),
        ("name: r\nversion: 1\nprompt: p\nreferences: [good.png]\n", "field `references.0`"),
        ("- just\n- a list\n", "expected a mapping of fields, found list"),
        ("name: r\n  version: [1\n", "not valid YAML at line"),
        ("", "expected a mapping of fields, found nothing"),
    ],
)
def test_a_bad_recipe_names_the_file_and_the_field(tmp_path, text, expected):
    path = _write(tmp_path, text)
    with pytest.raises(InputError) as caught:
        load_recipe(path)
    message = str(caught.value)
    assert message.startswith(f"recipe {path}: ")
    assert expected in message
    assert "\n" not in message


def test_a_missing_recipe_file_is_named(tmp_path):
    with pytest.raises(InputError, match=r"recipe .*nowhere.yaml: file not found"):
        load_recipe(tmp_path / "nowhere.yaml")


@pytest.mark.parametrize(
    ("engine", "expected"),
    [
        ({"engine": "telepathy", "model": "x"}, "unknown engine 'telepathy'; known engines:"),
        ({"engine": "transformers"}, "engines.0: field `model`: Field required"),
        (
            {"engine": "transformers", "model": "m", "max_new_token": 5},
            "engines.0: field `max_new_token`: unknown field",
        ),
        (
            {"engine": "transformers", "model": "m", "dtype": "float8"},
            "engines.0: field `dtype`",
        ),
    ],
)
def test_engine_settings_are_checked_by_the_engine(tmp_path, engine, expected):
    recipe = parse_recipe({"name": "r", "version": 1, "prompt": "p", "engines": [engine]}, "r")
    with pytest.raises(InputError, match=r"recipe r\.yaml: ") as caught:
        build_chain(recipe, "r.yaml")
    assert expected in str(caught.value)


def test_a_recipe_knows_its_folder_and_equals_its_copy_elsewhere(tmp_path):
    text = "name: moved\nversion: 2\nprompt: Inspect.\n"
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "r.yaml").write_text(text)
    (tmp_path / "b" / "r.yaml").write_text(text)
    here, there = load_recipe(tmp_path / "a" / "r.yaml"), load_recipe(tmp_path / "b" / "r.yaml")
    assert (here.folder, there.folder) == (tmp_path / "a", tmp_path / "b")
    assert here == there and here.to_yaml() == there.to_yaml()  # the same recorded content
    assert here.model_copy(update={"version": 3}).folder == tmp_path / "a"
    data = {"name": "moved", "version": 2, "prompt": "Inspect."}
    assert parse_recipe(data, "data").folder is None
