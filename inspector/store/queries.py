"""Read-side queries for review screens: pages of history, one inspection whole, statistics.

Pages are keyed by id (`before_id`), not by offset, so the millionth row costs what the first
does. Nothing here writes.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine, Select, exists, func, select
from sqlalchemy.orm import Session, selectinload

from inspector.domain import Outcome
from inspector.store.tables import DefectRow, InspectionRow, JudgeAttemptRow, RecipeVersionRow


@dataclass(frozen=True)
class InspectionFilter:
    since: datetime | None = None
    until: datetime | None = None
    outcomes: tuple[Outcome, ...] = ()
    recipe: str | None = None
    lot_or_serial: str | None = None  # matches lot, serial or part id, as typed
    engine: str | None = None


@dataclass(frozen=True)
class HistoryRow:
    id: int
    captured_at: datetime
    outcome: Outcome
    recipe: str
    recipe_version: int
    part_id: str | None
    lot: str | None
    serial: str | None
    camera_id: str
    reason: str
    judge_ms: float


@dataclass(frozen=True)
class AttemptDetail:
    position: int
    engine: str
    model_id: str
    model_revision: str | None
    latency_ms: float
    outcome: str | None
    error: str | None
    raw_text: str
    prompt_tokens: int | None
    completion_tokens: int | None
    image_left_site: bool


@dataclass(frozen=True)
class DefectDetail:
    class_name: str
    severity: str | None
    box: tuple[int, int, int, int] | None
    confidence: float | None


@dataclass(frozen=True)
class InspectionDetail:
    row: HistoryRow
    evidence_sha256: str
    evidence_format: str
    roi: tuple[int, int, int, int] | None
    confidence: float | None
    defects: tuple[DefectDetail, ...] = ()
    attempts: tuple[AttemptDetail, ...] = field(default_factory=tuple)


def _filtered(query: Select, f: InspectionFilter) -> Select:
    if f.since is not None:
        query = query.where(InspectionRow.captured_at >= f.since)
    if f.until is not None:
        query = query.where(InspectionRow.captured_at < f.until)
    if f.outcomes:
        query = query.where(InspectionRow.outcome.in_([o.value for o in f.outcomes]))
    if f.recipe:
        query = query.where(RecipeVersionRow.name == f.recipe)
    if f.lot_or_serial:
        text = f.lot_or_serial.strip()
        query = query.where(
            (InspectionRow.lot == text)
            | (InspectionRow.serial == text)
            | (InspectionRow.part_id == text)
        )
    if f.engine:
        query = query.where(
            exists().where(
                JudgeAttemptRow.inspection_id == InspectionRow.id,
                JudgeAttemptRow.engine == f.engine,
            )
        )
    return query


def _base(columns) -> Select:
    return select(*columns).join(
        RecipeVersionRow, RecipeVersionRow.id == InspectionRow.recipe_version_id
    )


_ROW_COLUMNS = (
    InspectionRow.id,
    InspectionRow.captured_at,
    InspectionRow.outcome,
    RecipeVersionRow.name,
    RecipeVersionRow.version,
    InspectionRow.part_id,
    InspectionRow.lot,
    InspectionRow.serial,
    InspectionRow.camera_id,
    InspectionRow.reason,
    InspectionRow.judge_ms,
)


def _history_row(values) -> HistoryRow:
    return HistoryRow(
        id=values[0],
        captured_at=values[1],
        outcome=Outcome(values[2]),
        recipe=values[3],
        recipe_version=values[4],
        part_id=values[5],
        lot=values[6],
        serial=values[7],
        camera_id=values[8],
        reason=values[9],
        judge_ms=values[10],
    )


def page(
    engine: Engine, f: InspectionFilter, limit: int = 200, before_id: int | None = None
) -> list[HistoryRow]:
    """Newest first; pass the last id of a page as `before_id` for the next one."""
    query = _filtered(_base(_ROW_COLUMNS), f)
    if before_id is not None:
        query = query.where(InspectionRow.id < before_id)
    query = query.order_by(InspectionRow.id.desc()).limit(limit)
    with engine.connect() as connection:
        return [_history_row(values) for values in connection.execute(query)]


def count(engine: Engine, f: InspectionFilter) -> int:
    query = _filtered(_base((func.count(InspectionRow.id),)), f)
    with engine.connect() as connection:
        return int(connection.execute(query).scalar_one())


def detail(engine: Engine, inspection_id: int) -> InspectionDetail | None:
    query = (
        select(InspectionRow)
        .where(InspectionRow.id == inspection_id)
        .options(
            selectinload(InspectionRow.defects),
            selectinload(InspectionRow.attempts),
            selectinload(InspectionRow.recipe_version),
        )
    )
    with Session(engine) as session:
        row = session.scalar(query)
        if row is None:
            return None
        recipe = row.recipe_version
        history = HistoryRow(
            row.id,
            row.captured_at,
            Outcome(row.outcome),
            recipe.name,
            recipe.version,
            row.part_id,
            row.lot,
            row.serial,
            row.camera_id,
            row.reason,
            row.judge_ms,
        )
        roi = None
        if row.roi_width:
            roi = (row.roi_x, row.roi_y, row.roi_width, row.roi_height)
        return InspectionDetail(
            row=history,
            evidence_sha256=row.evidence_sha256,
            evidence_format=row.evidence_format,
            roi=roi,
            confidence=row.confidence,
            defects=tuple(_defect(d) for d in row.defects),
            attempts=tuple(_attempt(a) for a in row.attempts),
        )


def _defect(d: DefectRow) -> DefectDetail:
    box = (d.x0, d.y0, d.x1, d.y1) if d.x0 is not None else None
    return DefectDetail(d.class_name, d.severity, box, d.confidence)


def _attempt(a: JudgeAttemptRow) -> AttemptDetail:
    return AttemptDetail(
        a.position,
        a.engine,
        a.model_id,
        a.model_revision,
        a.latency_ms,
        a.outcome,
        a.error,
        a.raw_text,
        a.prompt_tokens,
        a.completion_tokens,
        a.image_left_site,
    )


def recipe_names(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        query = select(RecipeVersionRow.name).distinct().order_by(RecipeVersionRow.name)
        return list(connection.execute(query).scalars())


@dataclass(frozen=True)
class YieldPoint:
    start: datetime
    total: int
    passed: int
    failed: int
    unsure: int

    @property
    def yield_percent(self) -> float:
        return 100.0 * self.passed / self.total if self.total else 0.0


def yield_series(
    engine: Engine, f: InspectionFilter, bucket: timedelta = timedelta(hours=1)
) -> list[YieldPoint]:
    """Counts per time bucket, computed here so that SQLite and PostgreSQL agree."""
    query = _filtered(_base((InspectionRow.captured_at, InspectionRow.outcome)), f)
    buckets: dict[datetime, Counter] = {}
    seconds = bucket.total_seconds()
    with engine.connect() as connection:
        for captured_at, outcome in connection.execute(query.execution_options(yield_per=5000)):
            epoch = captured_at.timestamp()
            start = datetime.fromtimestamp(epoch - epoch % seconds, tz=captured_at.tzinfo)
            buckets.setdefault(start, Counter())[outcome] += 1
    return [
        YieldPoint(
            start,
            sum(c.values()),
            c[Outcome.PASS.value],
            c[Outcome.FAIL.value],
            c[Outcome.UNSURE.value],
        )
        for start, c in sorted(buckets.items())
    ]


def defect_pareto(engine: Engine, f: InspectionFilter) -> list[tuple[str, int]]:
    """Defect classes by how often they were found, most frequent first."""
    base = _filtered(_base((InspectionRow.id,)), f).subquery()
    query = (
        select(DefectRow.class_name, func.count(DefectRow.id))
        .where(DefectRow.inspection_id.in_(select(base.c.id)))
        .group_by(DefectRow.class_name)
        .order_by(func.count(DefectRow.id).desc(), DefectRow.class_name)
    )
    with engine.connect() as connection:
        return [(name, int(n)) for name, n in connection.execute(query)]


def latest_version(engine: Engine, name: str) -> int | None:
    """The highest recorded version of a recipe name, or None if it was never recorded."""
    with engine.connect() as connection:
        query = select(func.max(RecipeVersionRow.version)).where(RecipeVersionRow.name == name)
        return connection.execute(query).scalar_one_or_none()


def review_queue(engine: Engine, limit: int = 200) -> list[HistoryRow]:
    """FAIL and UNSURE inspections no person has decided yet, oldest first (first in, first out)."""
    from inspector.store.audit.audit_tables import OverrideRow

    query = (
        _base(_ROW_COLUMNS)
        .where(InspectionRow.outcome.in_([Outcome.FAIL.value, Outcome.UNSURE.value]))
        .where(~exists().where(OverrideRow.inspection_id == InspectionRow.id))
        .order_by(InspectionRow.id)
        .limit(limit)
    )
    with engine.connect() as connection:
        return [_history_row(values) for values in connection.execute(query)]


@dataclass(frozen=True)
class OverrideDetail:
    outcome: Outcome
    previous: Outcome
    reason: str
    user_name: str
    created_at: datetime


def overrides_of(engine: Engine, inspection_id: int) -> list[OverrideDetail]:
    from inspector.store.audit.audit_tables import OverrideRow

    query = (
        select(
            OverrideRow.outcome,
            OverrideRow.previous_outcome,
            OverrideRow.reason,
            OverrideRow.user_name,
            OverrideRow.created_at,
        )
        .where(OverrideRow.inspection_id == inspection_id)
        .order_by(OverrideRow.id)
    )
    with engine.connect() as connection:
        return [
            OverrideDetail(Outcome(o), Outcome(p), r, u, c)
            for o, p, r, u, c in connection.execute(query)
        ]
