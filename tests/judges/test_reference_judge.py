"""The `reference` engine: DeepPCB boxes, AUROC on textures made here, the chain's screen.

Figures are printed (pytest -s) and checked for consistency and sense, not tuned to pass.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
import pytest
import yaml

import tests.support.scripted_judge  # noqa: F401 - registers the scripted engine
from inspector.domain import Outcome
from inspector.errors import InputError
from inspector.evaluation.metrics import auroc
from inspector.judges import register
from inspector.judges.prompt import SUSPECTS_MARKED
from inspector.station.runner import prepare_judge
from tests.support import textures
from tests.support.pcb_frames import overlaps, pairs, recaptured
from tests.support.scripted_judge import FAIL_ANSWER, ScriptedJudge, ScriptedSettings

DEMO = Path(__file__).resolve().parents[2] / "assets" / "demo"


class RecordingSettings(ScriptedSettings):
    engine: Literal["scripted-recording"] = "scripted-recording"  # type: ignore[assignment]


class RecordingJudge(ScriptedJudge):
    """The scripted engine, keeping the part image each call received."""

    engine = "scripted-recording"
    Settings = RecordingSettings

    def __init__(self, settings, recipe) -> None:
        super().__init__(settings, recipe)
        self.seen: list[np.ndarray] = []
        self.texts: list[list[str]] = []

    def _generate(self, prompt, convention):
        self.seen.append(prompt.images[-1].image)
        self.texts.append([p.text for p in prompt.parts if hasattr(p, "text")])
        return super()._generate(prompt, convention)


register("scripted-recording", "tests.judges.test_reference_judge:RecordingJudge")


def _recipe(folder: Path, references: list[Path], engines: list[dict], **fields) -> Path:
    data = {
        "name": "golden",
        "version": 1,
        "prompt": "Compare the board with the golden images.",
        "defects": [{"name": "deviation", "severity": "major"}],
        "references": [str(p) for p in references],
        "engines": engines,
        **fields,
    }
    path = folder / "recipe.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _answer(verdict) -> dict:
    attempt = next(a for a in verdict.attempts if a.engine == "reference")
    return json.loads(attempt.raw_text)


def test_deeppcb_boxes_overlap_the_annotated_defects(test_data, tmp_path):
    chosen = pairs(test_data, every=2)  # 35 boards, every group
    recipe = _recipe(tmp_path, [p.template for p in chosen], [{"engine": "reference"}])
    chain = prepare_judge(recipe).chain
    chain.load()
    annotated = hit = false_boxes = 0
    for pair in chosen:
        tested = cv2.imread(str(pair.tested))
        verdict = chain.judge(tested)
        answer = _answer(verdict)
        boxes = [d.box.as_list() for d in verdict.defects if d.box is not None]
        # The verdict follows the score, and the boxes are in the tested image's pixels.
        assert (verdict.outcome is Outcome.FAIL) == (answer["score"] > answer["threshold"])
        for x0, y0, x1, y1 in boxes:
            assert 0 <= x0 < x1 <= tested.shape[1] and 0 <= y0 < y1 <= tested.shape[0]
        annotated += len(pair.boxes)
        hit += sum(any(overlaps(b, truth) for b in boxes) for truth in pair.boxes)
        false_boxes += sum(not any(overlaps(b, truth) for truth in pair.boxes) for b in boxes)
    recall = hit / annotated
    per_image = false_boxes / len(chosen)
    print(
        f"\nDeepPCB ({len(chosen)} tested boards, {annotated} annotated defects): "
        f"{recall:.1%} of defect boxes overlapped by a reported box, "
        f"{per_image:.2f} false boxes per image"
    )
    assert 0.5 <= recall <= 1.0
    assert per_image <= 3.0


def test_a_golden_image_matches_itself_and_a_recaptured_board_passes(test_data, tmp_path):
    pair = pairs(test_data, every=10)[3]
    recipe = _recipe(tmp_path, [pair.template], [{"engine": "reference"}])
    chain = prepare_judge(recipe).chain
    chain.load()
    template = cv2.imread(str(pair.template))
    same = chain.judge(template)
    assert same.outcome is Outcome.PASS
    assert _answer(same)["score"] == 0.0
    again = chain.judge(recaptured(template, seed=1))  # moved, turned, scaled, re-encoded
    answer = _answer(again)
    print(f"\nre-captured good board {pair.id}: score {answer['score']}")
    assert answer["alignment"] == "auto" and answer["inliers"] > 0
    assert again.outcome is Outcome.PASS, again.reason


def test_the_heat_map_is_hot_on_the_annotated_defects_of_a_moved_board(test_data, tmp_path):
    """The heat map (the evaluation report's pictures) is the deviation from the golden image
    brought back onto the frame's own pixels: on a tested board moved and turned against its
    template, the annotated defects are far hotter than the rest, and the re-captured good
    board is cool everywhere."""
    pair = pairs(test_data, every=10)[3]
    recipe = _recipe(tmp_path, [pair.template], [{"engine": "reference"}])
    chain = prepare_judge(recipe).chain
    chain.load()
    judge = chain.judges[0]
    # Moved by a known shift: the boxes move with it, so the heat must follow the homography.
    tested = cv2.imread(str(pair.tested))
    shift = np.float32([[1, 0, 30], [0, 1, -20]])
    moved = cv2.warpAffine(tested, shift, tested.shape[1::-1], borderMode=cv2.BORDER_REPLICATE)
    heat = judge.heat_map(moved)
    assert heat.shape == moved.shape[:2] and heat.dtype == np.float32
    on = np.zeros(heat.shape, bool)
    for x0, y0, x1, y1 in pair.boxes:
        on[max(0, y0 - 20) : y1 - 20, max(0, x0 + 30) : x1 + 30] = True
    threshold = judge.settings.threshold
    hot = heat > threshold
    print(f"\nheat on the defects {heat[on].mean():.2f}, elsewhere {heat[~on].mean():.2f}")
    assert hot[on].mean() > 0.2, hot[on].mean()  # the defects stand out...
    assert hot[~on].mean() < 0.01, hot[~on].mean()  # ...and little else does
    good = judge.heat_map(recaptured(cv2.imread(str(pair.template)), seed=1))
    assert (good > threshold).mean() < 0.002


def test_a_heat_map_of_a_part_that_cannot_be_aligned_says_why(test_data, tmp_path):
    pair = pairs(test_data, every=10)[3]
    recipe = _recipe(tmp_path, [pair.template], [{"engine": "reference", "align": "features"}])
    chain = prepare_judge(recipe).chain
    chain.load()
    blank = np.full((480, 640, 3), 128, np.uint8)
    with pytest.raises(ValueError, match="could not align the part"):
        chain.judges[0].heat_map(blank)


@pytest.mark.parametrize("kind", textures.KINDS)
def test_drawn_defects_on_a_texture_rank_above_good_texture(kind, tmp_path):
    """Image-level AUROC on textured surfaces made here (seeded noise, a woven pattern) with
    drawn scratches, holes and stains: the reference engine, learning from good tiles, ranks
    defective tiles above good ones better than chance, and the AUROC is the share of
    (defect, good) pairs ranked right. The figure on real magnetic-tile images is a benchmark,
    bench/reference_judge.py (those images cannot ship with the repository)."""
    made = textures.tiles(tmp_path / "tiles", good=12, defective=24, kind=kind)
    references = textures.references(tmp_path / "references", 10, kind)
    held_out = [t.path for t in made if t.label == "good"]
    defective = [(t.path, t.label) for t in made if t.label != "good"]
    # Tiles cannot be registered to one another: frames are resized to the references' shape,
    # and the slow shading of each tile is ignored.
    engine = {"engine": "reference", "align": "none", "highpass_sigma": 16}
    chain = prepare_judge(_recipe(tmp_path, references, [engine])).chain
    chain.load()

    def score(path: Path) -> float:
        return _answer(chain.judge(cv2.imread(str(path), cv2.IMREAD_UNCHANGED)))["score"]

    good_scores = [score(p) for p in held_out]
    defect_scores = [score(p) for p, _ in defective]
    area = auroc(defect_scores, good_scores)
    by_class = {
        label: auroc(
            [s for s, (_, c) in zip(defect_scores, defective, strict=True) if c == label],
            good_scores,
        )
        for label in sorted({c for _, c in defective})
    }
    print(
        f"\n{kind} texture: image-level AUROC {area:.3f} ({len(references)} good references, "
        f"{len(held_out)} good and {len(defective)} defective tested); per class: "
        + ", ".join(f"{k} {v:.3f}" for k, v in by_class.items())
    )
    # Pairwise definition, checked on a sample: the share of (defect, good) pairs ranked right.
    pairs_right = np.mean(
        [[d > g or (d == g and 0.5) for g in good_scores[:40]] for d in defect_scores[:40]]
    )
    assert area is not None and 0.5 < area <= 1.0
    assert all(v is not None and v > 0.5 for v in by_class.values()), by_class
    assert abs(pairs_right - auroc(defect_scores[:40], good_scores[:40])) < 1e-9


def test_the_screen_passes_clean_frames_without_a_model_call(tmp_path):
    goods = sorted((DEMO / "camera").glob("*_good.jpg"))
    tested = sorted((DEMO / "camera").glob("*_test.jpg"))
    screen = {"engine": "reference", "screen": True, "threshold": 3.0}
    model = {"engine": "scripted-recording", "answers": [FAIL_ANSWER]}
    defects = [{"name": "scratch", "severity": "major"}]
    recipe = _recipe(tmp_path, goods, [screen, model], defects=defects)
    chain = prepare_judge(recipe).chain
    chain.load()
    engine = chain.judges[1]
    frames = [(cv2.imread(str(p)), "good") for p in goods] + [
        (cv2.imread(str(p)), "tested") for p in tested
    ]
    passed_by_screen = handed_on = 0
    for image, _kind in frames:
        before = engine.calls
        verdict = chain.judge(image)
        called = engine.calls - before
        answer = _answer(verdict)
        if answer["score"] is not None and answer["score"] <= answer["threshold"]:
            # Under the threshold: PASS on the screen's word, the model never called.
            assert called == 0
            assert verdict.outcome is Outcome.PASS
            assert [a.engine for a in verdict.attempts] == ["reference"]
            passed_by_screen += 1
        else:
            # Over it: the model judges the outlined whole and a full-resolution zoom on each
            # flagged region (up to the recipe's budget, 3 by default); every attempt on record.
            flagged = [d for d in answer["defects"] if d.get("box")]
            assert 2 <= called <= 1 + min(3, len(flagged))
            assert [a.engine for a in verdict.attempts] == ["reference"] + [
                "scripted-recording"
            ] * called
            assert verdict.outcome is Outcome.FAIL
            handed_on += 1
    print(f"\nscreen: {passed_by_screen} frames passed without a model call, {handed_on} handed on")
    assert passed_by_screen == len(goods) and handed_on == len(tested)
    assert engine.calls >= 2 * len(tested)
    # What the model saw: the frame with the suspect regions outlined in magenta.
    seen = engine.seen[0]
    magenta = np.all(seen == (255, 0, 255), axis=2)
    assert magenta.any()
    assert SUSPECTS_MARKED in engine.texts[0]  # and is told what the outlines mean
    assert not np.all(cv2.imread(str(tested[0])) == (255, 0, 255), axis=2).any()


def test_a_frame_that_cannot_be_aligned_goes_on_to_the_model(tmp_path):
    goods = sorted((DEMO / "camera").glob("*_good.jpg"))[:2]
    screen = {"engine": "reference", "screen": True, "align": "features"}
    recipe = _recipe(tmp_path, goods, [screen, {"engine": "scripted"}])
    chain = prepare_judge(recipe).chain
    chain.load()
    blank = np.full((640, 640, 3), 128, np.uint8)  # nothing to align on
    verdict = chain.judge(blank)
    assert [a.engine for a in verdict.attempts] == ["reference", "scripted"]
    assert _answer(verdict)["score"] is None
    assert "could not align" in verdict.attempts[0].raw_text


def test_judging_alone_fails_a_defect_and_an_unlisted_class_goes_to_a_person(tmp_path):
    goods = sorted((DEMO / "camera").glob("*_good.jpg"))
    tested = cv2.imread(str(sorted((DEMO / "camera").glob("*_test.jpg"))[0]))
    listed = prepare_judge(_recipe(tmp_path, goods, [{"engine": "reference"}])).chain
    listed.load()
    verdict = listed.judge(tested)
    assert verdict.outcome is Outcome.FAIL
    assert {d.class_name for d in verdict.defects} == {"deviation"}
    unlisted = _recipe(tmp_path, goods, [{"engine": "reference", "defect_class": "blob"}])
    chain = prepare_judge(unlisted).chain
    chain.load()
    assert chain.judge(tested).outcome is Outcome.UNSURE


def test_bad_reference_settings_are_named(tmp_path):
    recipe = _recipe(tmp_path, [], [{"engine": "reference", "references": ["nowhere/*.png"]}])
    with pytest.raises(InputError, match="nowhere"):
        prepare_judge(recipe)
    recipe = _recipe(tmp_path, [], [{"engine": "reference"}])
    chain = prepare_judge(recipe).chain
    with pytest.raises(InputError, match="images of good parts"):
        chain.load()


def test_the_demo_runs_offline_with_the_reference_recipe():
    chain = prepare_judge(DEMO / "recipe-reference.yaml").chain
    chain.load()
    outcomes = {
        path.name: chain.judge(cv2.imread(str(path))).outcome
        for path in sorted((DEMO / "camera").glob("*.jpg"))
    }
    assert all(o is Outcome.FAIL for name, o in outcomes.items() if "_test" in name), outcomes
    assert all(o is Outcome.PASS for name, o in outcomes.items() if "_good" in name), outcomes


def test_the_engines_own_golden_images_are_read_from_the_recipes_folder(tmp_path, monkeypatch):
    goods = textures.references(tmp_path / "line" / "golden", 3)
    recipe = _recipe(
        tmp_path / "line", [], [{"engine": "reference", "references": ["golden/*.jpg"]}]
    )
    monkeypatch.chdir(tmp_path)  # not the recipe's folder: `golden/` is not here
    chain = prepare_judge(recipe).chain
    chain.load()
    verdict = chain.judge(cv2.imread(str(goods[0]), cv2.IMREAD_GRAYSCALE))
    assert verdict.outcome is Outcome.PASS
