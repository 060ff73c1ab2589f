"""The tables. Changed only together with a new migration under migrations/versions/."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UTCDateTime(TypeDecorator):
    """Times go in as UTC and come out as UTC, on SQLite (which keeps no zone) too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: the store keeps UTC times only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class RecipeVersionRow(Base):
    __tablename__ = "recipe_versions"
    __table_args__ = (UniqueConstraint("name", "version", name="uq_recipe_versions_name_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    content: Mapped[str] = mapped_column(Text)  # the recipe as YAML
    reference_sha256: Mapped[str] = mapped_column(Text, default="")  # space-separated evidence
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class InspectionRow(Base):
    __tablename__ = "inspections"
    __table_args__ = (
        Index("ix_inspections_captured_at", "captured_at"),
        Index("ix_inspections_outcome", "outcome"),
        Index("ix_inspections_lot", "lot"),
        Index("ix_inspections_serial", "serial"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True)
    camera_id: Mapped[str] = mapped_column(String(200))
    sequence: Mapped[int] = mapped_column(Integer)
    captured_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    part_id: Mapped[str | None] = mapped_column(String(200))
    serial: Mapped[str | None] = mapped_column(String(200))
    lot: Mapped[str | None] = mapped_column(String(200))
    recipe_version_id: Mapped[int] = mapped_column(ForeignKey("recipe_versions.id"))
    outcome: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(Text)
    confidence: Mapped[float | None] = mapped_column(Float)
    evidence_sha256: Mapped[str] = mapped_column(String(64))
    evidence_format: Mapped[str] = mapped_column(String(8))
    image_width: Mapped[int] = mapped_column(Integer)
    image_height: Mapped[int] = mapped_column(Integer)
    roi_x: Mapped[int | None] = mapped_column(Integer)
    roi_y: Mapped[int | None] = mapped_column(Integer)
    roi_width: Mapped[int | None] = mapped_column(Integer)
    roi_height: Mapped[int | None] = mapped_column(Integer)
    queue_ms: Mapped[float] = mapped_column(Float)  # captured -> taken by the judge worker
    judge_ms: Mapped[float] = mapped_column(Float)  # the judge chain, all attempts
    total_ms: Mapped[float] = mapped_column(Float)  # captured -> ready to commit
    image_left_site: Mapped[bool] = mapped_column(Boolean)

    recipe_version: Mapped[RecipeVersionRow] = relationship()
    defects: Mapped[list[DefectRow]] = relationship(order_by="DefectRow.id")
    attempts: Mapped[list[JudgeAttemptRow]] = relationship(order_by="JudgeAttemptRow.position")


class DefectRow(Base):
    __tablename__ = "defects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id"), index=True)
    class_name: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str | None] = mapped_column(String(16))
    x0: Mapped[int | None] = mapped_column(Integer)
    y0: Mapped[int | None] = mapped_column(Integer)
    x1: Mapped[int | None] = mapped_column(Integer)
    y1: Mapped[int | None] = mapped_column(Integer)
    confidence: Mapped[float | None] = mapped_column(Float)
    note: Mapped[str] = mapped_column(Text, default="")


class JudgeAttemptRow(Base):
    __tablename__ = "judge_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # order within the chain, from 0
    engine: Mapped[str] = mapped_column(String(40))
    model_id: Mapped[str] = mapped_column(String(300))
    model_revision: Mapped[str | None] = mapped_column(String(100))
    prompt_hash: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    latency_ms: Mapped[float] = mapped_column(Float)
    raw_text: Mapped[str] = mapped_column(Text)
    prompt_tokens: Mapped[int | None] = mapped_column(Integer)
    completion_tokens: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(String(8))
    image_left_site: Mapped[bool] = mapped_column(Boolean)
    cost_usd: Mapped[float | None] = mapped_column(Float)  # migration 0002
    endpoint: Mapped[str | None] = mapped_column(String(300))  # migration 0002
    # From the model's token probabilities; NULL: self-reported only (migration 0008)
    measured_confidence: Mapped[float | None] = mapped_column(Float)
