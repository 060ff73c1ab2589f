"""The verdict message every publisher sends (MQTT, webhook): JSON, schema version 1.

Built in one place, from plain values and domain types (never store objects), once per recorded
inspection, before its commit: `inspection_id`, `uid` and `recorded_at` are None here and the
store fills them in the record's transaction (store/outbox.py, STAMPED). It is kept whole in the
store's outbox (and in the journal with its record while the store fails), so a message sent
after a restart is the same bytes as one sent at once. `inspection_id` identifies the verdict:
a receiver that sees an id twice (a retry after a lost acknowledgement) has seen the same
verdict twice.
The fields are documented in README.md ("Verdicts to MQTT and webhooks"); adding a field keeps
version 1, removing or changing the meaning of one raises `SCHEMA`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from inspector.domain import Defect, Outcome

SCHEMA = 1


def utc_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def verdict_message(
    *,
    station: str,
    view: str,
    camera_id: str,
    sequence: int,
    part_id: str | None,
    serial: str | None,
    lot: str | None,
    outcome: Outcome,
    reason: str,
    defects: Sequence[Defect],
    recipe: str,
    recipe_version: int,
    engine: str | None,
    model_id: str | None,
    latency_ms: float,
    captured_at: datetime,
    inspection_id: int | None = None,
    uid: str | None = None,
    recorded_at: datetime | None = None,
) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "inspection_id": inspection_id,
        "uid": uid,
        "station": station,
        "view": view,
        "camera_id": camera_id,
        "sequence": sequence,
        "part_id": part_id,
        "serial": serial,
        "lot": lot,
        "outcome": outcome.value,
        "reason": reason,
        "defects": [
            {
                "class": d.class_name,
                "severity": d.severity.value if d.severity else None,
                "box": d.box.as_list() if d.box else None,
                "confidence": d.confidence,
            }
            for d in defects
        ],
        "recipe": {"name": recipe, "version": recipe_version},
        "engine": engine,
        "model_id": model_id,
        "latency_ms": round(latency_ms, 1),
        "captured_at": utc_iso(captured_at),
        "recorded_at": utc_iso(recorded_at) if recorded_at is not None else None,
    }
