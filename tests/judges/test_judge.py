"""The base judge's capabilities, for any engine: the verdict's schema where the engine supports
one, and the fallback when a server refuses it."""

from __future__ import annotations

from typing import Literal

import numpy as np

from inspector.domain import Outcome
from inspector.judges.answers import BoxConvention
from inspector.judges.failures import CallFailed
from inspector.judges.judge import EngineSettings, Generation, Judge
from inspector.judges.prompt import Prompt
from inspector.recipes import parse_recipe

FAIL = '{"outcome": "FAIL", "defects": [{"class": "scratch", "box": null}], "confidence": 0.9}'


class ProbeSettings(EngineSettings):
    engine: Literal["probe"] = "probe"
    model: str = "probe"
    mode: Literal["auto", "json_schema", "none"] = "auto"
    refuses_schema: bool = False


class ProbeJudge(Judge):
    """Keeps the schema each call carried; refuses one with a 400 when told to."""

    engine = "probe"
    Settings = ProbeSettings
    settings: ProbeSettings

    def __init__(self, settings, recipe) -> None:
        super().__init__(settings, recipe)
        self.schemas: list[dict | None] = []

    def structured_output(self):
        return self.settings.mode

    def _generate(self, prompt: Prompt, convention: BoxConvention) -> Generation:
        self.schemas.append(prompt.schema)
        if prompt.schema is not None and self.settings.refuses_schema:
            raise CallFailed("HTTP 400: the server refused the request", status=400)
        return Generation(text=FAIL)


class SchemaProbe(ProbeJudge):
    supports_schema = True


class Box2dProbe(SchemaProbe):
    schema_box_key = "box_2d"


def _recipe():
    data = {
        "name": "r",
        "version": 1,
        "prompt": "Inspect.",
        "defects": [
            {"name": "scratch", "severity": "major"},
            {"name": "dent", "severity": "minor"},
        ],
    }
    return parse_recipe(data, "r.yaml")


def _judge(cls, **settings):
    return cls(ProbeSettings(**settings), _recipe())


PART = np.zeros((40, 60, 3), np.uint8)


def test_an_engine_without_schema_support_gets_the_prompt_alone():
    judge = _judge(ProbeJudge, mode="json_schema")  # the base asks the class first
    judge.judge(PART)
    assert judge.schemas == [None]


def test_an_engine_with_schema_support_gets_the_verdicts_schema():
    judge = _judge(SchemaProbe, mode="json_schema")
    assert judge.judge(PART).outcome is Outcome.FAIL
    [schema] = judge.schemas
    defect = schema["properties"]["defects"]["items"]
    assert defect["properties"]["class"]["enum"] == ["scratch", "dent"]
    assert defect["required"] == ["class", "box", "confidence"]
    assert schema["required"] == ["outcome", "defects", "confidence", "reason"]
    gemini_like = _judge(Box2dProbe, mode="json_schema")
    gemini_like.judge(PART)
    assert "box_2d" in gemini_like.schemas[0]["properties"]["defects"]["items"]["properties"]


def test_a_recipe_can_turn_the_schema_off():
    judge = _judge(SchemaProbe, mode="none")
    judge.judge(PART)
    assert judge.schemas == [None]


def test_auto_asks_once_more_without_a_refused_schema_and_never_again():
    judge = _judge(SchemaProbe, mode="auto", refuses_schema=True)
    first, second = judge.judge(PART), judge.judge(PART)
    assert first.outcome is second.outcome is Outcome.FAIL
    assert [s is not None for s in judge.schemas] == [True, False, False]
    assert first.attempts[0].error is None  # one attempt: the refusal was the schema's


def test_a_schema_the_recipe_requires_is_not_dropped():
    judge = _judge(SchemaProbe, mode="json_schema", refuses_schema=True)
    verdict = judge.judge(PART)
    assert [s is not None for s in judge.schemas] == [True]
    assert verdict.outcome is Outcome.UNSURE
    assert "HTTP 400" in verdict.attempts[0].error
