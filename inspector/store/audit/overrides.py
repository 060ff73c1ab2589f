"""A person overrides a verdict: a new signed row linked to the inspection, never an update.

The inspection keeps the model's verdict as recorded; its outcome as decided is that of its
latest override, if any (`effective_outcome`).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Engine, func, insert, select

from inspector.domain import Outcome, utc_now
from inspector.errors import InputError
from inspector.store.audit import digests, signatures
from inspector.store.audit import trail as audit
from inspector.store.audit.audit_tables import OverrideRow
from inspector.store.audit.users import Identity, Permission, acting, check_signer
from inspector.store.tables import InspectionRow

_overrides = OverrideRow.__table__
_inspections = InspectionRow.__table__


@dataclass(frozen=True)
class Override:
    id: int
    inspection_id: int
    previous_outcome: Outcome
    outcome: Outcome
    signature_id: int
    audit_seq: int


def effective_outcome(connection: Connection, inspection_id: int) -> Outcome | None:
    """The outcome as decided: the latest override's, else the model's; None: no such record."""
    recorded = connection.execute(
        select(_inspections.c.outcome).where(_inspections.c.id == inspection_id)
    ).scalar()
    if recorded is None:
        return None
    latest = connection.execute(
        select(_overrides.c.outcome)
        .where(_overrides.c.inspection_id == inspection_id)
        .order_by(_overrides.c.id.desc())
        .limit(1)
    ).scalar()
    return Outcome(latest or recorded)


def override_verdict(
    engine: Engine,
    actor: Identity,
    password: str,
    inspection_id: int,
    outcome: str,
    reason: str,
    meaning: str,
) -> Override:
    """Record a person's decision on an inspection, signed with the re-entered password."""
    try:
        decided = Outcome(outcome.upper())
    except ValueError:
        decided = None
    if decided not in (Outcome.PASS, Outcome.FAIL):
        raise InputError(f"outcome {outcome!r}: an override decides PASS or FAIL")
    if not reason.strip():
        raise InputError("an override needs a reason (--reason TEXT): auditors read it")
    meaning_ = signatures.meaning(meaning)
    actor.require(Permission.OVERRIDE_VERDICT)
    check_signer(engine, actor, password)
    with audit.audited(engine) as connection:
        signer = acting(connection, actor, Permission.OVERRIDE_VERDICT)
        previous = effective_outcome(connection, inspection_id)
        if previous is None:
            raise InputError(
                f"inspection {inspection_id}: no such record (see `inspector history`)"
            )
        if previous is Outcome.UNJUDGED:  # no verdict to confirm or override: never a PASS
            raise InputError(
                f"inspection {inspection_id} was not inspected (the station stopped before "
                "judging it): inspect the part again"
            )
        uid = connection.execute(
            select(_inspections.c.uid).where(_inspections.c.id == inspection_id)
        ).scalar_one()
        statement = (
            f"{signer.full_name} ({signer.name}) {meaning_.value} the verdict of inspection "
            f"{inspection_id} ({uid}): {previous.value} -> {decided.value}. Reason: {reason}"
        )
        signature_id, signature_sha = signatures.sign(
            connection, signer, meaning_, "inspection", inspection_id, statement
        )
        row = {
            "inspection_id": inspection_id,
            "previous_outcome": previous.value,
            "outcome": decided.value,
            "reason": reason,
            "user_name": signer.name,
            "created_at": utc_now(),
            "signature_id": signature_id,
        }
        row["id"] = connection.execute(
            insert(_overrides).returning(_overrides.c.id), row
        ).scalar_one()
        new = {
            "v": digests.VERSION,
            "inspection_id": inspection_id,
            "outcome": decided.value,
            "meaning": meaning_.value,
            "sha256": digests.override(row),
            "signature_sha256": signature_sha,
        }
        seq = audit.append(
            connection,
            signer.name,
            "verdict.overridden",
            "override",
            row["id"],
            old={"inspection_id": inspection_id, "outcome": previous.value},
            new=new,
            reason=reason,
            signature_id=signature_id,
        )
    return Override(row["id"], inspection_id, previous, decided, signature_id, seq)


def count(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count(_overrides.c.id))).scalar_one()
