"""Several cameras per part (top and side, say): each view its own source, ROI and prompt.

A view is a camera with its own recipe (prompt, defect classes, ROI, judge chain). The frames
of one part are gathered from every view, tied by one part id, judged view by view, and each
view is recorded as an inspection of its own with its evidence image. The part's outcome:

- FAIL if any view fails;
- UNSURE if any view is unsure, or gave no frame for the part, and none fails;
- PASS only if every view passed.

A view that gave no frame is not judged and not recorded (no verdict for a frame that did not
arrive); the part is then UNSURE and says which view was missing. Which frames belong to one
part: for cameras, those taken within `sync_window_s` of the part's first frame (one trigger
fires every camera); for files and folders, the n-th of each.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from inspector.cameras import Source, SourceEvent
from inspector.domain import Frame, Outcome, Verdict, unsure, utc_now
from inspector.judges import JudgeChain
from inspector.recipes import Recipe
from inspector.station.pipeline import FrameDropped, InspectionRecorded, RecordFailed, TriggerPolicy
from inspector.store import Store, Timings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class View:
    name: str  # "top", "side": how the operator and the records tell views apart
    source: Source
    recipe: Recipe  # this view's prompt, ROI and defect classes
    recipe_version_id: int
    chain: JudgeChain


@dataclass(frozen=True)
class ViewResult:
    view: str
    frame: Frame | None  # None: the view gave no frame for this part
    verdict: Verdict | None
    inspection_id: int | None


@dataclass(frozen=True)
class PartInspected:
    part_id: str
    outcome: Outcome
    reason: str
    views: tuple[ViewResult, ...]


@dataclass
class MultiViewStats:
    parts: int = 0
    views_recorded: int = 0
    missing_views: int = 0  # views that gave no frame for a part
    dropped: int = 0  # free-run: frames replaced by a newer one before a part took them
    not_judged: int = 0  # views of parts still queued at shutdown, recorded as UNSURE
    record_failures: int = 0


@dataclass(frozen=True)
class MultiViewStopped:
    stats: MultiViewStats


MultiViewEvent = (
    PartInspected
    | InspectionRecorded
    | RecordFailed
    | FrameDropped
    | SourceEvent
    | MultiViewStopped
)


def combine(outcomes: Sequence[Outcome | None]) -> Outcome:
    """The part's outcome from its views' (None: a view without a frame)."""
    if any(o is Outcome.FAIL for o in outcomes):
        return Outcome.FAIL
    if not outcomes or any(o is not Outcome.PASS for o in outcomes):
        return Outcome.UNSURE
    return Outcome.PASS


@dataclass
class _Lane:
    """One view's frames waiting for a part."""

    view: View
    frames: deque[Frame] = field(default_factory=deque)
    ended: bool = False


class MultiViewStation:
    def __init__(
        self,
        views: Sequence[View],
        store: Store,
        policy: TriggerPolicy = TriggerPolicy.TRIGGERED,
        sync_window_s: float = 0.5,
        queue_size: int = 4,
    ) -> None:
        names = [v.name for v in views]
        if len(views) < 1 or len(set(names)) != len(names):
            raise ValueError(f"views need distinct names, got {names}")
        self.views = tuple(views)
        self.store = store
        self.policy = policy
        self.stats = MultiViewStats()
        self._window_ns = int(sync_window_s * 1e9)
        self._queue_size = 1 if policy is TriggerPolicy.FREE_RUN else queue_size
        self._lanes = [_Lane(v) for v in self.views]
        self._changed = threading.Condition()
        self._stopping = threading.Event()
        self._listeners: list[Callable[[MultiViewEvent], None]] = []
        self._part_prefix = utc_now().strftime("%Y%m%dT%H%M%S")
        self._captures = [
            threading.Thread(target=self._capture, args=(lane,), name=f"capture-{lane.view.name}")
            for lane in self._lanes
        ]
        self._worker = threading.Thread(target=self._parts, name="parts", daemon=True)
        for thread in self._captures:
            thread.daemon = True

    # -- observers and control -------------------------------------------------------------
    def subscribe(self, listener: Callable[[MultiViewEvent], None]) -> None:
        self._listeners.append(listener)

    def on_source_event(self, event: SourceEvent) -> None:
        self._emit(event)

    def _emit(self, event: MultiViewEvent) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # a broken observer must not stop inspection
                log.exception("listener failed on %s", type(event).__name__)

    def trigger(self) -> bool:
        """Fire every view's camera at once; False where no view takes a trigger."""
        fired = False
        for view in self.views:
            fire = getattr(view.source, "trigger", None)
            if fire is not None and getattr(view.source, "triggered", False):
                fire()
                fired = True
        return fired

    def start(self) -> None:
        self._worker.start()
        for thread in self._captures:
            thread.start()

    def stop(self) -> None:
        self._stopping.set()
        for view in self.views:
            view.source.close()
        with self._changed:
            self._changed.notify_all()

    def wait(self, timeout: float | None = None) -> bool:
        self._worker.join(timeout)
        return not self._worker.is_alive()

    # -- capture threads -------------------------------------------------------------------
    def _capture(self, lane: _Lane) -> None:
        try:
            while not self._stopping.is_set():
                frame = lane.view.source.read()
                if frame is None:
                    break
                self._offer(lane, frame)
        except Exception:
            log.exception("capture from %s failed", lane.view.source.uri)
        finally:
            with self._changed:
                lane.ended = True
                self._changed.notify_all()

    def _offer(self, lane: _Lane, frame: Frame) -> None:
        dropped = None
        with self._changed:
            if self.policy is TriggerPolicy.FREE_RUN:
                if lane.frames:
                    dropped = lane.frames.popleft()
                    self.stats.dropped += 1
            else:  # backpressure: the camera waits for the judge, nothing is dropped
                while len(lane.frames) >= self._queue_size and not self._stopping.is_set():
                    self._changed.wait(0.1)
            lane.frames.append(frame)
            self._changed.notify_all()
        if dropped is not None:
            self._emit(FrameDropped(dropped.sequence, self.stats.dropped))

    # -- the part thread -------------------------------------------------------------------
    def _parts(self) -> None:
        try:
            while (taken := self._next_part()) is not None:
                self._inspect(taken, judge=not self._stopping.is_set())
            # Parts seen but not judged before the stop: each still gets its records.
            while (taken := self._next_part(draining=True)) is not None:
                self._inspect(taken, judge=False)
        finally:
            self._emit(MultiViewStopped(self.stats))

    def _next_part(self, draining: bool = False) -> list[Frame | None] | None:
        """One frame (or None) per view for the next part; None when no part is left."""
        with self._changed:
            while not any(lane.frames for lane in self._lanes):
                if draining or self._done():
                    return None
                self._changed.wait(0.1)
            if all(not lane.view.source.live for lane in self._lanes):
                # Files and folders: the n-th frame of each, waiting for a slow reader.
                while not draining and not all(lane.frames or lane.ended for lane in self._lanes):
                    self._changed.wait(0.1)
                return [lane.frames.popleft() if lane.frames else None for lane in self._lanes]
            first = min(lane.frames[0].captured_monotonic_ns for lane in self._lanes if lane.frames)
            deadline = time.monotonic() + self._window_ns / 1e9
            while not draining and not all(lane.frames or lane.ended for lane in self._lanes):
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._stopping.is_set():
                    break
                self._changed.wait(remaining)
            taken: list[Frame | None] = []
            for lane in self._lanes:
                head = lane.frames[0] if lane.frames else None
                if head is not None and head.captured_monotonic_ns - first <= self._window_ns:
                    taken.append(lane.frames.popleft())
                else:
                    taken.append(None)  # a frame later than the window belongs to the next part
            self._changed.notify_all()
            return taken

    def _done(self) -> bool:
        return all(lane.ended for lane in self._lanes)

    def _inspect(self, frames: list[Frame | None], judge: bool) -> None:
        part_id = self._part_id(frames)
        results = []
        for view, frame in zip(self.views, frames, strict=True):
            if frame is None:
                self.stats.missing_views += 1
                results.append(ViewResult(view.name, None, None, None))
                continue
            frame = dataclasses.replace(frame, part_id=part_id)
            results.append(self._judge_and_record(view, frame, judge))
        self.stats.parts += 1
        outcomes = [r.verdict.outcome if r.verdict is not None else None for r in results]
        outcome = combine(outcomes)
        self._emit(PartInspected(part_id, outcome, _reason(results, outcome), tuple(results)))

    def _judge_and_record(self, view: View, frame: Frame, judge: bool) -> ViewResult:
        taken_ns = time.monotonic_ns()
        if judge:
            try:
                verdict = view.chain.judge(frame.image)
            except Exception as exc:  # judges catch their own errors; this is a last guard
                log.exception("judge chain of view %s failed", view.name)
                verdict = unsure(f"the judge chain failed: {exc}")
        else:
            self.stats.not_judged += 1
            verdict = unsure("station stopped before this part was judged")
        judged_ns = time.monotonic_ns()
        try:
            image = self.store.evidence.encode(frame.image)
            timings = Timings(
                queue_ms=(taken_ns - frame.captured_monotonic_ns) / 1e6,
                judge_ms=(judged_ns - taken_ns) / 1e6,
                total_ms=(time.monotonic_ns() - frame.captured_monotonic_ns) / 1e6,
            )
            roi = view.recipe.roi.as_region() if view.recipe.roi else None
            inspection_id = self.store.record_inspection(
                frame, view.recipe_version_id, verdict, image, timings, roi
            )
        except Exception as exc:
            log.exception("recording view %s of part %s failed", view.name, frame.part_id)
            self.stats.record_failures += 1
            message = f"could not record view {view.name} of part {frame.part_id}: {exc}"
            self._emit(RecordFailed(frame, message))
            return ViewResult(view.name, frame, verdict, None)
        self.stats.views_recorded += 1
        self._emit(InspectionRecorded(inspection_id, frame, verdict, timings))
        return ViewResult(view.name, frame, verdict, inspection_id)

    def _part_id(self, frames: list[Frame | None]) -> str:
        """The part's own id where the frames carry one (a file name), else a new one."""
        named = [f.part_id for f in frames if f is not None and f.part_id]
        if named:
            return named[0]
        return f"{self._part_prefix}-{self.stats.parts + 1:06d}"


def _reason(results: list[ViewResult], outcome: Outcome) -> str:
    missing = [r.view for r in results if r.frame is None]
    parts = [f"{r.view}: {r.verdict.outcome}" for r in results if r.verdict is not None]
    parts += [f"{name}: no frame" for name in missing]
    return f"{outcome} (" + ", ".join(parts) + ")"
