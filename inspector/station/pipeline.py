"""The station: cameras → lanes → judge → store, for one view or several, without Qt.

Threads: one capture thread per view, one judge thread, one record thread, and the evidence
encoder (which encodes a frame's evidence image while the model judges it). A slow model never
stalls the cameras, and the database never stalls the model. How frames meet the judge is the
trigger policy:

- free-run: the judge takes the newest frame; older waiting frames are dropped and counted.
- triggered: every frame is a part and every part is judged; when the judge falls behind, the
  camera waits (backpressure) and the waits are counted. Nothing is dropped silently.

With several views, the frames of one part are gathered from every view (station/parts.py),
tied by one part id, judged view by view, and each view is recorded as its own inspection; a
view that gave no frame is neither judged nor recorded, and makes the part UNSURE.

Listeners (the CLI, the window) receive events (station/events.py); they never reach behind the
station. A stopped station has judged and recorded the part in flight; triggered parts still
queued are recorded as not inspected (`Outcome.UNJUDGED`: no verdict, not for review), so no
part that was seen goes unrecorded; in
free-run, queued frames are dropped and counted.

Never a verdict without a record: when a record cannot be written (the database, the disk, any
cause), or the data directory has less free space than the store's minimum (checked at start
and before each record), the station enters FAULT (`fault`, the cause; `StationFaulted`) and
stops as if asked to: it judges no more parts. That record, and every part already seen behind
it, goes to the store's journal instead, without trying the store again, to be written when the
fault clears (`Store.replay_journal`, run at the next start); each `RecordFailed` says where.

Switching a view's recipe (`swap_recipe`, called by the runner once the new recipe and its judge
chain are loaded) happens between parts: the judge thread takes the station's views once per
part, and the part is recorded with the views it was judged by, so no part is judged by one
recipe and recorded under another.
"""

from __future__ import annotations

import dataclasses
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from inspector.cameras import Source, SourceEvent
from inspector.domain import Frame, Verdict, utc_now
from inspector.errors import InputError
from inspector.judges import JudgeChain
from inspector.recipes import Recipe
from inspector.station import inspection
from inspector.station.events import (
    FrameCaptured,
    FrameDropped,
    InspectionRecorded,
    Listener,
    PartInspected,
    RecipeSwapped,
    RecordFailed,
    StationEvent,
    StationFaulted,
    StationStats,
    StationStopped,
    TriggerPolicy,
    ViewResult,
)
from inspector.station.inspection import SINGLE_VIEW, Judged, View
from inspector.station.parts import Lanes
from inspector.station.publishing import Publishing, station_commands
from inspector.store import OutboxWrite, PendingRecord, Store, describe_failure

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Part:
    """A judged part on its way to the record thread: per view, a verdict or None (no frame)."""

    part_id: str | None
    views: tuple[Judged | None, ...]
    judged_by: tuple[View, ...]  # the views (recipes, versions) as they were when judged


class Station:
    def __init__(
        self,
        views: Sequence[View],
        store: Store,
        policy: TriggerPolicy = TriggerPolicy.FREE_RUN,
        queue_size: int = 4,
        sync_window_s: float = 0.5,
        publishing: Publishing | None = None,
    ) -> None:
        names = [v.name for v in views]
        if not views or len(set(names)) != len(names):
            raise ValueError(f"a station needs views with distinct names, got {names}")
        self.views = tuple(views)
        self.store = store
        self.policy = policy
        # The line's publishers: fed from the outbox, closed when the station has stopped.
        self.publishing = publishing
        self.stats = StationStats()
        self.fault: str | None = None  # the cause, while the station is in FAULT
        # The line's deadline (station/line.py): given a judged frame and its verdict, the
        # verdict to record (the same, or UNSURE "deadline" carrying the late answer).
        self.settle: Callable[[Frame, Verdict], Verdict] | None = None
        # Selects a recipe by name for a command from the line (set by the runner; None: the
        # station cannot switch recipes while running). Returns what to tell the sender.
        self.select_recipe: Callable[[str], str] | None = None
        self._swap_lock = threading.Lock()
        self._listeners: list[Listener] = []
        self._stopping = threading.Event()
        self._stats_lock = threading.Lock()
        self._lanes = Lanes(
            self.views,
            policy,
            1 if policy is TriggerPolicy.FREE_RUN else queue_size,
            sync_window_s,
            self._stopping,
        )
        self._part_prefix = utc_now().strftime("%Y%m%dT%H%M%S")
        self._parts_taken = 0
        self._encoder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="evidence")
        self._capture_threads = [
            threading.Thread(
                target=self._capture, args=(i,), name=f"capture-{view.name}", daemon=True
            )
            for i, view in enumerate(self.views)
        ]
        self._judge_thread = threading.Thread(target=self._judge_loop, name="judge", daemon=True)
        # Bounded: a store that falls behind slows the judge, and then the cameras, visibly. Kept
        # short, as the parts judged ahead of a failing store are the journal's to hold: the
        # disk reserve (min_free_disk_mb) must take them all.
        self._records: queue.Queue[_Part | None] = queue.Queue(maxsize=8)
        self._record_thread = threading.Thread(target=self._record_loop, name="record", daemon=True)

    @classmethod
    def for_camera(
        cls,
        source: Source,
        chain: JudgeChain,
        recipe: Recipe,
        recipe_version_id: int,
        store: Store,
        policy: TriggerPolicy = TriggerPolicy.FREE_RUN,
        queue_size: int = 4,
    ) -> Station:
        """A single-camera station: one view."""
        view = View(SINGLE_VIEW, source, recipe, recipe_version_id, chain)
        return cls([view], store, policy, queue_size)

    # -- observers -------------------------------------------------------------------------
    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def _emit(self, event: StationEvent) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # a broken observer must not stop inspection
                log.exception("station listener failed on %s", type(event).__name__)

    def on_source_event(self, event: SourceEvent) -> None:
        """Pass to open_source so camera states reach the listeners."""
        self._emit(event)

    # -- life cycle ------------------------------------------------------------------------
    def start(self) -> None:
        if self.publishing is not None:
            self.subscribe(self.publishing.on_event)  # a FAULT reaches the line
            self.publishing.start(
                station_commands(self.trigger, self.stop, lambda name: self._select(name))
            )
        low = self.store.disk_low()
        if low is not None:
            self._enter_fault(low)  # the threads start, find the station stopping, and end
        self._record_thread.start()
        self._judge_thread.start()
        for thread in self._capture_threads:
            thread.start()

    def trigger(self) -> bool:
        """A software trigger (a button, a key, an integration): every view's camera takes
        the next part, by its TriggerSoftware where it has one, else as the next frame that
        arrives. False where no view takes a trigger (a file, or a camera in free-run)."""
        fired = False
        for view in self.views:
            fire = getattr(view.source, "trigger", None)
            if fire is not None and getattr(view.source, "triggered", False):
                fire()
                fired = True
        return fired

    def _select(self, name: str) -> str:
        if self.select_recipe is None:
            raise InputError(
                "this station takes no recipe selection from the line; stop it and start it "
                "with the recipe"
            )
        return self.select_recipe(name)

    def swap_recipe(
        self,
        view_name: str,
        recipe: Recipe,
        recipe_version_id: int,
        chain: JudgeChain,
        source: str = "",
    ) -> View:
        """From the next part on, the view is judged by `chain` and recorded under `recipe`
        (version row `recipe_version_id`; `source`: its file). The chain must be loaded already:
        the judge thread only picks the new view up, between parts. Returns the view it
        replaced; listeners are told (`RecipeSwapped`)."""
        with self._swap_lock:
            names = [v.name for v in self.views]
            if view_name not in names:
                raise InputError(f"no view {view_name!r}; the views are {', '.join(names)}")
            index = names.index(view_name)
            old = self.views[index]
            new = dataclasses.replace(
                old, recipe=recipe, recipe_version_id=recipe_version_id, chain=chain
            )
            self.views = (*self.views[:index], new, *self.views[index + 1 :])  # one assignment
        log.info(
            "view %s: recipe %s version %s from the next part",
            view_name,
            recipe.name,
            recipe.version,
        )
        self._emit(RecipeSwapped(view_name, recipe, source))
        return old

    def stop(self) -> None:
        """Ask every thread to finish; the part being judged is completed and recorded."""
        self._stopping.set()
        for view in self.views:
            view.source.close()
        self._lanes.wake()

    def wait(self, timeout: float | None = None) -> bool:
        """Until the sources have ended (or stop) and all work is recorded; False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for thread in (*self._capture_threads, self._judge_thread, self._record_thread):
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            thread.join(remaining)
            if thread.is_alive():
                return False
        return True

    # -- capture threads -------------------------------------------------------------------
    def _capture(self, index: int) -> None:
        view = self.views[index]
        try:
            while not self._stopping.is_set():
                frame = view.source.read()
                if frame is None:
                    break
                with self._stats_lock:
                    self.stats.captured += 1
                self._emit(FrameCaptured(frame, view.name))
                dropped = self._lanes.offer(index, frame, self._count_wait)
                if dropped is not None:
                    self._count_drop(view, dropped)
        except Exception:
            log.exception("capture from %s failed", view.source.uri)
        finally:
            self._lanes.end(index)

    def _count_wait(self) -> None:
        with self._stats_lock:
            self.stats.backpressure_waits += 1

    def _count_drop(self, view: View, frame: Frame) -> None:
        with self._stats_lock:
            self.stats.dropped += 1
            total = self.stats.dropped
        self._emit(FrameDropped(frame.sequence, total, view.name))

    # -- judge thread ----------------------------------------------------------------------
    def _judge_loop(self) -> None:
        try:
            while (frames := self._lanes.next_part()) is not None:
                if not self._stopping.is_set():
                    self._records.put(self._judge(frames, judge=True))
                elif self.policy is TriggerPolicy.FREE_RUN:
                    for view, frame in zip(self.views, frames, strict=True):  # names only
                        if frame is not None:
                            self._count_drop(view, frame)
                else:
                    self._records.put(self._judge(frames, judge=False))
        finally:
            self._records.put(None)

    def _judge(self, frames: list[Frame | None], judge: bool) -> _Part:
        part_id = frames[0].part_id if len(frames) == 1 else self._part_id(frames)
        judged: list[Judged | None] = []
        views = self.views  # once per part: a recipe switch lands between parts
        for view, frame in zip(views, frames, strict=True):
            if frame is None:
                with self._stats_lock:
                    self.stats.missing_views += 1
                judged.append(None)
                continue
            if frame.part_id != part_id:
                frame = dataclasses.replace(frame, part_id=part_id)
            if judge:
                done = inspection.judge(view.chain, frame, self.store, self._encoder)
                if self.settle is not None:
                    done = dataclasses.replace(done, verdict=self.settle(frame, done.verdict))
                judged.append(done)
            else:
                judged.append(inspection.not_judged(frame, self.store, self._encoder))
            with self._stats_lock:
                if not judge:
                    self.stats.not_judged += 1
                elif frame.unreadable is not None:  # UNSURE without a judge: not "judged"
                    self.stats.unreadable += 1
                else:
                    self.stats.judged += 1
        return _Part(part_id, tuple(judged), views)

    def _part_id(self, frames: list[Frame | None]) -> str:
        """The part's own id where the frames carry one (a file name), else a new one."""
        self._parts_taken += 1
        named = [f.part_id for f in frames if f is not None and f.part_id]
        if named:
            return named[0]
        return f"{self._part_prefix}-{self._parts_taken:06d}"

    # -- record thread ---------------------------------------------------------------------
    def _record_loop(self) -> None:
        """The one writer: records in the order parts were judged, off the judge's path."""
        while (part := self._records.get()) is not None:
            results = tuple(
                self._record(view, judged)
                if judged is not None
                else ViewResult(view.name, None, None, None)
                for view, judged in zip(part.judged_by, part.views, strict=True)
            )
            with self._stats_lock:
                self.stats.parts += 1
            self._emit(PartInspected(part.part_id, results))
        self._encoder.shutdown(wait=True)
        if self.publishing is not None:
            self.publishing.close()
        self._emit(StationStopped(self.stats))

    def _record(self, view: View, judged: Judged) -> ViewResult:
        frame, verdict = judged.frame, judged.verdict
        try:
            record = inspection.pending(view.recipe, view.recipe_version_id, judged)
            outbox = self.publishing.outbox_for(view, judged) if self.publishing else None
        except Exception as exc:  # the evidence image could not be encoded: nothing to keep
            log.warning(
                "encoding frame %s of view %s failed", frame.sequence, view.name, exc_info=True
            )
            name = self._name(view, frame)
            self._enter_fault(f"could not encode the evidence of {name}: {exc}")
            message = f"LOST {name}: no evidence image to keep: inspect this part again"
            return self._not_recorded(view, frame, verdict, message)
        if self.fault is None:
            low = self.store.disk_low()
            if low is not None:
                self._enter_fault(low)
        if self.fault is None:
            try:
                inspection_id = self.store.record(record, outbox)
            except Exception as exc:
                # The traceback to the log file; the operator reads the cause in the FAULT.
                log.warning(
                    "recording frame %s of view %s failed", frame.sequence, view.name, exc_info=True
                )
                failure = describe_failure(exc)
                self._enter_fault(f"could not record {self._name(view, frame)}: {failure}")
            else:
                if self.publishing is not None:
                    self.publishing.wake()
                with self._stats_lock:
                    self.stats.recorded += 1
                timings = record.timings
                self._emit(InspectionRecorded(inspection_id, frame, verdict, timings, view.name))
                return ViewResult(view.name, frame, verdict, inspection_id, timings)
        return self._journal(view, frame, record, outbox)

    def _journal(
        self, view: View, frame: Frame, record: PendingRecord, outbox: OutboxWrite | None
    ) -> ViewResult:
        """In FAULT: the record (with its outbox message, published once it is replayed) goes
        to the journal, and the listeners are told where."""
        name = self._name(view, frame)
        try:
            path = self.store.keep_in_journal(record, outbox)
        except Exception as exc:
            log.warning(
                "journaling frame %s of view %s failed", frame.sequence, view.name, exc_info=True
            )
            message = (
                f"LOST {name}: not recorded, and the journal could not be written ({exc}): "
                "inspect this part again"
            )
            return self._not_recorded(view, frame, record.verdict, message)
        with self._stats_lock:
            self.stats.journaled += 1
        message = f"NOT RECORDED {name} ({record.verdict.outcome}): kept in the journal {path}"
        return self._not_recorded(view, frame, record.verdict, message, str(path))

    def _not_recorded(
        self, view: View, frame: Frame, verdict: Verdict, message: str, journal: str | None = None
    ) -> ViewResult:
        with self._stats_lock:
            self.stats.record_failures += 1
        self._emit(RecordFailed(frame, message, view.name, journal))
        return ViewResult(view.name, frame, verdict, None)

    def _name(self, view: View, frame: Frame) -> str:
        """How the operator knows the part: its id, its frame, and its view where there are
        several."""
        part = f"part {frame.part_id}, " if frame.part_id else ""
        seen = f"frame {frame.sequence}"
        return f"{part}{seen}" if len(self.views) == 1 else f"{part}view {view.name} {seen}"

    def _enter_fault(self, cause: str) -> None:
        """Stop judging, once, saying why; the parts already seen are journaled."""
        with self._stats_lock:
            if self.fault is not None:
                return
            self.fault = cause
        log.warning("station FAULT: %s", cause)  # the listeners show it
        self._emit(StationFaulted(cause))
        self.stop()
