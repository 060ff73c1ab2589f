"""The transformers engine on tiny random-weight models of each real architecture.

Their answers are noise: these tests check the plumbing (the images reach the model as image
tokens, generation runs, the answer is read or declared UNSURE, the attempt is recorded whole).
"""

from __future__ import annotations

import cv2
import pytest

from inspector.domain import Outcome
from inspector.errors import EngineUnavailable
from inspector.judges import build_chain
from inspector.judges.answers import BoxConvention
from inspector.judges.prompt import build_prompt
from inspector.recipes import load_recipe
from tests.support.recipes import recipe_file
from tests.support.tiny_models import FAMILIES, image_token_id

ROI = {"x": 100, "y": 50, "width": 400, "height": 300}


@pytest.fixture(scope="module")
def pcb(test_data):
    part = cv2.imread(str(test_data / "deeppcb" / "defect" / "00041000_test.jpg"))
    good = cv2.imread(str(test_data / "deeppcb" / "good" / "00041000_temp.jpg"))
    return part, good


def _judge(tmp_path, model_dir, **recipe_fields):
    path = recipe_file(
        tmp_path,
        [{"engine": "transformers", "model": str(model_dir), "max_new_tokens": 12}],
        **recipe_fields,
    )
    recipe = load_recipe(path)
    chain = build_chain(recipe, str(path))
    return chain.judges[0], recipe


@pytest.mark.parametrize("family", FAMILIES)
def test_each_family_judges_a_part_with_references(family, tiny_models, pcb, tmp_path):
    part, good = pcb
    judge, recipe = _judge(tmp_path, tiny_models[family], roi=ROI)
    judge.set_references([good])
    messages = []
    judge.load(progress=messages.append)
    assert messages[-1].startswith(f"loaded {tiny_models[family]}")
    assert judge.model_revision.startswith("local-")

    prompt = build_prompt(recipe, part, judge._references, judge.box_convention())
    inputs = judge.encode(prompt)
    image_id = image_token_id(judge._processor)
    assert int((inputs["input_ids"] == image_id).sum()) >= 2  # the reference and the part

    verdict = judge.judge(part)
    [attempt] = verdict.attempts
    assert attempt.error is None
    assert attempt.engine == "transformers"
    assert attempt.model_id == str(tiny_models[family])
    assert attempt.prompt_tokens == inputs["input_ids"].shape[1]
    assert 1 <= attempt.completion_tokens <= 12
    assert len(attempt.prompt_hash) == 64
    assert attempt.outcome is verdict.outcome
    # Random weights cannot write a verdict: whatever they wrote must not pass the part.
    assert verdict.outcome is Outcome.UNSURE
    assert not verdict.image_left_site


def test_qwen_boxes_are_in_pixels_of_the_resized_input(tiny_models, pcb, tmp_path):
    part, _ = pcb
    judge, recipe = _judge(tmp_path, tiny_models["qwen2_5_vl"], roi=ROI)
    judge.load()
    assert judge.box_convention() is BoxConvention.PIXELS
    prompt = build_prompt(recipe, part, [], judge.box_convention())
    width, height = judge._model_image_size(judge.encode(prompt))
    patch = judge._processor.image_processor.patch_size
    assert width % patch == 0 and height % patch == 0
    # The processor resizes the 400x300 crop keeping its aspect ratio, roughly.
    assert abs(width / height - 400 / 300) < 0.5
    # By hand, Qwen2.5-VL's smart_resize with the tiny model's processor (patch 14, merge 2:
    # sides in multiples of 28; at most 28*28*8 = 6272 pixels): 400x300 is 120000 pixels, too
    # many, so beta = sqrt(120000 / 6272) = 4.374; width floor(400 / 4.374 / 28) = 3 -> 84,
    # height floor(300 / 4.374 / 28) = 2 -> 56.
    assert (width, height) == (84, 56)


def test_other_families_are_asked_for_0_to_1000_boxes(tiny_models, tmp_path):
    for family in ("gemma3", "internvl", "mllama"):
        judge, _ = _judge(tmp_path, tiny_models[family])
        judge.load()
        assert judge.box_convention() is BoxConvention.XYXY_1000


def test_the_same_recipe_gives_the_same_prompt_hash(tiny_models, pcb, tmp_path):
    part, good = pcb
    judge, _ = _judge(tmp_path, tiny_models["gemma3"])
    judge.set_references([good])
    first, second = judge.judge(part), judge.judge(good)
    assert first.attempts[0].prompt_hash == second.attempts[0].prompt_hash


def test_a_folder_that_is_not_a_model_is_named(tmp_path):
    folder = tmp_path / "not-a-model"
    folder.mkdir()
    (folder / "weights.bin").write_bytes(b"\0" * 10)
    judge, _ = _judge(tmp_path, folder)
    with pytest.raises(EngineUnavailable, match="not-a-model: this folder is not a model"):
        judge.load()


def test_a_hub_id_that_is_not_cached_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty-cache"))
    judge, _ = _judge(tmp_path, "example-org/no-such-vlm")
    with pytest.raises(EngineUnavailable, match="not in the local cache"):
        judge.load()


def test_asking_for_cuda_on_a_machine_without_it_is_explained(tiny_models, tmp_path):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    path = recipe_file(
        tmp_path,
        [{"engine": "transformers", "model": str(tiny_models["gemma3"]), "device": "cuda"}],
    )
    judge = build_chain(load_recipe(path), str(path)).judges[0]
    with pytest.raises(EngineUnavailable, match="no usable CUDA GPU"):
        judge.load()


def test_sampled_looks_are_sampled_and_the_first_is_greedy(tiny_models, pcb, tmp_path):
    """agreement.samples in process: the first look is the greedy answer, the others are
    sampled at the recipe's temperature (random weights at 1.5 write something else)."""
    import torch

    part, good = pcb
    model = tiny_models["qwen2_5_vl"]
    (tmp_path / "greedy").mkdir()
    (tmp_path / "sampled").mkdir()
    greedy_judge, _ = _judge(tmp_path / "greedy", model, roi=ROI)
    greedy_judge.set_references([good])
    greedy_judge.load()
    greedy = greedy_judge.judge(part).attempts[0].raw_text
    judge, _ = _judge(
        tmp_path / "sampled", model, roi=ROI, agreement={"samples": 3, "temperature": 1.5}
    )
    judge.set_references([good])
    judge.load()
    torch.manual_seed(0)
    verdict = judge.judge(part)
    first, *sampled = [a.raw_text for a in verdict.attempts]
    assert len(sampled) == 2
    assert first == greedy
    assert any(text != greedy for text in sampled)
    assert verdict.outcome is Outcome.UNSURE
