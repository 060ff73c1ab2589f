"""The judge chain: fallback order, timeouts, retries, the circuit breaker and the privacy rule.

In-process engines are the scripted judge (through the real registry and base class); cloud
engines are the openai SDK against the local fake API, which records every request it gets.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from inspector.domain import Outcome
from inspector.errors import InputError
from inspector.judges import JudgeChain, build_chain
from inspector.recipes import ChainPolicy, parse_recipe
from tests.support.cloud_fakes import API_KEY, FakeProvider, Reply, images_sent
from tests.support.scripted_judge import FAIL_ANSWER, PASS_ANSWER

UNSURE_ANSWER = '{"outcome": "UNSURE", "defects": [], "confidence": 0.3, "reason": "blurry"}'
ROI = {"x": 200, "y": 100, "width": 320, "height": 240}


def recipe(engines: list[dict], **fields):
    data = {
        "name": "chain",
        "version": 1,
        "prompt": "Inspect.",
        "defects": [{"name": "scratch", "severity": "major"}],
        "engines": engines,
        **fields,
    }
    return parse_recipe(data, "chain.yaml")


def scripted(model: str, *answers: str) -> dict:
    return {"engine": "scripted", "model": model, "answers": list(answers or [PASS_ANSWER])}


def image() -> np.ndarray:
    picture = np.full((480, 640, 3), 128, np.uint8)
    picture[200:240, 300:360] = (0, 0, 255)
    return picture


@pytest.fixture
def openai_fake(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    fake = FakeProvider("openai")
    yield fake
    fake.close()


def test_engines_are_tried_in_order_until_one_answers(tmp_path):
    engines = [
        {"engine": "scripted", "model": "crashes", "fail_every": 1},
        scripted("unsure", UNSURE_ANSWER),
        scripted("decides", FAIL_ANSWER),
        scripted("never-asked"),
    ]
    chain = build_chain(recipe(engines), "chain.yaml")
    verdict = chain.judge(image())
    assert verdict.outcome is Outcome.FAIL
    assert [a.model_id for a in verdict.attempts] == ["crashes", "unsure", "decides"]
    assert "scripted model crash" in verdict.attempts[0].error
    assert verdict.attempts[1].outcome is Outcome.UNSURE
    assert chain.judges[3].calls == 0


def test_what_makes_the_chain_fall_back_is_the_recipes_choice():
    only_errors = {"fallback_on": ["error"]}
    chain = build_chain(
        recipe([scripted("unsure", UNSURE_ANSWER), scripted("next")], chain=only_errors), "r"
    )
    verdict = chain.judge(image())
    assert verdict.outcome is Outcome.UNSURE  # UNSURE does not fall back here
    assert chain.judges[1].calls == 0

    only_unsure = {"fallback_on": ["unsure"]}
    crashes = {"engine": "scripted", "model": "crashes", "fail_every": 1}
    chain = build_chain(recipe([crashes, scripted("next")], chain=only_unsure), "r")
    verdict = chain.judge(image())
    assert verdict.outcome is Outcome.UNSURE and chain.judges[1].calls == 0


def test_a_chain_that_ends_without_a_verdict_is_unsure_with_every_attempt():
    crashes = {"engine": "scripted", "model": "crashes", "fail_every": 1}
    chain = build_chain(recipe([crashes, scripted("unsure", UNSURE_ANSWER)]), "r")
    verdict = chain.judge(image())
    assert verdict.outcome is Outcome.UNSURE
    assert [a.model_id for a in verdict.attempts] == ["crashes", "unsure"]


def test_an_attempt_past_its_timeout_is_recorded_and_the_next_engine_answers():
    slow = {"engine": "scripted", "model": "slow", "delay_s": 3.0, "timeout_s": 0.2}
    chain = build_chain(recipe([slow, scripted("fast", FAIL_ANSWER)]), "r")
    start = time.monotonic()
    verdict = chain.judge(image())
    assert time.monotonic() - start < 2.0
    assert verdict.outcome is Outcome.FAIL
    timed_out, answered = verdict.attempts
    assert timed_out.model_id == "slow" and "no answer within 0.2 s" in timed_out.error
    assert timed_out.outcome is None and not timed_out.image_left_site
    assert answered.model_id == "fast" and answered.error is None


def test_the_recipe_timeout_applies_to_every_engine_without_its_own():
    slow = {"engine": "scripted", "model": "slow", "delay_s": 3.0}
    chain = build_chain(recipe([slow], chain={"timeout_s": 0.2}), "r")
    verdict = chain.judge(image())
    assert verdict.outcome is Outcome.UNSURE
    assert "within 0.2 s" in verdict.attempts[0].error


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_breaker_skips_an_engine_that_keeps_failing_then_tries_it_again():
    crashes = {"engine": "scripted", "model": "crashes", "fail_every": 1}
    policy = ChainPolicy(breaker_failures=2, breaker_cooldown_s=30)
    built = build_chain(recipe([crashes, scripted("backup")]), "r")
    clock = Clock()
    chain = JudgeChain(built.judges, policy, clock=clock)
    failing = chain.judges[0]

    for _ in range(2):
        assert chain.judge(image()).outcome is Outcome.PASS  # the backup answers
    assert failing.calls == 2
    skipped = chain.judge(image())  # the breaker is open: no call, the backup judges at once
    assert failing.calls == 2
    assert [a.model_id for a in skipped.attempts] == ["backup"]

    clock.now += 31  # after the cooldown one trial call goes through; it fails: open again
    chain.judge(image())
    assert failing.calls == 3
    chain.judge(image())
    assert failing.calls == 3


def test_a_skipped_engine_is_named_when_no_engine_judged():
    crashes = {"engine": "scripted", "model": "crashes", "fail_every": 1}
    built = build_chain(recipe([crashes]), "r")
    chain = JudgeChain(built.judges, ChainPolicy(breaker_failures=1), clock=Clock())
    chain.judge(image())
    verdict = chain.judge(image())
    assert verdict.outcome is Outcome.UNSURE and verdict.attempts == ()
    assert "crashes skipped: failed 1 times in a row" in verdict.reason


def test_a_retry_after_longer_than_the_recipe_allows_falls_back_at_once(openai_fake):
    openai_fake.queue(Reply.error(429, retry_after="120"))
    cloud = {"engine": "openai", "model": "gpt-4.1", "base_url": openai_fake.url}
    built = build_chain(recipe([cloud, scripted("local")], privacy={"images_may_leave": True}), "r")
    waits: list[float] = []
    chain = JudgeChain(built.judges, built.policy, sleep=waits.append)
    verdict = chain.judge(image())
    assert waits == []
    assert verdict.outcome is Outcome.PASS
    assert [a.engine for a in verdict.attempts] == ["openai", "scripted"]
    assert "HTTP 429" in verdict.attempts[0].error


def test_by_default_no_image_leaves_the_site(openai_fake, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY")  # never called, so it needs no key either
    cloud = {"engine": "openai", "model": "gpt-4.1", "base_url": openai_fake.url}
    chain = build_chain(recipe([scripted("local", UNSURE_ANSWER), cloud]), "r")
    messages: list[str] = []
    chain.load(progress=messages.append)
    verdict = chain.judge(image())
    assert openai_fake.requests == []
    assert verdict.outcome is Outcome.UNSURE
    assert not verdict.image_left_site
    assert [a.engine for a in verdict.attempts] == ["scripted"]
    assert "keeps images on site" in verdict.reason
    assert any("will not be used" in m for m in messages)

    # Called directly, outside any chain, the engine refuses too: nothing is sent.
    direct = chain.judges[1].judge(image())
    assert openai_fake.requests == []
    assert "ImagesStayOnSite" in direct.attempts[0].error
    assert not direct.attempts[0].image_left_site


def test_an_off_site_compatible_server_is_under_the_privacy_rule(openai_fake):
    remote = {"engine": "openai-compatible", "model": "m", "base_url": "https://api.example.com/v1"}
    chain = build_chain(recipe([remote]), "r")
    assert chain.judges[0].leaves_site
    verdict = chain.judge(image())
    assert verdict.outcome is Outcome.UNSURE and verdict.attempts == ()
    assert "no engine could judge" in verdict.reason and "keeps images on site" in verdict.reason


def test_allowed_to_leave_only_the_downscaled_roi_leaves(openai_fake):
    cloud = {"engine": "openai", "model": "gpt-4.1", "base_url": openai_fake.url}
    privacy = {"images_may_leave": True, "roi_only": True, "max_side": 160}
    chain = build_chain(recipe([cloud], roi=ROI, privacy=privacy), "r")
    reference = np.full((480, 640, 3), 128, np.uint8)
    chain.set_references([reference])
    verdict = chain.judge(image())
    assert openai_fake.violations == []
    [sent] = images_sent("openai", openai_fake.requests[-1].body)  # the reference stayed home
    assert sent.shape[:2] == (120, 160)  # the 320x240 ROI, halved
    assert verdict.outcome is Outcome.FAIL
    assert np.allclose(verdict.defects[0].box.as_list(), (300, 200, 360, 240), atol=4)
    assert verdict.attempts[0].image_left_site


def test_references_leave_only_when_allowed_and_cropped_like_the_part(openai_fake):
    cloud = {"engine": "openai", "model": "gpt-4.1", "base_url": openai_fake.url}
    privacy = {"images_may_leave": True, "roi_only": True, "references_may_leave": True}
    chain = build_chain(recipe([cloud], roi=ROI, privacy=privacy), "r")
    same_camera = np.full((480, 640, 3), 100, np.uint8)
    other_camera = np.full((300, 300, 3), 100, np.uint8)  # not croppable to the ROI: stays
    chain.set_references([same_camera, other_camera])
    chain.judge(image())
    sent = images_sent("openai", openai_fake.requests[-1].body)
    assert [i.shape[:2] for i in sent] == [(240, 320), (240, 320)]
    texts = [
        p["text"]
        for p in openai_fake.requests[-1].body["input"][0]["content"]
        if p["type"] == "input_text"
    ]
    # After the instructions, before the part: the stable prefix (judges/prompt.py).
    assert texts[1].startswith("Reference images")
    assert texts[-2] == "The part to inspect:"


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"privacy": {"roi_only": True}}, "field `privacy`: Value error, `roi_only: true` needs"),
        ({"chain": {"fallback_on": ["eror"]}}, "field `chain.fallback_on.0`"),
        ({"chain": {"timeout_s": 0}}, "field `chain.timeout_s`"),
        ({"privacy": {"images_may_leave": "sometimes"}}, "field `privacy.images_may_leave`"),
    ],
)
def test_chain_and_privacy_settings_are_checked(fields, expected):
    with pytest.raises(InputError, match=r"recipe chain\.yaml: ") as caught:
        recipe([scripted("x")], **fields)
    assert expected in str(caught.value)


def test_a_recipe_without_chain_or_privacy_keeps_its_recorded_content():
    plain = recipe([scripted("x")])
    assert "chain:" not in plain.to_yaml() and "privacy:" not in plain.to_yaml()
    assert "privacy:" in recipe([scripted("x")], privacy={"images_may_leave": True}).to_yaml()
