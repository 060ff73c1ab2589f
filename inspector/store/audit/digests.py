"""Digests of records: what the audit chain says a record was, so a later edit shows.

Each digest is the SHA-256 of the record's fields in a fixed list, normalized so the values a
writer holds and the values the database gives back hash the same (0 and 0.0, any time zone,
numpy integers). The field lists are frozen: a column added later is not part of old digests;
covering it takes a new list and a new `v` in the audit entries that use it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from inspector.store.audit.hash_chain import utc_text

VERSION = 1


# Type checks first: these run for every field of every record `audit verify` reads.
def _int(value: Any) -> int | None:
    return value if type(value) is int or value is None else int(value)


def _float(value: Any) -> float | None:
    return value if type(value) is float or value is None else float(value)


def _str(value: Any) -> str | None:
    return value if type(value) is str or value is None else str(value)


def _bool(value: Any) -> bool | None:
    return value if type(value) is bool or value is None else bool(value)


def _time(value: datetime | None) -> str | None:
    return None if value is None else utc_text(value)


Fields = Sequence[tuple[str, Callable[[Any], Any]]]

INSPECTION: Fields = (
    ("id", _int),
    ("uid", _str),
    ("camera_id", _str),
    ("sequence", _int),
    ("captured_at", _time),
    ("recorded_at", _time),
    ("part_id", _str),
    ("serial", _str),
    ("lot", _str),
    ("recipe_version_id", _int),
    ("outcome", _str),
    ("reason", _str),
    ("confidence", _float),
    ("evidence_sha256", _str),
    ("evidence_format", _str),
    ("image_width", _int),
    ("image_height", _int),
    ("roi_x", _int),
    ("roi_y", _int),
    ("roi_width", _int),
    ("roi_height", _int),
    ("queue_ms", _float),
    ("judge_ms", _float),
    ("total_ms", _float),
    ("image_left_site", _bool),
)
DEFECT: Fields = (
    ("class_name", _str),
    ("severity", _str),
    ("x0", _int),
    ("y0", _int),
    ("x1", _int),
    ("y1", _int),
    ("confidence", _float),
    ("note", _str),
)
ATTEMPT: Fields = (
    ("position", _int),
    ("engine", _str),
    ("model_id", _str),
    ("model_revision", _str),
    ("prompt_hash", _str),
    ("started_at", _time),
    ("latency_ms", _float),
    ("raw_text", _str),
    ("prompt_tokens", _int),
    ("completion_tokens", _int),
    ("error", _str),
    ("outcome", _str),
    ("image_left_site", _bool),
)
OVERRIDE: Fields = (
    ("id", _int),
    ("inspection_id", _int),
    ("previous_outcome", _str),
    ("outcome", _str),
    ("reason", _str),
    ("user_name", _str),
    ("created_at", _time),
    ("signature_id", _int),
)
SIGNATURE: Fields = (
    ("id", _int),
    ("user_name", _str),
    ("printed_name", _str),
    ("meaning", _str),
    ("signed_at", _time),
    ("subject_type", _str),
    ("subject_id", _str),
    ("statement", _str),
)
RECIPE_VERSION: Fields = (
    ("id", _int),
    ("name", _str),
    ("version", _int),
    ("sha256", _str),
    ("content", _str),
    ("reference_sha256", _str),
    ("created_at", _time),
)
# Users and settings change in place (a user is disabled, a setting set again): their digest is
# of the state the last audit entry left, so a change behind the chain's back shows.
USER: Fields = (
    ("name", _str),
    ("full_name", _str),
    ("role", _str),
    ("disabled", _bool),
    ("password_hash", lambda v: hashlib.sha256((v or "").encode()).hexdigest()),
)
SETTING: Fields = (("key", _str), ("value", _str))


def values(fields: Fields, row: Mapping[str, Any]) -> list:
    return [normalize(row[name]) for name, normalize in fields]


def ordered(fields: Fields, raw: Sequence[Any]) -> list:
    """`values` of a row read as a tuple in the order of `fields` (faster for bulk checks)."""
    return [normalize(value) for (_, normalize), value in zip(fields, raw, strict=True)]


def _sha256(kind: str, payload: list) -> str:
    text = json.dumps([kind, VERSION, *payload], separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def inspection(
    row: Mapping[str, Any], defects: Sequence[Mapping], attempts: Sequence[Mapping]
) -> str:
    """An inspection with its defects and attempts; defects in a canonical order."""
    return _inspection(
        values(INSPECTION, row),
        [values(DEFECT, d) for d in defects],
        [values(ATTEMPT, a) for a in attempts],
    )


def inspection_ordered(
    row: Sequence[Any], defects: Sequence[Sequence], attempts: Sequence[Sequence]
) -> str:
    """`inspection` of rows read as tuples in the order of INSPECTION, DEFECT and ATTEMPT."""
    return _inspection(
        ordered(INSPECTION, row),
        [ordered(DEFECT, d) for d in defects],
        [ordered(ATTEMPT, a) for a in attempts],
    )


def _inspection(row_values: list, defect_values: list, attempt_values: list) -> str:
    if len(defect_values) > 1:
        defect_values.sort(key=lambda v: json.dumps(v, ensure_ascii=False))
    if len(attempt_values) > 1:
        attempt_values.sort(key=lambda v: v[0])
    return _sha256("inspection", [row_values, defect_values, attempt_values])


def record(kind: str, fields: Fields, row: Mapping[str, Any]) -> str:
    return _sha256(kind, values(fields, row))


def override(row: Mapping[str, Any]) -> str:
    return record("override", OVERRIDE, row)


def signature(row: Mapping[str, Any]) -> str:
    return record("signature", SIGNATURE, row)


def recipe_version(row: Mapping[str, Any]) -> str:
    return record("recipe_version", RECIPE_VERSION, row)


def user(row: Mapping[str, Any]) -> str:
    return record("user", USER, row)


def setting(row: Mapping[str, Any]) -> str:
    return record("setting", SETTING, row)
