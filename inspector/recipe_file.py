"""A recipe's file as the engineer wrote it, with only what changed rewritten.

A new version saved from the window (or by an evaluation) starts from the file it was edited
from, read in ruamel.yaml's round-trip mode: its comments, key order, quoting, flow lists and
indentation stay; a field whose meaning changed is rewritten in place (a comment above it or
beside it stays), a new field is added, a field dropped is removed. "Meaning" is judged at the
new file's place: a relative path that would point elsewhere from the new folder is rewritten.

Invariant: the text returned means exactly the recipe given (checked by reading it back as the
station will); where it would not, or there is no file to start from, it is the recipe's plain
YAML (`Recipe.to_yaml`). The record never depends on the layout: the store hashes `to_yaml`.
"""

from __future__ import annotations

import io
import re
from itertools import pairwise
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.scalarstring import FoldedScalarString, LiteralScalarString

from inspector.recipes import Recipe

_BLOCK_STRINGS = (LiteralScalarString, FoldedScalarString)
_ABSENT = object()  # a field the old file did not have


def recipe_text(recipe: Recipe, target: Path, source: Path | None = None) -> str:
    """The YAML of `recipe` for the file `target`: the file at `source` (the version it was
    edited from) with only what differs rewritten; without a source, or where the source
    cannot be followed, the recipe's plain YAML."""
    plain = recipe.to_yaml()
    if source is None:
        return plain
    try:
        text = Path(source).read_text(encoding="utf-8")
        written = _kept_layout(text, recipe, target.parent)
    except Exception:  # an unreadable or odd source: the plain YAML, which is always right
        return plain
    return written if written is not None else plain


def _kept_layout(text: str, recipe: Recipe, folder: Path) -> str | None:
    rt = YAML()  # round trip: comments, order, quotes and flow style are kept
    rt.preserve_quotes = True
    rt.width = 4096  # never fold a long line that was one line
    mapping, sequence, offset = _indentation(text)
    rt.indent(mapping=mapping, sequence=sequence, offset=offset)
    document = rt.load(text)
    if not isinstance(document, dict):
        return None
    before = _meaning(Recipe.model_validate(yaml.safe_load(text)), folder)
    after = _meaning(recipe, folder)
    _merge(document, before, after, yaml.safe_load(recipe.to_yaml()))
    out = io.StringIO()
    rt.dump(document, out)
    written = out.getvalue()
    # The file must mean the recipe given, exactly, as the station will read it.
    if _meaning(Recipe.model_validate(yaml.safe_load(written)), folder) != after:
        return None
    return written


def _meaning(recipe: Recipe, folder: Path) -> dict:
    """The recipe's fields as plain data, its relative paths resolved from `folder` (what a
    file there means), defaults left out as `to_yaml` leaves them."""

    def resolved(path: Path) -> Path:
        return path if path.is_absolute() else folder / path

    defects = tuple(
        d.model_copy(
            update={
                "examples": tuple(
                    e.model_copy(update={"image": resolved(e.image)}) for e in d.examples
                )
            }
        )
        for d in recipe.defects
    )
    references = tuple(resolved(p) for p in recipe.references)
    whole = recipe.model_copy(update={"defects": defects, "references": references})
    return yaml.safe_load(whole.to_yaml())


def _merge(node: Any, before: Any, after: Any, written: Any) -> None:
    """Make the round-trip `node` (a mapping or a list of the file) say `after`: where
    `before` (what it said) already equals `after`, the file's text is left as it is; else
    the value of `written` (the same shape as `after`, paths as they are to be written)."""
    if isinstance(node, dict):
        for key in [k for k in node if k in before and k not in after]:
            del node[key]  # a field the recipe no longer has (back to its default)
        for key, value in after.items():
            old = before.get(key, _ABSENT)
            if old == value:  # the same meaning, however the file writes it (or leaves it out)
                continue
            _set(node, key, old, value, written[key])
        return
    for index, value in enumerate(after):
        if index < len(node):
            old = before[index] if index < len(before) else _ABSENT
            if old != value:
                _set(node, index, old, value, written[index])
        else:
            node.append(written[index])
    del node[len(after) :]


def _set(node: Any, key: Any, old: Any, value: Any, written: Any) -> None:
    """One field or item: a mapping or list that is there is merged into, keeping what in it
    did not change; anything else is replaced (a comment beside or above it stays)."""
    present = key in node if isinstance(node, dict) else key < len(node)
    current = node[key] if present else None
    if present and isinstance(current, dict) and isinstance(value, dict) and isinstance(old, dict):
        _merge(current, old, value, written)
    elif present and isinstance(current, list) and isinstance(value, list):
        _merge(current, old if isinstance(old, list) else [], value, written)
    elif isinstance(written, str) and isinstance(current, _BLOCK_STRINGS):
        node[key] = type(current)(written)  # a `|` prompt stays a `|` block
    elif isinstance(written, str) and "\n" in written.rstrip("\n"):
        node[key] = LiteralScalarString(written)  # a new text of several lines, readable
    else:
        node[key] = written


def _indentation(text: str) -> tuple[int, int, int]:
    """The file's indentation, for ruamel.yaml's `indent` (which sets one for the whole file):
    a nested mapping's step, and a list's dash offset ("  - a" under its key: offset 2)."""
    mapping, offset = 2, 0
    lines = [
        line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")
    ]
    found_mapping = found_offset = False
    for above, line in pairwise(lines):
        if not re.match(r"^[^\s-][^:]*:\s*(#.*)?$", above):
            continue  # only the first line under a top-level `key:` shows the step
        depth = len(line) - len(line.lstrip(" "))
        if line.lstrip().startswith("- "):
            if not found_offset:
                offset, found_offset = depth, True
        elif depth and not found_mapping:
            mapping, found_mapping = depth, True
    return mapping, offset + 2, offset
