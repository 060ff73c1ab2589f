"""Tuning to a target miss rate: the threshold, its exact interval, the overkill it costs, and
`inspector eval --target-miss --write-version` putting a new recipe version on record."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from inspector.config import Settings
from inspector.evaluation.target import clopper_pearson, target_threshold
from inspector.judges.engines import texture
from inspector.recipes import load_recipe
from inspector.store import Store
from inspector.store.evaluations.runs import EvaluationResult
from tests.support import textures
from tests.support.command_line import inspector


def _results(good: list[float], defect: list[float]) -> list[EvaluationResult]:
    return [EvaluationResult(f"g{i}", "good", "good", "PASS", 1.0, score=s)
            for i, s in enumerate(good)] + [
            EvaluationResult(f"d{i}", "scratch", "defect", "FAIL", 1.0, score=s)
            for i, s in enumerate(defect)]  # fmt: skip


@pytest.mark.parametrize(
    ("misses", "total", "low", "high"),
    [  # exact values: 1 - 0.025 ** (1 / n) for no miss; tables of the binomial for the rest
        (0, 10, 0.0, 0.30850),
        (0, 50, 0.0, 0.07112),
        (5, 10, 0.18709, 0.81291),
        (1, 100, 0.00025, 0.05446),
    ],
)
def test_the_miss_rates_interval_is_the_exact_binomial_one(misses, total, low, high):
    assert clopper_pearson(misses, total) == pytest.approx((low, high), abs=2e-5)


def test_the_threshold_meets_the_target_and_says_what_it_costs():
    good = [0.5, 0.8, 0.9, 1.1, 1.3, 1.6, 2.0, 2.2, 2.6, 3.1]
    defect = [1.2, 2.5, 3.0, 3.5, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]
    none = target_threshold(_results(good, defect), 0.0)
    # No defect may pass: the threshold lies between the highest score below 1.2 and 1.2.
    assert none["threshold"] == pytest.approx((1.1 + 1.2) / 2)
    assert none["misses"] == 0 and none["overkilled"] == 6 and none["overkill"] == 0.6
    assert none["miss_interval"][1] == pytest.approx(0.30850, abs=1e-4)
    assert not none["meets_target_with_confidence"]  # 10 defects cannot promise 0%
    tenth = target_threshold(_results(good, defect), 0.1)
    # One miss of ten allowed: 1.2 passes, 2.5 is stopped; 2.2 and 2.5 bracket the threshold.
    assert tenth["threshold"] == pytest.approx((2.2 + 2.5) / 2)
    assert tenth["misses"] == 1 and tenth["overkilled"] == 2
    with pytest.raises(ValueError, match="scored good and defective"):
        target_threshold(_results(good, []), 0.01)


def test_eval_target_miss_writes_a_new_version_with_the_threshold(tmp_path):
    data = tmp_path / "data"
    references = textures.references(tmp_path / "references", 12, kind="woven")
    tested = textures.tiles(tmp_path / "images", good=8, defective=8, kind="woven")
    table = textures.table(tmp_path / "tiles.csv", tested)
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(yaml.safe_dump({
        "name": "tiles", "version": 1, "prompt": "Tiles.",
        "defects": [{"name": "texture"}],
        "references": [str(p) for p in references],
        "engines": [{"engine": "texture"}],
    }))  # fmt: skip
    assert inspector("learn", str(recipe), data_dir=data).returncode == 0
    done = inspector(
        "eval", str(table), "--recipe", str(recipe), "--target-miss", "0.05",
        "--write-version", "--json", data_dir=data,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    point = json.loads(done.stdout)["figures"]["target"]
    assert point["misses"] == 0 and point["defects"] == 8 and point["good"] == 8
    assert "95% interval 0.00% to 36.94%" in done.stderr  # 8 defects: an honest interval
    assert "too small to promise 5.00%" in done.stderr
    written = Path(re.search(r"new version with threshold \S+: (\S+)", done.stderr).group(1))
    assert written == tmp_path / "recipe-v2.yaml"
    assert f"evaluation run {point['run']}" in written.read_text().splitlines()[0]
    new = load_recipe(written)
    assert new.version == 2
    assert new.engines[0]["threshold"] == pytest.approx(point["threshold"], rel=1e-5)
    # The new version judges with the model that was evaluated, named in the recipe.
    assert texture.find_learned(load_recipe(recipe), data / "learned") == Path(
        new.engines[0]["learned"]
    )
    with Store.open(Settings.from_env(data_dir=data)) as store:
        assert store.latest_version("tiles") == 2
    again = inspector("eval", str(table), "--recipe", str(written), data_dir=data)
    assert again.returncode == 0, again.stderr
    refused = inspector("eval", str(table), "--recipe", str(recipe), "--write-version",
                        data_dir=data)  # fmt: skip
    assert refused.returncode != 0 and "needs --target-miss" in refused.stderr


def _recipe_with(folder: Path, name: str, engines: list[dict], defects: list[str]) -> Path:
    references = textures.references(folder / "references", 12, kind="woven")
    recipe = folder / f"{name}.yaml"
    recipe.write_text(yaml.safe_dump({
        "name": name, "version": 1, "prompt": "Tiles.",
        "defects": [{"name": d} for d in defects],
        "references": [str(p) for p in references],
        "engines": engines,
    }))  # fmt: skip
    return recipe


def _justified(data: Path, point: dict) -> str:
    """The reason the audit trail gives for version 2 of the recipe."""
    with Store.open(Settings.from_env(data_dir=data)) as store:
        saved = [e for e in store.audit_entries(limit=20) if e.action == "recipe.saved"]
    return saved[0].reason  # the newest first


_REFERENCE = {"engine": "reference", "align": "none", "highpass_sigma": 16}


def test_eval_target_miss_writes_a_reference_version_that_judges_as_the_point_says(tmp_path):
    data = tmp_path / "data"
    tested = textures.tiles(tmp_path / "images", good=8, defective=8, kind="woven")
    table = textures.table(tmp_path / "tiles.csv", tested)
    recipe = _recipe_with(tmp_path, "tiles-ref", [_REFERENCE], ["deviation"])
    page = tmp_path / "report.html"
    done = inspector(
        "eval", str(table), "--recipe", str(recipe), "--target-miss", "0.01",
        "--write-version", "--json", "--report", str(page), data_dir=data,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    point = json.loads(done.stdout)["figures"]["target"]
    assert point["misses"] == 0 and (point["defects"], point["good"]) == (8, 8)
    # The report names the operating point and how sure 8 defects can make it.
    assert f"target miss rate 1.00%: threshold {point['threshold']:.4g}" in page.read_text()
    assert "too small to promise 1.00%" in page.read_text()
    written = tmp_path / "tiles-ref-v2.yaml"
    new = load_recipe(written)
    assert (new.version, new.engines[0]["engine"]) == (2, "reference")
    assert new.engines[0]["threshold"] == pytest.approx(point["threshold"], rel=1e-5)
    assert new.engines[0]["highpass_sigma"] == 16  # the rest of the engine as it was
    reason = _justified(data, point)
    assert f"evaluation run {point['run']}" in reason and "at most 1.00%" in reason
    # The new version, judged on the same set, misses and overkills as the point promised.
    again = inspector("eval", str(table), "--recipe", str(written), "--json", data_dir=data)
    assert again.returncode == 0, again.stderr
    figures = json.loads(again.stdout)["figures"]
    assert figures["miss_rate"] == point["miss_rate"] == 0
    assert figures["overkill"] == pytest.approx(point["overkill"])


def test_eval_target_miss_tunes_a_screen_in_front_of_a_model(tmp_path):
    from tests.support.scripted_judge import FAIL_ANSWER, run_scripted

    data = tmp_path / "data"
    tested = textures.tiles(tmp_path / "images", good=8, defective=8, kind="woven")
    table = textures.table(tmp_path / "tiles.csv", tested)
    # The model fails everything it is shown: what it is spared is what the screen passes.
    # A screen set too tight at first: most good tiles go on to the model.
    screen = _REFERENCE | {"screen": True, "threshold": 1.0}
    engines = [screen, {"engine": "scripted", "answers": [FAIL_ANSWER]}]
    recipe = _recipe_with(tmp_path, "tiles-screen", engines, ["scratch"])
    done = run_scripted(
        "eval", str(table), "--recipe", str(recipe), "--target-miss", "0.01",
        "--write-version", "--json", data_dir=data,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    output = json.loads(done.stdout)
    point = output["figures"]["target"]
    assert output["figures"]["engine_calls"]["reference"] == 16
    tight = _asked(data, output["run"]["id"])
    assert point["misses"] == 0 and point["unscored"] == 0
    new = load_recipe(tmp_path / "tiles-screen-v2.yaml")
    screen, model = new.engines
    assert screen["screen"] is True
    assert screen["threshold"] == pytest.approx(point["threshold"], rel=1e-5)
    assert model == {"engine": "scripted", "answers": [FAIL_ANSWER]}  # the model untouched
    assert f"evaluation run {point['run']}" in _justified(data, point)
    # With the chosen threshold the model is called for exactly the frames above it.
    again = run_scripted("eval", str(table), "--recipe", str(tmp_path / "tiles-screen-v2.yaml"),
                         "--json", data_dir=data)  # fmt: skip
    assert again.returncode == 0, again.stderr
    output = json.loads(again.stdout)
    assert output["figures"]["miss_rate"] == 0
    asked = _asked(data, output["run"]["id"])
    assert len(asked) == round((1 - point["passed"]) * 16) == 8  # the defects, no good tile
    assert all(r.score > point["threshold"] for r in asked)
    assert len(tight) > len(asked)  # the tuned version spares the model calls


def _asked(data: Path, run: str) -> list:
    """The results of a run whose part the model was asked about (a flagged part is shown to
    it whole and zoomed: two calls, one part)."""
    with Store.open(Settings.from_env(data_dir=data)) as store:
        results = store.run_results(store.find_run(run).id)
    return [r for r in results if "scripted" in r.engines]


def test_a_tuned_version_is_named_as_the_recipes_versions_are():
    from inspector.evaluation.versions import version_file

    assert version_file(Path("/r/part/v2.yaml"), 3) == Path("/r/part/v3.yaml")
    assert version_file(Path("/r/part.yaml"), 2) == Path("/r/part-v2.yaml")
    assert version_file(Path("/r/part-v2.yaml"), 3) == Path("/r/part-v3.yaml")
    assert version_file(Path("/r/v2-notes.yaml"), 3) == Path("/r/v2-notes-v3.yaml")
