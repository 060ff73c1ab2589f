"""Zoom on suspect regions: after the reference screen flags a part, the model also sees each
flagged region at full resolution, from the camera's own image, beside the same cut of the
reference; its boxes in a crop come back to camera pixels."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import tests.support.scripted_judge  # noqa: F401 - registers the scripted engine
from inspector.domain import Box, Outcome, Region
from inspector.judges import register
from inspector.judges.prompt import SUSPECTS_MARKED, ImagePart
from inspector.judges.zoom import zoom_regions
from inspector.recipes import Zoom
from inspector.station.runner import prepare_judge
from tests.support.pcb_frames import recaptured
from tests.support.scripted_judge import PASS_ANSWER, ScriptedJudge, ScriptedSettings


class PromptsSettings(ScriptedSettings):
    engine: Literal["scripted-prompts"] = "scripted-prompts"  # type: ignore[assignment]


class PromptRecorder(ScriptedJudge):
    """The scripted engine, keeping every prompt it was given."""

    engine = "scripted-prompts"
    Settings = PromptsSettings

    def __init__(self, settings, recipe) -> None:
        super().__init__(settings, recipe)
        self.prompts = []

    def _generate(self, prompt, convention):
        self.prompts.append(prompt)
        return super()._generate(prompt, convention)


register("scripted-prompts", "tests.judges.test_zoom:PromptRecorder")


@settings(max_examples=200, deadline=None)
@given(
    size=st.tuples(st.integers(40, 3000), st.integers(40, 3000)),
    boxes=st.lists(
        st.tuples(
            st.floats(0, 0.95), st.floats(0, 0.95), st.floats(0.001, 0.3), st.floats(0.001, 0.3)
        ),
        min_size=0,
        max_size=8,
    ),
    budget=st.tuples(st.integers(0, 5), st.integers(32, 1000), st.floats(0, 2)),
)
def test_the_crops_hold_their_regions_within_the_budget_and_the_image(size, boxes, budget):
    width, height = size
    zoom = Zoom(max_crops=budget[0], min_size=budget[1], context=budget[2])
    flagged = []
    for fx, fy, fw, fh in boxes:
        x0, y0 = int(fx * width), int(fy * height)
        x1 = min(width, x0 + max(1, int(fw * width)))
        y1 = min(height, y0 + max(1, int(fh * height)))
        flagged.append(Box(x0, y0, x1, y1))
    crops = zoom_regions(flagged, Region(0, 0, width, height), zoom)
    assert len(crops) <= zoom.max_crops
    for crop in crops:
        assert crop.x >= 0 and crop.x + crop.width <= width
        assert crop.y >= 0 and crop.y + crop.height <= height
        assert crop.width >= min(zoom.min_size, width) and crop.height >= min(zoom.min_size, height)
    # Every flagged region within the budget is seen whole in some crop.
    shown = 0
    for box in flagged:
        inside = [
            c
            for c in crops
            if c.x <= box.x0
            and c.y <= box.y0
            and box.x1 <= c.x + c.width
            and box.y1 <= c.y + c.height
        ]
        if inside:
            shown += 1
    assert shown >= min(len(crops), len(flagged))


def _recipe(folder: Path, template: Path, answers: list[str], **fields) -> Path:
    data = {
        "name": "zoomed",
        "version": 1,
        "prompt": "Inspect the board.",
        "defects": [{"name": "short", "severity": "major"}],
        "references": [str(template)],
        "engines": [
            {"engine": "reference", "screen": True, "threshold": 3.0},
            {"engine": "scripted-prompts", "answers": answers},
        ],
        **fields,
    }
    path = folder / "recipe.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_the_model_sees_full_resolution_crops_of_the_flagged_regions(test_data, tmp_path):
    template = test_data / "deeppcb" / "good" / "00041000_temp.jpg"
    part = cv2.imread(str(test_data / "deeppcb" / "defect" / "00041000_test.jpg"))
    good = cv2.imread(str(template), cv2.IMREAD_UNCHANGED)  # as the station reads it
    # The whole passes; the first zoom finds a short in its middle; the others pass.
    short = json.dumps(
        {"outcome": "FAIL", "defects": [{"class": "short", "box": [250, 250, 750, 750]}]}
    )
    path = _recipe(tmp_path, template, [PASS_ANSWER, short, PASS_ANSWER, PASS_ANSWER])
    chain = prepare_judge(path).chain
    chain.load()
    verdict = chain.judge(part)
    screen = json.loads(verdict.attempts[0].raw_text)
    flagged = [Box(*d["box"]) for d in screen["defects"]]
    assert flagged, "the screen must flag this defective board"
    model = chain.judges[1]
    crops = zoom_regions(flagged, Region(0, 0, part.shape[1], part.shape[0]), Zoom())
    assert len(model.prompts) == 1 + len(crops)
    whole, *zooms = model.prompts
    assert SUSPECTS_MARKED in [p.text for p in whole.parts if hasattr(p, "text")]
    for i, (prompt, crop) in enumerate(zip(zooms, crops, strict=True), 1):
        reference, shown = prompt.images
        cut = (slice(crop.y, crop.y + crop.height), slice(crop.x, crop.x + crop.width))
        # The camera's own pixels at full resolution, not the outlined image; the good part,
        # aligned to this one by the screen (here already in register), cut the same way.
        assert np.array_equal(shown.image, part[cut])
        assert _difference(reference.image, good[cut]) < 3
        assert isinstance(shown, ImagePart) and shown.role == "part"
        texts = [p.text for p in prompt.parts if hasattr(p, "text")]
        assert any(f"zoom {i} of {len(crops)}" in t for t in texts)
        assert prompt.geometry.crop == crop
    # The first zoom's short, boxed in its crop's 0..1000, is back in camera pixels.
    assert verdict.outcome is Outcome.FAIL
    first = crops[0]
    shorts = [d for d in verdict.defects if d.class_name == "short"]
    assert [d.box for d in shorts] == [
        Box(
            first.x + first.width // 4,
            first.y + first.height // 4,
            first.x + -(-first.width * 3 // 4),
            first.y + -(-first.height * 3 // 4),
        )
    ]
    assert [a.engine for a in verdict.attempts] == ["reference"] + ["scripted-prompts"] * (
        1 + len(crops)
    )


def _difference(a: np.ndarray, b: np.ndarray) -> float:
    """Mean grey-level difference (either image grey or BGR)."""
    a, b = (cv2.cvtColor(x, cv2.COLOR_BGR2GRAY) if x.ndim == 3 else x for x in (a, b))
    return float(np.mean(cv2.absdiff(a, b)))


def test_a_zoomed_crop_of_the_good_part_is_aligned_to_a_moved_part(test_data, tmp_path):
    """The part was captured moved, turned and cut smaller than the golden image: the crop of
    the good part beside each zoom shows the same place as the part's crop, not what lies at
    the same pixel coordinates."""
    template = test_data / "deeppcb" / "good" / "00041000_temp.jpg"
    tested = cv2.imread(str(test_data / "deeppcb" / "defect" / "00041000_test.jpg"))
    part = recaptured(tested, seed=3)
    good = cv2.imread(str(template), cv2.IMREAD_UNCHANGED)
    path = _recipe(tmp_path, template, [PASS_ANSWER])
    chain = prepare_judge(path).chain
    chain.load()
    chain.judge(part)
    _, *zooms = chain.judges[1].prompts
    assert zooms, "the screen must flag this defective board"
    for prompt in zooms:
        reference, shown = prompt.images
        crop = prompt.geometry.crop
        assert reference.image.shape == shown.image.shape
        aligned = _difference(reference.image, shown.image)
        unaligned = _difference(good[crop.y : crop.y + crop.height, crop.x : crop.x + crop.width],
                                shown.image)  # fmt: skip
        # The defect itself differs; the rest of the copper matches only when aligned.
        assert aligned < unaligned / 2, (aligned, unaligned)


def test_the_budget_is_the_recipe_s(test_data, tmp_path):
    template = test_data / "deeppcb" / "good" / "00041000_temp.jpg"
    part = cv2.imread(str(test_data / "deeppcb" / "defect" / "00041000_test.jpg"))
    path = _recipe(tmp_path, template, [PASS_ANSWER], zoom={"max_crops": 1, "min_size": 200})
    chain = prepare_judge(path).chain
    chain.load()
    chain.judge(part)
    _, zoom = chain.judges[1].prompts  # the outlined whole, and one zoom
    assert min(zoom.images[-1].image.shape[:2]) >= 200
    off = _recipe(tmp_path, template, [PASS_ANSWER], zoom={"max_crops": 0})
    chain = prepare_judge(off).chain
    chain.load()
    chain.judge(part)
    assert len(chain.judges[1].prompts) == 1  # the outlined whole only


def test_the_crops_stay_within_the_roi():
    roi = Region(100, 50, 400, 300)
    flagged = [Box(110, 60, 120, 70), Box(480, 330, 495, 345)]  # near two corners of the ROI
    crops = zoom_regions(flagged, roi, Zoom(min_size=200))
    assert len(crops) == 2
    for crop, box in zip(crops, flagged, strict=True):
        assert roi.x <= crop.x and crop.x + crop.width <= roi.x + roi.width
        assert roi.y <= crop.y and crop.y + crop.height <= roi.y + roi.height
        assert crop.x <= box.x0 and box.x1 <= crop.x + crop.width
        assert crop.y <= box.y0 and box.y1 <= crop.y + crop.height
    # A crop is never larger than the ROI it must stay in.
    [whole] = zoom_regions([Box(200, 100, 210, 110)], roi, Zoom(min_size=1000))
    assert whole == roi
