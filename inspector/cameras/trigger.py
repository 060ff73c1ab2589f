"""A software trigger for live sources that have none of their own (USB, RTSP, a GenICam camera
without TriggerSoftware): the camera runs free, and each trigger takes the first frame that
arrives after it.

A frame is read continuously on a thread of its own, so a trigger never gets a frame buffered
before it. A trigger that gets no frame in time (the camera is reconnecting) is counted and
reported, and yields nothing: the station judges no frame that did not arrive.
"""

from __future__ import annotations

import threading
import time
from collections import deque

from inspector.cameras.base import EventSink, Source, SourceEvent, SourceState
from inspector.cameras.counters import SourceCounters
from inspector.domain import Frame


class SoftwareTriggered:
    live = True
    triggered = True  # every frame it gives is a part

    def __init__(self, source: Source, on_event: EventSink, timeout_s: float = 2.0) -> None:
        self.uri = source.uri
        self.camera_id = source.camera_id
        self.counters: SourceCounters = getattr(source, "counters", None) or SourceCounters()
        self._source = source
        self._on_event = on_event
        self._timeout_ns = int(timeout_s * 1e9)
        self._fired: deque[int] = deque()  # monotonic ns of triggers not yet answered
        self._latest: Frame | None = None
        self._given = 0  # sequence of the last frame given: one frame answers one trigger
        self._ended = False
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read_loop, name="trigger-reader", daemon=True)
        self._reader.start()

    def trigger(self) -> None:
        with self._changed:
            self._fired.append(time.monotonic_ns())
            self._changed.notify_all()

    def read(self) -> Frame | None:
        while True:
            missed = None
            with self._changed:
                if self._ended:
                    return None
                if not self._fired:
                    self._changed.wait(0.5)
                    continue
                fired = self._fired[0]
                frame = self._latest
                if (
                    frame is not None
                    and frame.sequence > self._given
                    and frame.captured_monotonic_ns >= fired
                ):
                    self._fired.popleft()
                    self._given = frame.sequence
                    return frame
                waited = time.monotonic_ns() - fired
                if waited < self._timeout_ns:
                    self._changed.wait((self._timeout_ns - waited) / 1e9)
                    continue
                self._fired.popleft()
                missed = waited
            self.counters.add(missed_triggers=1)
            message = (
                f"a trigger got no frame within {missed / 1e9:.1f} s: no part taken "
                f"({self.counters.missed_triggers} missed so far)"
            )
            self._on_event(SourceEvent(self.uri, SourceState.SKIPPED, message))

    def _read_loop(self) -> None:
        try:
            while (frame := self._source.read()) is not None:
                with self._changed:
                    self._latest = frame
                    self._changed.notify_all()
        finally:
            with self._changed:
                self._ended = True
                self._changed.notify_all()

    def close(self) -> None:
        with self._changed:
            self._ended = True
            self._changed.notify_all()
        self._source.close()
