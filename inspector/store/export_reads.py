"""Inspection records as exports and reports read them: every field, streamed in batches.

Batches are read by id (keyset pagination), so memory stays bounded by the batch however many
records match, on SQLite and PostgreSQL alike. `as_of` bounds a selection to the records and
overrides that exist at one moment, so a long export does not drift while stations record.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, and_, func, select

from inspector.domain import Outcome
from inspector.store.audit.audit_tables import AuditHeadRow, OverrideRow
from inspector.store.audit.hash_chain import utc_text
from inspector.store.audit.trail import HEAD_ID, ChainHead
from inspector.store.evidence import EvidenceStore
from inspector.store.inspection_records import InspectionRecord, base, load
from inspector.store.selection import InspectionFilter, joined
from inspector.store.tables import InspectionRow, RecipeVersionRow

_i = InspectionRow.__table__
_o = OverrideRow.__table__
_r = RecipeVersionRow.__table__

BATCH = 500


def as_of(engine: Engine, where: InspectionFilter) -> tuple[ChainHead, InspectionFilter]:
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


def iter_records(
    engine: Engine,
    where: InspectionFilter,
    evidence: EvidenceStore | None = None,
    batch: int = BATCH,
) -> Iterator[InspectionRecord]:
    """Every matching record, oldest id first, with defects, attempts, overrides, signatures."""
    last_id = 0
    with engine.connect() as connection:
        while True:
            query = base(where).where(_i.c.id > last_id).order_by(_i.c.id).limit(batch)
            rows = connection.execute(query).mappings().all()
            if not rows:
                return
            yield from load(connection, rows, where, evidence)
            last_id = rows[-1]["id"]


def _time(value: datetime | None) -> str | None:
    return utc_text(value) if value is not None else None


VERDICTS = (Outcome.PASS, Outcome.FAIL, Outcome.UNSURE)  # what a summary counts as verdicts


def summary(engine: Engine, where: InspectionFilter) -> dict[str, Any]:
    """Counts for a report's first page, computed by the database over every matching record."""
    final = where.final_outcome().label("final")
    on = _o.c.inspection_id == _i.c.id
    if where.through is not None:
        on = and_(on, _o.c.id <= where.through[1])
    with engine.connect() as connection:
        outcomes = Counter(
            dict(connection.execute(where.apply(joined(final, func.count())).group_by(final)).all())
        )
        recorded = dict(
            connection.execute(
                where.apply(joined(_i.c.outcome, func.count())).group_by(_i.c.outcome)
            ).all()
        )
        first, last = connection.execute(
            where.apply(joined(func.min(_i.c.captured_at), func.max(_i.c.captured_at)))
        ).one()
        recipes = connection.execute(
            where.apply(joined(_r.c.name, _r.c.version, func.count()))
            .group_by(_r.c.name, _r.c.version)
            .order_by(_r.c.name, _r.c.version)
        ).all()
        overridden = connection.execute(
            where.apply(
                select(func.count(func.distinct(_o.c.inspection_id))).select_from(
                    _i.join(_r, _r.c.id == _i.c.recipe_version_id).join(_o, on)
                )
            )
        ).scalar_one()
        left_site = connection.execute(
            where.apply(joined(func.count()).where(_i.c.image_left_site.is_(True)))
        ).scalar_one()
    total = sum(outcomes.values())
    return {
        "total": total,
        "final_outcomes": {o.value: outcomes.get(o.value, 0) for o in VERDICTS},
        "recorded_outcomes": {o.value: recorded.get(o.value, 0) for o in VERDICTS},
        # Parts seen but never judged (the station stopped first): on record, no verdict.
        "not_inspected": recorded.get(Outcome.UNJUDGED.value, 0),
        "overridden": overridden,
        "images_left_site": left_site,
        "first_captured_at": _time(first),
        "last_captured_at": _time(last),
        "recipes": [{"name": n, "version": v, "count": c} for n, v, c in recipes],
    }
