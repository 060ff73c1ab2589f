"""Inspection recipes: what to look for, where, with which models, and how to decide.

A recipe is a YAML file validated here. Every problem is reported with the file, the field and
what is wrong, so the engineer who wrote it can fix it without reading a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from inspector.domain import Region, Severity
from inspector.errors import InputError

DEFAULT_MODEL = "Qwen/Qwen2.5-VL-3B-Instruct"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DefectClass(_Strict):
    name: str = Field(min_length=1, max_length=64)
    severity: Severity = Severity.MAJOR
    description: str = ""


class RegionOfInterest(_Strict):
    x: int = Field(ge=0)
    y: int = Field(ge=0)
    width: int = Field(gt=0)
    height: int = Field(gt=0)

    def as_region(self) -> Region:
        return Region(self.x, self.y, self.width, self.height)


class PassRule(_Strict):
    """How a model's answer becomes PASS / FAIL / UNSURE."""

    # Defects of these severities fail the part; lesser ones are recorded and the part passes.
    fail_severities: tuple[Severity, ...] = (Severity.MAJOR, Severity.CRITICAL)
    # An answer (or a failing defect) less confident than this goes to a person.
    min_confidence: float = Field(default=0.5, ge=0.0, le=1.0)
    # A defect class the recipe does not list: a person decides, or the part fails.
    unknown_defect: Literal["unsure", "fail"] = "unsure"


class Recipe(_Strict):
    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\- ]*$")
    version: int = Field(ge=1)
    product: str = ""
    prompt: str = Field(min_length=1)
    defects: tuple[DefectClass, ...] = ()
    roi: RegionOfInterest | None = None
    # Images of good parts shown to the model before the part (few-shot). Relative paths are
    # read from the recipe file's folder.
    references: tuple[Path, ...] = ()
    # The judge chain, tried in order. Each entry names an engine and that engine's settings;
    # the engine validates its own settings (inspector.judges).
    engines: tuple[dict[str, Any], ...] = Field(
        default=({"engine": "transformers", "model": DEFAULT_MODEL},), min_length=1
    )
    pass_rule: PassRule = PassRule()

    @field_validator("engines")
    @classmethod
    def _each_engine_is_named(cls, engines: tuple[dict[str, Any], ...]) -> tuple[dict, ...]:
        for entry in engines:
            if not isinstance(entry.get("engine"), str):
                raise ValueError("each entry needs `engine:` (for example `engine: transformers`)")
        return engines

    @field_validator("defects")
    @classmethod
    def _unique_defect_names(cls, defects: tuple[DefectClass, ...]) -> tuple[DefectClass, ...]:
        names = [d.name.lower() for d in defects]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"defect classes listed twice: {', '.join(duplicates)}")
        return defects

    def defect_class(self, name: str) -> DefectClass | None:
        wanted = name.strip().lower()
        return next((d for d in self.defects if d.name.lower() == wanted), None)

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False, allow_unicode=True)


def parse_recipe(data: object, source: str, base_dir: Path | None = None) -> Recipe:
    """Validate recipe data; `source` names it in messages (a file path, usually)."""
    if not isinstance(data, dict):
        raise InputError(f"recipe {source}: expected a mapping of fields, found {_kind(data)}")
    try:
        recipe = Recipe.model_validate(data)
    except ValidationError as exc:
        raise InputError(_describe(exc, source)) from None
    if base_dir is not None:
        resolved = tuple(p if p.is_absolute() else (base_dir / p) for p in recipe.references)
        recipe = recipe.model_copy(update={"references": resolved})
    for i, path in enumerate(recipe.references):
        if not path.is_file():
            raise InputError(
                f"recipe {source}: field `references.{i}`: no image at {path}; "
                "give a path to an image of a good part (relative to the recipe file)"
            )
    return recipe


def load_recipe(path: str | Path) -> Recipe:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"recipe {path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"recipe {path}: cannot read it ({exc})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" at line {where.line + 1}" if where is not None else ""
        raise InputError(f"recipe {path}: not valid YAML{line}") from None
    return parse_recipe(data, str(path), base_dir=path.parent)


def _describe(exc: ValidationError, source: str) -> str:
    problems = []
    for error in exc.errors():
        field = ".".join(str(p) for p in error["loc"]) or "(top level)"
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = "unknown field; check its spelling"
        problems.append(f"field `{field}`: {message}")
    return f"recipe {source}: " + "; ".join(problems)


def _kind(data: object) -> str:
    return "nothing" if data is None else type(data).__name__
