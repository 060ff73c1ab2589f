"""An answer cannot be argued into PASS: contradictions and hostile shapes, named and generated.

Every case the issue names has its own test with the reason it must give; hypothesis then
generates contradictions (tests/support/hostile_answers.py) and a seeded corpus of 10,000 more
is read. None may be PASS, while honest PASS answers in the same dress still are.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inspector.domain import Outcome
from inspector.judges.answer_json import MAX_DEPTH, MAX_TOKENS
from inspector.judges.answers import (
    RAW_TEXT_LIMIT,
    BoxConvention,
    ImageGeometry,
    cap_raw_text,
    read_verdict,
)
from tests.judges.test_answers import RECIPE
from tests.support.hostile_answers import FAMILIES, clean_pass, hostile

WHOLE = ImageGeometry.whole(640, 480)
PASS = '{"outcome": "PASS", "defects": [], "confidence": 0.95, "reason": "clean"}'
FAIL_DENT = '{"outcome": "FAIL", "defects": [{"class": "dent", "box": [1, 2, 30, 40]}]}'


def read(text: str):
    return read_verdict(text, RECIPE, WHOLE, BoxConvention.XYXY_1000)


# --- every named case: UNSURE, saying what was contradictory ----------------------------------


@pytest.mark.parametrize(
    ("text", "said"),
    [
        pytest.param(
            '{"outcome": "FAIL", "outcome": "PASS", "defects": []}',
            "gives `outcome` twice",
            id="duplicate-outcome",
        ),
        pytest.param(
            '{"outcome": "PASS", "defects": [{"class": "dent"}], "defects": []}',
            "gives `defects` twice",
            id="defect-list-then-empty",
        ),
        pytest.param(
            '{"Outcome": "FAIL", "outcome": "PASS"}', "gives `outcome` twice", id="key-any-case"
        ),
        pytest.param(
            '{"outcome": "FAIL", "\\u006futcome": "PASS"}',
            "gives `outcome` twice",
            id="key-escaped",
        ),
        pytest.param(
            f"```json\n{PASS}\n```\nOn second look:\n{FAIL_DENT}",
            "PASS (`outcome` of object 1), FAIL (`outcome` of object 2)",
            id="fenced-pass-then-unfenced-fail",
        ),
        pytest.param(
            '{"outcome": "PASS", "verdict": "FAIL", "defects": []}',
            "PASS (`outcome`), FAIL (`verdict`)",
            id="outcome-beside-verdict",
        ),
        pytest.param(
            '{"outcome": "PASS", "result": "unsure"}',
            "PASS (`outcome`), UNSURE (`result`)",
            id="outcome-beside-result",
        ),
        pytest.param(
            f'{{"outcome": "PASS", "defects": [], "details": {FAIL_DENT}}}',
            "FAIL (`outcome` nested in object 1)",
            id="pass-wrapping-fail",
        ),
        pytest.param(
            f'{{"outcome": "PASS", "notes": [{{"x": {FAIL_DENT}}}]}}',
            "FAIL (`outcome` nested in object 1)",
            id="fail-deep-in-a-list",
        ),
        pytest.param(f"[{PASS}, {FAIL_DENT}]", "conflicting verdicts", id="list-of-verdicts"),
        pytest.param('{"outcome": "PASS", "defects": {}}', "`defects` is {}", id="defects-{}"),
        pytest.param(
            '{"outcome": "PASS", "defects": false}', "`defects` is false", id="defects-false"
        ),
        pytest.param('{"outcome": "PASS", "defects": 0}', "`defects` is 0", id="defects-0"),
        pytest.param(
            '{"outcome": "PASS", "defects": null}', "`defects` is null", id="defects-null"
        ),
        pytest.param(
            '{"outcome": "PASS", "defects": "none"}', '`defects` is "none"', id="defects-str"
        ),
        pytest.param(
            '{"outcome": "PASS", "defects": {"class": "dent"}}',
            "not a list",
            id="defects-one-object",
        ),
        pytest.param(
            f'{PASS} {{"outcome": "PASS", "defects": ["dent"]}}',
            "list different defects",
            id="two-passes-one-with-a-dent",
        ),
        pytest.param(
            '{"outcome": "PASS", "defects": [], "issues": ["dent"]}',
            "list different defects",
            id="defects-under-another-key",
        ),
        pytest.param(
            '{"outcome": "PASS", "defects": [], "details": '
            '{"outcome": "PASS", "defects": ["dent"]}}',
            "list different defects",
            id="nested-pass-with-a-dent",
        ),
        pytest.param(
            '{"outcome": "PASS", "passed": false}', "FAIL (`passed: false`)", id="passed-false"
        ),
        pytest.param(
            '{"outcome": "PASS", "has_defects": true}',
            "FAIL (`has_defects: true`)",
            id="has-defects-true",
        ),
        pytest.param(
            f"Verdict: FAIL, a dent near the hole.\n{PASS}",
            "FAIL (the text 'Verdict: FAIL')",
            id="prose-verdict",
        ),
        pytest.param(
            f'{PASS}\n{{"outcome": "FAIL", "defects": [{{"class": "dent"',
            "FAIL (the text",
            id="truncated-second-object",
        ),
        pytest.param(
            f"{PASS} {{'outcome': 'FAIL'}}", "FAIL (the text", id="python-dict-beside-json"
        ),
        pytest.param(
            '{"outcome": "PASS", "reason": "clean\\nresult: fail"}',
            "FAIL (the text 'result: fail')",
            id="verdict-inside-the-reason",
        ),
        pytest.param(
            f'{PASS} {{"outcome": "\\u0046AIL"}}', "FAIL (`outcome` of object 2)", id="escaped"
        ),
        pytest.param(
            f'{PASS} {{"outcome": "PASS", "confidence": 0.1}}',
            "different confidences",
            id="confidences-disagree",
        ),
        pytest.param(
            '{"a": ' * (MAX_DEPTH + 1) + PASS + "}" * (MAX_DEPTH + 1),
            f"nested more than {MAX_DEPTH} deep",
            id="pass-nested-too-deep",
        ),
        pytest.param(
            PASS + '{"a": ""}' * (MAX_TOKENS // 2),
            f"more than {MAX_TOKENS} braces",
            id="pass-in-a-flood",
        ),
    ],
)
def test_a_contradictory_answer_is_unsure_saying_why(text: str, said: str) -> None:
    verdict = read(text)
    assert verdict.outcome is Outcome.UNSURE
    assert said in verdict.reason, verdict.reason


@pytest.mark.parametrize(
    ("defects", "expected"),
    [
        pytest.param(["dent"], Outcome.FAIL, id="critical"),
        pytest.param([{"class": "scratch", "confidence": 0.9}], Outcome.FAIL, id="major"),
        pytest.param(["burr"], Outcome.UNSURE, id="a-class-not-in-the-recipe"),
        pytest.param([{"box": [1, 2, 3, 4]}], Outcome.UNSURE, id="unnamed"),
        pytest.param([{"class": "scratch", "confidence": 0.1}], Outcome.UNSURE, id="doubtful"),
    ],
)
def test_a_pass_that_lists_defects_is_not_a_pass(defects: list, expected: Outcome) -> None:
    verdict = read(json.dumps({"outcome": "PASS", "defects": defects}))
    assert verdict.outcome is expected
    # Only a defect the recipe itself lets pass (a minor one) leaves a PASS.
    assert read(json.dumps({"outcome": "PASS", "defects": ["smudge"]})).outcome is Outcome.PASS


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(f'{PASS}\n{{"outcome": "pass"}}', id="the-same-verdict-twice"),
        pytest.param(f'{{"response": {PASS}}}', id="wrapped-in-an-object"),
        pytest.param(f"Stray {{ in prose. {PASS}", id="stray-open-brace"),
        pytest.param(f"}} and {{maybe}} {PASS}", id="prose-braces"),
        pytest.param('{"outcome": "PASS", "passed": true, "defects": []}', id="agreeing-keys"),
        pytest.param(f"<think>verdict: FAIL? no</think>{PASS}", id="a-doubt-while-thinking"),
        pytest.param(f"Result: pass.\n```json\n{PASS}\n```", id="agreeing-prose"),
    ],
)
def test_agreeing_answers_still_pass(text: str) -> None:
    verdict = read(text)
    assert verdict.outcome is Outcome.PASS, verdict.reason


def test_hostile_shapes_of_a_megabyte_are_unsure_with_a_reason() -> None:
    size = 1_000_000
    for text in ("{" * size, '{"a":' * (size // 5), PASS * (size // len(PASS)), '"' * size):
        verdict = read(text)
        assert verdict.outcome is Outcome.UNSURE
        assert verdict.reason
    # An honest answer padded with a megabyte of prose is read whole.
    assert read("Looking closely. " * (size // 17) + PASS).outcome is Outcome.PASS


# --- generated: hypothesis, and a corpus of 10,000 --------------------------------------------


@st.composite
def hostile_answers(draw) -> tuple[str, str]:
    return hostile(lambda options: draw(st.sampled_from(list(options))))


@st.composite
def clean_answers(draw) -> str:
    return clean_pass(lambda options: draw(st.sampled_from(list(options))))


GENERATED = settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@GENERATED
@given(case=hostile_answers())
def test_no_generated_contradiction_is_pass(case: tuple[str, str]) -> None:
    family, text = case
    verdict = read(text)
    assert verdict.outcome is not Outcome.PASS, (family, text)
    assert verdict.reason


@GENERATED
@given(text=clean_answers())
def test_the_same_dress_on_an_honest_pass_is_pass(text: str) -> None:
    verdict = read(text)
    assert verdict.outcome is Outcome.PASS, (text, verdict.reason)


def test_a_corpus_of_ten_thousand_hostile_answers_has_no_pass() -> None:
    rng = random.Random(20261130)
    families: Counter[str] = Counter()
    outcomes: Counter[Outcome] = Counter()
    for _ in range(10_000):
        family, text = hostile(rng.choice)
        verdict = read(text)
        assert verdict.outcome is not Outcome.PASS, (family, text)
        assert verdict.reason
        families[family] += 1
        outcomes[verdict.outcome] += 1
    assert sum(families.values()) == 10_000
    assert set(families) == set(FAMILIES)  # every family was tried, hundreds of times each
    assert min(families.values()) > 300, families
    print(f"\n10,000 hostile answers: {dict(outcomes)}")
    # The controls: 1,000 honest answers in the same dress all pass.
    assert all(read(clean_pass(rng.choice)).outcome is Outcome.PASS for _ in range(1_000))


# --- the raw answer the record keeps ----------------------------------------------------------

_MARKER = re.compile(r"\[answer truncated: (\d+) characters, sha256 ([0-9a-f]{64}); ")


def test_an_answer_within_the_cap_is_kept_whole() -> None:
    text = "x" * RAW_TEXT_LIMIT
    assert cap_raw_text(text) is text


@pytest.mark.parametrize("length", [RAW_TEXT_LIMIT + 1, 1_000_000, 50_000_000])
def test_a_long_answer_is_capped_keeping_its_length_digest_head_and_tail(length: int) -> None:
    text = "<think>" + "t" * (length - 7 - len(PASS) - 8) + "</think>" + PASS
    assert len(text) == length
    kept = cap_raw_text(text)
    assert len(kept) <= RAW_TEXT_LIMIT
    found = _MARKER.search(kept)
    assert found is not None
    assert int(found.group(1)) == length
    assert found.group(2) == hashlib.sha256(text.encode()).hexdigest()
    assert kept.startswith("<think>ttt") and kept.endswith("</think>" + PASS)  # the verdict kept
    assert cap_raw_text(kept) is kept  # capping twice changes nothing


def test_a_capped_answer_with_a_lone_surrogate_names_its_digest() -> None:
    text = "\ud800" + "y" * RAW_TEXT_LIMIT
    found = _MARKER.search(cap_raw_text(text))
    assert found is not None
    expected = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    assert found.group(2) == expected
