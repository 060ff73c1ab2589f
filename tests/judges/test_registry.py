"""The engine registry: one door for built-in, test and third-party engines, and its checks."""

from __future__ import annotations

import re
from importlib.metadata import EntryPoint
from typing import Literal

import pytest
from pydantic import ConfigDict

from inspector.errors import InputError
from inspector.judges import registry
from inspector.judges.judge import EngineSettings, Generation, Judge
from inspector.judges.registry import BUILT_IN, Registry
from inspector.recipes import parse_recipe

BUILT_IN_NAMES = {
    "transformers",
    "openai-compatible",
    "openai",
    "anthropic",
    "gemini",
    "lmdeploy",
    "ovis2",
    "reference",
    "texture",
}


class EchoSettings(EngineSettings):
    engine: Literal["echo"] = "echo"
    model: str = "echo"


class EchoJudge(Judge):
    engine = "echo"
    Settings = EchoSettings

    def _generate(self, prompt, convention) -> Generation:
        return Generation(text='{"outcome": "PASS", "defects": [], "confidence": 1, "reason": ""}')


class LooseSettings(EngineSettings):
    model_config = ConfigDict(extra="ignore", frozen=True)
    engine: Literal["loose"] = "loose"


class LooseJudge(EchoJudge):
    engine = "loose"
    Settings = LooseSettings


class UntypedSettings(EngineSettings):
    engine: str = "untyped"


class UntypedJudge(EchoJudge):
    engine = "untyped"
    Settings = UntypedSettings


def _recipe():
    return parse_recipe({"name": "r", "version": 1, "prompt": "p"}, "r.yaml")


def test_every_built_in_engine_keeps_the_registry_invariants():
    assert set(BUILT_IN) == BUILT_IN_NAMES
    for name in BUILT_IN_NAMES:
        cls = registry.engine_class(name)  # checked on first use; raises if broken
        assert cls.engine == name
        assert cls.Settings.model_config["extra"] == "forbid"
        assert cls.Settings.model_fields["engine"].annotation == Literal[name]


def test_a_class_registers_by_the_same_door_and_builds_from_an_entry():
    engines = Registry()
    engines.register("echo", EchoJudge)
    assert "echo" in engines and list(engines) == ["echo"]
    assert engines.engine_class("echo") is EchoJudge
    engines.register("echo", EchoJudge)  # the same again: nothing changes
    with pytest.raises(ValueError, match="already registered"):
        engines.register("echo", "somewhere.else:EchoJudge")


def test_a_target_must_name_module_and_class():
    with pytest.raises(ValueError, match="module:Class"):
        Registry().register("echo", "tests.judges.test_registry.EchoJudge")


@pytest.mark.parametrize(
    ("name", "cls", "problem"),
    [
        ("loose", LooseJudge, "must forbid unknown fields"),
        ("untyped", UntypedJudge, "must declare engine: Literal['untyped']"),
        ("other", EchoJudge, "its class says engine = 'echo'"),
        ("thing", object, "is not a Judge"),
    ],
)
def test_an_engine_that_breaks_the_invariants_is_refused_on_first_use(name, cls, problem):
    engines = Registry()
    engines.register(name, cls)
    with pytest.raises(TypeError, match=re.escape(problem)):
        engines.engine_class(name)


def test_a_third_party_package_registers_through_its_entry_point(monkeypatch):
    point = EntryPoint("echo", "tests.judges.test_registry:EchoJudge", registry.ENTRY_POINT_GROUP)
    groups: list[str] = []

    def entry_points(group: str):
        groups.append(group)
        return [point]

    monkeypatch.setattr(registry, "entry_points", entry_points)
    engines = Registry()
    assert groups == []  # nothing read before an engine is looked up
    assert "echo" in engines
    assert engines.engine_class("echo") is EchoJudge
    assert groups == ["inspector.engines"]  # and read once


def test_an_entry_point_that_takes_a_built_in_name_is_skipped(monkeypatch, caplog):
    taken = EntryPoint("openai", "elsewhere:Impostor", registry.ENTRY_POINT_GROUP)
    monkeypatch.setattr(registry, "entry_points", lambda group: [taken])
    engines = Registry()
    engines.register("openai", BUILT_IN["openai"])
    assert "openai" in engines
    assert engines.engine_class("openai").__name__ == "OpenAIJudge"
    assert "entry point openai of inspector.engines ignored: engine 'openai'" in caplog.text


def test_the_factory_builds_a_registered_engine_and_names_mistakes(monkeypatch):
    engines = Registry()
    engines.register("echo", EchoJudge)
    monkeypatch.setattr(registry, "ENGINES", engines)
    judge = registry.make_judge({"engine": "echo", "model": "m"}, _recipe(), "recipe r: engines.0")
    assert isinstance(judge, EchoJudge) and judge.settings.model == "m"
    with pytest.raises(InputError) as unknown:
        registry.make_judge({"engine": "nope"}, _recipe(), "recipe r: engines.0")
    assert str(unknown.value) == "recipe r: engines.0: unknown engine 'nope'; known engines: echo"
    with pytest.raises(InputError) as typo:
        registry.make_judge({"engine": "echo", "modle": "m"}, _recipe(), "recipe r: engines.0")
    expected = "recipe r: engines.0: field `modle`: unknown field; check its spelling"
    assert str(typo.value) == expected


def test_missing_packages_are_named_with_their_extra(monkeypatch):
    from inspector.judges.presets import missing_packages

    class Needy(EchoJudge):
        requires = ("json", "no_such_package_here")
        extra = "needy"

    assert Needy.missing_package() == (
        "package no_such_package_here is not installed: pip install 'inspector[needy]'"
    )
    assert EchoJudge.missing_package() is None
    assert missing_packages("reference") is None  # needs nothing beyond the core
    assert missing_packages("no-such-engine") is None
