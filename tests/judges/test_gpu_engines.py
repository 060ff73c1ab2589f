"""lmdeploy and Ovis2: everything of theirs that runs without the engine on a CPU machine.

lmdeploy needs CUDA and replaces torch when installed; Ovis2's weights and remote code come from
the hub. What runs here: their settings, the messages and conversations they build, the reading
of an answer (with a real Qwen2 tokenizer, the one Ovis2 uses), and the errors on this machine.
Unexercised here: lmdeploy's pipeline and Ovis2's preprocess_inputs / generate.
"""

from __future__ import annotations

import base64

import cv2
import numpy as np
import pytest

from inspector.errors import EngineUnavailable, InputError
from inspector.judges import build_chain
from inspector.judges.answers import BoxConvention, read_verdict
from inspector.judges.engines.lmdeploy import gpu_problem, messages, response_format
from inspector.judges.engines.ovis2 import IMAGE_PLACEHOLDER, conversation, decode
from inspector.judges.gpu import cuda_device_count
from inspector.judges.prompt import AFTER_THE_PART, Reference, build_prompt
from inspector.judges.structured import verdict_schema
from inspector.recipes import parse_recipe

no_gpu = pytest.mark.skipif(cuda_device_count() > 0, reason="this machine has a CUDA GPU")


def recipe(engine: dict, **fields):
    data = {
        "name": "local",
        "version": 1,
        "prompt": "Inspect.",
        "defects": [{"name": "scratch", "severity": "major"}],
        "engines": [engine],
        **fields,
    }
    return parse_recipe(data, "local.yaml")


def pictures():
    part = np.zeros((120, 160, 3), np.uint8)
    part[40:60, 50:90] = (0, 0, 255)
    good = np.full((120, 160, 3), 30, np.uint8)
    return part, good


@no_gpu
def test_lmdeploy_on_a_machine_without_cuda_points_to_the_other_engines():
    judge = build_chain(recipe({"engine": "lmdeploy", "model": "OpenGVLab/InternVL3-8B"}), "r")
    [judge] = judge.judges
    with pytest.raises(EngineUnavailable) as caught:
        judge.load()
    message = str(caught.value)
    assert "CUDA" in message
    assert "engine: transformers" in message and "engine: openai-compatible" in message
    assert judge.check() == gpu_problem(1)


def test_lmdeploy_settings_are_checked_by_the_engine():
    for bad, field in (({"tp": 0}, "field `tp`"), ({"backend": "tensorrt"}, "field `backend`")):
        engine = {"engine": "lmdeploy", "model": "m", **bad}
        with pytest.raises(InputError, match=field):
            build_chain(recipe(engine), "r")


def test_lmdeploy_gets_the_prompt_as_openai_style_messages_with_lossless_images():
    part, good = pictures()
    r = recipe({"engine": "lmdeploy", "model": "m"})
    prompt = build_prompt(r, part, [Reference.of(good)], BoxConvention.XYXY_1000)
    system, user = messages(prompt)
    assert system == {"role": "system", "content": prompt.system}
    kinds = [item["type"] for item in user["content"]]
    # Instructions, the reference (labelled), the part (labelled), the reminder: the prefix
    # that lmdeploy's prefix caching reuses comes first.
    assert kinds == ["text", "text", "image_url", "text", "image_url", "text"]
    sent = [item["image_url"]["url"] for item in user["content"] if item["type"] == "image_url"]
    for url, expected in zip(sent, (good, part), strict=True):
        header, data = url.split(",", 1)
        assert header == "data:image/png;base64"
        decoded = cv2.imdecode(np.frombuffer(base64.b64decode(data), np.uint8), cv2.IMREAD_COLOR)
        assert np.array_equal(decoded, expected)  # PNG: the pixels as the camera gave them
    schema = response_format(verdict_schema(r))["json_schema"]["schema"]
    assert schema["properties"]["defects"]["items"]["properties"]["class"]["enum"] == ["scratch"]


def test_ovis2_needs_the_recipe_to_trust_its_code():
    [judge] = build_chain(recipe({"engine": "ovis2", "model": "AIDC-AI/Ovis2-8B"}), "r").judges
    assert "trust_remote_code: true" in judge.check()
    with pytest.raises(EngineUnavailable, match="trust_remote_code: true"):
        judge.load()


def test_ovis2_conversation_puts_each_image_where_the_prompt_has_it():
    part, good = pictures()
    r = recipe({"engine": "ovis2", "model": "m", "trust_remote_code": True})
    prompt = build_prompt(r, part, [Reference.of(good)], BoxConvention.XYXY_1000)
    turns, images = conversation(prompt)
    assert turns[0] == {"from": "system", "value": prompt.system}
    human = turns[1]
    assert human["from"] == "human"
    assert human["value"].count(IMAGE_PLACEHOLDER) == len(images) == 2
    assert human["value"].index("Image 1: <image>") < human["value"].index("Image 2: <image>")
    assert human["value"].index("Answer with one JSON") < human["value"].index("Image 1: <image>")
    assert human["value"].endswith(AFTER_THE_PART)
    # PIL images in RGB: the reference first, then the part.
    assert np.array_equal(np.asarray(images[0]), good[..., ::-1])
    assert np.array_equal(np.asarray(images[1]), part[..., ::-1])


def test_ovis2_output_is_decoded_without_special_tokens_and_read(tiny_models):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_models["qwen2_5_vl"])  # Qwen2, as in Ovis2
    answer = '{"outcome": "FAIL", "defects": [{"class": "scratch", "box": [100, 200, 300, 400]}]}'
    ids = tokenizer(answer + "<|im_end|>")["input_ids"]
    text = decode(tokenizer, ids)
    assert text == answer
    r = recipe({"engine": "ovis2", "model": "m", "trust_remote_code": True})
    from inspector.judges.answers import ImageGeometry

    verdict = read_verdict(text, r, ImageGeometry.whole(1000, 1000), BoxConvention.XYXY_1000)
    assert verdict.defects[0].box.as_list() == [100, 200, 300, 400]


def test_ovis2_refuses_a_checkpoint_that_is_not_ovis2(tiny_models):
    engine = {"engine": "ovis2", "model": str(tiny_models["gemma3"]), "trust_remote_code": True}
    [judge] = build_chain(recipe(engine), "r").judges
    with pytest.raises(EngineUnavailable, match="not an Ovis2 checkpoint"):
        judge.load()
    engine["model"] = str(tiny_models["gemma3"].parent / "missing")
    [judge] = build_chain(recipe(engine), "r").judges
    with pytest.raises(EngineUnavailable, match="cannot read its config"):
        judge.load()
