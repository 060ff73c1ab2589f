"""A model-free engine's defect class that the recipe does not list is told, naming the engine,
the class and the fix (issue 13: "Try on this frame" said UNSURE on every flagged part, and
nothing said the `texture` engine's class "texture" was not among the recipe's classes)."""

from __future__ import annotations

import cv2
import numpy as np

from inspector.domain import Outcome
from inspector.judges import build_chain
from inspector.judges.defect_classes import recipe_warnings, reported_class, unlisted_classes
from inspector.recipes import parse_recipe


def _recipe(engines, defects, **fields):
    data = {"name": "r", "version": 1, "prompt": "Look.", "engines": engines, "defects": defects}
    return parse_recipe(data | fields, "r.yaml")


def test_each_engine_reports_the_class_of_its_settings_class():
    # Defaults read from the engines' own settings classes.
    assert reported_class({"engine": "reference"}) == "deviation"
    assert reported_class({"engine": "texture"}) == "texture"
    assert reported_class({"engine": "texture", "defect_class": "stain"}) == "stain"
    assert reported_class({"engine": "reference", "screen": True}) is None  # hands on "suspect"
    assert reported_class({"engine": "transformers", "model": "m"}) is None  # names the recipe's
    assert reported_class({"engine": "acme-vision"}) is None  # not installed: said elsewhere
    assert reported_class({"engine": "reference", "threshold": -1}) is None  # refused elsewhere


def test_an_unlisted_class_is_warned_with_the_engine_the_class_and_the_fix():
    recipe = _recipe(
        [{"engine": "reference", "screen": True}, {"engine": "texture"}],
        [{"name": "Deviation"}],
    )
    [warning] = recipe_warnings(recipe)
    assert warning.startswith("engine 2 (texture) reports what it finds as defect class 'texture'")
    assert "UNSURE" in warning
    assert "Add a defect class named 'texture'" in warning
    assert "`engines.1.defect_class`" in warning
    strict = _recipe([{"engine": "texture"}], [], pass_rule={"unknown_defect": "fail"})
    assert "FAIL with no severity" in recipe_warnings(strict)[0]
    # Listed (case and spaces aside, as the pass rule compares): nothing to say.
    assert recipe_warnings(_recipe([{"engine": "reference"}], [{"name": " DEVIATION "}])) == []
    assert unlisted_classes([{"engine": "reference"}], ["deviation"]) == []


def test_the_warning_tells_the_truth_the_part_is_unsure_until_the_class_is_listed(tmp_path):
    """What the warning predicts, on the reference judge itself: a flagged part is UNSURE
    while its class is unlisted, FAIL once the recipe lists it."""
    good = np.full((120, 160), 40, np.uint8)
    cv2.rectangle(good, (30, 30), (130, 90), 200, -1)
    bad = good.copy()
    cv2.circle(bad, (60, 60), 12, 0, -1)
    paths = []
    for i in range(3):
        path = tmp_path / f"good{i}.png"
        cv2.imwrite(str(path), good)
        paths.append(str(path))
    engines = [{"engine": "reference", "align": "none"}]
    for defects, outcome in (
        ([{"name": "scratch"}], Outcome.UNSURE),
        ([{"name": "deviation"}], Outcome.FAIL),
    ):
        recipe = _recipe(engines, defects, references=paths)
        assert bool(recipe_warnings(recipe)) == (outcome is Outcome.UNSURE)
        chain = build_chain(recipe, "r.yaml")
        chain.set_references([cv2.imread(p, cv2.IMREAD_UNCHANGED) for p in paths])
        verdict = chain.judge(bad)
        assert verdict.outcome is outcome, verdict.reason


def test_each_station_load_of_such_a_recipe_logs_the_warning(tmp_path, caplog):
    import logging

    import yaml

    from inspector.station.runner import prepare_judge

    good = tmp_path / "good.png"
    cv2.imwrite(str(good), np.full((64, 64), 90, np.uint8))
    path = tmp_path / "r.yaml"
    data = {"name": "r", "version": 1, "prompt": "Look.", "references": ["good.png"]}
    path.write_text(yaml.safe_dump(data | {"engines": [{"engine": "texture"}]}))
    with caplog.at_level(logging.WARNING, logger="inspector.station.runner"):
        prepare_judge(path)
    assert any("engine 1 (texture)" in r.getMessage() for r in caplog.records), caplog.text
