"""The words of the inspection domain: frames, defects, verdicts. No I/O, no Qt, no torch."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

import numpy as np


class Outcome(StrEnum):
    PASS = "PASS"
    FAIL = "FAIL"
    UNSURE = "UNSURE"
    # Not inspected: the part was captured but never judged (the station stopped first). Not a
    # verdict: outside the review queue and the yield, still on record, never PASS on the line.
    UNJUDGED = "UNJUDGED"


class Severity(StrEnum):
    MINOR = "minor"
    MAJOR = "major"
    CRITICAL = "critical"


@dataclass(frozen=True)
class Box:
    """An axis-aligned box in source-image pixels: x0 <= x1, y0 <= y1, end exclusive."""

    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    def as_list(self) -> list[int]:
        return [self.x0, self.y0, self.x1, self.y1]


@dataclass(frozen=True)
class Region:
    """A rectangle of interest in source-image pixels."""

    x: int
    y: int
    width: int
    height: int


@dataclass(frozen=True)
class Frame:
    """One image from a camera, with where and when it was taken."""

    image: np.ndarray = field(repr=False)  # BGR (H, W, 3) or mono (H, W), uint8
    camera_id: str
    sequence: int
    captured_at: datetime  # UTC wall clock, for records
    captured_monotonic_ns: int  # for latency, immune to clock changes
    part_id: str | None = None
    serial: str | None = None
    lot: str | None = None
    device_timestamp_ns: int | None = None
    # The camera's own pixels where deeper than 8 bits (uint16), kept as the evidence; `image`
    # is then their 8-bit view, scaled by bit depth, which is what the judges see.
    native: np.ndarray | None = field(default=None, repr=False)
    # Why the file or buffer behind this frame could not be read ("name: why"); `image` is then
    # a placeholder that says so, and the part is recorded UNSURE without a judge.
    unreadable: str | None = None

    @property
    def evidence_image(self) -> np.ndarray:
        """What the record keeps: the camera's own pixels, at their bit depth."""
        return self.image if self.native is None else self.native

    @property
    def width(self) -> int:
        return int(self.image.shape[1])

    @property
    def height(self) -> int:
        return int(self.image.shape[0])


@dataclass(frozen=True)
class Defect:
    class_name: str
    severity: Severity | None  # None: a class the recipe does not list
    box: Box | None = None
    confidence: float | None = None
    note: str = ""


@dataclass(frozen=True)
class JudgeAttempt:
    """One call to one model, kept whole for the record: what was asked, what came back."""

    engine: str
    model_id: str
    model_revision: str | None
    prompt_hash: str
    started_at: datetime
    latency_ms: float
    raw_text: str = ""
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    error: str | None = None
    outcome: Outcome | None = None  # what the parser made of raw_text; None after an error
    image_left_site: bool = False
    cost_usd: float | None = None  # estimated from the tokens and the provider's price list
    endpoint: str | None = None  # the server called (scheme, host, path); None in process
    # The probability the model's own distribution gave the outcome word it wrote (from its
    # token probabilities); None where the engine exposes none: the confidence is self-reported.
    measured_confidence: float | None = None


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    reason: str
    defects: tuple[Defect, ...] = ()
    confidence: float | None = None  # as the model wrote it (self-reported)
    attempts: tuple[JudgeAttempt, ...] = ()
    # From the model's token probabilities, where the engine exposes them; the pass rule's
    # `min_confidence` applies to it when present (inspector.judges.measured).
    measured_confidence: float | None = None

    @property
    def decided_by(self) -> JudgeAttempt | None:
        """The attempt whose answer became the verdict (the last one that was read)."""
        for attempt in reversed(self.attempts):
            if attempt.outcome is not None:
                return attempt
        return self.attempts[-1] if self.attempts else None

    @property
    def image_left_site(self) -> bool:
        return any(a.image_left_site for a in self.attempts)

    def with_attempts(self, attempts: tuple[JudgeAttempt, ...]) -> Verdict:
        return dataclasses.replace(self, attempts=attempts)


def unsure(reason: str, attempts: tuple[JudgeAttempt, ...] = ()) -> Verdict:
    """The fail-safe verdict: a person must look."""
    return Verdict(outcome=Outcome.UNSURE, reason=reason, attempts=attempts)


def not_inspected(reason: str) -> Verdict:
    """A part seen but never judged: on record as such, not a verdict (and never PASS)."""
    return Verdict(outcome=Outcome.UNJUDGED, reason=reason)


def utc_now() -> datetime:
    return datetime.now(UTC)
