"""Electronic signatures: the signer's printed name, the meaning, the UTC time, and what was signed.

A signature is made only after the signer typed the password again (users.check_signer), and
is a row of its own that the audit entry of the signed change names (`signature_id`), with the
signature's digest in the entry, so neither can be changed alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Connection, Engine, insert, select

from inspector.domain import utc_now
from inspector.errors import InputError
from inspector.store.audit import digests
from inspector.store.audit.audit_tables import SignatureRow
from inspector.store.audit.users import Identity

_signatures = SignatureRow.__table__


class Meaning(StrEnum):
    REVIEWED = "reviewed"
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Signature:
    id: int
    user_name: str
    printed_name: str
    meaning: str
    signed_at: datetime
    subject_type: str
    subject_id: str
    statement: str

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "user": self.user_name,
            "printed_name": self.printed_name,
            "meaning": self.meaning,
            "signed_at": self.signed_at.isoformat().replace("+00:00", "Z"),
            "subject": f"{self.subject_type}:{self.subject_id}",
            "statement": self.statement,
        }

    def line(self) -> str:
        when = self.signed_at.strftime("%Y-%m-%d %H:%M:%S UTC")
        return f"{self.printed_name} ({self.user_name}), {self.meaning}, {when}"


def meaning(value: str) -> Meaning:
    try:
        return Meaning(value)
    except ValueError:
        choices = ", ".join(m.value for m in Meaning)
        raise InputError(f"signature meaning {value!r}: use one of {choices}") from None


def sign(
    connection: Connection,
    signer: Identity,
    meaning_: Meaning,
    subject_type: str,
    subject_id: object,
    statement: str,
) -> tuple[int, str]:
    """Write the signature row inside the caller's transaction: (its id, its digest)."""
    row = {
        "user_name": signer.name,
        "printed_name": signer.full_name,
        "meaning": meaning_.value,
        "signed_at": utc_now(),
        "subject_type": subject_type,
        "subject_id": str(subject_id),
        "statement": statement,
    }
    row["id"] = connection.execute(
        insert(_signatures).returning(_signatures.c.id), row
    ).scalar_one()
    return row["id"], digests.signature(row)


def load(bind: Engine | Connection, ids: Iterable[int]) -> dict[int, Signature]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    query = select(_signatures).where(_signatures.c.id.in_(wanted))
    if isinstance(bind, Engine):
        with bind.connect() as connection:
            rows = connection.execute(query).mappings().all()
    else:
        rows = bind.execute(query).mappings().all()
    return {r["id"]: Signature(**r) for r in rows}


def of_subject(engine: Engine, subject_type: str, subject_id: object) -> list[Signature]:
    query = (
        select(_signatures)
        .where(
            _signatures.c.subject_type == subject_type,
            _signatures.c.subject_id == str(subject_id),
        )
        .order_by(_signatures.c.id)
    )
    with engine.connect() as connection:
        return [Signature(**r) for r in connection.execute(query).mappings()]
