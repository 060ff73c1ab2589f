"""`InspectionFilter`: which inspections, with one meaning wherever it is used.

The History table, its export, `inspector export ...` and `inspector history` all select with
this one filter, so an export holds exactly the rows the table shows:

- `since` / `until`: captured in [since, until);
- `recipe`: the recipe's name;
- `outcomes`: the FINAL outcome, as decided: the latest override's, else the model's;
- `lot_or_serial`: a prefix of the lot, the serial or the part id (case-sensitive, the same on
  SQLite and PostgreSQL);
- `contains`: a piece of the part id, lot or serial, anywhere in it, case-insensitive (the History
  search box); digits alone also find the inspection with that id;
- `engine`: some judge attempt of the inspection used this engine;
- `after_id`: only inspections recorded after this one (a list's "N new" count);
- `through`: (last inspection id, last override id) bounds the records and overrides to those
  that existed at one moment (`Store.as_of`), so an export that takes minutes does not drift
  while stations keep recording.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, exists, func, select

from inspector.domain import Outcome
from inspector.store.audit.audit_tables import OverrideRow
from inspector.store.audit.hash_chain import utc_text
from inspector.store.tables import InspectionRow, JudgeAttemptRow, RecipeVersionRow

_i = InspectionRow.__table__
_a = JudgeAttemptRow.__table__
_o = OverrideRow.__table__
_r = RecipeVersionRow.__table__


@dataclass(frozen=True)
class InspectionFilter:
    since: datetime | None = None
    until: datetime | None = None
    recipe: str | None = None
    outcomes: tuple[Outcome, ...] = ()  # final outcomes (after overrides); () is every one
    lot_or_serial: str | None = None  # a prefix of the lot, the serial or the part id
    engine: str | None = None
    through: tuple[int, int] | None = None  # (last inspection id, last override id)
    contains: str | None = None  # a piece of the part id, lot or serial (any case), or an id
    after_id: int | None = None  # only inspections with a greater id (recorded later)

    def final_outcome(self) -> ColumnElement:
        """The outcome as decided: the latest override's (up to `through`), else the model's."""
        # An alias: a query that joins the overrides itself (the report's count of overridden
        # records) would otherwise correlate this subquery's table away.
        decided = _o.alias("decided")
        latest = select(decided.c.outcome).where(decided.c.inspection_id == _i.c.id)
        if self.through is not None:
            latest = latest.where(decided.c.id <= self.through[1])
        latest = latest.order_by(decided.c.id.desc()).limit(1).scalar_subquery()
        return func.coalesce(latest, _i.c.outcome)

    def apply(self, query: Select) -> Select:
        """`query` (over inspections joined with recipe_versions) narrowed to this selection."""
        if self.since is not None:
            query = query.where(_i.c.captured_at >= self.since)
        if self.until is not None:
            query = query.where(_i.c.captured_at < self.until)
        if self.recipe:
            query = query.where(_r.c.name == self.recipe)
        if self.outcomes:
            query = query.where(self.final_outcome().in_([o.value for o in self.outcomes]))
        text = (self.lot_or_serial or "").strip()
        if text:
            # substr, not LIKE: SQLite's LIKE ignores case and PostgreSQL's does not.
            query = query.where(
                (func.substr(_i.c.lot, 1, len(text)) == text)
                | (func.substr(_i.c.serial, 1, len(text)) == text)
                | (func.substr(_i.c.part_id, 1, len(text)) == text)
            )
        piece = (self.contains or "").strip().lstrip("#").strip()
        if piece:
            # lower() on both sides: the same on SQLite and PostgreSQL; autoescape: a typed % or
            # _ is a character, not a wildcard.
            wanted = piece.lower()
            found = (
                func.lower(_i.c.part_id).contains(wanted, autoescape=True)
                | func.lower(_i.c.lot).contains(wanted, autoescape=True)
                | func.lower(_i.c.serial).contains(wanted, autoescape=True)
            )
            if piece.isdigit() and len(piece) <= 9:  # an id fits a 32-bit integer
                found = found | (_i.c.id == int(piece))
            query = query.where(found)
        if self.engine:
            query = query.where(
                exists().where(_a.c.inspection_id == _i.c.id, _a.c.engine == self.engine)
            )
        if self.after_id is not None:
            query = query.where(_i.c.id > self.after_id)
        if self.through is not None:
            query = query.where(_i.c.id <= self.through[0])
        return query

    def describe(self) -> dict[str, str]:
        """The selection in words, for an export's manifest, report and audit entry."""
        described = {
            "since": utc_text(self.since) if self.since else None,
            "until": utc_text(self.until) if self.until else None,
            "recipe": self.recipe,
            "outcome": " or ".join(o.value for o in self.outcomes) or None,
            "lot": (self.lot_or_serial or "").strip() or None,
            "engine": self.engine,
            "contains": (self.contains or "").strip() or None,
        }
        return {k: v for k, v in described.items() if v is not None}


def joined(*columns) -> Select:
    """A select of `columns` over inspections joined with their recipe versions."""
    return select(*columns).select_from(_i.join(_r, _r.c.id == _i.c.recipe_version_id))
