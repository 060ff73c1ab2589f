"""The one registry of judge engines, and the one factory that builds them from a recipe.

Every engine comes in by the same door, `register(name, target)`: the built-in ones below, a
test's, and a third-party package's, which names its engines in the `inspector.engines` entry
point group (`name = "package.module:Class"`, read the first time an engine is looked up). The
target is where the class lives (`module:Class`) or the class itself: a module is imported only
when a recipe uses its engine, and heavy packages only when its model loads.

Invariants, checked when an engine's class is first used: it is a `Judge` whose `engine` is its
registered name, and its `Settings` is a pydantic model that forbids unknown fields and whose
`engine` field is `Literal[name]`. A name is registered once: registering it again with another
target is a mistake, said at once (an entry point that tries it is skipped with a warning, so
the built-in engine keeps its name).
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Iterator, Mapping
from importlib.metadata import entry_points
from typing import Any, Literal

from pydantic import ValidationError

from inspector.errors import InputError
from inspector.judges.chain import JudgeChain
from inspector.judges.judge import EngineSettings, Judge
from inspector.recipes import Recipe

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "inspector.engines"

# The engines that ship with Inspector: one file each under inspector/judges/engines/.
BUILT_IN: dict[str, str] = {
    "transformers": "inspector.judges.engines.transformers:TransformersJudge",
    "openai-compatible": "inspector.judges.engines.openai_compat:OpenAICompatibleJudge",
    "openai": "inspector.judges.engines.openai:OpenAIJudge",
    "anthropic": "inspector.judges.engines.anthropic:AnthropicJudge",
    "gemini": "inspector.judges.engines.gemini:GeminiJudge",
    "lmdeploy": "inspector.judges.engines.lmdeploy:LMDeployJudge",
    "ovis2": "inspector.judges.engines.ovis2:Ovis2Judge",
    "reference": "inspector.judges.engines.reference:ReferenceJudge",
    "texture": "inspector.judges.engines.texture:TextureJudge",
}

Target = str | type[Judge]


class Registry:
    """Engine names to their classes, imported on first use and checked then."""

    def __init__(self) -> None:
        self._targets: dict[str, Target] = {}
        self._classes: dict[str, type[Judge]] = {}
        self._lock = threading.Lock()
        self._plugins_read = False

    def register(self, name: str, target: Target) -> None:
        """Add an engine: `target` is `module:Class` or the class itself."""
        if isinstance(target, str) and ":" not in target:
            raise ValueError(f"engine {name!r}: give its class as `module:Class`, not {target!r}")
        with self._lock:
            known = self._targets.get(name)
            if known is not None and known != target:
                raise ValueError(f"engine {name!r} is already registered ({_describe(known)})")
            self._targets[name] = target

    def __contains__(self, name: object) -> bool:
        self._read_plugins()
        return name in self._targets

    def __iter__(self) -> Iterator[str]:
        self._read_plugins()
        return iter(sorted(self._targets))

    def engine_class(self, name: str) -> type[Judge]:
        """The class of a registered engine (KeyError for an unknown name)."""
        self._read_plugins()
        cls = self._classes.get(name)
        if cls is None:
            target = self._targets[name]
            cls = _load(target) if isinstance(target, str) else target
            _check(name, cls)
            self._classes[name] = cls
        return cls

    def _read_plugins(self) -> None:
        if self._plugins_read:
            return
        self._plugins_read = True
        for point in entry_points(group=ENTRY_POINT_GROUP):
            try:
                self.register(point.name, point.value)
            except ValueError as exc:  # a package's mistake must not stop every other engine
                log.warning("entry point %s of %s ignored: %s", point.name, point.group, exc)


def _load(target: str) -> type[Judge]:
    module_name, _, class_name = target.partition(":")
    return getattr(importlib.import_module(module_name), class_name)


def _describe(target: Target) -> str:
    return target if isinstance(target, str) else f"{target.__module__}:{target.__qualname__}"


def _check(name: str, cls: object) -> None:
    """Raise TypeError where an engine's class breaks the registry's invariants."""
    if not (isinstance(cls, type) and issubclass(cls, Judge)):
        raise TypeError(f"engine {name!r}: {cls!r} is not a Judge")
    if cls.engine != name:
        raise TypeError(f"engine {name!r}: its class says engine = {cls.engine!r}")
    settings = getattr(cls, "Settings", None)
    if not (isinstance(settings, type) and issubclass(settings, EngineSettings)):
        raise TypeError(f"engine {name!r}: its Settings is not an EngineSettings")
    if settings.model_config.get("extra") != "forbid":
        raise TypeError(f"engine {name!r}: its Settings must forbid unknown fields")
    field = settings.model_fields["engine"]
    if field.annotation != Literal[name]:
        raise TypeError(f"engine {name!r}: its Settings must declare engine: Literal[{name!r}]")


ENGINES = Registry()


def register(name: str, target: Target) -> None:
    """Add an engine to the one registry: `module:Class` or the class, as a plugin or test does."""
    ENGINES.register(name, target)


def engine_class(name: str) -> type[Judge]:
    return ENGINES.engine_class(name)


for _name, _target in BUILT_IN.items():
    register(_name, _target)


def make_judge(entry: Mapping[str, Any], recipe: Recipe, where: str) -> Judge:
    """One engine from a recipe's `engines` entry; `where` names that entry in messages."""
    name = entry.get("engine")
    if name not in ENGINES:
        known = ", ".join(ENGINES)
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
