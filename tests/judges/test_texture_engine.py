"""The `texture` engine: learns good texture made in the test, finds drawn scratches, holes and
stains with a box over them, passes held-out good tiles, records the learned model's hash, and
screens in front of a model exactly as `reference` does.
"""

from __future__ import annotations

import hashlib
import json
import platform
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

import tests.support.scripted_judge  # noqa: F401 - registers the scripted engine
from inspector.domain import Outcome
from inspector.errors import InputError
from inspector.evaluation.metrics import auroc
from inspector.judges.engines import texture
from inspector.recipes import load_recipe
from inspector.station.runner import prepare_judge
from tests.judges.test_reference_judge import RecordingJudge  # noqa: F401 - registers it
from tests.support import textures
from tests.support.scripted_judge import FAIL_ANSWER, PASS_ANSWER


def _recipe(folder: Path, references: list[Path], engines: list[dict]) -> Path:
    data = {
        "name": "tiles",
        "version": 1,
        "prompt": "Look for defects on the tile's surface.",
        "defects": [{"name": "texture", "severity": "major"}, {"name": "scratch"}],
        "references": [str(p) for p in references],
        "engines": engines,
    }
    path = folder / "recipe.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _learn(folder: Path, kind: str = "noise", count: int = 16) -> tuple[list[Path], Path, str]:
    """Good tiles, learnt; the artefact's path and its SHA-256."""
    refs = textures.references(folder / "good", count, kind)
    images = [cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) for p in refs]
    recipe = load_recipe(_recipe(folder, refs, [{"engine": "texture"}]))
    learned = texture.learn(images, texture.TextureSettings())
    path, sha256 = texture.save(learned, folder / "learned", recipe)
    return refs, path, sha256


def _engine(artefact: Path, **settings) -> dict:
    return {"engine": "texture", "learned": str(artefact), **settings}


def _answer(verdict) -> dict:
    return json.loads(next(a for a in verdict.attempts if a.engine == "texture").raw_text)


@pytest.mark.parametrize("kind", textures.KINDS)
def test_drawn_defects_are_found_with_a_box_and_good_tiles_pass(kind, tmp_path):
    refs, artefact, sha256 = _learn(tmp_path, kind)
    # The default threshold, 1.0, is the oddest of the 16 held-out good tiles' scores: a new good
    # tile lands above it about one time in 17, so of 8 at most one may, and none far above.
    engine = {"engine": "texture", "learned": str(artefact), "threshold": 1.25}
    chain = prepare_judge(_recipe(tmp_path, refs, [engine]))
    chain = chain.chain
    chain.load()
    made = textures.tiles(tmp_path / "set", good=8, defective=9, kind=kind)
    good_scores, defect_scores = [], []
    for tile in made:
        image = cv2.imread(str(tile.path), cv2.IMREAD_GRAYSCALE)
        verdict = chain.judge(image)
        attempt = verdict.attempts[0]
        assert attempt.model_revision == sha256  # the record names the learned model
        score = _answer(verdict)["score"]
        if tile.label == "good":
            good_scores.append(score)
            assert verdict.outcome is Outcome.PASS, (tile.path.name, verdict.reason)
            continue
        defect_scores.append(score)
        assert verdict.outcome is Outcome.FAIL, (tile.path.name, verdict.reason)
        mask = cv2.imread(str(tile.mask), cv2.IMREAD_GRAYSCALE) > 0
        boxes = [d.box for d in verdict.defects]
        assert boxes and all(d.class_name == "texture" for d in verdict.defects)
        top = boxes[0]  # the strongest region lies over the drawn defect
        assert mask[top.y0 : top.y1, top.x0 : top.x1].any(), (tile.path.name, top)
    print(f"\n{kind}: good {max(good_scores):.2f} max, defects {min(defect_scores):.2f} min")
    assert sum(score > 1.0 for score in good_scores) <= 1
    assert min(defect_scores) > 2.0
    assert auroc(defect_scores, good_scores) == 1.0


def test_edge_bands_and_their_weights_put_the_edge_in_interior_units():
    bands = texture.edge_bands(7, 9)
    assert bands[3, 4] == 3 and bands[2, 4] == 2 and bands[0, 4] == 0 and bands[3, 0] == 0
    assert bands[0, 0] == bands[1, 1] == bands[6, 8] == 4  # within two cells of a corner
    # Held-out distances twice as large on the outermost band as inside, 1.5x on the corners.
    distances = np.ones((7, 9), np.float32)
    distances[bands == 0] = 2.0
    distances[bands == 4] = 1.5
    weights = texture.band_weights([distances, distances])
    assert weights == pytest.approx([0.5, 1.0, 1.0, 1.0, 1 / 1.5])
    # An image too small for an interior weights nothing.
    assert texture.band_weights([np.full((3, 3), 2.0, np.float32)]) == pytest.approx(np.ones(5))


@pytest.mark.parametrize("orientation", ["horizontal", "vertical"])
def test_a_long_straight_line_raises_the_line_features_across_it(orientation):
    """The elongated filters answer a long faint line, those across it and not those along it."""
    from inspector.judges import texture_features

    def describe(image):
        return texture_features.describe(image, 0.75, 24, 8, 24)

    good = np.concatenate([describe(textures.surface(seed)) for seed in range(5000, 5016)])
    spread = good.reshape(-1, good.shape[-1]).std(0) + 1e-3
    clean = textures.surface(3).astype(np.int16)
    line = np.zeros(clean.shape, np.uint8)
    ends = ((30, 95), (160, 95)) if orientation == "horizontal" else ((95, 30), (95, 160))
    cv2.line(line, *ends, 1, 1)  # 130 px long, one wide, 30 grey levels dark
    lined = np.clip(clean - 30 * line, 0, 255).astype(np.uint8)
    change = np.abs(describe(lined) - describe(clean.astype(np.uint8))).max(axis=(0, 1)) / spread
    per_pool = texture_features.FEATURES_PER_POOL
    extra = texture_features.PATTERN_CLASSES + texture_features.DIRECTION_BINS
    assert len(change) == 2 * per_pool + extra
    # Each pool ends: the step and the line's high across y, the same across x, then the
    # line's lows across y and across x (the local binary patterns and the orientations
    # follow both pools).
    across_y = [per_pool - 6, per_pool - 5, per_pool - 2]
    across_x = [per_pool - 4, per_pool - 3, per_pool - 1]
    across, along = (across_y, across_x) if orientation == "horizontal" else (across_x, across_y)
    assert change[across].max() > 3.0  # in good tiles' spreads
    assert change[along].max() < 0.2


def test_local_binary_patterns_fall_in_rotation_invariant_classes_and_shares_sum_to_one():
    """Ojala's riu2 classes: 0-8 brighter neighbours in one arc (58 of the 256 patterns), else 9;
    a pattern turned around its pixel keeps its class. An edge is a half arc, a dark pit all
    eight, a flat surface none."""
    from inspector.judges import texture_features as tf

    classes_of = [int(c) for c in tf._CLASS_OF]
    assert sum(c < 9 for c in classes_of) == 58 and max(classes_of) == 9
    assert classes_of[0b0000_0111] == 3 and classes_of[0b0101_0101] == 9

    def turned(code: int, k: int) -> int:
        return ((code << k) | (code >> (8 - k))) & 0xFF

    assert all(classes_of[turned(c, k)] == classes_of[c] for c in range(256) for k in range(8))
    image = np.full((32, 32), 60, np.float32)
    image[:, 16:] = 160  # a vertical edge
    image[8, 4] = 0  # a dark pit
    classes = tf.local_patterns(image)
    assert classes[20, 15] == 3 and classes[20, 16] == 3  # the three neighbours across the edge
    assert classes[8, 4] == 8
    assert classes[24, 4] == 0 and classes[24, 28] == 0  # flat on either side
    shares = tf.class_shares(classes, 8)
    assert shares.shape == (4, 4, tf.PATTERN_CLASSES)
    assert shares.sum(axis=-1) == pytest.approx(np.ones((4, 4)))
    assert shares[3, 0, 0] == 1.0  # a block all flat


def test_orientation_histograms_put_an_edge_in_its_bin_and_share_a_slant_between_two():
    """12 bins of 15 degrees over 180 (a gradient and its opposite are one orientation), each
    pixel weighted by its magnitude cubed and shared between its two nearest bins (OpenCV's
    angles are good to about 0.3 degrees: hence the tolerances)."""
    from inspector.judges import texture_features as tf

    def weights(angle_degrees: float, magnitude: float = 2.0) -> np.ndarray:
        radians = np.deg2rad(angle_degrees)
        gx = np.full((16, 24), magnitude * np.cos(radians), np.float32)
        gy = np.full((16, 24), magnitude * np.sin(radians), np.float32)
        return tf.direction_weights(gx, gy, gx * gx + gy * gy, 8)

    across = weights(30.0)  # two bins of 15 degrees from zero
    assert across.shape == (2, 3, tf.DIRECTION_BINS)
    assert across[..., 2] == pytest.approx(np.full((2, 3), 64 * 2.0**3), rel=1e-3)
    assert across.sum(axis=-1) == pytest.approx(across[..., 2], rel=1e-3)
    assert weights(210.0) == pytest.approx(across, abs=1e-3 * float(across.max()))  # the opposite
    slant = weights(37.5)  # halfway between the centres of bins 2 and 3
    assert slant[0, 0, 2] == pytest.approx(slant[0, 0, 3], rel=0.01)
    assert slant[0, 0, 2] + slant[0, 0, 3] == pytest.approx(64 * 8.0, rel=1e-3)
    last = weights(172.5)[0, 0]  # between the last bin and the first, around the circle
    assert last[11] == pytest.approx(last[0], rel=0.01) and last[1:11].sum() == 0
    assert weights(30.0, magnitude=4.0)[0, 0, 2] == pytest.approx(8 * across[0, 0, 2], rel=1e-3)


def test_freed_memory_is_kept_for_the_next_frame_where_the_c_library_is_glibc():
    from inspector import heap

    expected = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"
    assert heap.keep_freed_memory() is expected
    assert heap.keep_freed_memory() is expected  # once per process, and the same answer


def test_the_artefact_is_hashed_loads_fast_and_must_match_the_settings(tmp_path):
    refs, artefact, sha256 = _learn(tmp_path)
    assert hashlib.sha256(artefact.read_bytes()).hexdigest() == sha256
    assert artefact.name == f"tiles-v1-{sha256[:12]}.npz"
    learned = texture.Learned.read(artefact)
    assert learned.meta["images"] == len(refs) and learned.memory.shape[0] <= 4000
    assert learned.held_out.max() == pytest.approx(1.0)  # scores are in units of the good spread
    other = _recipe(tmp_path, refs, [{"engine": "texture", "learned": str(artefact), "patch": 16}])
    with pytest.raises(InputError, match="learn RECIPE` again"):
        prepare_judge(other).chain.load()
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"not a model")
    with pytest.raises(InputError, match="not a learned texture model"):
        prepare_judge(_recipe(tmp_path, refs, [{"engine": "texture", "learned": str(broken)}]))\
            .chain.load()  # fmt: skip


def test_a_recipe_never_learnt_says_to_learn_it(tmp_path, monkeypatch):
    monkeypatch.setenv("INSPECTOR_DATA_DIR", str(tmp_path / "data"))
    refs = textures.references(tmp_path / "good", 2)
    with pytest.raises(InputError, match="inspector learn"):
        prepare_judge(_recipe(tmp_path, refs, [{"engine": "texture"}])).chain.load()


def test_too_few_good_images_and_flat_images_are_refused_with_a_message(tmp_path):
    images = [textures.surface(seed) for seed in range(texture.MIN_GOOD - 1)]
    with pytest.raises(InputError, match=f"at least {texture.MIN_GOOD}"):
        texture.learn(images, texture.TextureSettings())
    flat = [*images, np.full(textures.SIZE, 77, np.uint8)]
    with pytest.raises(InputError, match="all one colour"):
        texture.learn(flat, texture.TextureSettings())


def test_a_flat_or_tiny_frame_is_unsure_never_pass(tmp_path):
    refs, artefact, _ = _learn(tmp_path)
    chain = prepare_judge(
        _recipe(tmp_path, refs, [{"engine": "texture", "learned": str(artefact)}])
    )
    chain = chain.chain
    chain.load()
    flat = chain.judge(np.full((192, 192), 128, np.uint8))
    assert flat.outcome is Outcome.UNSURE and "all one colour" in flat.reason
    tiny = chain.judge(textures.surface(1)[:20, :20])
    assert tiny.outcome is Outcome.UNSURE and "smaller than one patch" in tiny.reason
    # Frames of another size than the good images are judged: the patches do not depend on it.
    larger = textures.surface(3, size=(256, 320))
    assert _answer(chain.judge(larger))["score"] is not None


def test_as_a_screen_clean_tiles_skip_the_model_and_suspects_go_on_marked(tmp_path):
    refs, artefact, _ = _learn(tmp_path)
    screen = {"engine": "texture", "learned": str(artefact), "screen": True}
    recipe = _recipe(tmp_path, refs, [screen, {"engine": "scripted-recording",
                                               "answers": [FAIL_ANSWER]}])  # fmt: skip
    chain = prepare_judge(recipe).chain
    chain.load()
    model = chain.judges[1]
    good = textures.surface(900)
    verdict = chain.judge(good)
    assert verdict.outcome is Outcome.PASS and model.calls == 0
    assert [a.engine for a in verdict.attempts] == ["texture"]
    scratched, _ = textures.draw_defect(textures.surface(901), "scratch", 901)
    verdict = chain.judge(scratched)
    # The model sees the whole part once, suspects outlined, then each zoom crop of a flagged
    # region (judges/zoom.py: at most 3 by default).
    assert 1 <= model.calls <= 4 and verdict.outcome is Outcome.FAIL
    assert np.all(model.seen[0] == (255, 0, 255), axis=2).any()  # suspect regions outlined
    # The screen's veto: a model that passes a flagged tile leaves it to a person.
    passing = _recipe(tmp_path, refs, [screen, {"engine": "scripted", "answers": [PASS_ANSWER]}])
    chain = prepare_judge(passing).chain
    chain.load()
    vetoed = chain.judge(scratched)
    assert vetoed.outcome is Outcome.UNSURE and "the screen vetoes a PASS" in vetoed.reason


@pytest.mark.parametrize("defect", textures.DEFECTS)
def test_on_a_larger_surface_the_box_is_local(defect, tmp_path):
    size = (384, 384)
    images = [textures.surface(seed, "noise", size) for seed in range(5000, 5012)]
    recipe = load_recipe(_recipe(tmp_path, [], [{"engine": "texture"}]))
    artefact, _ = texture.save(texture.learn(images, texture.TextureSettings()), tmp_path, recipe)
    chain = prepare_judge(_recipe(tmp_path, [], [_engine(artefact)])).chain
    chain.load()
    image, mask = textures.draw_defect(textures.surface(42, "noise", size), defect, 42)
    verdict = chain.judge(image)
    assert verdict.outcome is Outcome.FAIL
    top = verdict.defects[0].box
    assert mask[top.y0 : top.y1, top.x0 : top.x1].any()
    assert top.width * top.height < 0.3 * size[0] * size[1], top  # a region, not the tile
    heat = chain.judges[0].heat_map(image)
    assert heat.shape == size and heat[mask > 0].max() == pytest.approx(heat.max(), rel=0.2)
    # Away from the defect the surface reads as good: the defect raises the image's score, not
    # the heat of the good texture around it (its mean distance is left out of the heat map).
    far = cv2.dilate((mask > 0).astype(np.uint8), np.ones((61, 61), np.uint8)) == 0
    assert np.median(heat[far]) < 0.05 * heat.max()


def test_good_images_are_found_from_the_recipes_folder_whatever_the_working_directory(
    tmp_path, monkeypatch
):
    """A station run as a service has another working directory than the engineer's shell: a
    relative `good:` is read from the recipe file's folder first, as the recipe's own
    `references:` are, and only then from the working directory (as before)."""
    from inspector.station.learning import learn_recipe

    plant = tmp_path / "plant"
    textures.references(plant / "good", texture.MIN_GOOD)
    recipe = _recipe(plant, [], [{"engine": "texture", "good": ["good/", "good/ref-500*.jpg"]}])
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    (done,) = learn_recipe(recipe, tmp_path / "learned")
    assert done.images == 2 * texture.MIN_GOOD  # the folder, then the pattern's ten again
    # A name the recipe's folder lacks is still read from the working directory.
    textures.references(elsewhere / "shop", texture.MIN_GOOD)
    recipe = _recipe(plant, [], [{"engine": "texture", "good": ["shop"]}])
    (done,) = learn_recipe(recipe, tmp_path / "learned")
    assert done.images == texture.MIN_GOOD
    # A name found in neither says where it looked.
    recipe = _recipe(plant, [], [{"engine": "texture", "good": ["nowhere/"]}])
    with pytest.raises(InputError, match=f"recipe's folder {plant} or the working directory"):
        learn_recipe(recipe, tmp_path / "learned")
