"""Evaluation runs in the store: start one, add each image's result as it is judged, read back.

Each result is committed on its own, so a run interrupted (Ctrl-C, a crash) keeps every image
judged so far and can be resumed: `judged_images` says which to skip.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.orm import Session

from inspector.domain import utc_now
from inspector.errors import InputError
from inspector.store.evaluations.evaluation_tables import EvaluationResultRow, EvaluationRunRow
from inspector.store.tables import RecipeVersionRow

RUNNING, INTERRUPTED, COMPLETE = "running", "interrupted", "complete"


@dataclass(frozen=True)
class EvaluationRun:
    id: int
    uid: str
    started_at: datetime
    finished_at: datetime | None
    status: str
    dataset: str
    dataset_kind: str
    reader: dict
    image_count: int
    recipe_version_id: int
    recipe: str
    recipe_version: int
    chain: str
    judged: int = 0

    @property
    def short(self) -> str:
        """What a person types to name the run: the first 8 characters of its uid."""
        return self.uid[:8]


@dataclass(frozen=True)
class EvaluationResult:
    """One image's verdict in a run, with what the metrics need."""

    image: str
    label: str
    expected: str  # "good" or "defect"
    outcome: str  # PASS, FAIL, UNSURE
    latency_ms: float
    reason: str = ""
    boxes: list = field(default_factory=list)  # [[class, x0, y0, x1, y1], ...]
    score: float | None = None
    engines: tuple[str, ...] = ()
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost: float | None = None
    error: str | None = None
    position: int = 0


def start_run(
    engine: Engine,
    *,
    dataset: str,
    dataset_kind: str,
    reader: dict,
    image_count: int,
    recipe_version_id: int,
    chain: str,
) -> EvaluationRun:
    row = {
        "uid": str(uuid.uuid4()),
        "started_at": utc_now(),
        "finished_at": None,
        "status": RUNNING,
        "dataset": dataset,
        "dataset_kind": dataset_kind,
        "reader": json.dumps(reader, sort_keys=True),
        "image_count": image_count,
        "recipe_version_id": recipe_version_id,
        "chain": chain,
    }
    with engine.begin() as connection:
        run_id = connection.execute(
            insert(EvaluationRunRow).returning(EvaluationRunRow.id), row
        ).scalar_one()
    return get_run(engine, run_id)


def get_run(engine: Engine, run_id: int) -> EvaluationRun:
    with Session(engine) as session:
        row = session.get(EvaluationRunRow, run_id)
        if row is None:
            raise InputError(f"evaluation run {run_id}: not in the store")
        return _run(session, row)


def find_run(engine: Engine, ref: str) -> EvaluationRun:
    """A run named by its number or by the start of its uid (as `inspector eval` prints it)."""
    ref = ref.strip()
    with Session(engine) as session:
        rows: list[EvaluationRunRow] = []
        if ref.isdigit():
            row = session.get(EvaluationRunRow, int(ref))
            rows = [row] if row is not None else []
        if not rows and len(ref) >= 4:
            query = select(EvaluationRunRow).where(
                EvaluationRunRow.uid.startswith(ref.lower(), autoescape=True)
            )
            rows = list(session.scalars(query.limit(2)))
        if not rows:
            raise InputError(
                f"evaluation run {ref!r}: not in the store; `inspector eval --list` shows the runs"
            )
        if len(rows) > 1:
            raise InputError(f"evaluation run {ref!r}: more than one run starts so; type more")
        return _run(session, rows[0])


def list_runs(engine: Engine, limit: int = 20) -> list[EvaluationRun]:
    query = select(EvaluationRunRow).order_by(EvaluationRunRow.id.desc()).limit(limit)
    with Session(engine) as session:
        return [_run(session, row) for row in session.scalars(query)]


def judged_images(engine: Engine, run_id: int) -> set[str]:
    query = select(EvaluationResultRow.image).where(EvaluationResultRow.run_id == run_id)
    with engine.connect() as connection:
        return set(connection.scalars(query))


def add_result(engine: Engine, run_id: int, result: EvaluationResult) -> None:
    row = {
        "run_id": run_id,
        "position": result.position,
        "image": result.image,
        "label": result.label,
        "expected": result.expected,
        "outcome": result.outcome,
        "reason": result.reason,
        "boxes": json.dumps(result.boxes),
        "score": result.score,
        "latency_ms": result.latency_ms,
        "engines": " ".join(result.engines),
        "prompt_tokens": result.prompt_tokens,
        "completion_tokens": result.completion_tokens,
        "cost": result.cost,
        "error": result.error,
        "judged_at": utc_now(),
    }
    with engine.begin() as connection:
        connection.execute(insert(EvaluationResultRow), row)


def set_status(engine: Engine, run_id: int, status: str) -> None:
    finished = utc_now() if status == COMPLETE else None
    with engine.begin() as connection:
        connection.execute(
            update(EvaluationRunRow)
            .where(EvaluationRunRow.id == run_id)
            .values(status=status, finished_at=finished)
        )


def results(engine: Engine, run_id: int) -> list[EvaluationResult]:
    query = (
        select(EvaluationResultRow)
        .where(EvaluationResultRow.run_id == run_id)
        .order_by(EvaluationResultRow.position, EvaluationResultRow.id)
    )
    with Session(engine) as session:
        return [
            EvaluationResult(
                image=row.image,
                label=row.label,
                expected=row.expected,
                outcome=row.outcome,
                latency_ms=row.latency_ms,
                reason=row.reason,
                boxes=json.loads(row.boxes),
                score=row.score,
                engines=tuple(row.engines.split()),
                prompt_tokens=row.prompt_tokens,
                completion_tokens=row.completion_tokens,
                cost=row.cost,
                error=row.error,
                position=row.position,
            )
            for row in session.scalars(query)
        ]


def _run(session: Session, row: EvaluationRunRow) -> EvaluationRun:
    recipe = session.get(RecipeVersionRow, row.recipe_version_id)
    judged = session.scalar(
        select(func.count(EvaluationResultRow.id)).where(EvaluationResultRow.run_id == row.id)
    )
    return EvaluationRun(
        id=row.id,
        uid=row.uid,
        started_at=row.started_at,
        finished_at=row.finished_at,
        status=row.status,
        dataset=row.dataset,
        dataset_kind=row.dataset_kind,
        reader=json.loads(row.reader),
        image_count=row.image_count,
        recipe_version_id=row.recipe_version_id,
        recipe=recipe.name if recipe else "?",
        recipe_version=recipe.version if recipe else 0,
        chain=row.chain,
        judged=judged or 0,
    )
