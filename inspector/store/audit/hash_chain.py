"""How an audit entry is hashed. Frozen: every entry ever written was hashed this way.

An entry's hash is the SHA-256 of a JSON array of its fields in a fixed order, the previous
entry's hash last. A JSON array (not an object) leaves no freedom of key order; old and new
values are hashed as the canonical JSON text stored in their columns, so no re-serialization
can change what was hashed. Anyone can recompute a hash from a database dump with a few lines
of any language.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

GENESIS = "0" * 64  # the "previous hash" of entry 1
FORMAT = "inspector-audit-1"


def canonical_json(value: object) -> str | None:
    """The one text of a JSON value: sorted keys, no spaces, UTF-8 kept as is."""
    if value is None:
        return None
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def utc_text(moment: datetime) -> str:
    """A time as hashed: UTC, microseconds, ISO 8601 with Z (2026-03-01T12:00:00.000000Z)."""
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    return moment.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def entry_hash(
    seq: int,
    at: datetime,
    user_name: str,
    action: str,
    entity_type: str,
    entity_id: str,
    old_value: str | None,
    new_value: str | None,
    reason: str,
    signature_id: int | None,
    prev_hash: str,
) -> str:
    fields = [
        FORMAT,
        seq,
        utc_text(at),
        user_name,
        action,
        entity_type,
        entity_id,
        old_value,
        new_value,
        reason,
        signature_id,
        prev_hash,
    ]
    text = json.dumps(fields, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
