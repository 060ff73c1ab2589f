"""The tables of accountability: users, the audit chain, signatures, overrides, site settings.

Changed only together with a new migration (0003_audit_users.py made them; 0005 added the
lockout's columns). They share `Base`
with the inspection tables, so `Base.metadata` describes the whole database once this module is
imported (inspector.store imports it).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from inspector.store.tables import Base, InspectionRow, UTCDateTime

# Purging old records asks, per evidence file, whether any inspection still names it.
Index("ix_inspections_evidence_sha256", InspectionRow.evidence_sha256)


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))  # the printed name of a signature
    role: Mapped[str] = mapped_column(String(16))
    # "scrypt$N$r$p$salt$key" (inspector.store.audit.users); None: a service account, no login.
    password_hash: Mapped[str | None] = mapped_column(String(200))
    disabled: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The lockout (migration 0005): wrong passwords in a row, and the end of a lock. Not part
    # of the user's digest: they change with every wrong password, each an audit entry itself.
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditHeadRow(Base):
    """One row: the last entry's number and hash. Appends lock it, so the chain never forks."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))


class SignatureRow(Base):
    """An electronic signature: who (printed name), what it means, when, and what was signed."""

    __tablename__ = "signatures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_name: Mapped[str] = mapped_column(String(64))
    printed_name: Mapped[str] = mapped_column(String(200))
    meaning: Mapped[str] = mapped_column(String(16))  # reviewed / approved / rejected
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    subject_type: Mapped[str] = mapped_column(String(40))  # inspection / recipe_version
    subject_id: Mapped[str] = mapped_column(String(100))
    statement: Mapped[str] = mapped_column(Text)  # what the signer saw and signed, in words


class AuditEntryRow(Base):
    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_entity", "entity_type", "entity_id"),)

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    user_name: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(40))
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(100))
    old_value: Mapped[str | None] = mapped_column(Text)  # canonical JSON, hashed as stored
    new_value: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    signature_id: Mapped[int | None] = mapped_column(ForeignKey("signatures.id"))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class OverrideRow(Base):
    """A person's decision on a verdict: a new row, the recorded verdict is never updated."""

    __tablename__ = "overrides"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id"), index=True)
    previous_outcome: Mapped[str] = mapped_column(String(8))
    outcome: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(Text)
    user_name: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    signature_id: Mapped[int] = mapped_column(ForeignKey("signatures.id"))


class SiteSettingRow(Base):
    __tablename__ = "site_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)  # JSON
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    changed_by: Mapped[str] = mapped_column(String(64))
