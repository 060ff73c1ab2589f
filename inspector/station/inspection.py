"""The inspect step, written once: judge a view's frame, encode its evidence, time it, record it.

The station splits the step in two (`judge` on the judge thread, `record` on the
record thread, so the store never stalls the model); `inspect` runs it whole, for still images
(`inspector judge`). In both, the evidence image is encoded on the encoder thread while the
model judges, so recording adds no latency. The judge never raises here: a chain that fails
anyway gives an UNSURE verdict, and a frame that could not be read (`Frame.unreadable`) is
UNSURE without a judge, its placeholder image kept as the evidence; `record` raises where the
store does, and the caller decides. A part captured but never judged (the station stopped) is
recorded as not inspected (`Outcome.UNJUDGED`), not UNSURE: it is not a verdict.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import Executor, Future
from dataclasses import dataclass

from inspector.cameras import Source
from inspector.domain import Frame, Verdict, not_inspected, unsure
from inspector.judges import JudgeChain
from inspector.recipes import Recipe
from inspector.store import OutboxWrite, PendingRecord, Store, Timings
from inspector.store.evidence import EncodedImage

log = logging.getLogger(__name__)

SINGLE_VIEW = "camera"  # the name of the one view of a single-camera station
NOT_JUDGED = "station stopped before this part was judged"
UNREADABLE = "unreadable image"  # the reason's start for a frame that could not be read


@dataclass(frozen=True)
class View:
    """A camera with its own recipe (prompt, defect classes, ROI, judge chain)."""

    name: str  # "top", "side": how the operator and the records tell views apart
    source: Source
    recipe: Recipe
    recipe_version_id: int
    chain: JudgeChain


@dataclass(frozen=True)
class Judged:
    """A verdict on its way to the store, with its evidence image being encoded."""

    frame: Frame
    verdict: Verdict
    taken_ns: int  # when the judge took the frame
    judged_ns: int  # when the verdict was ready
    encoded: Future[EncodedImage]


def judge(chain: JudgeChain, frame: Frame, store: Store, encoder: Executor) -> Judged:
    """The first half: the verdict, while the encoder thread encodes the evidence."""
    taken_ns = time.monotonic_ns()
    encoded = encoder.submit(store.evidence.encode, frame.evidence_image)
    if frame.unreadable is not None:  # nothing to judge: a person looks at the file
        return Judged(
            frame, unsure(f"{UNREADABLE}: {frame.unreadable}"), taken_ns, taken_ns, encoded
        )
    try:
        verdict = chain.judge(frame.image)
    except Exception as exc:  # judges catch their own errors; this is a last guard
        log.exception("judge chain failed on frame %s of %s", frame.sequence, frame.camera_id)
        verdict = unsure(f"the judge chain failed: {exc}")
    return Judged(frame, verdict, taken_ns, time.monotonic_ns(), encoded)


def not_judged(frame: Frame, store: Store, encoder: Executor) -> Judged:
    """A part seen but not judged (the station stopped): recorded as not inspected (UNJUDGED),
    which is no verdict: not UNSURE (no person is asked to review it, the yield leaves it out),
    and never PASS (the line is told UNSURE or FAIL, as for any part that did not pass)."""
    now = time.monotonic_ns()
    encoded = encoder.submit(store.evidence.encode, frame.evidence_image)
    return Judged(frame, not_inspected(NOT_JUDGED), now, now, encoded)


def pending(recipe: Recipe, recipe_version_id: int, judged: Judged) -> PendingRecord:
    """The record to write, with its evidence image and the timings from capture to now."""
    frame = judged.frame
    image = judged.encoded.result()
    timings = Timings(
        queue_ms=(judged.taken_ns - frame.captured_monotonic_ns) / 1e6,
        judge_ms=(judged.judged_ns - judged.taken_ns) / 1e6,
        total_ms=(time.monotonic_ns() - frame.captured_monotonic_ns) / 1e6,
    )
    roi = recipe.roi.as_region() if recipe.roi else None
    return PendingRecord.of(frame, recipe_version_id, judged.verdict, image, timings, roi)


def record(
    recipe: Recipe,
    recipe_version_id: int,
    judged: Judged,
    store: Store,
    outbox_write: OutboxWrite | None = None,
) -> tuple[int, Timings]:
    """The second half: the record (with its outbox messages), timed from capture to commit."""
    record = pending(recipe, recipe_version_id, judged)
    return store.record(record, outbox_write), record.timings


def inspect(
    chain: JudgeChain,
    recipe: Recipe,
    recipe_version_id: int,
    frame: Frame,
    store: Store,
    encoder: Executor,
) -> tuple[int, Verdict, Timings]:
    """The whole step on the caller's thread: judge, then record; the store's errors raise."""
    judged = judge(chain, frame, store, encoder)
    inspection_id, timings = record(recipe, recipe_version_id, judged, store)
    return inspection_id, judged.verdict, timings
