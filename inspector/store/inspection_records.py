"""The one read shape of an inspection: `InspectionRecord`, and `export_dict`, its export form.

`inspector history`, the History table, the review list and the detail pane read
`InspectionRecord`s; exports write `export_dict(record)` (plain JSON-ready values, so the export
adapters need nothing of the store). Records are read in batches (`load`): the defects,
attempts, overrides and signatures of a whole batch in one query each.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Select

from inspector.domain import Outcome
from inspector.store.audit import digests, signatures
from inspector.store.audit.audit_tables import OverrideRow
from inspector.store.audit.hash_chain import utc_text
from inspector.store.audit.signatures import Signature
from inspector.store.evidence import FORMATS, EvidenceStore
from inspector.store.selection import InspectionFilter, joined
from inspector.store.tables import DefectRow, InspectionRow, JudgeAttemptRow, RecipeVersionRow

_i = InspectionRow.__table__
_d = DefectRow.__table__
_a = JudgeAttemptRow.__table__
_o = OverrideRow.__table__
_r = RecipeVersionRow.__table__


@dataclass(frozen=True)
class DefectInfo:
    class_name: str
    severity: str | None  # None: a class the recipe does not list
    box: tuple[int, int, int, int] | None  # x0, y0, x1, y1 in source-image pixels
    confidence: float | None
    note: str | None


@dataclass(frozen=True)
class AttemptInfo:
    position: int
    engine: str
    model_id: str
    model_revision: str | None
    prompt_hash: str | None
    started_at: datetime | None
    latency_ms: float
    raw_text: str | None
    prompt_tokens: int | None
    completion_tokens: int | None
    error: str | None
    outcome: str | None  # None: the attempt gave no verdict (an error, a timeout)
    image_left_site: bool
    # The outcome's probability from the model's token probabilities; None: self-reported only
    measured_confidence: float | None = None


@dataclass(frozen=True)
class Decision:
    """A person's override of the model's verdict: a row of its own, signed."""

    id: int
    previous: Outcome
    outcome: Outcome
    reason: str
    user_name: str
    created_at: datetime
    signature: Signature | None


@dataclass(frozen=True)
class InspectionRecord:
    """One recorded inspection, whole: what the model decided and what a person decided since."""

    id: int
    uid: str
    captured_at: datetime
    recorded_at: datetime
    camera_id: str
    sequence: int
    part_id: str | None
    serial: str | None
    lot: str | None
    recipe_version_id: int
    recipe: str
    recipe_version: int
    recipe_sha256: str
    outcome: Outcome  # the model's verdict, as recorded
    final_outcome: Outcome  # the latest override's, else the model's
    reason: str
    confidence: float | None
    evidence_sha256: str
    evidence_format: str
    evidence_path: Path | None  # the file under the store's evidence directory
    image_width: int
    image_height: int
    roi: tuple[int, int, int, int] | None  # x, y, width, height
    queue_ms: float
    judge_ms: float
    total_ms: float
    image_left_site: bool
    defects: tuple[DefectInfo, ...]
    attempts: tuple[AttemptInfo, ...]
    decisions: tuple[Decision, ...]

    @property
    def decided_by(self) -> AttemptInfo | None:
        """The attempt whose verdict stands: the last with an outcome, else the last."""
        decided = next((a for a in reversed(self.attempts) if a.outcome), None)
        return decided or (self.attempts[-1] if self.attempts else None)

    @property
    def engine(self) -> str | None:
        return self.decided_by.engine if self.decided_by else None

    @property
    def model_id(self) -> str | None:
        return self.decided_by.model_id if self.decided_by else None

    @property
    def defect_names(self) -> tuple[str, ...]:
        return tuple(d.class_name for d in self.defects)

    @property
    def record_sha256(self) -> str:
        """The digest its audit entry holds, recomputed from the fields as `audit verify` does
        (only exports ask for it: a page of the window does not pay for it)."""
        x, y, width, height = self.roi or (None, None, None, None)
        row = {
            **{name: getattr(self, name) for name, _ in digests.INSPECTION if hasattr(self, name)},
            "outcome": self.outcome.value,
            "roi_x": x,
            "roi_y": y,
            "roi_width": width,
            "roi_height": height,
        }
        defects = [
            {
                "class_name": d.class_name,
                "severity": d.severity,
                **dict(zip(("x0", "y0", "x1", "y1"), d.box or (None,) * 4, strict=True)),
                "confidence": d.confidence,
                "note": d.note,
            }
            for d in self.defects
        ]
        attempts = [{name: getattr(a, name) for name, _ in digests.ATTEMPT} for a in self.attempts]
        return digests.inspection(row, defects, attempts)

    @property
    def evidence_file(self) -> str:
        """The evidence file relative to the evidence directory (as exports name it)."""
        sha = self.evidence_sha256
        return f"{sha[:2]}/{sha}{FORMATS[self.evidence_format][0]}"


def base(where: InspectionFilter) -> Select:
    """Inspection rows with their recipe and final outcome, narrowed by `where`."""
    query = joined(
        _i,
        _r.c.name.label("recipe_name"),
        _r.c.version.label("recipe_version"),
        _r.c.sha256.label("recipe_sha256"),
        where.final_outcome().label("final_outcome"),
    )
    return where.apply(query)


def load(
    connection: Connection,
    rows: Sequence[Mapping[str, Any]],
    where: InspectionFilter,
    evidence: EvidenceStore | None = None,
) -> Iterator[InspectionRecord]:
    """The records of `rows` (read with `base`), in their order, each whole."""
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
        yield _record(
            row, defects[row["id"]], attempts[row["id"]], overrides[row["id"]], signed, evidence
        )


def _grouped(connection: Connection, table, ids: list[int], order) -> dict[int, list[dict]]:
    from sqlalchemy import select

    grouped: dict[int, list[dict]] = {i: [] for i in ids}
    if not ids:
        return grouped
    query = select(table).where(table.c.inspection_id.in_(ids)).order_by(*order)
    for row in connection.execute(query).mappings():
        grouped[row["inspection_id"]].append(dict(row))
    return grouped


def _record(row, defects, attempts, overrides, signed, evidence) -> InspectionRecord:
    roi = None
    if row["roi_x"] is not None:
        roi = (row["roi_x"], row["roi_y"], row["roi_width"], row["roi_height"])
    sha, image_format = row["evidence_sha256"], row["evidence_format"]
    return InspectionRecord(
        id=row["id"],
        uid=row["uid"],
        captured_at=row["captured_at"],
        recorded_at=row["recorded_at"],
        camera_id=row["camera_id"],
        sequence=row["sequence"],
        part_id=row["part_id"],
        serial=row["serial"],
        lot=row["lot"],
        recipe_version_id=row["recipe_version_id"],
        recipe=row["recipe_name"],
        recipe_version=row["recipe_version"],
        recipe_sha256=row["recipe_sha256"],
        outcome=Outcome(row["outcome"]),
        final_outcome=Outcome(row["final_outcome"]),
        reason=row["reason"],
        confidence=row["confidence"],
        evidence_sha256=sha,
        evidence_format=image_format,
        evidence_path=evidence.path_for(sha, image_format) if evidence else None,
        image_width=row["image_width"],
        image_height=row["image_height"],
        roi=roi,
        queue_ms=row["queue_ms"],
        judge_ms=row["judge_ms"],
        total_ms=row["total_ms"],
        image_left_site=row["image_left_site"],
        defects=tuple(
            DefectInfo(
                d["class_name"],
                d["severity"],
                (d["x0"], d["y0"], d["x1"], d["y1"]) if d["x0"] is not None else None,
                d["confidence"],
                d["note"],
            )
            for d in defects
        ),
        attempts=tuple(
            AttemptInfo(
                position=a["position"],
                engine=a["engine"],
                model_id=a["model_id"],
                model_revision=a["model_revision"],
                prompt_hash=a["prompt_hash"],
                started_at=a["started_at"],
                latency_ms=a["latency_ms"],
                raw_text=a["raw_text"],
                prompt_tokens=a["prompt_tokens"],
                completion_tokens=a["completion_tokens"],
                error=a["error"],
                outcome=a["outcome"],
                image_left_site=a["image_left_site"],
                measured_confidence=a["measured_confidence"],
            )
            for a in attempts
        ),
        decisions=tuple(
            Decision(
                id=o["id"],
                previous=Outcome(o["previous_outcome"]),
                outcome=Outcome(o["outcome"]),
                reason=o["reason"],
                user_name=o["user_name"],
                created_at=o["created_at"],
                signature=signed.get(o["signature_id"]),
            )
            for o in overrides
        ),
    )


def _time(value: datetime | None) -> str | None:
    return utc_text(value) if value is not None else None


def export_dict(record: InspectionRecord) -> dict[str, Any]:
    """The record as exports write it (CSV, JSON Lines, PDF, bundle): every field, plain values.

    Frozen: exported files are compared byte for byte with those written before.
    """
    decided = record.decided_by
    return {
        "inspection_id": record.id,
        "uid": record.uid,
        "captured_at": _time(record.captured_at),
        "recorded_at": _time(record.recorded_at),
        "camera_id": record.camera_id,
        "sequence": record.sequence,
        "part_id": record.part_id,
        "serial": record.serial,
        "lot": record.lot,
        "recipe": record.recipe,
        "recipe_version": record.recipe_version,
        "recipe_sha256": record.recipe_sha256,
        "outcome": record.outcome.value,
        "final_outcome": record.final_outcome.value,
        "reason": record.reason,
        "confidence": record.confidence,
        "engine": decided.engine if decided else None,
        "model_id": decided.model_id if decided else None,
        "model_revision": decided.model_revision if decided else None,
        "prompt_hash": decided.prompt_hash if decided else None,
        "raw_answer": decided.raw_text if decided else None,
        "evidence_sha256": record.evidence_sha256,
        "evidence_file": record.evidence_file,
        "image_width": record.image_width,
        "image_height": record.image_height,
        "roi": list(record.roi) if record.roi is not None else None,
        "queue_ms": record.queue_ms,
        "judge_ms": record.judge_ms,
        "total_ms": record.total_ms,
        "image_left_site": record.image_left_site,
        "defects": [
            {
                "class": d.class_name,
                "severity": d.severity,
                "box": list(d.box) if d.box is not None else None,
                "confidence": d.confidence,
                "note": d.note,
            }
            for d in record.defects
        ],
        "attempts": [
            {
                "position": a.position,
                "engine": a.engine,
                "model_id": a.model_id,
                "model_revision": a.model_revision,
                "prompt_hash": a.prompt_hash,
                "started_at": _time(a.started_at),
                "latency_ms": a.latency_ms,
                "raw_answer": a.raw_text,
                "prompt_tokens": a.prompt_tokens,
                "completion_tokens": a.completion_tokens,
                "error": a.error,
                "outcome": a.outcome,
                "image_left_site": a.image_left_site,
                # From the model's token probabilities; null: the confidence is self-reported
                "measured_confidence": a.measured_confidence,
            }
            for a in record.attempts
        ],
        "overrides": [
            {
                "id": o.id,
                "previous_outcome": o.previous.value,
                "outcome": o.outcome.value,
                "reason": o.reason,
                "user": o.user_name,
                "at": _time(o.created_at),
                "signature": o.signature.as_dict() if o.signature is not None else None,
            }
            for o in record.decisions
        ],
        "record_sha256": record.record_sha256,
    }
