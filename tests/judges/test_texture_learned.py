"""The `texture` engine's learned variant (`features: learned`): a small network trained from
scratch on the good tiles with synthetic defects, its map added to the filter bank's. It learns
in seconds on procedural tiles, finds drawn scratches, holes and stains with a box over them,
passes held-out good tiles, and its artefact carries the network (no pickle) and says so.
"""

from __future__ import annotations

import hashlib
import json

import cv2
import numpy as np
import pytest
import yaml

from inspector.domain import Outcome
from inspector.evaluation.metrics import auroc
from inspector.judges.engines import texture
from inspector.recipes import load_recipe
from inspector.station.runner import prepare_judge
from tests.support import textures

pytest.importorskip("torch")

SETTINGS = {"features": "learned", "net_steps": 60}  # a few seconds on two cores


def _recipe(folder, references, engines):
    data = {
        "name": "tiles",
        "version": 1,
        "prompt": "Look for defects on the tile's surface.",
        "defects": [{"name": "texture", "severity": "major"}],
        "references": [str(p) for p in references],
        "engines": engines,
    }
    path = folder / "recipe.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_the_learned_variant_learns_judges_and_localises(tmp_path):
    refs = textures.references(tmp_path / "good", 16)
    images = [cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) for p in refs]
    recipe = load_recipe(_recipe(tmp_path, refs, [{"engine": "texture", **SETTINGS}]))
    learned = texture.learn(images, texture.TextureSettings(**SETTINGS))
    assert learned.net and learned.meta["net"]["steps"] == SETTINGS["net_steps"]
    assert learned.meta["settings"]["features"] == "learned"
    path, sha256 = texture.save(learned, tmp_path / "learned", recipe)
    again = texture.Learned.read(path)  # the network travels in the .npz, weights intact
    for name, weights in learned.net.items():
        assert np.array_equal(again.net[name], weights), name

    engine = {"engine": "texture", "learned": str(path), **SETTINGS}
    chain = prepare_judge(_recipe(tmp_path, refs, [engine])).chain
    chain.load()
    good_scores, defect_scores = [], []
    for tile in textures.tiles(tmp_path / "set", good=6, defective=6):
        verdict = chain.judge(cv2.imread(str(tile.path), cv2.IMREAD_GRAYSCALE))
        assert verdict.attempts[0].model_revision == sha256  # the record names the model
        score = json.loads(verdict.attempts[0].raw_text)["score"]
        if tile.label == "good":
            good_scores.append(score)
            assert verdict.outcome is Outcome.PASS, (tile.path.name, verdict.reason)
            continue
        defect_scores.append(score)
        assert verdict.outcome is Outcome.FAIL, (tile.path.name, verdict.reason)
        mask = cv2.imread(str(tile.mask), cv2.IMREAD_GRAYSCALE) > 0
        top = verdict.defects[0].box  # the strongest region lies over the drawn defect
        assert mask[top.y0 : top.y1, top.x0 : top.x1].any(), (tile.path.name, top)
    assert auroc(defect_scores, good_scores) == 1.0
    assert hashlib.sha256(path.read_bytes()).hexdigest() == sha256


def test_a_filters_artefact_does_not_serve_a_learned_recipe(tmp_path):
    refs = textures.references(tmp_path / "good", 10)
    images = [cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) for p in refs]
    recipe = load_recipe(_recipe(tmp_path, refs, [{"engine": "texture"}]))
    path, _ = texture.save(texture.learn(images, texture.TextureSettings()), tmp_path, recipe)
    assert texture.Learned.read(path).net is None
    engine = {"engine": "texture", "learned": str(path), **SETTINGS}
    with pytest.raises(texture.InputError, match="learn RECIPE` again"):
        prepare_judge(_recipe(tmp_path, refs, [engine])).chain.load()
