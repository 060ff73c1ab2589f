"""Reading the audit trail: one filter (`AuditFilter`) for `inspector audit log`, the window's
audit view and its CSV export, so all three list exactly the same entries.

An inspection's entries include the overrides decided on it: an override is an entity of its own
(`override:ID`), tied to its inspection by the override row and by the entry's own old value
(`{"inspection_id":N,...}`, canonical JSON, written by overrides.py). The entry's value is what
the chain attests, and it stays when retention purges the override row, so either tie counts.

Newest first everywhere; paging by offset from the newest. `through_seq` bounds a listing to the
entries that existed at one moment (an export names the chain head it was taken at).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import ColumnElement, Engine, String, and_, cast, func, or_, select, true

from inspector.store.audit import trail
from inspector.store.audit.audit_tables import AuditEntryRow, OverrideRow

_entries = AuditEntryRow.__table__
_overrides = OverrideRow.__table__
BATCH = 1000
LOGIN = "user.login"


@dataclass(frozen=True)
class AuditFilter:
    """Which entries: every field that is set must match (all unset: the whole trail).

    `actor` and `action` match any part, case-insensitive (typed as one types); `entity_type`
    and `entity_id` match exactly; `since` and `until` are aware datetimes, `until` exclusive.
    """

    actor: str = ""
    action: str = ""
    entity_type: str = ""
    entity_id: str = ""
    since: datetime | None = None
    until: datetime | None = None
    through_seq: int | None = None
    with_overrides: bool = True  # an inspection's entries include its overrides'

    @classmethod
    def of_entity(cls, text: str, **others) -> AuditFilter:
        """From `TYPE:ID` or `TYPE` as typed (`inspection:12`, `user:olly`, `override`)."""
        entity_type, _, entity_id = text.strip().partition(":")
        return cls(entity_type=entity_type.strip(), entity_id=entity_id.strip(), **others)

    def as_dict(self) -> dict:
        """The filter as an export's audit entry records it (only what is set)."""
        shown = {
            "actor": self.actor,
            "action": self.action,
            "entity": f"{self.entity_type}:{self.entity_id}".rstrip(":"),
            "since": self.since.isoformat() if self.since else "",
            "until": self.until.isoformat() if self.until else "",
        }
        return {key: value for key, value in shown.items() if value}

    def condition(self) -> ColumnElement[bool]:
        c = _entries.c
        parts: list[ColumnElement[bool]] = []
        if self.actor:
            parts.append(c.user_name.icontains(self.actor, autoescape=True))
        if self.action:
            parts.append(c.action.icontains(self.action, autoescape=True))
        if self.entity_type:
            parts.append(self._entity())
        if self.since is not None:
            parts.append(c.at >= self.since)
        if self.until is not None:
            parts.append(c.at < self.until)
        if self.through_seq is not None:
            parts.append(c.seq <= self.through_seq)
        return and_(true(), *parts)

    def _entity(self) -> ColumnElement[bool]:
        c = _entries.c
        own = c.entity_type == self.entity_type
        if not self.entity_id:
            return own
        own = and_(own, c.entity_id == self.entity_id)
        if self.entity_type != "inspection" or not self.entity_id.isdigit():
            return own
        if not self.with_overrides:
            return own
        inspection_id = int(self.entity_id)
        tied = select(cast(_overrides.c.id, String)).where(
            _overrides.c.inspection_id == inspection_id
        )
        # The entry's own record of its inspection (it outlives a purged override row).
        recorded = _like_escaped(f'{{"inspection_id":{inspection_id},')
        override = and_(
            c.entity_type == "override",
            or_(c.entity_id.in_(tied), c.old_value.like(recorded + "%", escape="\\")),
        )
        return or_(own, override)


def _like_escaped(text: str) -> str:
    return "".join(f"\\{ch}" if ch in "%_\\" else ch for ch in text)


def search(
    engine: Engine, where: AuditFilter, limit: int = 50, offset: int = 0
) -> list[trail.AuditEntry]:
    """One page of matching entries, newest first."""
    query = (
        select(_entries)
        .where(where.condition())
        .order_by(_entries.c.seq.desc())
        .limit(limit)
        .offset(offset)
    )
    with engine.connect() as connection:
        return [trail.entry_of(row) for row in connection.execute(query).mappings()]


def count(engine: Engine, where: AuditFilter) -> int:
    query = select(func.count()).select_from(_entries).where(where.condition())
    with engine.connect() as connection:
        return connection.execute(query).scalar_one()


def iter_entries(
    engine: Engine, where: AuditFilter, batch: int = BATCH
) -> Iterator[trail.AuditEntry]:
    """Every matching entry, newest first, read in batches (keyed by seq, so appends made
    meanwhile never shift a page; bound `through_seq` to leave them out)."""
    below: int | None = None
    while True:
        bounded = where if below is None else replace(where, through_seq=_lower(where, below))
        page = search(engine, bounded, batch)
        yield from page
        if len(page) < batch:
            return
        below = page[-1].seq


def _lower(where: AuditFilter, below: int) -> int:
    limit = below - 1
    return limit if where.through_seq is None else min(limit, where.through_seq)


def actions(engine: Engine) -> list[str]:
    """Every action the trail holds, sorted (the view's choices)."""
    with engine.connect() as connection:
        found = connection.execute(select(_entries.c.action).distinct()).scalars().all()
    return sorted(found)


def last_logins(engine: Engine) -> dict[str, datetime]:
    """When each user last logged in, as the trail recorded it."""
    query = (
        select(_entries.c.entity_id, func.max(_entries.c.seq))
        .where(_entries.c.action == LOGIN, _entries.c.entity_type == "user")
        .group_by(_entries.c.entity_id)
    )
    with engine.connect() as connection:
        latest = dict(connection.execute(query).all())
        if not latest:
            return {}
        at = select(_entries.c.seq, _entries.c.at).where(_entries.c.seq.in_(latest.values()))
        when = dict(connection.execute(at).all())
    return {name: when[seq] for name, seq in latest.items()}
