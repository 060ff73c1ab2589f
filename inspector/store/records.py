"""Inspection records as exports and reports read them: every field, streamed in batches.

Records come out as plain JSON-ready dicts (the shape exports write, see `iter_records`), so the
export adapters need nothing of the store. Batches are read by id (keyset pagination), so memory
stays bounded by the batch however many records match, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, Select, and_, func, select

from inspector.domain import Outcome
from inspector.store.audit import digests, signatures
from inspector.store.audit.audit_tables import AuditHeadRow, OverrideRow
from inspector.store.audit.hash_chain import utc_text
from inspector.store.audit.trail import HEAD_ID, ChainHead
from inspector.store.evidence import FORMATS
from inspector.store.tables import DefectRow, InspectionRow, JudgeAttemptRow, RecipeVersionRow

_i = InspectionRow.__table__
_d = DefectRow.__table__
_a = JudgeAttemptRow.__table__
_o = OverrideRow.__table__
_r = RecipeVersionRow.__table__

BATCH = 500


@dataclass(frozen=True)
class RecordFilter:
    """Which records: captured in [since, until), of a recipe, with a final outcome, of a lot.

    `through` bounds the records and overrides to those that existed at a moment (`as_of`), so
    an export that takes minutes does not drift while stations keep recording.
    """

    since: datetime | None = None
    until: datetime | None = None
    recipe: str | None = None
    outcome: Outcome | None = None
    lot: str | None = None
    through: tuple[int, int] | None = None  # (last inspection id, last override id)

    def final_outcome(self):
        """The outcome as decided: the latest override's, else the model's."""
        latest = select(_o.c.outcome).where(_o.c.inspection_id == _i.c.id)
        if self.through is not None:
            latest = latest.where(_o.c.id <= self.through[1])
        latest = latest.order_by(_o.c.id.desc()).limit(1).scalar_subquery()
        return func.coalesce(latest, _i.c.outcome)

    def apply(self, query: Select) -> Select:
        if self.since is not None:
            query = query.where(_i.c.captured_at >= self.since)
        if self.until is not None:
            query = query.where(_i.c.captured_at < self.until)
        if self.recipe is not None:
            query = query.where(_r.c.name == self.recipe)
        if self.outcome is not None:
            query = query.where(self.outcome.value == self.final_outcome())
        if self.lot is not None:
            query = query.where(_i.c.lot == self.lot)
        if self.through is not None:
            query = query.where(_i.c.id <= self.through[0])
        return query

    def describe(self) -> dict[str, str]:
        described = {
            "since": utc_text(self.since) if self.since else None,
            "until": utc_text(self.until) if self.until else None,
            "recipe": self.recipe,
            "outcome": self.outcome.value if self.outcome else None,
            "lot": self.lot,
        }
        return {k: v for k, v in described.items() if v is not None}


def _base(where: RecordFilter) -> Select:
    return select(
        _i,
        _r.c.name.label("recipe_name"),
        _r.c.version.label("recipe_version"),
        _r.c.sha256.label("recipe_sha256"),
        where.final_outcome().label("final_outcome"),
    ).join(_r, _r.c.id == _i.c.recipe_version_id)


def as_of(engine: Engine, where: RecordFilter = RecordFilter()) -> tuple[ChainHead, RecordFilter]:
    """The chain head and the filter bounded to the records that exist now, read at once."""
    head = AuditHeadRow.__table__
    query = select(
        head.c.seq,
        head.c.hash,
        select(func.max(_i.c.id)).scalar_subquery(),
        select(func.max(_o.c.id)).scalar_subquery(),
    ).where(head.c.id == HEAD_ID)
    with engine.connect() as connection:
        seq, hash_, last_inspection, last_override = connection.execute(query).one()
    bounded = replace(where, through=(last_inspection or 0, last_override or 0))
    return ChainHead(seq, hash_), bounded


def count(engine: Engine, where: RecordFilter = RecordFilter()) -> int:
    query = where.apply(
        select(func.count()).select_from(_i.join(_r, _r.c.id == _i.c.recipe_version_id))
    )
    with engine.connect() as connection:
        return connection.execute(query).scalar_one()


def iter_records(
    engine: Engine, where: RecordFilter = RecordFilter(), batch: int = BATCH
) -> Iterator[dict[str, Any]]:
    """Every matching record, oldest id first, with defects, attempts, overrides, signatures."""
    last_id = 0
    with engine.connect() as connection:
        while True:
            query = (
                where.apply(_base(where)).where(_i.c.id > last_id).order_by(_i.c.id).limit(batch)
            )
            rows = connection.execute(query).mappings().all()
            if not rows:
                return
            yield from _records(connection, rows, where)
            last_id = rows[-1]["id"]


def _grouped(connection: Connection, table, ids: list[int], order) -> dict[int, list[dict]]:
    grouped: dict[int, list[dict]] = {i: [] for i in ids}
    query = select(table).where(table.c.inspection_id.in_(ids)).order_by(*order)
    for row in connection.execute(query).mappings():
        grouped[row["inspection_id"]].append(dict(row))
    return grouped


def _records(connection: Connection, rows, where: RecordFilter) -> Iterator[dict[str, Any]]:
    ids = [r["id"] for r in rows]
    defects = _grouped(connection, _d, ids, (_d.c.inspection_id, _d.c.id))
    attempts = _grouped(connection, _a, ids, (_a.c.inspection_id, _a.c.position))
    overrides = _grouped(connection, _o, ids, (_o.c.inspection_id, _o.c.id))
    if where.through is not None:
        overrides = {
            i: [o for o in found if o["id"] <= where.through[1]] for i, found in overrides.items()
        }
    signed = signatures.load(
        connection, (o["signature_id"] for group in overrides.values() for o in group)
    )
    for row in rows:
        yield record_dict(
            row, defects[row["id"]], attempts[row["id"]], overrides[row["id"]], signed
        )


def _time(value: datetime | None) -> str | None:
    return utc_text(value) if value is not None else None


def record_dict(row, defects: list[dict], attempts: list[dict], overrides: list[dict], signed):
    decided = next((a for a in reversed(attempts) if a["outcome"]), None)
    decided = decided or (attempts[-1] if attempts else None)
    sha, image_format = row["evidence_sha256"], row["evidence_format"]
    roi = None
    if row["roi_x"] is not None:
        roi = [row["roi_x"], row["roi_y"], row["roi_width"], row["roi_height"]]
    return {
        "inspection_id": row["id"],
        "uid": row["uid"],
        "captured_at": _time(row["captured_at"]),
        "recorded_at": _time(row["recorded_at"]),
        "camera_id": row["camera_id"],
        "sequence": row["sequence"],
        "part_id": row["part_id"],
        "serial": row["serial"],
        "lot": row["lot"],
        "recipe": row["recipe_name"],
        "recipe_version": row["recipe_version"],
        "recipe_sha256": row["recipe_sha256"],
        "outcome": row["outcome"],
        "final_outcome": row["final_outcome"],
        "reason": row["reason"],
        "confidence": row["confidence"],
        "engine": decided["engine"] if decided else None,
        "model_id": decided["model_id"] if decided else None,
        "model_revision": decided["model_revision"] if decided else None,
        "prompt_hash": decided["prompt_hash"] if decided else None,
        "raw_answer": decided["raw_text"] if decided else None,
        "evidence_sha256": sha,
        "evidence_file": f"{sha[:2]}/{sha}{FORMATS[image_format][0]}",
        "image_width": row["image_width"],
        "image_height": row["image_height"],
        "roi": roi,
        "queue_ms": row["queue_ms"],
        "judge_ms": row["judge_ms"],
        "total_ms": row["total_ms"],
        "image_left_site": row["image_left_site"],
        "defects": [
            {
                "class": d["class_name"],
                "severity": d["severity"],
                "box": [d["x0"], d["y0"], d["x1"], d["y1"]] if d["x0"] is not None else None,
                "confidence": d["confidence"],
                "note": d["note"],
            }
            for d in defects
        ],
        "attempts": [
            {
                "position": a["position"],
                "engine": a["engine"],
                "model_id": a["model_id"],
                "model_revision": a["model_revision"],
                "prompt_hash": a["prompt_hash"],
                "started_at": _time(a["started_at"]),
                "latency_ms": a["latency_ms"],
                "raw_answer": a["raw_text"],
                "prompt_tokens": a["prompt_tokens"],
                "completion_tokens": a["completion_tokens"],
                "error": a["error"],
                "outcome": a["outcome"],
                "image_left_site": a["image_left_site"],
            }
            for a in attempts
        ],
        "overrides": [
            {
                "id": o["id"],
                "previous_outcome": o["previous_outcome"],
                "outcome": o["outcome"],
                "reason": o["reason"],
                "user": o["user_name"],
                "at": _time(o["created_at"]),
                "signature": signed[o["signature_id"]].as_dict()
                if o["signature_id"] in signed
                else None,
            }
            for o in overrides
        ],
        "record_sha256": digests.inspection(row, defects, attempts),
    }


def summary(engine: Engine, where: RecordFilter = RecordFilter()) -> dict[str, Any]:
    """Counts for a report's first page, computed by the database over every matching record."""
    joined = _i.join(_r, _r.c.id == _i.c.recipe_version_id)
    final = where.final_outcome().label("final")
    on = _o.c.inspection_id == _i.c.id
    if where.through is not None:
        on = and_(on, _o.c.id <= where.through[1])
    with engine.connect() as connection:
        outcomes = Counter(
            dict(
                connection.execute(
                    where.apply(select(final, func.count()).select_from(joined)).group_by(final)
                ).all()
            )
        )
        recorded = dict(
            connection.execute(
                where.apply(select(_i.c.outcome, func.count()).select_from(joined)).group_by(
                    _i.c.outcome
                )
            ).all()
        )
        first, last = connection.execute(
            where.apply(
                select(func.min(_i.c.captured_at), func.max(_i.c.captured_at)).select_from(joined)
            )
        ).one()
        recipes = connection.execute(
            where.apply(select(_r.c.name, _r.c.version, func.count()).select_from(joined))
            .group_by(_r.c.name, _r.c.version)
            .order_by(_r.c.name, _r.c.version)
        ).all()
        overridden = connection.execute(
            where.apply(
                select(func.count(func.distinct(_o.c.inspection_id))).select_from(
                    joined.join(_o, on)
                )
            )
        ).scalar_one()
        left_site = connection.execute(
            where.apply(
                select(func.count()).select_from(joined).where(_i.c.image_left_site.is_(True))
            )
        ).scalar_one()
    total = sum(outcomes.values())
    return {
        "total": total,
        "final_outcomes": {o.value: outcomes.get(o.value, 0) for o in Outcome},
        "recorded_outcomes": {o.value: recorded.get(o.value, 0) for o in Outcome},
        "overridden": overridden,
        "images_left_site": left_site,
        "first_captured_at": _time(first),
        "last_captured_at": _time(last),
        "recipes": [{"name": n, "version": v, "count": c} for n, v, c in recipes],
    }
