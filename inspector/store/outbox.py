"""The outbox: verdicts waiting for a line output (MQTT, webhook), written with their record.

One row per (inspection, output), inserted in the same transaction as the inspection (see
`Store.record_inspection`), so a verdict reaches an output only after it is committed and a
committed verdict is never forgotten by an output that was down. The row holds the message
whole (JSON, built once), so what is sent after a restart is what would have been sent at
once. The station builds the message before the commit, without what only the commit knows
(`STAMPED`: the inspection id, the uid, the time recorded; None in the template); the store
fills those in the transaction. A record kept in the journal keeps its template too, so a
verdict recorded by a replay reaches the outputs like any other. The station's drain
(station/publishing.py) reads an output's pending rows in id order, publishes them and marks
them sent; rows are not deleted (they are the record of what the
line was told and when; retention of sent rows is left to a later change).

No foreign key to inspections: a purge of old records must not wait on an output that has
been down for months, and the message does not need the row it came from.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column

from inspector.domain import utc_now
from inspector.store.tables import Base, UTCDateTime


class OutboxRow(Base):
    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("output", "inspection_id", name="uq_outbox_output_inspection"),
        Index("ix_outbox_pending", "output", "sent_at", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # the order of sending
    output: Mapped[str] = mapped_column(String(300))  # the output's name (secrets masked)
    inspection_id: Mapped[int] = mapped_column(Integer)
    message: Mapped[str] = mapped_column(Text)  # JSON, outputs/message.py
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # None: pending
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # failed tries so far
    last_error: Mapped[str | None] = mapped_column(Text)


_t = OutboxRow.__table__

# The message's fields only the commit knows, stamped by `write`.
STAMPED = ("inspection_id", "uid", "recorded_at")


@dataclass(frozen=True)
class OutboxWrite:
    """What `record_inspection` adds to the record's transaction: one row per output, each
    holding `message` (plain JSON values) with the STAMPED fields filled in."""

    outputs: tuple[str, ...]
    message: dict[str, Any]

    def kept(self) -> dict[str, Any]:
        """As the journal keeps it (JSON)."""
        return {"outputs": list(self.outputs), "message": self.message}

    @classmethod
    def from_kept(cls, data: dict[str, Any]) -> OutboxWrite:
        outputs, message = data["outputs"], data["message"]
        if not isinstance(message, dict) or not all(isinstance(o, str) for o in outputs):
            raise ValueError("the outbox entry is not {outputs: [names], message: {...}}")
        return cls(tuple(outputs), message)


def utc_iso(moment: datetime) -> str:
    """A time as the verdict message writes every time (outputs/message.py's utc_iso)."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def stamped(template: dict[str, Any], inspection_id: int, uid: str, recorded_at: datetime) -> dict:
    """The message with what the commit knows filled in, each field where the template has it."""
    message = dict(template)
    message["inspection_id"] = inspection_id
    message["uid"] = uid
    message["recorded_at"] = utc_iso(recorded_at)
    return message


@dataclass(frozen=True)
class OutboxMessage:
    id: int  # the outbox row (mark_sent takes it)
    inspection_id: int
    message: dict[str, Any]
    attempts: int


def write(
    connection: Connection,
    inspection_id: int,
    uid: str,
    recorded_at: datetime,
    outbox: OutboxWrite,
) -> None:
    if not outbox.outputs:
        return
    message = stamped(outbox.message, inspection_id, uid, recorded_at)
    body = json.dumps(message, separators=(",", ":"))
    connection.execute(
        insert(_t),
        [
            {
                "output": output,
                "inspection_id": inspection_id,
                "message": body,
                "created_at": recorded_at,
                "attempts": 0,
            }
            for output in outbox.outputs
        ],
    )


def pending(engine: Engine, output: str, limit: int = 500) -> list[OutboxMessage]:
    """The output's unsent messages, oldest first."""
    query = (
        select(_t.c.id, _t.c.inspection_id, _t.c.message, _t.c.attempts)
        .where(_t.c.output == output, _t.c.sent_at.is_(None))
        .order_by(_t.c.id)
        .limit(limit)
    )
    with engine.connect() as connection:
        return [
            OutboxMessage(row.id, row.inspection_id, json.loads(row.message), row.attempts)
            for row in connection.execute(query)
        ]


def mark_sent(engine: Engine, ids: Sequence[int]) -> None:
    if not ids:
        return
    with engine.begin() as connection:
        connection.execute(
            update(_t)
            .where(_t.c.id.in_(list(ids)), _t.c.sent_at.is_(None))
            .values(sent_at=utc_now())
        )


def mark_failed(engine: Engine, row_id: int, error: str) -> None:
    """Count a failed try on the message at the head of the queue (it stays pending)."""
    with engine.begin() as connection:
        connection.execute(
            update(_t)
            .where(_t.c.id == row_id)
            .values(attempts=_t.c.attempts + 1, last_error=error[:2000])
        )


def count_pending(engine: Engine, output: str | None = None) -> int:
    query = select(func.count()).select_from(_t).where(_t.c.sent_at.is_(None))
    if output is not None:
        query = query.where(_t.c.output == output)
    with engine.connect() as connection:
        return connection.execute(query).scalar_one()


def sent_messages(engine: Engine, output: str) -> list[tuple[int, datetime]]:
    """(inspection id, sent at) of every message the output took, in sending order."""
    query = (
        select(_t.c.inspection_id, _t.c.sent_at)
        .where(_t.c.output == output, _t.c.sent_at.is_not(None))
        .order_by(_t.c.id)
    )
    with engine.connect() as connection:
        return [(row.inspection_id, row.sent_at) for row in connection.execute(query)]
