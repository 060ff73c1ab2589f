"""A recipe as edited, tried with the models a runner holds (station/trial.py): an engine loaded
with the same settings is shared (the same weights object, judging under the edited prompt), one
nobody holds is loaded for the try. A tiny real Qwen2.5-VL through the transformers engine; its
loads counted (the real load runs); and a learned texture model, which belongs to one recipe
version."""

from __future__ import annotations

import cv2
import pytest

from inspector.errors import InputError
from inspector.judges.engines.transformers import TransformersJudge
from inspector.recipes import load_recipe
from inspector.station.learning import learn_recipe
from inspector.station.runner import StationRunner
from inspector.station.trial import trial_chain
from inspector.store import Store
from tests.support import textures
from tests.support.paths import ROOT
from tests.support.recipes import recipe_file

IMAGE = ROOT / "assets" / "demo" / "camera" / "01_00041000_test.jpg"


def test_a_try_shares_the_loaded_model_and_loads_only_what_it_lacks(
    tiny_models, tmp_path, sqlite_settings, monkeypatch
):
    loads = []
    real = TransformersJudge.load

    def load(self, progress=None):
        loads.append(self)
        return real(self, progress)

    monkeypatch.setattr(TransformersJudge, "load", load)
    engine = {
        "engine": "transformers",
        "model": str(tiny_models["qwen2_5_vl"]),
        "max_new_tokens": 8,
    }
    path = recipe_file(tmp_path, [engine])
    image = cv2.imread(str(IMAGE))
    with Store.open(sqlite_settings) as store:
        runner = StationRunner(store)
        held = runner.load(path).chain.judges[0]  # as a start loads it
        assert loads == [held]

        edited = load_recipe(path).model_copy(update={"prompt": "Look only for scratches."})
        said = []
        trial = trial_chain(edited, "editor", runner.loaded_judge, said.append)
        assert trial.shared == (f"transformers {engine['model']}",) and trial.loaded == ()
        twin = trial.chain.judges[0]
        assert twin is not held and twin._model is held._model  # one copy of the weights
        assert twin.recipe.prompt == "Look only for scratches."
        verdict = trial.chain.judge(image)
        assert verdict.attempts and verdict.attempts[0].engine == "transformers"
        assert held.recipe.prompt != twin.recipe.prompt  # the station's judge is untouched
        assert len(loads) == 1 and "the station's loaded model, shared" in said[0]

        other = load_recipe(path).model_copy(update={"engines": ({**engine, "max_new_tokens": 4},)})
        trial = trial_chain(other, "editor", runner.loaded_judge, said.append)
        assert trial.loaded == (f"transformers {engine['model']}",) and trial.shared == ()
        assert len(loads) == 2 and any("loading it for this try" in s for s in said)


def test_a_learned_texture_model_is_shared_only_with_its_own_recipe_version(
    tmp_path, sqlite_settings, monkeypatch
):
    monkeypatch.setenv("INSPECTOR_DATA_DIR", str(sqlite_settings.data_dir))
    good = [str(p) for p in textures.references(tmp_path / "good", 12)]
    path = recipe_file(tmp_path, [{"engine": "texture"}], references=good)
    [learned] = learn_recipe(path)
    with Store.open(sqlite_settings) as store:
        runner = StationRunner(store)
        held = runner.load(path).chain.judges[0]
        assert held.model_revision == learned.sha256

        recipe = load_recipe(path)
        edited = recipe.model_copy(update={"prompt": "Tiles only."})
        trial = trial_chain(edited, "editor", runner.loaded_judge)
        assert trial.shared == ("texture patch-memory",)
        verdict = trial.chain.judge(textures.surface(77))
        assert verdict.attempts[0].model_revision == learned.sha256

        # Version 2 has learnt nothing yet: its try says so, never judging with v1's model.
        newer = recipe.model_copy(update={"version": 2})
        with pytest.raises(InputError, match="v2 has no learned texture model"):
            trial_chain(newer, "editor", runner.loaded_judge)
