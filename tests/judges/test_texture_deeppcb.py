"""The `texture` engine on real images (DeepPCB boards, tests/data) and on bad input.

On DeepPCB the engine learns a board's good regions from re-captured templates (moved, turned,
scaled and re-encoded as a camera would see them again; tests/support/pcb_frames.py), then judges
the same regions with defects (opens, shorts, spurs, pin-holes, mouse-bites, copper) drawn in:
each must FAIL with its strongest box over an annotated defect, and a fresh re-capture of a good
region must PASS. Bad input (too few good images, one too small to hold a patch, images of other
sizes, an image all one colour) gets a message naming it, never a silent PASS.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

from inspector.domain import Outcome
from inspector.errors import InputError
from inspector.judges.engines import texture
from inspector.recipes import load_recipe
from inspector.station.runner import prepare_judge
from tests.support import textures
from tests.support.pcb_frames import overlaps, pairs, recaptured

BOARDS = 4  # regions of one board (DeepPCB group 00041) learnt and judged
CAPTURES = 3  # re-captures of each good region learnt from: 12 good images


def _recipe(folder: Path, engines: list[dict]) -> Path:
    data = {
        "name": "boards",
        "version": 1,
        "prompt": "Look for defects on the bare board.",
        "defects": [{"name": "texture", "severity": "major"}],
        "engines": engines,
    }
    path = folder / "recipe.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _chain(folder: Path, images: list[np.ndarray], **settings):
    """A loaded chain of one `texture` engine learnt from `images`, as `inspector learn` does."""
    engine = {"engine": "texture", **settings}
    recipe = load_recipe(_recipe(folder, [engine]))
    learned = texture.learn(images, texture.TextureSettings(**settings))
    artefact, _ = texture.save(learned, folder / "learned", recipe)
    chain = prepare_judge(_recipe(folder, [{**engine, "learned": str(artefact)}])).chain
    chain.load()
    return chain


def _score(verdict) -> float | None:
    return json.loads(next(a for a in verdict.attempts if a.engine == "texture").raw_text)["score"]


def test_deeppcb_defects_fail_with_a_box_on_them_and_good_recaptures_pass(test_data, tmp_path):
    chosen = [p for p in pairs(test_data) if p.id.startswith("00041")][:BOARDS]
    templates = [cv2.imread(str(p.template), cv2.IMREAD_GRAYSCALE) for p in chosen]
    good = [recaptured(t, 100 * i + k) for i, t in enumerate(templates) for k in range(CAPTURES)]
    # A smaller memory than the default keeps learning a second or two on a loaded machine.
    chain = _chain(tmp_path, good, memory=1000)
    annotated = hit = false_boxes = 0
    for i, pair in enumerate(chosen):
        tested = cv2.imread(str(pair.tested), cv2.IMREAD_GRAYSCALE)
        verdict = chain.judge(tested)
        assert verdict.outcome is Outcome.FAIL, (pair.id, verdict.reason)
        boxes = [d.box.as_list() for d in verdict.defects if d.box is not None]
        assert boxes, pair.id
        strongest = boxes[0]
        assert any(overlaps(strongest, truth) for truth in pair.boxes), (pair.id, strongest)
        annotated += len(pair.boxes)
        hit += sum(any(overlaps(b, truth) for b in boxes) for truth in pair.boxes)
        false_boxes += sum(not any(overlaps(b, truth) for truth in pair.boxes) for b in boxes)

        again = chain.judge(recaptured(templates[i], 999 + i))  # a capture never learnt from
        assert again.outcome is Outcome.PASS, (pair.id, again.reason)
        assert _score(again) < _score(verdict)
    print(
        f"\nDeepPCB ({len(chosen)} boards, {annotated} annotated defects): {hit / annotated:.0%} "
        f"overlapped by a box, {false_boxes} boxes on no defect"
    )
    assert hit / annotated >= 0.4
    assert false_boxes <= len(chosen)


def test_too_few_good_images_is_refused_naming_the_minimum():
    images = [textures.surface(seed) for seed in range(texture.MIN_GOOD - 1)]
    with pytest.raises(InputError, match=rf"{texture.MIN_GOOD - 1} images of good parts.*at least"):
        texture.learn(images, texture.TextureSettings())


def test_a_good_image_too_small_for_a_patch_is_named():
    images = [textures.surface(seed) for seed in range(texture.MIN_GOOD)]
    images[4] = images[4][:30, :30]
    with pytest.raises(InputError, match=r"good image 5 is 30x30 pixels, smaller than one patch"):
        texture.learn(images, texture.TextureSettings())


def test_an_all_one_colour_good_image_is_named_and_colour_images_are_read():
    images = [cv2.cvtColor(textures.surface(s), cv2.COLOR_GRAY2BGR) for s in range(12)]
    images[7] = np.full((*textures.SIZE, 3), (40, 90, 200), np.uint8)
    with pytest.raises(InputError, match="good image 8 is all one colour"):
        texture.learn(images, texture.TextureSettings())


def test_images_of_other_sizes_are_judged_on_their_texture_never_passed_blind(tmp_path):
    # Good images of mixed sizes are learnt from; frames of a third size are judged patch by
    # patch: a scratched one FAILs with its box on the scratch, a good one PASSes.
    sizes = [(192, 192), (256, 320), (224, 160)]
    good = [textures.surface(5000 + s, "noise", sizes[s % 3]) for s in range(15)]
    chain = _chain(tmp_path, good)
    size = (288, 240)
    clean = chain.judge(textures.surface(77, "noise", size))
    assert clean.outcome is Outcome.PASS, clean.reason
    scratched, mask = textures.draw_defect(textures.surface(78, "noise", size), "scratch", 78)
    verdict = chain.judge(scratched)
    assert verdict.outcome is Outcome.FAIL, verdict.reason
    top = verdict.defects[0].box
    assert mask[top.y0 : top.y1, top.x0 : top.x1].any(), top
    # One colour at any size is UNSURE with the reason, never a PASS.
    flat = chain.judge(np.full((480, 640), 200, np.uint8))
    assert flat.outcome is Outcome.UNSURE and "all one colour" in flat.reason


def test_an_artefact_of_the_previous_format_is_refused_with_what_to_do(tmp_path):
    learned = texture.learn([textures.surface(s) for s in range(10)], texture.TextureSettings())
    learned.meta["format"] = texture.FORMAT - 1
    recipe = load_recipe(_recipe(tmp_path, [{"engine": "texture"}]))
    artefact, _ = texture.save(learned, tmp_path, recipe)
    with pytest.raises(InputError, match=r"another version of Inspector.*inspector learn"):
        texture.Learned.read(artefact)
    # As format 2 wrote it: no projection; the message is the same, not a missing field.
    older = tmp_path / "format2.npz"
    meta = json.dumps({**learned.meta, "format": 2}).encode()
    np.savez_compressed(
        older,
        mean=learned.mean,
        std=learned.std,
        memory=learned.memory.astype(np.float16),
        unit=np.float64(learned.unit),
        held_out=learned.held_out,
        meta=np.frombuffer(meta, np.uint8),
    )
    with pytest.raises(InputError, match=r"another version of Inspector \(format 2, this one"):
        texture.Learned.read(older)
