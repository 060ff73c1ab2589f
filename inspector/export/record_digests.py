"""A record's digest recomputed from its exported form, with the audit chain's own function.

An exported record (`export_dict`) names some fields differently from the columns the digest
covers (`class` for `class_name`, `raw_answer` for `raw_text`, a `roi` list for four columns,
times as text). This maps them back and hands them to `store.audit.digests`, so a bundle's record
is checked by the very code that recorded its digest in the chain. A field the export lacks makes
the digest uncomputable (`MissingField`), never silently different.

Bundles also carry `recipe_version_id` and `evidence_format`, which the digest covers and the
common export form (CSV, JSON Lines) leaves out (`bundle_fields`); for a record without them (a
format-1 bundle) the format is read from the evidence file's suffix, and the recipe version's id
must be supplied from a database.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from inspector.store import InspectionRecord
from inspector.store.audit import digests
from inspector.store.evidence import FORMATS


class MissingField(ValueError):
    """The exported record lacks a field its digest covers."""


_TIMES = {"captured_at", "recorded_at", "started_at", "created_at"}
_INSPECTION_NAMES = {"id": "inspection_id"}
_DEFECT_NAMES = {"class_name": "class"}
_ATTEMPT_NAMES = {"raw_text": "raw_answer"}
_OVERRIDE_NAMES = {"user_name": "user", "created_at": "at"}
_BOX = ("x0", "y0", "x1", "y1")
_ROI = ("roi_x", "roi_y", "roi_width", "roi_height")


def bundle_fields(record: InspectionRecord) -> dict[str, Any]:
    """What a bundle's record carries beyond `export_dict`, so its digest can be recomputed."""
    return {
        "recipe_version_id": record.recipe_version_id,
        "evidence_format": record.evidence_format,
    }


def inspection_digest(record: dict[str, Any]) -> str:
    """The digest of an exported inspection (with its defects and attempts)."""
    if "evidence_format" not in record:
        suffix = "." + str(record.get("evidence_file", "")).rpartition(".")[2]
        named = [name for name, (ending, _) in FORMATS.items() if ending == suffix]
        record = {**record, "evidence_format": named[0] if named else None}
    row = _columns(digests.INSPECTION, record, _INSPECTION_NAMES, spread=("roi", _ROI))
    defects = [
        _columns(digests.DEFECT, d, _DEFECT_NAMES, spread=("box", _BOX))
        for d in _list(record, "defects")
    ]
    attempts = [_columns(digests.ATTEMPT, a, _ATTEMPT_NAMES) for a in _list(record, "attempts")]
    return digests.inspection(row, defects, attempts)


def override_digest(record: dict[str, Any], override: dict[str, Any]) -> str:
    """The digest of an exported override of `record` (as its audit entry holds it)."""
    signature = override.get("signature") or {}
    extra = {"inspection_id": record.get("inspection_id"), "signature_id": signature.get("id")}
    return digests.override(_columns(digests.OVERRIDE, {**override, **extra}, _OVERRIDE_NAMES))


def _list(record: dict, key: str) -> list[dict]:
    value = record.get(key)
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise MissingField(f"{key} is not a list of objects")
    return value


def _columns(fields, exported: dict, names: dict[str, str], spread=None) -> dict[str, Any]:
    """The columns of `fields` from an exported object; `spread` = (list field, its columns)."""
    row: dict[str, Any] = {}
    if spread is not None:
        key, columns = spread
        if key not in exported:
            raise MissingField(key)
        parts = exported[key]
        if parts is not None and (not isinstance(parts, list) or len(parts) != len(columns)):
            raise MissingField(f"{key} is not a list of {len(columns)}")
        row.update(zip(columns, parts or (None,) * len(columns), strict=True))
    for name, _ in fields:
        if name in row:
            continue
        key = names.get(name, name)
        if key not in exported:
            raise MissingField(key)
        value = exported[key]
        if name in _TIMES and value is not None:
            try:
                value = datetime.fromisoformat(value)
            except (TypeError, ValueError):
                raise MissingField(f"{key} is not a time") from None
        row[name] = value
    return row
