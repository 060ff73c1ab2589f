"""Tiles for small defects: the tiling covers the part, boxes come back to camera pixels
exactly, the tiles' answers merge by the pass rule, and the tiles reach a real model."""

from __future__ import annotations

import itertools
import json
import math

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tests.support.scripted_judge  # noqa: F401  (registers the scripted engine)
from inspector.domain import Box, Defect, Outcome, Region, Severity, Verdict
from inspector.errors import InputError
from inspector.judges import build_chain
from inspector.judges.answers import BoxConvention, ImageGeometry, read_verdict
from inspector.judges.prompt import build_prompt
from inspector.judges.tiles import iou, merge_views, suppress_duplicates, tile_regions
from inspector.recipes import Tiles, load_recipe, parse_recipe
from tests.support.recipes import recipe_file
from tests.support.scripted_judge import PASS_ANSWER

UNSURE_ANSWER = '{"outcome": "UNSURE", "defects": [], "reason": "too dark"}'


def _fail_at(box: list[float], confidence: float = 0.9, name: str = "scratch") -> str:
    defect = {"class": name, "box": box, "confidence": confidence}
    return json.dumps({"outcome": "FAIL", "defects": [defect], "confidence": 0.9, "reason": name})


# --- the tiling ------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    x=st.integers(0, 500),
    y=st.integers(0, 500),
    width=st.integers(1, 5000),
    height=st.integers(1, 5000),
    size=st.integers(64, 1200),
    overlap=st.floats(0.0, 0.5),
)
def test_tiles_cover_the_area_overlapping_as_asked_and_stay_inside(
    x, y, width, height, size, overlap
):
    area = Region(x, y, width, height)
    tiles = tile_regions(area, Tiles(size=size, overlap=overlap, max_tiles=256))
    if width <= size and height <= size:
        assert tiles == []  # one tile would be the whole: nothing more to judge
        return
    covered = np.zeros((height, width), bool)
    for tile in tiles:
        assert tile.width == min(size, width) and tile.height == min(size, height)
        assert area.x <= tile.x and tile.x + tile.width <= area.x + area.width
        assert area.y <= tile.y and tile.y + tile.height <= area.y + area.height
        covered[tile.y - y : tile.y - y + tile.height, tile.x - x : tile.x - x + tile.width] = True
    assert covered.all()
    xs = sorted({t.x for t in tiles})
    for left, right in itertools.pairwise(xs):  # neighbours share at least the overlap
        assert left + size - right >= math.floor(size * overlap) - 1


@settings(max_examples=300, deadline=None)
@given(
    roi=st.tuples(st.integers(0, 300), st.integers(0, 300)),
    tile=st.tuples(st.integers(0, 1500), st.integers(0, 1500), st.integers(64, 900)),
    defect=st.tuples(st.floats(0, 0.9), st.floats(0, 0.9), st.floats(0.01, 0.1)),
    model=st.tuples(st.integers(28, 1400), st.integers(28, 1400)),
    convention=st.sampled_from(list(BoxConvention)),
)
def test_a_box_in_a_tile_maps_back_to_camera_pixels_exactly(roi, tile, defect, model, convention):
    """Whatever the ROI, the tile, the model's resize and the box convention: a defect drawn in
    camera pixels, written by the model in the tile's coordinates, comes back where it is."""
    size = tile[2]
    camera_w, camera_h = roi[0] + tile[0] + size + 10, roi[1] + tile[1] + size + 10
    region = Region(roi[0] + tile[0], roi[1] + tile[1], size, size)
    # The defect in camera pixels, within the tile.
    fx, fy, fs = defect
    x0 = region.x + fx * size
    y0 = region.y + fy * size
    x1, y1 = x0 + fs * size, y0 + fs * size
    model_w, model_h = model
    relative = [(x0 - region.x) / size, (y0 - region.y) / size]
    relative += [(x1 - region.x) / size, (y1 - region.y) / size]
    if convention is BoxConvention.PIXELS:
        written = [relative[0] * model_w, relative[1] * model_h]
        written += [relative[2] * model_w, relative[3] * model_h]
    elif convention is BoxConvention.XYXY_1000:
        written = [v * 1000 for v in relative]
    else:
        written = [relative[1] * 1000, relative[0] * 1000, relative[3] * 1000, relative[2] * 1000]
    recipe = parse_recipe(
        {"name": "t", "version": 1, "prompt": "p", "defects": [{"name": "scratch"}]}, "t"
    )
    geometry = ImageGeometry(camera_w, camera_h, region, model_w, model_h)
    verdict = read_verdict(_fail_at(written), recipe, geometry, convention)
    [found] = verdict.defects
    box = found.box
    # The exact box, its edges rounded outwards to whole pixels: at most one pixel a side.
    assert box.x0 <= x0 + 1e-6 and box.y0 <= y0 + 1e-6
    assert box.x1 >= x1 - 1e-6 and box.y1 >= y1 - 1e-6
    assert x0 - box.x0 < 1 + 1e-6 and y0 - box.y0 < 1 + 1e-6
    assert box.x1 - x1 < 1 + 1e-6 and box.y1 - y1 < 1 + 1e-6


def test_a_tile_prompt_shows_the_tile_and_the_same_cut_of_the_references():
    camera = np.random.default_rng(1).integers(0, 255, (1200, 1600, 3), np.uint8)
    reference = camera.copy()
    recipe = parse_recipe({"name": "t", "version": 1, "prompt": "p"}, "t")
    from inspector.judges.prompt import Reference

    region = Region(700, 300, 896, 896)
    prompt = build_prompt(
        recipe,
        camera,
        [Reference.of(reference)],
        BoxConvention.XYXY_1000,
        region=region,
        view="tile 2 of 4",
    )
    ref, part = prompt.images
    assert np.array_equal(part.image, camera[300:1196, 700:1596])
    assert np.array_equal(ref.image, reference[300:1196, 700:1596])
    assert prompt.geometry.crop == region
    texts = [p.text for p in prompt.parts if hasattr(p, "text")]
    assert "The part to inspect, tile 2 of 4:" in texts


def test_a_recipe_whose_tiles_would_be_too_many_is_refused_at_load():
    data = {
        "name": "t",
        "version": 1,
        "prompt": "p",
        "roi": {"x": 0, "y": 0, "width": 5000, "height": 4000},
        "tiles": {"size": 512, "max_tiles": 16},
    }
    with pytest.raises(InputError, match=r"tiles.*over `tiles.max_tiles` \(16\)"):
        parse_recipe(data, "t.yaml")
    data["tiles"] = {"size": 1800}  # 4 x 3 tiles
    assert parse_recipe(data, "t.yaml").tiles.size == 1800


# --- merging ---------------------------------------------------------------------------------


def _d(name, box, confidence=0.9):
    return Defect(name, Severity.MAJOR, Box(*box), confidence)


def test_duplicates_across_overlaps_are_one_defect_the_most_confident_kept():
    seen = [
        _d("scratch", (100, 100, 140, 140), 0.6),
        _d("scratch", (102, 101, 141, 142), 0.95),  # the same scratch, from the next tile
        _d("dent", (102, 101, 141, 142), 0.5),  # another class at the same place: kept
        _d("scratch", (400, 400, 440, 440), 0.7),  # another scratch elsewhere: kept
    ]
    kept = suppress_duplicates(seen, 0.5)
    assert kept == (seen[1], seen[2], seen[3])
    assert iou(seen[0].box, seen[1].box) > 0.8
    assert iou(seen[0].box, seen[3].box) == 0.0


@pytest.mark.parametrize(
    ("outcomes", "expected"),
    [
        ((Outcome.PASS, Outcome.PASS, Outcome.PASS), Outcome.PASS),
        ((Outcome.PASS, Outcome.FAIL, Outcome.UNSURE), Outcome.FAIL),
        ((Outcome.PASS, Outcome.UNSURE, Outcome.PASS), Outcome.UNSURE),
        ((Outcome.UNSURE, Outcome.PASS, Outcome.FAIL), Outcome.FAIL),
    ],
)
def test_one_failing_tile_fails_the_part_and_an_unsure_one_makes_it_unsure(outcomes, expected):
    views = [
        (f"v{i}", Verdict(o, f"said {o}", confidence=0.6 + i / 10)) for i, o in enumerate(outcomes)
    ]
    merged, outcome = merge_views(views, 0.5)
    assert outcome is merged.outcome is expected
    if expected is Outcome.PASS:
        assert merged.confidence == pytest.approx(0.6)  # the least sure view
    else:
        assert f"said {expected}" in merged.reason


# --- through the judge, with the scripted engine ---------------------------------------------


def _tiled_chain(tmp_path, answers, **tiles):
    engine = {"engine": "scripted", "answers": list(answers)}
    settings = {"size": 896, "overlap": 0.15, **tiles}
    path = recipe_file(tmp_path, [engine], tiles=settings)
    return build_chain(load_recipe(path), str(path))


def test_a_tile_s_defect_is_failed_and_boxed_in_camera_pixels(tmp_path):
    camera = np.zeros((1200, 1600, 3), np.uint8)
    # Whole, then 2 x 2 tiles of 896 over 1600 x 1200: starts x 0, 704; y 0, 304.
    answers = [PASS_ANSWER, PASS_ANSWER, PASS_ANSWER, _fail_at([500, 250, 750, 500]), PASS_ANSWER]
    chain = _tiled_chain(tmp_path, answers)
    verdict = chain.judge(camera)
    assert chain.judges[0].calls == 5
    assert verdict.outcome is Outcome.FAIL
    [defect] = verdict.defects
    # Tile 3 is (0, 304)-(896, 1200): 0..1000 of 896 px.
    assert defect.box == Box(448, 304 + 224, 672, 304 + 448)
    assert len(verdict.attempts) == 5
    assert "tile 3 of 4 of its image only (x 0-896, y 304-1200)" in verdict.reason


def test_an_unsure_tile_makes_the_part_unsure_and_whole_can_be_left_out(tmp_path):
    camera = np.zeros((1000, 1000, 3), np.uint8)
    chain = _tiled_chain(tmp_path, [PASS_ANSWER, UNSURE_ANSWER, PASS_ANSWER], whole=False)
    verdict = chain.judge(camera)
    assert chain.judges[0].calls == 4  # 2 x 2 tiles, no whole
    assert verdict.outcome is Outcome.UNSURE
    assert "too dark" in verdict.reason


def test_a_part_one_tile_would_hold_is_judged_once(tmp_path):
    chain = _tiled_chain(tmp_path, [PASS_ANSWER])
    verdict = chain.judge(np.zeros((600, 800, 3), np.uint8))
    assert chain.judges[0].calls == 1
    assert verdict.outcome is Outcome.PASS


def test_a_crashed_tile_is_unsure_and_the_chain_hears_of_it(tmp_path):
    engine = {"engine": "scripted", "answers": [PASS_ANSWER], "fail_every": 3}
    path = recipe_file(tmp_path, [engine], tiles={"size": 896}, chain={"retries": 0})
    chain = build_chain(load_recipe(path), str(path))
    verdict = chain.judge(np.zeros((1000, 1000, 3), np.uint8))
    assert verdict.outcome is Outcome.UNSURE
    assert any(a.error and "scripted model crash" in a.error for a in verdict.attempts)


# --- a real model: the tiles reach it, batched ----------------------------------------------


@pytest.mark.parametrize("family", ["gemma3", "qwen2_5_vl", "internvl", "mllama"])
def test_the_tiles_reach_the_model_in_one_batch(family, tiny_models, test_data, tmp_path):
    import torch

    from tests.support.tiny_models import image_token_id

    torch.set_num_threads(1)
    part = cv2.imread(str(test_data / "deeppcb" / "defect" / "00041000_test.jpg"))
    height, width = part.shape[:2]
    engine = {"engine": "transformers", "model": str(tiny_models[family]), "max_new_tokens": 6}
    path = recipe_file(
        tmp_path, [engine], tiles={"size": max(width, height) * 3 // 5, "overlap": 0.1}
    )
    recipe = load_recipe(path)
    chain = build_chain(recipe, str(path))
    judge = chain.judges[0]
    judge.load()

    area = Region(0, 0, width, height)
    regions = tile_regions(area, recipe.tiles)
    assert len(regions) == 4
    convention = judge.box_convention()
    prompts = [build_prompt(recipe, part, [], convention)]
    prompts += [build_prompt(recipe, part, [], convention, region=r, view="t") for r in regions]
    inputs = judge.encode_batch(prompts)
    image_id = image_token_id(judge._processor)
    per_row = (inputs["input_ids"] == image_id).sum(dim=1)
    assert inputs["input_ids"].shape[0] == 5 and bool((per_row >= 1).all())

    calls = []
    generate = judge._model.generate

    def counted(*args, **kwargs):
        calls.append(kwargs["input_ids"].shape[0])
        return generate(*args, **kwargs)

    judge._model.generate = counted
    verdict = judge.judge(part)
    assert calls == [5]  # the whole and four tiles, one batched generate
    assert len(verdict.attempts) == 5
    assert all(a.error is None and 1 <= a.completion_tokens <= 6 for a in verdict.attempts)
    assert verdict.outcome is Outcome.UNSURE  # random weights never pass a part


@pytest.mark.parametrize("family", ["gemma3", "qwen2_5_vl", "internvl", "mllama"])
def test_batched_tiles_answer_as_tiles_judged_one_by_one(family, tiny_models, test_data, tmp_path):
    """Left padding and per-row reading change nothing: text, prompt tokens, image size and
    measured probability are those of the same prompts judged one at a time."""
    import torch

    torch.set_num_threads(1)
    part = cv2.imread(str(test_data / "deeppcb" / "defect" / "00041000_test.jpg"))
    answers = {}
    for batch_size in (1, 8):
        folder = tmp_path / str(batch_size)
        folder.mkdir()
        engine = {
            "engine": "transformers",
            "model": str(tiny_models[family]),
            "max_new_tokens": 8,
            "batch_size": batch_size,
        }
        path = recipe_file(folder, [engine], tiles={"size": 384, "overlap": 0.1})
        verdict = build_chain(load_recipe(path), str(path)).judge(part)
        answers[batch_size] = [
            (a.raw_text, a.prompt_tokens, a.completion_tokens, a.measured_confidence)
            for a in verdict.attempts
        ]
    assert len(answers[1]) == 5
    assert answers[8] == answers[1]
