"""The model-answer parser: every convention it claims to read, and the fail-safe rule, fuzzed.

Expected boxes are worked out by hand in the comments (crop offset + value * crop size / scale),
not with the parser's formula.
"""

from __future__ import annotations

import json
import math
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from inspector.domain import Box, Outcome, Region, Severity
from inspector.judges.answers import (
    BoxConvention,
    ImageGeometry,
    find_verdict_objects,
    map_box,
    read_verdict,
    strip_thinking,
)
from inspector.recipes import Recipe, parse_recipe

PIXELS, XYXY, YXYX = BoxConvention.PIXELS, BoxConvention.XYXY_1000, BoxConvention.YXYX_1000
_OUTCOME_KEYS = ("outcome", "verdict", "result")  # the parser reads all three as the outcome


def make_recipe(**pass_rule: object) -> Recipe:
    return parse_recipe(
        {
            "name": "bracket",
            "version": 1,
            "prompt": "Inspect the bracket.",
            "defects": [
                {"name": "scratch", "severity": "major"},
                {"name": "dent", "severity": "critical"},
                {"name": "smudge", "severity": "minor"},
            ],
            "pass_rule": pass_rule,
        },
        "test",
    )


RECIPE = make_recipe()
RECIPE_FAIL_UNKNOWN = make_recipe(unknown_defect="fail")
WHOLE = ImageGeometry.whole(640, 480)
# An ROI of 400 x 300 at (100, 200) in a 1280 x 960 source image.
ROI = ImageGeometry(1280, 960, Region(100, 200, 400, 300))
# The same ROI, which Qwen2.5-VL resized to 200 x 150 before it saw it (scale 2 both ways).
QWEN_ROI = ImageGeometry(1280, 960, Region(100, 200, 400, 300), model_width=200, model_height=150)


def read(text: str, geometry=WHOLE, convention=XYXY, recipe=RECIPE):
    return read_verdict(text, recipe, geometry, convention)


def fail_with(defect: dict) -> str:
    return json.dumps({"outcome": "FAIL", "defects": [defect]})


# --- where the verdict is, and what it says ---------------------------------------------------

P = '{"outcome": "PASS", "reason": "clean"}'
F = '{"outcome": "FAIL", "defects": ["scratch"]}'


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(f"```json\n{P}\n```", Outcome.PASS, id="json-fence"),
        pytest.param(f"```JSON\n{F}\n```", Outcome.FAIL, id="json-fence-upper"),
        pytest.param(f"```\n{P}\n```", Outcome.PASS, id="bare-fence"),
        pytest.param(f"Here is my verdict:\n```json\n{P}", Outcome.PASS, id="unclosed-fence"),
        pytest.param(f"The bracket looks fine. {P} That is all.", Outcome.PASS, id="json-in-prose"),
        pytest.param(f"◁think▷Maybe {F}? No.◁/think▷{P}", Outcome.PASS, id="kimi-think"),
        pytest.param(
            f"◁think▷Maybe {P}? No.◁/think▷\n```json\n{F}\n```", Outcome.FAIL, id="kimi-2"
        ),
        pytest.param(f"<think>draft {F}</think>\n{P}", Outcome.PASS, id="think"),
        pytest.param(f"<thinking>draft {P}</thinking> {F}", Outcome.FAIL, id="thinking"),
        pytest.param(f"<think>looks clean, so {P}", Outcome.UNSURE, id="ends-in-think"),
        pytest.param(f"◁think▷looks clean, so {P}", Outcome.UNSURE, id="ends-in-kimi-think"),
        pytest.param(
            f"<think>a</think>\n<think>again: {P}", Outcome.UNSURE, id="ends-in-2nd-think"
        ),
        pytest.param(f"◁think▷a◁/think▷<think>b {P}", Outcome.UNSURE, id="ends-in-other-think"),
        pytest.param(f"the prompt opened it: {F}</think>{P}", Outcome.PASS, id="close-tag-only"),
        pytest.param(f"reasoning {F} ◁/think▷ {P}", Outcome.PASS, id="kimi-close-only"),
        pytest.param('{"outcome": "PASS", "defects": [],}', Outcome.PASS, id="trailing-comma"),
        pytest.param(
            '```json\n{"outcome": "FAIL", "defects": '
            '[{"class": "dent", "box": [1, 2, 30, 40,],},],}\n```',
            Outcome.FAIL,
            id="trailing-commas-nested",
        ),
        pytest.param(f"{P}\n{F}", Outcome.UNSURE, id="conflict-prose"),
        pytest.param(f"```json\n{P}\n```\n```json\n{F}\n```", Outcome.UNSURE, id="conflict-fences"),
        pytest.param(f'{P} {{"outcome": "unsure"}}', Outcome.UNSURE, id="conflict-unsure"),
        pytest.param(f'{P} {{"outcome": " pass "}}', Outcome.PASS, id="agreeing-twice"),
        pytest.param('{"outcome": "pass"}', Outcome.PASS, id="lower-pass"),
        pytest.param('{"outcome": "fail"}', Outcome.FAIL, id="lower-fail"),
        pytest.param('{"outcome": " Pass\\n"}', Outcome.PASS, id="mixed-case-space"),
        pytest.param('{"outcome": "unsure"}', Outcome.UNSURE, id="lower-unsure"),
        pytest.param('{"verdict": "PASS"}', Outcome.PASS, id="verdict-key"),
        pytest.param('{"result": "fail"}', Outcome.FAIL, id="result-key"),
        pytest.param('{"outcome": "OK"}', Outcome.UNSURE, id="unknown-word"),
        pytest.param('{"outcome": "PASSED"}', Outcome.UNSURE, id="unknown-passed"),
        pytest.param('{"outcome": "paſſ"}', Outcome.UNSURE, id="non-ascii-look-alike"),
        pytest.param('{"outcome": true}', Outcome.UNSURE, id="outcome-bool"),
        pytest.param('{"outcome": ["PASS"]}', Outcome.UNSURE, id="outcome-list"),
        pytest.param('{"outcome": null}', Outcome.UNSURE, id="outcome-null"),
        pytest.param("PASS", Outcome.UNSURE, id="bare-word"),
        pytest.param("", Outcome.UNSURE, id="empty"),
        pytest.param('{"reason": "fine"}', Outcome.UNSURE, id="no-outcome"),
        pytest.param('{"outcome": "PASS"', Outcome.UNSURE, id="truncated"),
        pytest.param('{"outcome": "PASS", "defects": "none"}', Outcome.UNSURE, id="defects-str"),
        pytest.param('{"outcome": "PASS", "defects": [42]}', Outcome.UNSURE, id="defect-number"),
        pytest.param('{"outcome": "PASS", "defects": [{}]}', Outcome.UNSURE, id="defect-no-name"),
        pytest.param('{"outcome": "PASS", "x": ' + "[" * 50_000, Outcome.UNSURE, id="deep-open"),
        pytest.param('{"a":' * 5_000 + P + "}" * 5_000, Outcome.UNSURE, id="deep-nesting"),
    ],
)
def test_outcome(text: str, expected: Outcome) -> None:
    verdict = read(text)
    assert verdict.outcome is expected
    if expected is Outcome.UNSURE:
        assert verdict.reason  # a person is told why


# --- boxes: each family's convention back to source pixels ------------------------------------


@pytest.mark.parametrize(
    ("text", "geometry", "convention", "expected"),
    [
        # Qwen2.5-VL, pixels of the 200 x 150 model input of the ROI: scale 400/200 = 2, 300/150 = 2
        # x0 = 100 + 10*2 = 120, y0 = 200 + 20*2 = 240, x1 = 100 + 50*2 = 200, y1 = 200 + 60*2 = 320
        pytest.param(
            fail_with({"class": "scratch", "bbox_2d": [10, 20, 50, 60]}),
            QWEN_ROI,
            PIXELS,
            Box(120, 240, 200, 320),
            id="qwen-roi",
        ),
        # Qwen, whole 1000 x 750 image resized to 500 x 300: scale x 1000/500 = 2, y 750/300 = 2.5
        # x0 = 100*2 = 200, y0 = 30*2.5 = 75, x1 = 201*2 = 402, y1 = 61*2.5 = 152.5 -> ceil 153
        pytest.param(
            fail_with({"class": "scratch", "bbox_2d": [100, 30, 201, 61]}),
            ImageGeometry(1000, 750, Region(0, 0, 1000, 750), model_width=500, model_height=300),
            PIXELS,
            Box(200, 75, 402, 153),
            id="qwen-uneven-scale",
        ),
        # Pixels, model size unknown: pixels of the crop itself
        # x0 = 100 + 10 = 110, y0 = 200 + 20 = 220, x1 = 100 + 50 = 150, y1 = 200 + 60 = 260
        pytest.param(
            fail_with({"class": "scratch", "bbox_2d": [10, 20, 50, 60]}),
            ROI,
            PIXELS,
            Box(110, 220, 150, 260),
            id="pixels-no-model-size",
        ),
        # Qwen box past the model input's edge: x0 = 100 + 150*2 = 400, x1 = 100 + 250*2 = 600 ->
        # clipped to 100 + 400 = 500; y0 = 200 + 100*2 = 400, y1 = 200 + 200*2 = 600 -> 500
        pytest.param(
            fail_with({"class": "scratch", "bbox_2d": [150, 100, 250, 200]}),
            QWEN_ROI,
            PIXELS,
            Box(400, 400, 500, 500),
            id="qwen-clipped",
        ),
        # InternVL 0-1000 on the ROI: x = 100 + v*400/1000, y = 200 + v*300/1000
        # x0 = 100 + 250*0.4 = 200, y0 = 200 + 500*0.3 = 350, x1 = 100 + 750*0.4 = 400,
        # y1 = 200 + 1000*0.3 = 500
        pytest.param(
            fail_with({"class": "scratch", "box": "<box>[[250, 500, 750, 1000]]</box>"}),
            ROI,
            XYXY,
            Box(200, 350, 400, 500),
            id="internvl-box-string",
        ),
        pytest.param(
            fail_with({"class": "scratch", "box": [[250, 500, 750, 1000]]}),
            ROI,
            XYXY,
            Box(200, 350, 400, 500),
            id="internvl-nested-list",
        ),
        pytest.param(
            fail_with({"class": "scratch", "box": "[250, 500, 750, 1000]"}),
            ROI,
            XYXY,
            Box(200, 350, 400, 500),
            id="box-list-as-string",
        ),
        pytest.param(
            fail_with(
                {"class": "scratch", "box": {"xmin": 250, "ymin": 500, "xmax": 750, "ymax": 1000}}
            ),
            ROI,
            XYXY,
            Box(200, 350, 400, 500),
            id="box-dict",
        ),
        pytest.param(
            "<ref>Scratch</ref><box>[[250,500,750,1000]]</box> near the hole.\n"
            + json.dumps({"outcome": "FAIL", "defects": [{"class": "scratch"}]}),
            ROI,
            XYXY,
            Box(200, 350, 400, 500),
            id="internvl-ref-in-prose",
        ),
        # Corners given the wrong way round: the same box
        pytest.param(
            fail_with({"class": "scratch", "box": [750, 1000, 250, 500]}),
            ROI,
            XYXY,
            Box(200, 350, 400, 500),
            id="swapped-corners",
        ),
        # Gemini box_2d [ymin, xmin, ymax, xmax] 0-1000 on the ROI: the same box as above
        pytest.param(
            fail_with({"class": "scratch", "box_2d": [500, 250, 1000, 750]}),
            ROI,
            YXYX,
            Box(200, 350, 400, 500),
            id="gemini-roi",
        ),
        # box_2d is Gemini's whatever the engine says: on 640 x 480, y0 = 100*0.48 = 48,
        # x0 = 200*0.64 = 128, y1 = 300*0.48 = 144, x1 = 400*0.64 = 256
        pytest.param(
            fail_with({"class": "scratch", "box_2d": [100, 200, 300, 400]}),
            WHOLE,
            XYXY,
            Box(128, 48, 256, 144),
            id="gemini-key-wins",
        ),
        # Whole 640 x 480, rounding outwards: x0 = 123*0.64 = 78.72 -> 78, y0 = 456*0.48 = 218.88
        # -> 218, x1 = 789*0.64 = 504.96 -> 505, y1 = 999*0.48 = 479.52 -> 480
        pytest.param(
            fail_with({"class": "scratch", "box": [123, 456, 789, 999]}),
            WHOLE,
            XYXY,
            Box(78, 218, 505, 480),
            id="rounds-outwards",
        ),
        # Clipping: x0 = -100*0.64 = -64 -> 0, y0 = -50*0.48 = -24 -> 0, x1 = 1200*0.64 = 768 ->
        # 640, y1 = 500*0.48 = 240
        pytest.param(
            fail_with({"class": "scratch", "box": [-100, -50, 1200, 500]}),
            WHOLE,
            XYXY,
            Box(0, 0, 640, 240),
            id="clipped-to-image",
        ),
        # Clipping to the ROI: x0 = 100 - 100*0.4 = 60 -> 100, y0 = 200 + 0 = 200,
        # x1 = 100 + 500*0.4 = 300, y1 = 200 + 1500*0.3 = 650 -> 200 + 300 = 500
        pytest.param(
            fail_with({"class": "scratch", "box": [-100, 0, 500, 1500]}),
            ROI,
            XYXY,
            Box(100, 200, 300, 500),
            id="clipped-to-roi",
        ),
    ],
)
def test_box(text: str, geometry: ImageGeometry, convention: BoxConvention, expected: Box) -> None:
    verdict = read(text, geometry, convention)
    assert verdict.outcome is Outcome.FAIL
    (defect,) = verdict.defects
    assert defect.class_name == "scratch"
    assert defect.severity is Severity.MAJOR
    assert defect.box == expected
    assert defect.note == ""


@pytest.mark.parametrize(
    "box_json",
    [
        pytest.param("[500, 500, 500, 900]", id="zero-width"),
        pytest.param("[100, 300, 400, 300]", id="zero-height"),
        pytest.param("[1100, 0, 1200, 100]", id="right-of-image"),
        pytest.param("[-300, -300, -100, -100]", id="above-left-of-image"),
        pytest.param("[1, 2, 3]", id="three-numbers"),
        pytest.param("[1, 2, 3, 4, 5]", id="five-numbers"),
        pytest.param('[1, 2, 3, "a"]', id="a-string"),
        pytest.param("[true, 0, 100, 100]", id="a-bool"),
        pytest.param("[NaN, 0, 100, 100]", id="nan"),
        pytest.param("[0, 0, Infinity, 100]", id="infinity"),
        pytest.param("[0, 0, 1e400, 100]", id="float-overflow"),
        pytest.param("[0, 0, 1" + "0" * 400 + ", 100]", id="huge-int"),
        pytest.param('"no box here"', id="prose"),
        pytest.param("{}", id="empty-dict"),
    ],
)
def test_unreadable_box_keeps_the_defect(box_json: str) -> None:
    text = '{"outcome": "FAIL", "defects": [{"class": "scratch", "box": ' + box_json + "}]}"
    verdict = read(text)
    assert verdict.outcome is Outcome.FAIL  # the defect still counts, without a box
    (defect,) = verdict.defects
    assert defect.box is None
    assert defect.note.startswith("unreadable box")


def test_box_of_a_minor_defect_outside_the_crop_leaves_a_pass() -> None:
    # Gemini [ymin, xmin, ymax, xmax] wholly below the image: clipped to nothing
    text = '{"outcome": "PASS", "defects": [{"class": "smudge", "box_2d": [1200, 0, 1400, 100]}]}'
    verdict = read(text, ROI, YXYX)
    assert verdict.outcome is Outcome.PASS
    assert verdict.defects[0].box is None


# --- confidence -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.9, 0.9),
        ("0.9", 0.9),
        ("90%", 0.9),
        ("90 %", 0.9),
        (90, 0.9),
        (90.0, 0.9),
        (100, 1.0),
        (1, 1.0),
        (0, 0.0),
        ("55%", 0.55),
    ],
)
def test_confidence_forms(value: object, expected: float) -> None:
    text = json.dumps({"outcome": "FAIL", "confidence": value, "defects": []})
    verdict = read(text)
    assert verdict.confidence == pytest.approx(expected)
    assert verdict.outcome is (Outcome.FAIL if expected >= 0.5 else Outcome.UNSURE)


@pytest.mark.parametrize("value", ["90%", 90, 0.9])
def test_defect_confidence_forms(value: object) -> None:
    verdict = read(fail_with({"class": "dent", "confidence": value}))
    assert verdict.defects[0].confidence == pytest.approx(0.9)


@pytest.mark.parametrize("value", ["high", "low", 150, "250%", -0.5, True, [0.9], ""])
def test_unreadable_confidence_is_unsure(value: object) -> None:
    verdict = read(json.dumps({"outcome": "PASS", "confidence": value}))
    assert verdict.outcome is Outcome.UNSURE
    assert "confidence" in verdict.reason


def test_absent_confidence_is_not_doubt() -> None:
    assert read('{"outcome": "PASS", "confidence": null}').outcome is Outcome.PASS


# --- the recipe's pass rule -------------------------------------------------------------------


def answer(outcome: str, *defects: object, **extra: object) -> str:
    return json.dumps({"outcome": outcome, "defects": list(defects), **extra})


@pytest.mark.parametrize(
    ("text", "recipe", "expected"),
    [
        pytest.param(answer("FAIL", {"class": "scratch"}), RECIPE, Outcome.FAIL, id="major-fails"),
        pytest.param(
            answer("PASS", {"class": "dent"}), RECIPE, Outcome.FAIL, id="recipe-overrules"
        ),
        pytest.param(answer("FAIL", "DENT"), RECIPE, Outcome.FAIL, id="class-any-case"),
        pytest.param(answer("FAIL", {"label": "scratch"}), RECIPE, Outcome.FAIL, id="label-key"),
        pytest.param(answer("FAIL"), RECIPE, Outcome.FAIL, id="fail-no-defects"),
        pytest.param(answer("PASS", {"class": "smudge"}), RECIPE, Outcome.PASS, id="minor-passes"),
        pytest.param(answer("FAIL", {"class": "smudge"}), RECIPE, Outcome.UNSURE, id="fail-minor"),
        pytest.param(answer("PASS", {"class": "crack"}), RECIPE, Outcome.UNSURE, id="unknown"),
        pytest.param(answer("FAIL", "crack"), RECIPE, Outcome.UNSURE, id="unknown-fail"),
        pytest.param(
            answer("PASS", {"class": "crack"}),
            RECIPE_FAIL_UNKNOWN,
            Outcome.FAIL,
            id="unknown-rule-fail",
        ),
        pytest.param(
            answer("PASS", {"class": "crack", "confidence": 0.2}),
            RECIPE_FAIL_UNKNOWN,
            Outcome.UNSURE,
            id="unknown-rule-fail-doubtful",
        ),
        pytest.param(answer("PASS", confidence=0.3), RECIPE, Outcome.UNSURE, id="low-confidence"),
        pytest.param(answer("PASS", confidence="30%"), RECIPE, Outcome.UNSURE, id="low-percent"),
        pytest.param(answer("PASS", confidence=0.5), RECIPE, Outcome.PASS, id="at-threshold"),
        pytest.param(
            answer("PASS", confidence=0.6),
            make_recipe(min_confidence=0.7),
            Outcome.UNSURE,
            id="recipe-threshold",
        ),
        pytest.param(
            answer("FAIL", {"class": "scratch", "confidence": 0.2}),
            RECIPE,
            Outcome.UNSURE,
            id="doubtful-major",
        ),
        pytest.param(
            answer("FAIL", {"class": "scratch", "confidence": 0.2}, {"class": "dent"}),
            RECIPE,
            Outcome.FAIL,
            id="one-sure-major",
        ),
        pytest.param(answer("UNSURE"), RECIPE, Outcome.UNSURE, id="model-unsure"),
        pytest.param(answer("unsure", "dent"), RECIPE, Outcome.UNSURE, id="model-unsure-dent"),
        pytest.param(
            answer("PASS", "scratch"),
            make_recipe(fail_severities=["critical"]),
            Outcome.PASS,
            id="only-critical-fails",
        ),
    ],
)
def test_pass_rule(text: str, recipe: Recipe, expected: Outcome) -> None:
    verdict = read(text, recipe=recipe)
    assert verdict.outcome is expected
    if expected is not Outcome.PASS:
        assert verdict.outcome is not Outcome.PASS


def test_defects_are_recorded_with_recipe_names_and_severities() -> None:
    verdict = read(answer("PASS", "SMUDGE", {"name": "Smudge", "box": [0, 0, 500, 500]}))
    assert verdict.outcome is Outcome.PASS
    assert [(d.class_name, d.severity) for d in verdict.defects] == [
        ("smudge", Severity.MINOR),
        ("smudge", Severity.MINOR),
    ]
    # 500 of 1000 of 640 x 480 = 320 x 240
    assert verdict.defects[1].box == Box(0, 0, 320, 240)
    unknown = read(answer("FAIL", "Crack")).defects[0]
    assert (unknown.class_name, unknown.severity) == ("Crack", None)


# --- properties -------------------------------------------------------------------------------

FRAGMENTS = [
    "{", "}", "[", "]", ":", ",", " ", "\n", '"',
    '"outcome"', '"verdict"', '"result"', '"PASS"', '"pass"', '"Pass"', '" PASS "', '"FAIL"',
    '"UNSURE"', '"defects"', '"confidence"', '"reason"', '"class"', '"scratch"', '"smudge"',
    '"dent"', '"crack"', '"box"', '"bbox_2d"', '"box_2d"', '"90%"',
    "```json", "```", "<think>", "</think>", "◁think▷", "◁/think▷", "<thinking>", "</thinking>",
    "<box>", "</box>", "<ref>", "</ref>", "[[", "]]",
    "0", "1", "0.9", "90", "-5", "1000", "1e400", "NaN", "Infinity", "null", "true", "false",
    '{"outcome": "PASS"}', '{"outcome": "FAIL"}', '{"outcome": "pass", "defects": []}',
]  # fmt: skip

_json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(),
    st.sampled_from(["PASS", "pass", "FAIL", "UNSURE", "scratch", "dent", "smudge", "crack", ""]),
    st.text(max_size=8),
)
_json_value = st.recursive(
    _json_leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.sampled_from(["outcome", "defects", "confidence", "class", "box", "box_2d", "x"]),
            inner,
            max_size=4,
        ),
    ),
    max_leaves=12,
)
_verdictish = st.dictionaries(
    st.sampled_from(["outcome", "verdict", "result", "defects", "confidence", "reason"]),
    _json_value,
    max_size=5,
).map(lambda d: json.dumps(d, allow_nan=True))

texts = st.one_of(
    st.text(),
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=4)), max_size=40).map("".join),
    st.lists(st.one_of(_verdictish, st.sampled_from(FRAGMENTS)), max_size=8).map("".join),
)
recipes = st.sampled_from([RECIPE, RECIPE_FAIL_UNKNOWN, make_recipe(min_confidence=0.9)])
conventions = st.sampled_from(list(BoxConvention))

FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _says_pass(obj: dict) -> bool:
    value = next(obj[k] for k in _OUTCOME_KEYS if k in obj)
    return isinstance(value, str) and value.strip().lower() == "pass"


@FUZZ
@given(text=texts, recipe=recipes, convention=conventions)
def test_never_passes_by_default(text: str, recipe: Recipe, convention: BoxConvention) -> None:
    verdict = read_verdict(text, recipe, ROI, convention)  # never raises
    assert verdict.outcome in (Outcome.PASS, Outcome.FAIL, Outcome.UNSURE)
    if verdict.outcome is Outcome.UNSURE:
        assert verdict.reason
    if verdict.outcome is Outcome.PASS:
        answer_text = strip_thinking(text)
        assert answer_text is not None
        objects = find_verdict_objects(answer_text)
        assert objects
        assert all(_says_pass(o) for o in objects)
        rule = recipe.pass_rule
        assert all(d.severity is not None for d in verdict.defects)
        assert not any(d.severity in rule.fail_severities for d in verdict.defects)
        assert verdict.confidence is None or verdict.confidence >= rule.min_confidence


_numbers = st.one_of(
    st.floats(),
    st.integers(-2000, 2000),
    st.integers(-(10**400), 10**400),
    st.sampled_from([0, 1000, -1, 1e308, -1e308, 5e-324, math.nan, math.inf, -math.inf]),
)


@st.composite
def geometries(draw) -> ImageGeometry:
    width, height = draw(st.integers(1, 5000)), draw(st.integers(1, 5000))
    x, y = draw(st.integers(0, width - 1)), draw(st.integers(0, height - 1))
    crop = Region(x, y, draw(st.integers(1, width - x)), draw(st.integers(1, height - y)))
    model = draw(st.none() | st.tuples(st.integers(1, 4000), st.integers(1, 4000)))
    return ImageGeometry(width, height, crop, *(model or (None, None)))


def _box_text(form: str, values: list) -> str:
    listed = json.dumps(values, allow_nan=True)
    if form == "ref":  # InternVL grounding in prose, next to the JSON
        return f"<ref>dent</ref><box>[{listed}]</box>\n" + answer("FAIL", {"class": "dent"})
    key, value = {
        "box-string": ("box", f"<box>[{listed}]</box>"),
        "nested": ("box", [values]),
    }.get(form, (form, values))
    return fail_with({"class": "dent", key: value})


def _inside(box: Box, geometry: ImageGeometry) -> None:
    crop = geometry.crop
    assert all(isinstance(v, int) for v in box.as_list())
    assert box.width > 0 and box.height > 0
    assert 0 <= box.x0 < box.x1 <= geometry.source_width
    assert 0 <= box.y0 < box.y1 <= geometry.source_height
    assert crop.x <= box.x0 and box.x1 <= crop.x + crop.width
    assert crop.y <= box.y0 and box.y1 <= crop.y + crop.height


@FUZZ
@given(
    values=st.lists(_numbers, min_size=0, max_size=6),
    geometry=geometries(),
    convention=conventions,
    form=st.sampled_from(["box", "bbox", "bbox_2d", "box_2d", "box-string", "nested", "ref"]),
)
def test_boxes_stay_inside_image_and_crop(
    values: list, geometry: ImageGeometry, convention: BoxConvention, form: str
) -> None:
    verdict = read_verdict(_box_text(form, values), RECIPE, geometry, convention)
    assert verdict.outcome is Outcome.FAIL  # dent is critical, box or no box
    (defect,) = verdict.defects
    assert (defect.box is None) == bool(defect.note)
    if defect.box is not None:
        _inside(defect.box, geometry)


@FUZZ
@given(
    values=st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=4, max_size=4),
    geometry=geometries(),
    convention=conventions,
)
def test_map_box_stays_inside(values: list, geometry: ImageGeometry, convention: BoxConvention):
    box = map_box(values, convention, geometry)
    if box is not None:
        _inside(box, geometry)


@FUZZ
@given(
    values=st.lists(st.integers(-500, 1500), min_size=4, max_size=4),
    geometry=geometries(),
    convention=conventions,
)
def test_map_box_covers_the_exact_box(values: list, geometry: ImageGeometry, convention):
    """Against exact rational arithmetic: the box covers the clipped true box, within a pixel."""
    crop = geometry.crop
    if convention is BoxConvention.YXYX_1000:
        ty0, tx0, ty1, tx1 = values
    else:
        tx0, ty0, tx1, ty1 = values
    if convention is BoxConvention.PIXELS:
        scale_x = Fraction(crop.width, geometry.model_width or crop.width)
        scale_y = Fraction(crop.height, geometry.model_height or crop.height)
    else:
        scale_x, scale_y = Fraction(crop.width, 1000), Fraction(crop.height, 1000)

    def exact(a: int, b: int, origin: int, size: int, scale: Fraction) -> tuple[Fraction, ...]:
        low, high = sorted((origin + a * scale, origin + b * scale))
        return tuple(min(max(v, Fraction(origin)), Fraction(origin + size)) for v in (low, high))

    left, right = exact(tx0, tx1, crop.x, crop.width, scale_x)
    top, bottom = exact(ty0, ty1, crop.y, crop.height, scale_y)
    box = map_box([float(v) for v in values], convention, geometry)
    if box is None:
        # only when the clipped box is (nearly) empty in pixels
        assert math.ceil(right) - math.floor(left) <= 1 or math.ceil(bottom) - math.floor(top) <= 1
        assert right - left < Fraction(1, 10**6) or bottom - top < Fraction(1, 10**6)
        return
    eps = Fraction(1, 10**6)
    assert box.x0 <= left + eps and box.x0 > left - 1 - eps
    assert box.y0 <= top + eps and box.y0 > top - 1 - eps
    assert box.x1 >= right - eps and box.x1 < right + 1 + eps
    assert box.y1 >= bottom - eps and box.y1 < bottom + 1 + eps


_no_tags = st.text(max_size=30).filter(lambda s: "think" not in s)


@st.composite
def pass_answers(draw) -> tuple[str, Recipe]:
    min_confidence = draw(st.sampled_from([0.0, 0.5, 0.8, 1.0]))
    recipe = make_recipe(min_confidence=min_confidence)
    obj: dict = {
        draw(st.sampled_from(_OUTCOME_KEYS)): draw(
            st.sampled_from(["PASS", "pass", "Pass", " PASS ", "PASS\n"])
        )
    }
    if draw(st.booleans()):
        percent = draw(st.integers(math.ceil(min_confidence * 100), 100))
        assume(percent / 100 >= min_confidence)
        obj["confidence"] = draw(st.sampled_from([percent / 100, f"{percent}%", percent]))
        assume(percent > 1 or not isinstance(obj["confidence"], int))  # 1 reads as 1.0
    minor = st.one_of(
        st.just("smudge"),
        st.builds(dict, **{"class": st.sampled_from(["smudge", "Smudge"])}),
        st.builds(
            lambda v, k: {"class": "smudge", k: v},
            st.lists(_numbers, max_size=5),
            st.sampled_from(["box", "bbox_2d", "box_2d"]),
        ),
    )
    defects = draw(st.lists(minor, max_size=3))
    if defects or draw(st.booleans()):
        obj["defects"] = defects
    if draw(st.booleans()):
        obj["reason"] = draw(_no_tags)
    body = json.dumps(obj, allow_nan=True, indent=draw(st.sampled_from([None, 2])))
    prose, thought = draw(_no_tags.filter(lambda s: "{" not in s and "`" not in s)), draw(_no_tags)
    wrap = draw(st.sampled_from(["plain", "fence", "prose", "kimi", "think", "close-only"]))
    text = {
        "plain": body,
        "fence": f"```json\n{body}\n```",
        "prose": f"{prose}\n{body}\n{prose}",
        "kimi": f"◁think▷{thought}◁/think▷{body}",
        "think": f"<think>{thought}</think>\n\n```json\n{body}\n```",
        "close-only": f"{thought}</think>{body}",
    }[wrap]
    return text, recipe


@FUZZ
@given(case=pass_answers(), geometry=geometries(), convention=conventions)
def test_well_formed_pass_reads_as_pass(case: tuple[str, Recipe], geometry, convention) -> None:
    text, recipe = case
    verdict = read_verdict(text, recipe, geometry, convention)
    assert verdict.outcome is Outcome.PASS, (text, verdict.reason)
    assert all(d.severity is Severity.MINOR for d in verdict.defects)
