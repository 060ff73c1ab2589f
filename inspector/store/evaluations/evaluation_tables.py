"""The tables of evaluation runs: a recipe judged on a labelled image set, one row per image.

Kept apart from the inspections: an evaluation is not production, and its images are not
evidence of parts made. Changed only together with a migration (0004_evaluation_runs).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from inspector.store.tables import Base, UTCDateTime


class EvaluationRunRow(Base):
    __tablename__ = "evaluation_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(12))  # running, interrupted, complete
    dataset: Mapped[str] = mapped_column(Text)  # the path as resolved when the run started
    dataset_kind: Mapped[str] = mapped_column(String(16))  # mvtec, folders, csv
    reader: Mapped[str] = mapped_column(Text)  # JSON of the reader's options, checked on resume
    image_count: Mapped[int] = mapped_column(Integer)
    recipe_version_id: Mapped[int] = mapped_column(ForeignKey("recipe_versions.id"))
    chain: Mapped[str] = mapped_column(Text)  # the chain's description: engine:model -> ...


class EvaluationResultRow(Base):
    __tablename__ = "evaluation_results"
    __table_args__ = (UniqueConstraint("run_id", "image", name="uq_evaluation_results_run_image"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("evaluation_runs.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # the image's place in the data set
    image: Mapped[str] = mapped_column(Text)  # relative to the data set's root
    label: Mapped[str] = mapped_column(String(100))  # the class the data set gives
    expected: Mapped[str] = mapped_column(String(8))  # good or defect
    outcome: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(Text)
    boxes: Mapped[str] = mapped_column(Text)  # JSON: [[class, x0, y0, x1, y1], ...]
    score: Mapped[float | None] = mapped_column(Float)  # a screen's score, where one judged
    latency_ms: Mapped[float] = mapped_column(Float)  # the whole chain
    engines: Mapped[str] = mapped_column(Text)  # the engine of each attempt, space-separated
    prompt_tokens: Mapped[int | None] = mapped_column(Integer)
    completion_tokens: Mapped[int | None] = mapped_column(Integer)
    cost: Mapped[float | None] = mapped_column(Float)  # estimated, in the price list's currency
    error: Mapped[str | None] = mapped_column(Text)
    judged_at: Mapped[datetime] = mapped_column(UTCDateTime)
