"""The record: inspections, their defects and every judge attempt, with evidence images.

`Store.open` brings the schema up to date once; `record_inspection` writes the evidence file,
then the inspection, its defects and its attempts in one transaction, so a crash leaves either
a whole record or none, and no row ever names a missing file.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
from sqlalchemy import Engine, func, insert, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, selectinload

from inspector.config import Settings
from inspector.domain import Frame, Outcome, Region, Verdict, utc_now
from inspector.errors import InputError, InspectorError
from inspector.recipes import Recipe
from inspector.store import database
from inspector.store.audit import audit_tables as _audit_tables  # noqa: F401 (on Base)
from inspector.store.audit import recipe_log, users
from inspector.store.audit import trail as audit
from inspector.store.evaluations import evaluation_tables as _evaluation_tables  # noqa: F401 (on Base)
from inspector.store.evidence import EncodedImage, EvidenceStore
from inspector.store.tables import (
    DefectRow,
    InspectionRow,
    JudgeAttemptRow,
    RecipeVersionRow,
)

__all__ = ["InspectionRecord", "Store", "StoreError", "Timings"]


class StoreError(InspectorError):
    """The database cannot be opened or written; the message says which and why."""


@dataclass(frozen=True)
class Timings:
    queue_ms: float
    judge_ms: float
    total_ms: float


@dataclass(frozen=True)
class InspectionRecord:
    """One recorded inspection as the history shows it."""

    id: int
    uid: str
    captured_at: datetime
    camera_id: str
    sequence: int
    part_id: str | None
    recipe: str
    recipe_version: int
    outcome: Outcome
    reason: str
    defects: tuple[str, ...]
    engine: str | None
    model_id: str | None
    total_ms: float
    judge_ms: float
    evidence_path: Path


class Store:
    def __init__(
        self, engine: Engine, evidence: EvidenceStore, actor: users.Identity | None = None
    ) -> None:
        self.engine = engine
        self.evidence = evidence
        # Who records inspections and recipe versions through this store (the audit trail's
        # user): the station's service account unless a logged-in person opened it.
        self.actor = actor or users.Identity(users.SERVICE_ACCOUNT, users.Role.SERVICE, "")

    @classmethod
    def open(
        cls,
        settings: Settings,
        evidence_format: str = "jpeg",
        actor: str | users.Identity = users.SERVICE_ACCOUNT,
    ) -> Store:
        """Connect, apply any migration not yet applied, and check the acting account."""
        try:
            engine = database.connect(settings.database_url)
            database.upgrade(engine)
            if isinstance(actor, str):
                actor = users.ensure_service_account(engine, actor)
        except SQLAlchemyError as exc:
            reason = str(exc.orig if getattr(exc, "orig", None) else exc).strip().splitlines()[0]
            raise StoreError(f"database {_safe_url(settings.database_url)}: {reason}") from None
        return cls(engine, EvidenceStore(settings.evidence_dir, evidence_format), actor)

    def close(self) -> None:
        self.engine.dispose()

    def recipe_version_id(
        self, recipe: Recipe, references: list[np.ndarray], actor: users.Identity | None = None
    ) -> int:
        """The row of this exact recipe, created on first use with its reference images.

        Creating one takes the right to save recipes (`actor`, else the store's); it is audited.
        """
        content = recipe.to_yaml()
        encoded = [self.evidence.encode(image) for image in references]
        ref_hashes = " ".join(e.sha256 for e in encoded)
        digest = hashlib.sha256(f"{content}\0{ref_hashes}".encode()).hexdigest()
        with Session(self.engine) as session:
            row = session.scalar(select(RecipeVersionRow).where(RecipeVersionRow.sha256 == digest))
            if row is not None:
                return row.id
            clash = session.scalar(
                select(RecipeVersionRow).where(
                    RecipeVersionRow.name == recipe.name,
                    RecipeVersionRow.version == recipe.version,
                )
            )
            if clash is not None:
                raise InputError(
                    f"recipe {recipe.name!r} version {recipe.version} is already recorded with "
                    "different content; raise its `version` so both stay on record"
                )
            (actor or self.actor).require(users.Permission.SAVE_RECIPE)
            for image in encoded:
                self.evidence.write(image)
        row = {
            "name": recipe.name,
            "version": recipe.version,
            "sha256": digest,
            "content": content,
            "reference_sha256": ref_hashes,
            "created_at": utc_now(),
        }
        return recipe_log.save_recipe_version(self.engine, actor or self.actor, row)

    def record_inspection(
        self,
        frame: Frame,
        recipe_version_id: int,
        verdict: Verdict,
        image: EncodedImage,
        timings: Timings,
        roi: Region | None = None,
    ) -> int:
        """Write the evidence file, then the whole record in one transaction; returns its id."""
        self.evidence.write(image)
        inspection = {
            "uid": str(uuid.uuid4()),
            "camera_id": frame.camera_id,
            "sequence": frame.sequence,
            "captured_at": frame.captured_at,
            "recorded_at": utc_now(),
            "part_id": frame.part_id,
            "serial": frame.serial,
            "lot": frame.lot,
            "recipe_version_id": recipe_version_id,
            "outcome": verdict.outcome.value,
            "reason": verdict.reason,
            "confidence": verdict.confidence,
            "evidence_sha256": image.sha256,
            "evidence_format": image.format,
            "image_width": image.width,
            "image_height": image.height,
            "roi_x": roi.x if roi else None,
            "roi_y": roi.y if roi else None,
            "roi_width": roi.width if roi else None,
            "roi_height": roi.height if roi else None,
            "queue_ms": timings.queue_ms,
            "judge_ms": timings.judge_ms,
            "total_ms": timings.total_ms,
            "image_left_site": verdict.image_left_site,
        }
        defects = [
            {
                "class_name": d.class_name,
                "severity": d.severity.value if d.severity else None,
                "x0": d.box.x0 if d.box else None,
                "y0": d.box.y0 if d.box else None,
                "x1": d.box.x1 if d.box else None,
                "y1": d.box.y1 if d.box else None,
                "confidence": d.confidence,
                "note": d.note,
            }
            for d in verdict.defects
        ]
        attempts = [
            {
                "position": i,
                "engine": a.engine,
                "model_id": a.model_id,
                "model_revision": a.model_revision,
                "prompt_hash": a.prompt_hash,
                "started_at": a.started_at,
                "latency_ms": a.latency_ms,
                "raw_text": a.raw_text,
                "prompt_tokens": a.prompt_tokens,
                "completion_tokens": a.completion_tokens,
                "error": a.error,
                "outcome": a.outcome.value if a.outcome else None,
                "image_left_site": a.image_left_site,
                "cost_usd": a.cost_usd,
                "endpoint": a.endpoint,
            }
            for i, a in enumerate(verdict.attempts)
        ]
        # Core inserts, not the ORM: this runs once per part on the line's critical path.
        with self.engine.begin() as connection:
            inspection_id = connection.execute(
                insert(InspectionRow).returning(InspectionRow.id), inspection
            ).scalar_one()
            for table, rows in ((DefectRow, defects), (JudgeAttemptRow, attempts)):
                if rows:
                    for row in rows:
                        row["inspection_id"] = inspection_id
                    connection.execute(insert(table), rows)
            audit.record_inspection(
                connection, self.actor.name, inspection_id, inspection, defects, attempts
            )
        return inspection_id

    def history(self, limit: int = 50) -> list[InspectionRecord]:
        """The newest inspections first."""
        query = (
            select(InspectionRow)
            .options(
                selectinload(InspectionRow.defects),
                selectinload(InspectionRow.attempts),
                selectinload(InspectionRow.recipe_version),
            )
            .order_by(InspectionRow.id.desc())
            .limit(limit)
        )
        with Session(self.engine) as session:
            return [self._record(row) for row in session.scalars(query)]

    def count(self) -> int:
        with Session(self.engine) as session:
            return session.scalar(select(func.count(InspectionRow.id))) or 0

    def _record(self, row: InspectionRow) -> InspectionRecord:
        decided = next((a for a in reversed(row.attempts) if a.outcome), None)
        decided = decided or (row.attempts[-1] if row.attempts else None)
        return InspectionRecord(
            id=row.id,
            uid=row.uid,
            captured_at=row.captured_at,
            camera_id=row.camera_id,
            sequence=row.sequence,
            part_id=row.part_id,
            recipe=row.recipe_version.name,
            recipe_version=row.recipe_version.version,
            outcome=Outcome(row.outcome),
            reason=row.reason,
            defects=tuple(d.class_name for d in row.defects),
            engine=decided.engine if decided else None,
            model_id=decided.model_id if decided else None,
            total_ms=row.total_ms,
            judge_ms=row.judge_ms,
            evidence_path=self.evidence.path_for(row.evidence_sha256, row.evidence_format),
        )


def _safe_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
