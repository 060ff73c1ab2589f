"""The station: camera → bounded queue → judge → store, on two threads, without Qt.

Capture, judging and recording run on their own threads, so a slow model never stalls the
camera and the database never stalls the model. How frames
meet the judge is the trigger policy:

- free-run: the judge takes the newest frame; older waiting frames are dropped and counted.
- triggered: every frame is a part and every part is judged; when the judge falls behind, the
  capture thread waits (backpressure) and the waits are counted. Nothing is dropped silently.

Listeners (the CLI, the window) receive events; they never reach behind the station. A stopped
station has judged and recorded the frame in flight; triggered parts still queued are recorded
as UNSURE ("not judged"), so no part that was seen goes unrecorded.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum

from inspector.cameras import Source, SourceEvent
from inspector.domain import Frame, Verdict, unsure
from inspector.judges import JudgeChain
from inspector.recipes import Recipe
from inspector.store import Store, Timings
from inspector.store.evidence import EncodedImage

log = logging.getLogger(__name__)


class TriggerPolicy(StrEnum):
    FREE_RUN = "free-run"
    TRIGGERED = "triggered"


@dataclass(frozen=True)
class InspectionRecorded:
    inspection_id: int
    frame: Frame
    verdict: Verdict
    timings: Timings


@dataclass(frozen=True)
class FrameCaptured:
    """Every frame as it arrives, for live views; listeners must return at once."""

    frame: Frame


@dataclass(frozen=True)
class FrameDropped:
    sequence: int
    dropped_total: int


@dataclass(frozen=True)
class RecordFailed:
    """A verdict that could not be stored; the station goes on, the message says why."""

    frame: Frame
    message: str


@dataclass(frozen=True)
class StationStopped:
    stats: StationStats


StationEvent = (
    FrameCaptured | InspectionRecorded | FrameDropped | RecordFailed | SourceEvent | StationStopped
)
Listener = Callable[[StationEvent], None]


@dataclass
class StationStats:
    captured: int = 0
    judged: int = 0
    recorded: int = 0
    dropped: int = 0  # free-run: frames replaced by a newer one before the judge took them
    backpressure_waits: int = 0  # triggered: times the camera waited for the judge
    not_judged: int = 0  # triggered: parts queued at shutdown, recorded as UNSURE
    record_failures: int = 0


class Station:
    def __init__(
        self,
        source: Source,
        chain: JudgeChain,
        recipe: Recipe,
        recipe_version_id: int,
        store: Store,
        policy: TriggerPolicy = TriggerPolicy.FREE_RUN,
        queue_size: int = 4,
    ) -> None:
        self.source = source
        self.chain = chain
        self.recipe = recipe
        self.recipe_version_id = recipe_version_id
        self.store = store
        self.policy = policy
        self.stats = StationStats()
        self._listeners: list[Listener] = []
        self._queue: queue.Queue[Frame | None] = queue.Queue(
            maxsize=1 if policy is TriggerPolicy.FREE_RUN else queue_size
        )
        self._stopping = threading.Event()
        self._stats_lock = threading.Lock()
        self._encoder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="evidence")
        self._capture_thread = threading.Thread(target=self._capture, name="capture", daemon=True)
        self._judge_thread = threading.Thread(target=self._judge_loop, name="judge", daemon=True)
        # Bounded: a store that falls behind slows the judge, and then the camera, visibly.
        self._records: queue.Queue[_Pending | None] = queue.Queue(maxsize=32)
        self._record_thread = threading.Thread(target=self._record_loop, name="record", daemon=True)

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
        self._record_thread.start()
        self._judge_thread.start()
        self._capture_thread.start()

    def trigger(self) -> bool:
        """A software trigger (a button, a key, an integration): the camera takes the next
        part, by its TriggerSoftware where it has one, else as the next frame that arrives.
        False where the source takes no trigger (a file, or a camera in free-run)."""
        fire = getattr(self.source, "trigger", None)
        if fire is None or not getattr(self.source, "triggered", False):
            return False
        fire()
        return True

    def stop(self) -> None:
        """Ask both threads to finish; the frame being judged is completed and recorded."""
        self._stopping.set()
        self.source.close()

    def wait(self, timeout: float | None = None) -> bool:
        """Until the source has ended (or stop) and all work is recorded; False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for thread in (self._capture_thread, self._judge_thread, self._record_thread):
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            thread.join(remaining)
            if thread.is_alive():
                return False
        return True

    # -- capture thread --------------------------------------------------------------------
    def _capture(self) -> None:
        try:
            while not self._stopping.is_set():
                frame = self.source.read()
                if frame is None:
                    break
                with self._stats_lock:
                    self.stats.captured += 1
                self._emit(FrameCaptured(frame))
                if self.policy is TriggerPolicy.FREE_RUN:
                    self._offer_newest(frame)
                else:
                    self._put_waiting(frame)
        except Exception:
            log.exception("capture from %s failed", self.source.uri)
        finally:
            self._put_end()

    def _offer_newest(self, frame: Frame) -> None:
        while True:
            try:
                self._queue.put_nowait(frame)
                return
            except queue.Full:
                try:
                    older = self._queue.get_nowait()
                except queue.Empty:
                    continue
                if older is not None:
                    self._count_drop(older)

    def _count_drop(self, frame: Frame) -> None:
        with self._stats_lock:
            self.stats.dropped += 1
            total = self.stats.dropped
        self._emit(FrameDropped(frame.sequence, total))

    def _put_waiting(self, frame: Frame) -> None:
        try:
            self._queue.put_nowait(frame)
            return
        except queue.Full:
            with self._stats_lock:
                self.stats.backpressure_waits += 1
        while True:
            try:
                self._queue.put(frame, timeout=0.1)
                return
            except queue.Full:
                if self._stopping.is_set():
                    # The part was seen: it gets a record, even though no model judged it.
                    self._record_not_judged(frame)
                    return

    def _put_end(self) -> None:
        while True:
            try:
                self._queue.put(None, timeout=0.1)
                return
            except queue.Full:
                if self._judge_thread.is_alive():
                    continue
                return

    # -- judge thread ----------------------------------------------------------------------
    def _judge_loop(self) -> None:
        try:
            while True:
                frame = self._queue.get()
                if frame is None:
                    break
                if self._stopping.is_set() and self.policy is TriggerPolicy.FREE_RUN:
                    self._count_drop(frame)
                elif self._stopping.is_set():
                    self._record_not_judged(frame)
                else:
                    self._judge(frame)
        finally:
            self._records.put(None)

    def _judge(self, frame: Frame) -> None:
        taken_ns = time.monotonic_ns()
        # The evidence image is encoded while the model judges: recording adds no latency.
        encoded = self._encoder.submit(self.store.evidence.encode, frame.image)
        try:
            verdict = self.chain.judge(frame.image)
        except Exception as exc:  # judges catch their own errors; this is a last guard
            log.exception("judge chain failed")
            verdict = unsure(f"the judge chain failed: {exc}")
        with self._stats_lock:
            self.stats.judged += 1
        self._records.put(_Pending(frame, verdict, taken_ns, time.monotonic_ns(), encoded))

    def _record_not_judged(self, frame: Frame) -> None:
        with self._stats_lock:
            self.stats.not_judged += 1
        now = time.monotonic_ns()
        encoded = self._encoder.submit(self.store.evidence.encode, frame.image)
        verdict = unsure("station stopped before this part was judged")
        self._records.put(_Pending(frame, verdict, now, now, encoded))

    # -- record thread ---------------------------------------------------------------------
    def _record_loop(self) -> None:
        """The one writer: records in the order parts were judged, off the judge's path."""
        while (pending := self._records.get()) is not None:
            self._record(pending)
        self._encoder.shutdown(wait=True)
        self._emit(StationStopped(self.stats))

    def _record(self, pending: _Pending) -> None:
        frame = pending.frame
        try:
            image = pending.encoded.result()
            done_ns = time.monotonic_ns()
            timings = Timings(
                queue_ms=(pending.taken_ns - frame.captured_monotonic_ns) / 1e6,
                judge_ms=(pending.judged_ns - pending.taken_ns) / 1e6,
                total_ms=(done_ns - frame.captured_monotonic_ns) / 1e6,
            )
            roi = self.recipe.roi.as_region() if self.recipe.roi else None
            inspection_id = self.store.record_inspection(
                frame, self.recipe_version_id, pending.verdict, image, timings, roi
            )
        except Exception as exc:
            log.exception("recording frame %s failed", frame.sequence)
            with self._stats_lock:
                self.stats.record_failures += 1
            self._emit(RecordFailed(frame, f"could not record frame {frame.sequence}: {exc}"))
            return
        with self._stats_lock:
            self.stats.recorded += 1
        self._emit(InspectionRecorded(inspection_id, frame, pending.verdict, timings))


@dataclass(frozen=True)
class _Pending:
    """A verdict on its way to the store, with its evidence image being encoded."""

    frame: Frame
    verdict: Verdict
    taken_ns: int
    judged_ns: int
    encoded: Future[EncodedImage]
