"""Judge engines: one file each, one registry, one factory.

The registry names each engine's module and class; a module is imported only when a recipe uses
it, and heavy packages only when its model loads.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from inspector.errors import InputError
from inspector.judges.base import EngineSettings, Judge
from inspector.judges.chain import JudgeChain
from inspector.recipes import Recipe

__all__ = ["ENGINES", "Judge", "JudgeChain", "build_chain", "engine_class", "make_judge"]

ENGINES: dict[str, str] = {
    "transformers": "inspector.judges.engines.transformers:TransformersJudge",
    "openai-compatible": "inspector.judges.engines.openai_compat:OpenAICompatibleJudge",
    "openai": "inspector.judges.engines.openai:OpenAIJudge",
    "anthropic": "inspector.judges.engines.anthropic:AnthropicJudge",
    "gemini": "inspector.judges.engines.gemini:GeminiJudge",
    "lmdeploy": "inspector.judges.engines.lmdeploy:LMDeployJudge",
    "ovis2": "inspector.judges.engines.ovis2:Ovis2Judge",
    "reference": "inspector.judges.engines.reference:ReferenceJudge",
}


def register(name: str, target: str) -> None:
    """Add an engine (`module:Class`), as a plugin or a test does."""
    ENGINES[name] = target


def engine_class(name: str) -> type[Judge]:
    module_name, _, class_name = ENGINES[name].partition(":")
    return getattr(importlib.import_module(module_name), class_name)


def make_judge(entry: Mapping[str, Any], recipe: Recipe, where: str) -> Judge:
    """One engine from a recipe's `engines` entry; `where` names that entry in messages."""
    name = entry.get("engine")
    if name not in ENGINES:
        known = ", ".join(sorted(ENGINES))
        raise InputError(f"{where}: unknown engine {name!r}; known engines: {known}")
    cls = engine_class(name)
    try:
        settings: EngineSettings = cls.Settings.model_validate(dict(entry))
    except ValidationError as exc:
        problems = "; ".join(
            f"field `{'.'.join(str(p) for p in e['loc'])}`: "
            + ("unknown field; check its spelling" if e["type"] == "extra_forbidden" else e["msg"])
            for e in exc.errors()
        )
        raise InputError(f"{where}: {problems}") from None
    return cls(settings, recipe)


def build_chain(recipe: Recipe, source: str) -> JudgeChain:
    """The recipe's judge chain; `source` names the recipe (its file) in messages."""
    judges = [
        make_judge(entry, recipe, f"recipe {source}: engines.{i}")
        for i, entry in enumerate(recipe.engines)
    ]
    return JudgeChain(judges, recipe.chain)
