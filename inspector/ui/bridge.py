"""Station events into the Qt world: signals delivered on the window's thread.

The station calls `listener` from its own threads; every signal emitted here is queued to the
widgets' thread by Qt. Frames are not queued one by one: the newest is kept and the live view
takes it at its own pace, so a fast camera can never flood the window.
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Signal

from inspector.cameras import SourceEvent
from inspector.domain import Frame
from inspector.station import (
    FrameCaptured,
    FrameDropped,
    InspectionRecorded,
    RecordFailed,
    StationEvent,
    StationStopped,
)


class StationBridge(QObject):
    recorded = Signal(object)  # InspectionRecorded
    source_changed = Signal(object)  # SourceEvent
    record_failed = Signal(object)  # RecordFailed
    dropped = Signal(int)  # frames dropped so far (free-run)
    stopped = Signal(object)  # StationStopped

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lock = threading.Lock()
        self._latest: Frame | None = None

    def listener(self, event: StationEvent) -> None:
        if isinstance(event, FrameCaptured):
            with self._lock:
                self._latest = event.frame
        elif isinstance(event, InspectionRecorded):
            self.recorded.emit(event)
        elif isinstance(event, SourceEvent):
            self.source_changed.emit(event)
        elif isinstance(event, FrameDropped):
            self.dropped.emit(event.dropped_total)
        elif isinstance(event, RecordFailed):
            self.record_failed.emit(event)
        elif isinstance(event, StationStopped):
            self.stopped.emit(event)

    def take_frame(self) -> Frame | None:
        """The newest frame not yet taken, or None."""
        with self._lock:
            frame, self._latest = self._latest, None
        return frame
