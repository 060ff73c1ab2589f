"""Looks that must agree: samples of one prompt, and the whole with its tiles and zooms.

A split is UNSURE with every answer kept (attempts with their raw text); agreement keeps the
outcome. Sampled looks reach the engines as a temperature; greedy engines are asked once.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

import tests.support.scripted_judge  # noqa: F401  (registers the scripted engine)
from inspector.domain import Box, Defect, Outcome, Region, Severity, Verdict
from inspector.judges import build_chain
from inspector.judges.agreement import agree
from inspector.judges.families import GENERIC, family_of
from inspector.judges.zoom import zoom_budget, zoom_regions
from inspector.recipes import Zoom, load_recipe, parse_recipe
from inspector.station.runner import prepare_judge
from tests.support.recipes import recipe_file
from tests.support.scripted_judge import FAIL_ANSWER, PASS_ANSWER


def _chain(tmp_path, answers, **fields):
    engine = {"engine": "scripted", "answers": list(answers)}
    path = recipe_file(tmp_path, [engine], **fields)
    chain = build_chain(load_recipe(path), path)
    chain.load()
    return chain, chain.judges[0]


def _part() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 255, (480, 640, 3), np.uint8)


def test_samples_that_split_make_the_part_unsure_and_keep_every_answer(tmp_path):
    chain, judge = _chain(
        tmp_path, [PASS_ANSWER, FAIL_ANSWER, PASS_ANSWER], agreement={"samples": 3}
    )
    verdict = chain.judge(_part())
    assert verdict.outcome is Outcome.UNSURE
    assert "disagree (2 PASS, 1 FAIL)" in verdict.reason
    assert "sample 2 of 3: FAIL" in verdict.reason
    # Every answer is on record, raw, and the failing look's defect stays for the reviewer.
    assert [a.raw_text for a in verdict.attempts] == [PASS_ANSWER, FAIL_ANSWER, PASS_ANSWER]
    assert [d.class_name for d in verdict.defects] == ["scratch"]
    # The first look at the engine's own temperature, the others sampled at the recipe's.
    assert judge.temperatures == [None, 0.7, 0.7]


def test_samples_that_agree_keep_their_outcome(tmp_path):
    chain, judge = _chain(tmp_path, [FAIL_ANSWER], agreement={"samples": 2, "temperature": 0.4})
    verdict = chain.judge(_part())
    assert verdict.outcome is Outcome.FAIL
    assert "all 2 looks agree" in verdict.reason
    assert len(verdict.attempts) == 2
    assert len(verdict.defects) == 1  # the same box from both samples is one defect
    assert judge.temperatures == [None, 0.4]


def test_without_agreement_a_part_is_asked_once(tmp_path):
    chain, judge = _chain(tmp_path, [PASS_ANSWER, FAIL_ANSWER])
    assert chain.judge(_part()).outcome is Outcome.PASS
    assert judge.temperatures == [None]


def test_a_greedy_engine_is_asked_once_whatever_the_samples(tmp_path):
    good = _part()
    folder = tmp_path / "good"
    folder.mkdir()
    cv2.imwrite(str(folder / "good.png"), good)
    path = recipe_file(
        tmp_path,
        [{"engine": "reference"}],
        references=[str(folder / "good.png")],
        agreement={"samples": 3},
    )
    chain = prepare_judge(path).chain
    chain.load()
    verdict = chain.judge(good)
    assert len(verdict.attempts) == 1
    assert verdict.outcome is Outcome.PASS


def _tiled(tmp_path, answers, views: bool):
    return _chain(
        tmp_path,
        answers,
        roi={"x": 0, "y": 0, "width": 640, "height": 480},
        tiles={"size": 320, "overlap": 0.0},
        agreement={"views": views},
    )


def test_views_that_must_agree_make_a_tile_alone_failing_unsure(tmp_path):
    # The whole passes, one of four tiles fails: the pass rule fails the part, agreement
    # sends it to a person.
    answers = [PASS_ANSWER, FAIL_ANSWER, PASS_ANSWER, PASS_ANSWER, PASS_ANSWER]
    chain, _ = _tiled(tmp_path, answers, views=False)
    assert chain.judge(_part()).outcome is Outcome.FAIL
    chain, _ = _tiled(tmp_path, answers, views=True)
    verdict = chain.judge(_part())
    assert verdict.outcome is Outcome.UNSURE
    assert "disagree (4 PASS, 1 FAIL)" in verdict.reason
    assert len(verdict.attempts) == 5


def test_views_that_agree_pass(tmp_path):
    chain, _ = _tiled(tmp_path, [PASS_ANSWER], views=True)
    verdict = chain.judge(_part())
    assert verdict.outcome is Outcome.PASS
    assert "all 5 looks agree" in verdict.reason


def test_agree_keeps_the_least_sure_confidence_and_every_defect():
    box = Box(10, 10, 20, 20)
    scratch = Defect("scratch", Severity.MAJOR, box=box, confidence=0.9)
    fail = Verdict(Outcome.FAIL, "a", (scratch,), 0.9)
    unsure = Verdict(Outcome.UNSURE, "dark", (), 0.4)
    verdict = agree([("one", fail), ("two", unsure)], 0.5)
    assert verdict.outcome is Outcome.UNSURE
    assert verdict.confidence == 0.4
    assert verdict.defects == fail.defects


def test_an_agreement_setting_left_at_its_default_is_not_written():
    data = {"name": "t", "version": 1, "prompt": "p"}
    assert "agreement" not in parse_recipe(data, "t").to_yaml()
    data["agreement"] = {"samples": 3}
    assert "samples: 3" in parse_recipe(data, "t").to_yaml()


def test_a_bad_agreement_is_refused_naming_the_field():
    with pytest.raises(Exception, match=r"agreement\.samples"):
        parse_recipe({"name": "t", "version": 1, "prompt": "p", "agreement": {"samples": 0}}, "t")


# --- the zoom budget per model family ----------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "family", "side", "crops"),
    [
        ("Qwen/Qwen2.5-VL-7B-Instruct", "Qwen2-VL", 448, 3),
        ("/models/gemma-3-4b-it", "Gemma 3", 896, 3),
        ("OpenGVLab/InternVL3-8B-hf", "InternVL", 448, 3),
        ("meta-llama/Llama-3.2-11B-Vision-Instruct", "Llama 3.2 Vision", 560, 2),
        ("gpt-4.1", "OpenAI", 512, 2),
        ("claude-sonnet-4-20250514", "Claude", 768, 2),
        ("gemini-2.5-pro", "Gemini", 768, 2),
        ("/models/my-own-net", "generic", 448, 3),
    ],
)
def test_the_zoom_budget_is_the_model_familys_where_the_recipe_leaves_it(
    model, family, side, crops
):
    found = family_of(model)
    assert found.name == family
    assert zoom_budget(Zoom(), found) == (crops, side)
    # What a recipe says wins over the family.
    assert zoom_budget(Zoom(max_crops=1, min_size=200), found) == (1, 200)


def test_a_gemma_crop_is_at_least_its_native_side():
    boxes = [Box(500, 500, 510, 510), Box(1500, 900, 1510, 910)]
    area = Region(0, 0, 2000, 1500)
    gemma = zoom_regions(boxes, area, Zoom(), family_of("google/gemma-3-4b-it"))
    generic = zoom_regions(boxes, area, Zoom(), GENERIC)
    assert [(c.width, c.height) for c in gemma] == [(896, 896)] * 2
    assert [(c.width, c.height) for c in generic] == [(448, 448)] * 2


def test_a_zoom_budget_of_zero_crops_turns_zoom_off():
    assert zoom_regions([Box(1, 1, 5, 5)], Region(0, 0, 100, 100), Zoom(max_crops=0)) == []
