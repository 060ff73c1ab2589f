"""Read-side queries for review screens: pages of history, one inspection whole, statistics.

Pages are keyed by id (`before_id`), not by offset, so the millionth row costs what the first
does. Every selection is an `InspectionFilter` (selection.py), the same the exports use; every
inspection comes back as an `InspectionRecord` (inspection_records.py). Nothing here writes.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, exists, func, select

from inspector.domain import Outcome
from inspector.store.audit.audit_tables import OverrideRow
from inspector.store.evidence import EvidenceStore
from inspector.store.inspection_records import InspectionRecord, base, load
from inspector.store.part_groups import PartGrouper
from inspector.store.selection import InspectionFilter, joined
from inspector.store.tables import DefectRow, InspectionRow, RecipeVersionRow

_i = InspectionRow.__table__
_o = OverrideRow.__table__
_d = DefectRow.__table__
_r = RecipeVersionRow.__table__


def page(
    engine: Engine,
    where: InspectionFilter,
    evidence: EvidenceStore | None = None,
    limit: int = 200,
    before_id: int | None = None,
) -> list[InspectionRecord]:
    """Newest first; pass the last id of a page as `before_id` for the next one."""
    query = base(where)
    if before_id is not None:
        query = query.where(_i.c.id < before_id)
    query = query.order_by(_i.c.id.desc()).limit(limit)
    with engine.connect() as connection:
        rows = connection.execute(query).mappings().all()
        return list(load(connection, rows, where, evidence))


def count(engine: Engine, where: InspectionFilter) -> int:
    with engine.connect() as connection:
        return int(connection.execute(where.apply(joined(func.count()))).scalar_one())


def detail(
    engine: Engine, inspection_id: int, evidence: EvidenceStore | None = None
) -> InspectionRecord | None:
    """One inspection whole, or None if there is none with this id."""
    where = InspectionFilter()
    with engine.connect() as connection:
        rows = connection.execute(base(where).where(_i.c.id == inspection_id)).mappings().all()
        return next(load(connection, rows, where, evidence), None)


# What waits for a person: a verdict that did not pass. A part not inspected (UNJUDGED) is no
# verdict, so it is not reviewed from its picture: it is inspected again.
_FOR_REVIEW = (Outcome.FAIL.value, Outcome.UNSURE.value)


def review_queue(
    engine: Engine,
    evidence: EvidenceStore | None = None,
    limit: int = 200,
    after_id: int | None = None,
) -> list[InspectionRecord]:
    """FAIL and UNSURE inspections no person has decided yet, oldest first (first in, first out);
    pass the last id of a page as `after_id` for the next one."""
    where = InspectionFilter()
    query = (
        base(where)
        .where(_i.c.outcome.in_(_FOR_REVIEW))
        .where(~exists().where(_o.c.inspection_id == _i.c.id))
    )
    if after_id is not None:
        query = query.where(_i.c.id > after_id)
    query = query.order_by(_i.c.id).limit(limit)
    with engine.connect() as connection:
        rows = connection.execute(query).mappings().all()
        return list(load(connection, rows, where, evidence))


def review_count(engine: Engine, after_id: int | None = None) -> int:
    """How many wait in the review queue, all of them (the queue's page is capped); with
    `after_id`, only those recorded after that inspection (a list's "N new")."""
    query = (
        select(func.count())
        .select_from(_i)
        .where(_i.c.outcome.in_(_FOR_REVIEW))
        .where(~exists().where(_o.c.inspection_id == _i.c.id))
    )
    if after_id is not None:
        query = query.where(_i.c.id > after_id)
    with engine.connect() as connection:
        return int(connection.execute(query).scalar_one())


def last_failed_parts(
    engine: Engine, evidence: EvidenceStore | None, count: int
) -> list[InspectionRecord]:
    """The newest `count` failed parts (final outcome FAIL), newest first, each as its first
    failing inspection (its first view, as the Station's strip shows a live part); a part seen
    by several cameras is one entry (part_groups.py)."""
    where = InspectionFilter(outcomes=(Outcome.FAIL,))
    parts = PartGrouper()
    shown: dict[int, InspectionRecord] = {}  # by the part's newest inspection id, newest first
    before_id = None
    while True:
        batch = page(engine, where, evidence, limit=max(16, 2 * count), before_id=before_id)
        for record in batch:
            part = parts.part_of(
                record.id, record.part_id, record.camera_id, record.sequence, record.captured_at
            )
            newest = part.inspection_ids[0]
            if newest not in shown and len(shown) == count:
                return list(shown.values())  # the next part: the last one shown is whole
            shown[newest] = record  # newest first: a later row is an earlier view
        if len(batch) < max(16, 2 * count):
            return list(shown.values())
        before_id = batch[-1].id


def recipe_names(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        query = select(RecipeVersionRow.name).distinct().order_by(RecipeVersionRow.name)
        return list(connection.execute(query).scalars())


def latest_version(engine: Engine, name: str) -> int | None:
    """The highest recorded version of a recipe name, or None if it was never recorded."""
    with engine.connect() as connection:
        query = select(func.max(RecipeVersionRow.version)).where(RecipeVersionRow.name == name)
        return connection.execute(query).scalar_one_or_none()


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
    engine: Engine, where: InspectionFilter, bucket: timedelta = timedelta(hours=1)
) -> list[YieldPoint]:
    """Counts per time bucket, computed here so that SQLite and PostgreSQL agree. Parts not
    inspected (UNJUDGED: the station stopped first) are no verdict and are left out."""
    query = where.apply(joined(_i.c.captured_at, _i.c.outcome)).where(
        _i.c.outcome != Outcome.UNJUDGED.value
    )
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


def defect_pareto(engine: Engine, where: InspectionFilter) -> list[tuple[str, int]]:
    """Defect classes by how many failed PARTS showed them, most frequent first: the bars are
    parts to fix, not regions a judge happened to split a defect into, nor camera views.

    - a part counts once per class, however many regions of that class it showed;
    - a part seen by several cameras (several inspections, one part id) counts once per class
      (which inspections are one part: part_groups.py);
    - only inspections whose final outcome (after overrides) is FAIL count: a region on a part
      that passed, or that a person decided passes, is not why it was rejected, and an UNSURE
      part waits for a person.

    Counted here, streaming, so that SQLite and PostgreSQL agree (as `yield_series`)."""
    query = (
        where.apply(
            select(
                _i.c.id,
                _i.c.part_id,
                _i.c.camera_id,
                _i.c.sequence,
                _i.c.captured_at,
                _d.c.class_name,
            )
            .select_from(_i.join(_r, _r.c.id == _i.c.recipe_version_id))
            .join(_d, _d.c.inspection_id == _i.c.id)
        )
        .where(where.final_outcome() == Outcome.FAIL.value)
        .order_by(_i.c.id)
    )
    parts = PartGrouper()
    counts: Counter[str] = Counter()
    with engine.connect() as connection:
        rows = connection.execute(query.execution_options(yield_per=5000))
        for inspection_id, part_id, camera_id, sequence, captured_at, class_name in rows:
            part = parts.part_of(inspection_id, part_id, camera_id, sequence, captured_at)
            if class_name not in part.classes:
                part.classes.add(class_name)
                counts[class_name] += 1
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))
