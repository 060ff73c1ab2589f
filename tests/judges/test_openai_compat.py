"""`openai-compatible` against a real server: `transformers serve` with a tiny Qwen2.5-VL.

Its answers are noise (random weights): the tests check that the images reach the model as image
tokens, that the answer is read (here: UNSURE, never PASS) and that the attempt is recorded.
A server that refuses JSON-schema output cannot run here (`transformers serve` ignores the
field), so that fallback is checked against the fake OpenAI-compatible server.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from inspector.domain import Outcome
from inspector.errors import InputError
from inspector.judges import build_chain
from inspector.judges.engines.openai_compat import chat_messages, is_on_site, server_problem
from inspector.judges.prompt import build_prompt
from inspector.recipes import parse_recipe
from tests.support.cloud_fakes import FakeProvider
from tests.support.serving import SERVED_FAMILY, TransformersServer, free_port, serve_command

openai = pytest.importorskip("openai")


@pytest.fixture(scope="session")
def served(tiny_models, tmp_path_factory):
    if serve_command() is None:
        pytest.skip("transformers serve is not installed (the `serving` extra)")
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    server = TransformersServer(tiny_models[SERVED_FAMILY], log)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def pcb(test_data):
    part = cv2.imread(str(test_data / "deeppcb" / "defect" / "00041000_test.jpg"))
    good = cv2.imread(str(test_data / "deeppcb" / "good" / "00041000_temp.jpg"))
    return part, good


def recipe_for(base_url: str, model: str, **engine):
    entry = {
        "engine": "openai-compatible",
        "base_url": base_url,
        "model": model,
        "max_new_tokens": 12,
        **engine,
    }
    data = {
        "name": "served",
        "version": 1,
        "prompt": "Inspect the copper tracks.",
        "defects": [{"name": "scratch", "severity": "major"}],
        "roi": {"x": 100, "y": 50, "width": 400, "height": 300},
        "engines": [entry],
    }
    return parse_recipe(data, "served.yaml")


def test_the_images_reach_the_model_and_the_answer_is_read(served, pcb):
    part, good = pcb
    recipe = recipe_for(served.url, served.model)
    chain = build_chain(recipe, "served.yaml")
    chain.set_references([good])
    chain.load()
    judge = chain.judges[0]
    assert not judge.leaves_site  # 127.0.0.1 is on site: no privacy rule needed

    verdict = chain.judge(part)
    [attempt] = verdict.attempts
    assert attempt.error is None
    assert verdict.outcome is Outcome.UNSURE  # random weights never write a verdict that passes
    assert attempt.outcome is Outcome.UNSURE and attempt.raw_text
    assert 1 <= attempt.completion_tokens <= 12
    assert attempt.endpoint == served.url and attempt.cost_usd is None
    assert not attempt.image_left_site

    # The same request without its two images, sent with the bare client: the difference in
    # prompt tokens is the image tokens the model got.
    prompt = build_prompt(recipe, part, judge._references, judge.box_convention())
    messages = chat_messages(prompt, "jpeg")
    messages[1]["content"] = [p for p in messages[1]["content"] if p["type"] == "text"]
    client = openai.OpenAI(base_url=served.url, api_key="none", max_retries=0)
    text_only = client.chat.completions.create(model=served.model, messages=messages, max_tokens=1)
    image_tokens = attempt.prompt_tokens - text_only.usage.prompt_tokens
    assert image_tokens >= 2 * 4  # the tiny Qwen2.5-VL gives each image 4 to 8 tokens


def test_the_server_check_knows_the_server_and_its_model(served):
    assert server_problem(served.url, served.model) is None
    assert "not some/other-model" in server_problem(served.url, "some/other-model")
    unreachable = f"http://127.0.0.1:{free_port()}/v1"
    assert "server unreachable at" in server_problem(unreachable, served.model, timeout_s=2)


def test_a_server_that_refuses_json_schema_gets_the_prompt_only_from_then_on():
    fake = FakeProvider("chat", refuse_response_format=True)
    try:
        chain = build_chain(recipe_for(fake.url, "served-model"), "served.yaml")
        picture = np.full((480, 640, 3), 128, np.uint8)
        picture[150:200, 250:300] = (0, 0, 255)
        first = chain.judge(picture)
        second = chain.judge(picture)
    finally:
        fake.close()
    assert fake.violations == []
    formats = ["response_format" in r.body for r in fake.requests]
    assert formats == [True, False, False]  # refused once, then asked in the prompt only
    assert first.outcome is second.outcome is Outcome.FAIL
    assert np.allclose(first.defects[0].box.as_list(), (250, 150, 300, 200), atol=2)


def test_a_server_that_must_give_json_schema_is_not_asked_twice():
    fake = FakeProvider("chat", refuse_response_format=True)
    try:
        strict = recipe_for(fake.url, "m", structured_output="json_schema")
        verdict = build_chain(strict, "served.yaml").judge(np.zeros((480, 640, 3), np.uint8))
    finally:
        fake.close()
    assert len(fake.requests) == 1
    assert verdict.outcome is Outcome.UNSURE
    assert "HTTP 400" in verdict.attempts[0].error


@pytest.mark.parametrize(
    ("url", "on_site"),
    [
        ("http://127.0.0.1:8000/v1", True),
        ("http://localhost:8000/v1", True),
        ("http://10.4.0.12:8000/v1", True),
        ("http://192.168.1.5/v1", True),
        ("http://gpu-server:8000/v1", True),
        ("http://vllm.plant.internal/v1", True),
        ("https://api.openai.com/v1", False),
        ("https://openrouter.ai/api/v1", False),
        ("http://8.8.8.8/v1", False),
    ],
)
def test_whether_a_server_is_on_site_is_read_from_its_url(url, on_site):
    assert is_on_site(url) is on_site


def test_a_recipe_can_say_where_its_server_is():
    declared = recipe_for("https://gpu.plant.example.com/v1", "m", on_site=True)
    assert not build_chain(declared, "r").judges[0].leaves_site
    with pytest.raises(InputError, match="not an http"):
        build_chain(recipe_for("file:///etc/passwd", "m"), "r")


def test_a_server_that_gives_logprobs_has_the_outcome_measured():
    from tests.support.cloud_answers import CHAT_TOKEN_LOGPROB

    fake = FakeProvider("chat")
    try:
        picture = np.full((480, 640, 3), 128, np.uint8)
        picture[150:200, 250:300] = (0, 0, 255)
        measured = build_chain(recipe_for(fake.url, "m"), "served.yaml").judge(picture)
        plain = build_chain(recipe_for(fake.url, "m", logprobs=False), "served.yaml")
        self_reported = plain.judge(picture)
    finally:
        fake.close()
    assert fake.violations == []
    assert [r.body.get("logprobs") for r in fake.requests] == [True, None]
    # One token per character: FAIL's four tokens at log(0.9) each.
    assert measured.measured_confidence == pytest.approx(math.exp(4 * CHAT_TOKEN_LOGPROB))
    assert measured.attempts[0].measured_confidence == measured.measured_confidence
    assert measured.outcome is Outcome.FAIL
    assert self_reported.measured_confidence is None
    assert self_reported.outcome is Outcome.FAIL


def test_a_server_that_ignores_logprobs_leaves_the_confidence_self_reported(served, pcb):
    part, _ = pcb
    verdict = build_chain(recipe_for(served.url, served.model), "served.yaml").judge(part)
    [attempt] = verdict.attempts
    assert attempt.error is None  # `transformers serve` takes the field and sends none back
    assert attempt.measured_confidence is None
    assert verdict.measured_confidence is None
