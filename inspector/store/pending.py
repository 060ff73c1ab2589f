"""A record on its way to the store: everything one inspection row needs, and nothing more.

`Store.record` writes one; when it cannot, the station keeps it in the journal (journal.py) and
it is written later, unchanged, under the same `uid`, so a record is never written twice.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from inspector.domain import Frame, Region, Verdict
from inspector.store.evidence import EncodedImage


@dataclass(frozen=True)
class Timings:
    queue_ms: float
    judge_ms: float
    total_ms: float


@dataclass(frozen=True)
class PendingRecord:
    camera_id: str
    sequence: int
    captured_at: datetime
    part_id: str | None
    serial: str | None
    lot: str | None
    recipe_version_id: int
    verdict: Verdict
    image: EncodedImage
    timings: Timings
    roi: Region | None = None
    uid: str = field(default_factory=lambda: str(uuid.uuid4()))  # the record's identity

    @classmethod
    def of(
        cls,
        frame: Frame,
        recipe_version_id: int,
        verdict: Verdict,
        image: EncodedImage,
        timings: Timings,
        roi: Region | None = None,
    ) -> PendingRecord:
        return cls(
            frame.camera_id,
            frame.sequence,
            frame.captured_at,
            frame.part_id,
            frame.serial,
            frame.lot,
            recipe_version_id,
            verdict,
            image,
            timings,
            roi,
        )

    def describe(self) -> str:
        """How the operator names it: the part (where it has an id), camera and frame."""
        part = f"part {self.part_id} " if self.part_id else ""
        return f"{part}(camera {self.camera_id}, frame {self.sequence}, {self.verdict.outcome})"
