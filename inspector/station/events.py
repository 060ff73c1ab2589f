"""What a station tells its listeners (the CLI, the window), and its running counts.

One set of events for any number of views (a single camera is one view). Per view: every frame
as it arrives (`FrameCaptured`), a frame dropped in free-run (`FrameDropped`), a verdict
committed to the record (`InspectionRecorded`) or not (`RecordFailed`, which names where the
record is kept instead). Per part, once every view of it is recorded: `PartInspected`, whose
outcome is the part's. A record that cannot be written stops the station: `StationFaulted`
(once, with the cause) comes before the first `RecordFailed`. Camera states arrive as the
cameras' own `SourceEvent`. The last event is always `StationStopped`, with the final counts.

Listeners are called on the station's threads and must return at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from inspector.cameras import SourceEvent
from inspector.domain import Frame, Outcome, Verdict
from inspector.recipes import Recipe
from inspector.store import Timings


class TriggerPolicy(StrEnum):
    FREE_RUN = "free-run"
    TRIGGERED = "triggered"


@dataclass(frozen=True)
class FrameCaptured:
    """Every frame as it arrives, for live views."""

    frame: Frame
    view: str = ""


@dataclass(frozen=True)
class FrameDropped:
    sequence: int
    dropped_total: int
    view: str = ""


@dataclass(frozen=True)
class InspectionRecorded:
    """One view's verdict, committed with its evidence."""

    inspection_id: int
    frame: Frame
    verdict: Verdict
    timings: Timings
    view: str = ""


@dataclass(frozen=True)
class RecordFailed:
    """A view's verdict that is not in the store: the station is in FAULT. The message names the
    part and where its record is kept (`journal`: the journal file; None: not even there)."""

    frame: Frame
    message: str
    view: str = ""
    journal: str | None = None


@dataclass(frozen=True)
class StationFaulted:
    """The station stopped judging: a part could not be recorded (the cause says why)."""

    cause: str


@dataclass(frozen=True)
class ViewResult:
    """One view of a part: its frame, verdict and record (None where there is none)."""

    view: str
    frame: Frame | None  # None: the view gave no frame for this part
    verdict: Verdict | None
    inspection_id: int | None  # None: not recorded (no frame, or the record failed)
    timings: Timings | None = None


def combine(outcomes: Sequence[Outcome | None]) -> Outcome:
    """The part's outcome from its views' (None: a view without a frame)."""
    if any(o is Outcome.FAIL for o in outcomes):
        return Outcome.FAIL
    if outcomes and all(o is Outcome.PASS for o in outcomes):
        return Outcome.PASS
    seen = [o for o in outcomes if o is not None]
    if seen and all(o is Outcome.UNJUDGED for o in seen):
        return Outcome.UNJUDGED  # the station stopped before the part was judged: no verdict
    return Outcome.UNSURE  # an unsure view, a missing view, or no view at all


@dataclass(frozen=True)
class PartInspected:
    """A part, every view of it recorded: FAIL if any view fails, UNSURE if any is unsure or
    missing, PASS only if all pass. Outcome and reason are derived, so they cannot disagree."""

    part_id: str | None  # a single view keeps its frame's own part id, which may be None
    views: tuple[ViewResult, ...]

    @property
    def outcome(self) -> Outcome:
        return combine([r.verdict.outcome if r.verdict is not None else None for r in self.views])

    @property
    def reason(self) -> str:
        outcome = self.outcome
        judged = [f"{r.view}: {r.verdict.outcome}" for r in self.views if r.verdict is not None]
        missing = [f"{r.view}: no frame" for r in self.views if r.frame is None]
        return f"{outcome} (" + ", ".join(judged + missing) + ")"


@dataclass
class StationStats:
    captured: int = 0  # frames, over all views
    judged: int = 0  # view frames judged by the chain
    unreadable: int = 0  # view frames whose image could not be read: UNSURE, never judged
    recorded: int = 0  # view inspections committed
    parts: int = 0  # parts whose views are all recorded (one view: one part per frame)
    dropped: int = 0  # free-run: frames replaced by a newer one before the judge took them
    backpressure_waits: int = 0  # triggered: times a camera waited for the judge
    not_judged: int = 0  # triggered: view frames queued at shutdown, recorded not inspected
    missing_views: int = 0  # several views: views that gave no frame for a part
    record_failures: int = 0  # view inspections not in the store (journaled, or lost)
    journaled: int = 0  # of those, kept in the journal, to be written when the fault clears


@dataclass(frozen=True)
class StationStopped:
    stats: StationStats


@dataclass(frozen=True)
class RecipeSwapped:
    """A view judges by another recipe from its next part on (selected from the line, or by
    a person); `source` is its file where one is known."""

    view: str
    recipe: Recipe
    source: str = ""


StationEvent = (
    FrameCaptured
    | FrameDropped
    | InspectionRecorded
    | RecordFailed
    | StationFaulted
    | PartInspected
    | SourceEvent
    | StationStopped
    | RecipeSwapped
)
Listener = Callable[[StationEvent], None]
