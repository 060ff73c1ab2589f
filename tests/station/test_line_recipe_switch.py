"""Switching a running station's recipe (StationRunner.select_recipe, Station.swap_recipe):
loaded first, swapped between parts, each part recorded under the recipe that judged it; a
recipe that cannot be found or loaded is refused with the reason and the old one stays. Real
SQLite, a real folder camera, the scripted judge through the registry (recipe A passes every
part slowly, recipe B fails every part), so the record shows which recipe judged each part."""

from __future__ import annotations

import threading

import cv2
import numpy as np
import pytest

import tests.support.scripted_judge as scripted
from inspector.errors import InputError
from inspector.station import InspectionRecorded, StationStopped
from inspector.station.runner import StationRunner, find_recipe
from inspector.store import Store
from tests.support.recipes import recipe_file


def _frames(tmp_path, count: int) -> str:
    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(count):
        cv2.imwrite(str(folder / f"p{i:02d}.png"), np.full((60, 80, 3), 10 * i, np.uint8))
    return f"folder:{folder}"


def _recipes(tmp_path):
    folder = tmp_path / "recipes"
    folder.mkdir()
    for name, answer, delay in (("a", scripted.PASS_ANSWER, 0.15), ("b", scripted.FAIL_ANSWER, 0)):
        place = tmp_path / name
        place.mkdir()
        engines = [{"engine": "scripted", "answers": [answer], "delay_s": delay}]
        path = recipe_file(place, engines, name=f"recipe-{name}", version=2)
        (folder / f"recipe-{name}.yaml").write_text(path.read_text())
    broken = recipe_file(tmp_path, [{"engine": "no-such-engine"}], name="broken")
    (folder / "broken.yaml").write_text(broken.read_text())
    return folder


def test_a_switch_lands_between_parts_and_a_bad_recipe_is_refused(tmp_path, sqlite_settings):
    folder = _recipes(tmp_path)
    recorded: list[InspectionRecorded] = []
    done = threading.Event()
    third = threading.Event()

    def listener(event) -> None:
        if isinstance(event, InspectionRecorded):
            recorded.append(event)
            if len(recorded) == 3:
                third.set()
        elif isinstance(event, StationStopped):
            done.set()

    with Store.open(sqlite_settings) as store:
        runner = StationRunner(store)  # the recipes folder: the running recipe's
        station = runner.start(folder / "recipe-a.yaml", _frames(tmp_path, 12), listener)
        assert third.wait(30)
        with pytest.raises(InputError, match="no-such-engine"):
            runner.select_recipe("broken")
        with pytest.raises(InputError, match=r"no recipe 'nothing'.*recipe-b"):
            runner.select_recipe("nothing")
        assert station.views[0].recipe.name == "recipe-a"  # kept
        said = runner.select_recipe("recipe-b")  # while a part of recipe A is being judged
        assert said == "recipe recipe-b version 2 selected (recipe-b.yaml)"
        assert done.wait(60)
        history = {r.id: r for r in store.history(limit=100)}
        versions = {v.name: v for v in store.recipe_versions()}
    outcomes = [str(e.verdict.outcome) for e in recorded]
    assert len(recorded) == 12
    assert outcomes[:3] == ["PASS"] * 3 and outcomes[-1] == "FAIL"
    # One switch, between parts: PASS (A) up to it, FAIL (B) from it on.
    assert outcomes == sorted(outcomes, key=lambda o: o != "PASS")
    for event in recorded:  # each part recorded under the recipe that judged it
        expected = "recipe-a" if str(event.verdict.outcome) == "PASS" else "recipe-b"
        assert history[event.inspection_id].recipe == expected
    assert {"recipe-a", "recipe-b"} <= set(versions)


def test_a_recipe_name_reads_nothing_outside_the_recipes_folder(tmp_path) -> None:
    folder = _recipes(tmp_path)
    assert find_recipe(folder, "recipe-b") == folder / "recipe-b.yaml"
    (folder / "other-file.yaml").write_text("name: by-its-name\nversion: 1\n")
    assert find_recipe(folder, "by-its-name") == folder / "other-file.yaml"
    for name in ("../a/recipe", "/etc/passwd", ".hidden", ""):
        with pytest.raises(InputError, match="recipe name"):
            find_recipe(folder, name)
