"""Retention: delete inspection records older than the site keeps them, as an audited event.

Records go in batches, each batch in one transaction with one `records.purged` audit entry that
lists the ids it removed, so the chain stays whole: audit entries themselves are never purged
(they are small), and `audit verify` accepts a missing record exactly when a purge entry names
it. Evidence files that no remaining record names are deleted after the batch commits; a crash
in between leaves a file too many, never a record without its file. Signatures stay with the
audit entries that reference them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, select

from inspector.domain import utc_now
from inspector.errors import InputError
from inspector.store.audit import site_settings
from inspector.store.audit import trail as audit
from inspector.store.audit.audit_tables import OverrideRow
from inspector.store.audit.hash_chain import utc_text
from inspector.store.audit.users import Identity, Permission, acting
from inspector.store.evidence import EvidenceStore
from inspector.store.tables import DefectRow, InspectionRow, JudgeAttemptRow, RecipeVersionRow

_i = InspectionRow.__table__
_o = OverrideRow.__table__
BATCH = 1000


@dataclass(frozen=True)
class PurgeResult:
    cutoff: datetime
    inspections: int
    overrides: int
    evidence_files: int
    audit_entries: tuple[int, ...]


def ranges(ids: Iterable[int]) -> list[list[int]]:
    """[1, 2, 3, 7] -> [[1, 3], [7, 7]]: how a purge entry lists what it removed."""
    spans: list[list[int]] = []
    for i in sorted(ids):
        if spans and i == spans[-1][1] + 1:
            spans[-1][1] = i
        else:
            spans.append([i, i])
    return spans


def purge(
    engine: Engine,
    evidence: EvidenceStore,
    actor: Identity,
    older_than_days: int | None = None,
    reason: str = "",
    batch: int = BATCH,
    progress: Callable[[int], None] | None = None,
) -> PurgeResult:
    """Delete records captured more than `older_than_days` ago (default: the retention setting)."""
    actor.require(Permission.PURGE)
    days = older_than_days or site_settings.load(engine).retention_days
    if days is None:
        raise InputError(
            "no retention period: give --older-than DAYS, or set one with "
            "`inspector setting set retention_days DAYS`"
        )
    if days < 1:
        raise InputError(f"--older-than {days}: give a number of days, 1 or more")
    cutoff = utc_now() - timedelta(days=days)
    reason = reason or f"retention: older than {days} days"
    inspections = overrides = files = 0
    entries: list[int] = []
    while True:
        with audit.audited(engine) as connection:
            by = acting(connection, actor, Permission.PURGE)
            ids = list(
                connection.execute(
                    select(_i.c.id).where(_i.c.captured_at < cutoff).order_by(_i.c.id).limit(batch)
                ).scalars()
            )
            if not ids:
                break
            override_ids = list(
                connection.execute(select(_o.c.id).where(_o.c.inspection_id.in_(ids))).scalars()
            )
            images = set(
                connection.execute(
                    select(_i.c.evidence_sha256, _i.c.evidence_format).where(_i.c.id.in_(ids))
                ).all()
            )
            for table in (DefectRow.__table__, JudgeAttemptRow.__table__, _o):
                connection.execute(delete(table).where(table.c.inspection_id.in_(ids)))
            connection.execute(delete(_i).where(_i.c.id.in_(ids)))
            new = {
                "cutoff": utc_text(cutoff),
                "count": len(ids),
                "inspections": ranges(ids),
                "overrides": ranges(override_ids),
            }
            entries.append(
                audit.append(
                    connection,
                    by.name,
                    "records.purged",
                    "records",
                    utc_text(cutoff),
                    new=new,
                    reason=reason,
                )
            )
        inspections += len(ids)
        overrides += len(override_ids)
        files += _remove_unreferenced(engine, evidence, images)
        if progress is not None:
            progress(inspections)
    return PurgeResult(cutoff, inspections, overrides, files, tuple(entries))


def _remove_unreferenced(
    engine: Engine, evidence: EvidenceStore, images: set[tuple[str, str]]
) -> int:
    removed = 0
    recipes = RecipeVersionRow.__table__
    with engine.connect() as connection:
        for sha, image_format in sorted(images):
            named = (
                connection.execute(
                    select(_i.c.id).where(_i.c.evidence_sha256 == sha).limit(1)
                ).first()
                or connection.execute(
                    select(recipes.c.id).where(recipes.c.reference_sha256.contains(sha)).limit(1)
                ).first()
            )
            if named is None:
                path = evidence.path_for(sha, image_format)
                if path.exists():
                    path.unlink()
                    removed += 1
    return removed
