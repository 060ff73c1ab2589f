"""The defect class a model-free engine reports, and whether the recipe lists it.

`reference` and `texture` name every region they flag with their `defect_class` setting
("deviation", "texture" by default). A class the recipe does not list has no severity, so the
pass rule cannot fail the part on it: the part is UNSURE ("defect class not in the recipe"), or
FAIL with `pass_rule.unknown_defect: fail`, on every flagged part. That is a recipe mistake,
not a judgement; it is told, naming the engine, the class and the fix, wherever a recipe is
checked: `inspector recipe check`, the doctor, the recipe editor.

Any engine whose settings class has a `defect_class` field is covered (read from the settings
class, not a list of names). A screen (`screen: true`) is not: what it flags is handed to the
next engine as "suspect", never a verdict of its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from inspector.judges.registry import engine_class
from inspector.recipes import Recipe


@dataclass(frozen=True)
class UnlistedClass:
    """An engine of the chain reports a defect class the recipe does not list."""

    index: int  # the engine's place in `engines`, from 0
    engine: str
    name: str  # the class it reports

    def message(self, unknown_defect: str = "unsure") -> str:
        outcome = "FAIL with no severity" if unknown_defect == "fail" else "UNSURE"
        return (
            f"engine {self.index + 1} ({self.engine}) reports what it finds as defect class "
            f"{self.name!r}, which is not one of the recipe's defect classes: every part it "
            f'flags is {outcome} ("defect class not in the recipe"). Add a defect class named '
            f"{self.name!r} with its severity (`defects:`), or set `engines.{self.index}."
            "defect_class` to a class the recipe lists"
        )


def reported_class(entry: Mapping[str, Any]) -> str | None:
    """The defect class an `engines` entry reports its findings as: its `defect_class`
    setting, or that setting's default; None for an engine without one (a model names the
    recipe's classes itself), a screen, or an entry its engine refuses (said elsewhere)."""
    try:
        settings_class = engine_class(str(entry.get("engine", ""))).Settings
    except (KeyError, ImportError):
        return None
    if "defect_class" not in settings_class.model_fields:
        return None
    try:
        settings = settings_class.model_validate(dict(entry))
    except ValidationError:
        return None
    if getattr(settings, "screen", False):
        return None
    return str(settings.defect_class)


def unlisted_classes(
    engines: Iterable[Mapping[str, Any]], defect_names: Iterable[str]
) -> list[UnlistedClass]:
    """The engines whose reported class is not among `defect_names` (compared as the pass
    rule compares them: case and surrounding spaces aside)."""
    listed = {name.strip().lower() for name in defect_names}
    found = []
    for index, entry in enumerate(engines):
        name = reported_class(entry)
        if name is not None and name.strip().lower() not in listed:
            found.append(UnlistedClass(index, str(entry.get("engine")), name))
    return found


def recipe_warnings(recipe: Recipe) -> list[str]:
    """What is wrong with a recipe that loads and judges, but not as meant: each a sentence
    naming the field and the fix."""
    unlisted = unlisted_classes(recipe.engines, (d.name for d in recipe.defects))
    return [u.message(recipe.pass_rule.unknown_defect) for u in unlisted]
