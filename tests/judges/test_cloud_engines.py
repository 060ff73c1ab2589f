"""The cloud engines (openai, anthropic, gemini): the official SDKs against local fake APIs.

Each fake checks every request against the provider's documented shape (tests/cloud_fakes.py)
and answers with documented bodies. The fake "model" reports the red mark drawn on the part, so
a success checks the whole way: the ROI crop was encoded and sent, and the box came back in the
camera's pixels through the provider's convention.
"""

from __future__ import annotations

import logging
import time

import numpy as np
import pytest

from inspector.domain import Frame, Outcome, utc_now
from inspector.judges import JudgeChain, build_chain
from inspector.recipes import parse_recipe
from inspector.store import Store, Timings
from tests.support.cloud_fakes import API_KEY, GEMINI_KEY, FakeProvider, Reply
from tests.support.records_data import plain_query

pytest.importorskip("openai")
pytest.importorskip("anthropic")
pytest.importorskip("google.genai")

PROVIDERS = {
    "openai": ("gpt-4.1", "OPENAI_API_KEY", API_KEY),
    "anthropic": ("claude-sonnet-4-20250514", "ANTHROPIC_API_KEY", API_KEY),
    "gemini": ("gemini-2.5-pro", "GEMINI_API_KEY", GEMINI_KEY),
}
# The providers' published list prices, USD per million tokens (input, output), written here
# by hand: the expected cost does not come from the price list the engines use.
LIST_PRICES = {
    "gpt-4.1": (2.0, 8.0),
    "claude-sonnet-4-20250514": (3.0, 15.0),
    "gemini-2.5-pro": (1.25, 10.0),
}
ROI = {"x": 200, "y": 100, "width": 320, "height": 240}
MARK = (300, 200, 360, 240)  # x0, y0, x1, y1 in camera pixels, inside the ROI


def part_image(marked: bool = True) -> np.ndarray:
    image = np.full((480, 640, 3), 128, np.uint8)
    image[::16, :] = 90  # some texture
    if marked:
        x0, y0, x1, y1 = MARK
        image[y0:y1, x0:x1] = (0, 0, 255)  # BGR red
    return image


@pytest.fixture(params=sorted(PROVIDERS))
def cloud(request, monkeypatch):
    """A fake API of each provider, its key in the environment."""
    for _, env, _ in PROVIDERS.values():
        monkeypatch.delenv(env, raising=False)
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    model, env, key = PROVIDERS[request.param]
    monkeypatch.setenv(env, key)
    fake = FakeProvider(request.param)
    fake.model = model
    yield fake
    fake.close()


def chain_for(
    fake: FakeProvider, waits: list[float] | None = None, recipe_fields=(), **engine
) -> JudgeChain:
    entry = {"engine": fake.provider, "model": fake.model, "base_url": fake.url, **engine}
    recipe = parse_recipe(
        {
            "name": "cloud",
            "version": 1,
            "prompt": "Inspect the coated plate.",
            "defects": [{"name": "scratch", "severity": "major"}],
            "roi": ROI,
            "privacy": {"images_may_leave": True},
            "engines": [entry],
            **dict(recipe_fields),
        },
        "cloud.yaml",
    )
    chain = build_chain(recipe, "cloud.yaml")
    if waits is not None:  # record the waits instead of sleeping them
        chain = JudgeChain(chain.judges, recipe.chain, sleep=waits.append)
    chain.load()
    return chain


def test_a_part_is_judged_and_its_box_comes_back_in_camera_pixels(cloud):
    verdict = chain_for(cloud).judge(part_image())
    assert cloud.violations == []
    assert len(cloud.requests) == 1
    assert verdict.outcome is Outcome.FAIL
    [defect] = verdict.defects
    assert defect.class_name == "scratch"
    assert np.allclose(defect.box.as_list(), MARK, atol=2)
    [attempt] = verdict.attempts
    assert attempt.error is None
    assert attempt.engine == cloud.provider and attempt.model_id == cloud.model
    assert (attempt.prompt_tokens, attempt.completion_tokens) == cloud.usages[-1]
    price_in, price_out = LIST_PRICES[cloud.model]
    prompt_tokens, completion_tokens = cloud.usages[-1]  # what the fake API billed
    expected = (prompt_tokens * price_in + completion_tokens * price_out) / 1e6
    assert attempt.cost_usd == pytest.approx(expected)
    assert attempt.image_left_site and verdict.image_left_site
    assert attempt.endpoint == cloud.url.rstrip("/")


def test_a_part_without_a_mark_passes(cloud):
    verdict = chain_for(cloud).judge(part_image(marked=False))
    assert cloud.violations == []
    assert verdict.outcome is Outcome.PASS
    assert verdict.defects == ()


def test_a_sampled_look_is_sent_with_the_recipes_temperature(cloud):
    """agreement.samples: the first answer at the engine's own temperature, the next sampled."""
    agreement = {"agreement": {"samples": 2, "temperature": 0.6}}
    verdict = chain_for(cloud, recipe_fields=agreement).judge(part_image())
    assert cloud.violations == []
    assert verdict.outcome is Outcome.FAIL  # the fake sees the same mark twice: they agree
    assert "all 2 looks agree" in verdict.reason

    def temperature(body: dict) -> float | None:
        if cloud.provider == "gemini":
            return body.get("generationConfig", {}).get("temperature")
        return body.get("temperature")

    own = None if cloud.provider == "anthropic" else 0.0  # Claude's own default is unset
    assert [temperature(seen.body) for seen in cloud.requests] == [own, 0.6]


def test_a_refusal_or_safety_block_is_unsure_and_not_retried(cloud):
    cloud.queue(Reply.refusal())
    verdict = chain_for(cloud).judge(part_image())
    assert cloud.violations == []
    assert len(cloud.requests) == 1
    assert verdict.outcome is Outcome.UNSURE
    [attempt] = verdict.attempts
    if cloud.provider == "gemini":  # no text at all: the block reason is the record
        assert "blocked the prompt (SAFETY)" in attempt.error
    else:  # the model's refusal is its answer, kept as it came
        assert attempt.error is None and attempt.outcome is Outcome.UNSURE
        assert "can't" in attempt.raw_text


def test_a_bad_request_is_not_retried(cloud):
    cloud.queue(Reply.error(400))
    waits: list[float] = []
    verdict = chain_for(cloud, waits).judge(part_image())
    assert len(cloud.requests) == 1 and waits == []
    assert verdict.outcome is Outcome.UNSURE
    assert "HTTP 400" in verdict.attempts[0].error


def test_a_refused_key_is_said_and_never_recorded(cloud, monkeypatch, caplog):
    wrong = "sk-wrong-9f8e7d6c5b4a3210" if cloud.provider != "gemini" else "AIzaWrong9f8e7d6c5b4a"
    monkeypatch.setenv(PROVIDERS[cloud.provider][1], wrong)
    caplog.set_level(logging.DEBUG)
    waits: list[float] = []
    verdict = chain_for(cloud, waits).judge(part_image())
    [attempt] = verdict.attempts
    assert verdict.outcome is Outcome.UNSURE and waits == []
    assert "HTTP 401" in attempt.error or "API key not valid" in attempt.error
    for text in (attempt.error, verdict.reason, caplog.text):
        assert wrong not in text and wrong[-4:] not in text


def test_a_401_answer_is_not_retried(cloud):
    cloud.queue(Reply.error(401))
    waits: list[float] = []
    verdict = chain_for(cloud, waits).judge(part_image())
    assert len(cloud.requests) == 1 and waits == []
    assert "HTTP 401: the API key was refused" in verdict.attempts[0].error


def test_a_rate_limit_is_retried_after_the_wait_the_server_asks_for(cloud):
    # OpenAI and Anthropic say it in Retry-After; Google in the body's RetryInfo ("1s").
    cloud.queue(Reply.error(429, retry_after=None if cloud.provider == "gemini" else "1"))
    waits: list[float] = []
    verdict = chain_for(cloud, waits).judge(part_image())
    assert cloud.violations == []
    assert waits == [1.0]
    assert verdict.outcome is Outcome.FAIL
    first, second = verdict.attempts
    assert "HTTP 429" in first.error and first.image_left_site
    assert second.error is None and second.outcome is Outcome.FAIL


def test_server_errors_are_retried_with_backoff_then_the_part_is_unsure(cloud):
    cloud.queue(Reply.error(500), Reply.error(500), Reply.error(500))
    waits: list[float] = []
    chain = chain_for(cloud, waits)
    verdict = chain.judge(part_image())
    policy = chain.policy
    assert len(cloud.requests) == 1 + policy.retries
    assert len(waits) == policy.retries
    for i, wait in enumerate(waits):  # half the backoff, plus up to half again of jitter
        assert policy.backoff_s * 2**i / 2 <= wait <= policy.backoff_s * 2**i
    assert verdict.outcome is Outcome.UNSURE
    assert all("HTTP 500" in a.error for a in verdict.attempts)


def test_a_stall_past_the_timeout_is_a_timeout(cloud):
    cloud.queue(Reply.stall(10))
    start = time.monotonic()
    verdict = chain_for(cloud, timeout_s=0.5).judge(part_image())
    elapsed = time.monotonic() - start
    assert elapsed < 5
    assert len(cloud.requests) == 1  # a timeout is not retried: the chain falls back
    [attempt] = verdict.attempts
    assert verdict.outcome is Outcome.UNSURE
    assert "0.5 s" in attempt.error
    assert attempt.image_left_site
    assert 400 <= attempt.latency_ms <= 5000


def test_attempts_are_recorded_with_cost_and_endpoint(cloud, settings):
    verdict = chain_for(cloud).judge(part_image())
    store = Store.open(settings)
    try:
        recipe = parse_recipe({"name": "cloud", "version": 1, "prompt": "p"}, "r")
        version = store.recipe_version_id(recipe, [])
        image = part_image()
        frame = Frame(image, "cam", 1, utc_now(), time.monotonic_ns())
        store.record_inspection(
            frame, version, verdict, store.evidence.encode(image), Timings(0, 1, 2)
        )
        query = "SELECT engine, cost_usd, endpoint, image_left_site FROM judge_attempts"
        [row] = plain_query(settings, query)
        texts = plain_query(settings, "SELECT raw_text, error FROM judge_attempts")
    finally:
        store.close()
    attempt = verdict.attempts[0]
    assert row.engine == cloud.provider
    assert row.cost_usd == pytest.approx(attempt.cost_usd)
    assert row.endpoint == attempt.endpoint
    assert bool(row.image_left_site)
    assert all(API_KEY not in str(t) and GEMINI_KEY not in str(t) for t in texts)
