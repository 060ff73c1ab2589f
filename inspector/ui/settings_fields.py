"""An engine's settings as form fields, read from its pydantic settings class (Qt-free).

Each field of the class (but `engine`, which the entry's kind fixes) becomes a `FieldSpec`: how
the form edits it (a choice, a check box, a number, a text, a list of lines, YAML for anything
else), its default and whether it may be left unset. Text goes both ways through `to_text` and
`from_text`; a value the person did not touch is written back as it was read (the form keeps
the original), so a recipe opened and saved unchanged keeps every byte of its engines.
"""

from __future__ import annotations

import enum
import types
import typing
from dataclasses import dataclass
from typing import Any, Literal

import yaml
from pydantic import BaseModel
from pydantic_core import PydanticUndefined

Kind = Literal["choice", "bool", "int", "float", "text", "lines", "yaml"]


@dataclass(frozen=True)
class FieldSpec:
    name: str
    kind: Kind
    default: Any  # PydanticUndefined where the field is required
    nullable: bool  # None is a value of it ("unset")
    choices: tuple[str, ...] = ()  # for "choice"

    @property
    def required(self) -> bool:
        return self.default is PydanticUndefined

    def default_text(self) -> str:
        """What the form says when the field is left empty."""
        if self.required:
            return "required"
        if self.default is None:
            return "unset"
        return f"default: {to_text(self, self.default) or '(empty)'}"


def fields_of(settings: type[BaseModel]) -> list[FieldSpec]:
    """The settings class's fields in declaration order, `engine` left out."""
    specs = []
    for name, info in settings.model_fields.items():
        if name == "engine":
            continue
        kind, nullable, choices = _kind(info.annotation)
        specs.append(FieldSpec(name, kind, info.default, nullable, choices))
    return specs


def _kind(annotation: Any) -> tuple[Kind, bool, tuple[str, ...]]:
    args = typing.get_args(annotation)
    nullable = False
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        rest = [a for a in args if a is not type(None)]
        nullable = len(rest) < len(args)
        if len(rest) != 1:
            return "yaml", nullable, ()
        annotation = rest[0]
        args = typing.get_args(annotation)
    origin = typing.get_origin(annotation)
    if origin is Literal:
        return "choice", nullable, tuple(str(a) for a in args)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return "choice", nullable, tuple(str(m.value) for m in annotation)
    if annotation is bool:
        return "bool", nullable, ()
    if annotation is int:
        return "int", nullable, ()
    if annotation is float:
        return "float", nullable, ()
    if annotation is str:
        return "text", nullable, ()
    if origin is tuple and len(args) == 2 and args[0] is str and args[1] is Ellipsis:
        return "lines", nullable, ()
    return "yaml", nullable, ()


def to_text(spec: FieldSpec, value: Any) -> str:
    """A value as its field shows it."""
    if value is None:
        return ""
    if spec.kind == "lines":
        return "\n".join(str(v) for v in value)
    if spec.kind == "yaml":
        return yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("...").strip()
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class FieldError(ValueError):
    """The text of a field cannot be its type; the message says what it should be."""


def from_text(spec: FieldSpec, text: str) -> Any:
    """The value a field's text stands for; `Ellipsis` for "left empty" (the default, which the
    entry then leaves out). FieldError where the text is not of the field's type."""
    if spec.kind != "text":
        text = text.strip()
    if text == "":
        return ...
    if spec.kind == "text":
        return text
    if spec.kind in ("choice", "bool"):
        if spec.kind == "bool":
            return text == "true"
        return text
    if spec.kind == "int":
        try:
            return int(text)
        except ValueError:
            raise FieldError("a whole number, e.g. 20") from None
    if spec.kind == "float":
        try:
            return float(text)
        except ValueError:
            raise FieldError("a number, e.g. 0.5") from None
    if spec.kind == "lines":
        return [line.strip() for line in text.splitlines() if line.strip()]
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        raise FieldError("not valid YAML (e.g. [1.0, 2.0])") from None
