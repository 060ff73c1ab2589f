"""The audit trail: an append-only chain of entries, each hashing the one before.

Every change to a record appends one entry in the same transaction as the change, so there is
no change without its entry and no entry without its change. Appends take a lock on the one
row of `audit_head` (an UPDATE: a row lock on PostgreSQL, the write lock on SQLite), so writers
on many stations queue for a few statements and the chain never forks. The head row also
holds the last hash, which is how `verify` notices entries cut off the end.

Entries are never updated or deleted by the application; purging records appends an entry
that says what went, and the entries of the purged records stay (verify.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from inspector.domain import utc_now
from inspector.store.audit import digests
from inspector.store.audit.audit_tables import AuditEntryRow, AuditHeadRow
from inspector.store.audit.hash_chain import canonical_json, entry_hash

HEAD_ID = 1
USER_NAME_MAX = 64

_head = AuditHeadRow.__table__
_entries = AuditEntryRow.__table__
_take_next = (
    update(_head)
    .where(_head.c.id == HEAD_ID)
    .values(seq=_head.c.seq + 1)
    .returning(_head.c.seq, _head.c.hash)
)
_lock = update(_head).where(_head.c.id == HEAD_ID).values(seq=_head.c.seq)


@dataclass(frozen=True)
class ChainHead:
    seq: int
    hash: str

    def __str__(self) -> str:
        return f"#{self.seq} sha256:{self.hash}"


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: datetime
    user_name: str
    action: str
    entity_type: str
    entity_id: str
    old: Any
    new: Any
    reason: str
    signature_id: int | None
    hash: str


def lock(connection: Connection) -> None:
    """Take the chain's lock now, before reading what the change depends on."""
    connection.execute(_lock)


@contextmanager
def audited(engine: Engine) -> Iterator[Connection]:
    """A transaction that holds the chain's lock from its first statement.

    On SQLite the first statement being a write matters: a transaction that read first and
    writes later can fail at once when another writer got in between.
    """
    with engine.begin() as connection:
        lock(connection)
        yield connection


def append(
    connection: Connection,
    user_name: str,
    action: str,
    entity_type: str,
    entity_id: object,
    *,
    old: object = None,
    new: object = None,
    reason: str = "",
    signature_id: int | None = None,
    at: datetime | None = None,
) -> int:
    """Append one entry inside the caller's transaction; returns its number."""
    seq, prev_hash = connection.execute(_take_next).one()
    at = at or utc_now()
    row = {
        "seq": seq,
        "at": at,
        "user_name": user_name[:USER_NAME_MAX],
        "action": action,
        "entity_type": entity_type,
        "entity_id": str(entity_id),
        "old_value": canonical_json(old),
        "new_value": canonical_json(new),
        "reason": reason,
        "signature_id": signature_id,
        "prev_hash": prev_hash,
    }
    row["hash"] = entry_hash(**row)
    connection.execute(insert(_entries), row)
    connection.execute(update(_head).where(_head.c.id == HEAD_ID).values(hash=row["hash"]))
    return seq


def record_inspection(
    connection: Connection,
    user_name: str,
    inspection_id: int,
    inspection: Mapping[str, Any],
    defects: Sequence[Mapping[str, Any]],
    attempts: Sequence[Mapping[str, Any]],
) -> int:
    """The entry of a new inspection, with the digest of all it holds (Store.record_inspection)."""
    digest = digests.inspection({**inspection, "id": inspection_id}, defects, attempts)
    new = {"v": digests.VERSION, "uid": inspection["uid"], "outcome": inspection["outcome"]}
    new["sha256"] = digest
    return append(
        connection,
        user_name,
        "inspection.recorded",
        "inspection",
        inspection_id,
        new=new,
        at=inspection["recorded_at"],
    )


def head(bind: Engine | Connection) -> ChainHead:
    query = select(_head.c.seq, _head.c.hash).where(_head.c.id == HEAD_ID)
    if isinstance(bind, Engine):
        with bind.connect() as connection:
            seq, hash_ = connection.execute(query).one()
    else:
        seq, hash_ = bind.execute(query).one()
    return ChainHead(seq, hash_)


def entries(
    engine: Engine,
    limit: int = 50,
    entity_type: str | None = None,
    entity_id: object = None,
) -> list[AuditEntry]:
    """The newest entries first, optionally of one record (the window's history of a part)."""
    query = select(_entries).order_by(_entries.c.seq.desc()).limit(limit)
    if entity_type is not None:
        query = query.where(_entries.c.entity_type == entity_type)
    if entity_id is not None:
        query = query.where(_entries.c.entity_id == str(entity_id))
    with engine.connect() as connection:
        return [entry_of(row) for row in connection.execute(query).mappings()]


def entry_of(row: Mapping[str, Any]) -> AuditEntry:
    return AuditEntry(
        seq=row["seq"],
        at=row["at"],
        user_name=row["user_name"],
        action=row["action"],
        entity_type=row["entity_type"],
        entity_id=row["entity_id"],
        old=json.loads(row["old_value"]) if row["old_value"] is not None else None,
        new=json.loads(row["new_value"]) if row["new_value"] is not None else None,
        reason=row["reason"],
        signature_id=row["signature_id"],
        hash=row["hash"],
    )


def hash_of(engine: Engine, seq: int) -> str | None:
    """The stored hash of entry `seq`, None if there is none (an export's anchor is checked so)."""
    with engine.connect() as connection:
        return connection.execute(select(_entries.c.hash).where(_entries.c.seq == seq)).scalar()
