"""Station events into the Qt world: signals delivered on the window's thread.

The station calls `listener` from its own threads; every signal emitted here is queued to the
widgets' thread by Qt. Frames are not queued one by one: the newest of each view is kept and
the live view takes them at its own pace, so fast cameras can never flood the window.
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
    PartInspected,
    RecipeSwapped,
    RecordFailed,
    StationEvent,
    StationFaulted,
    StationStopped,
)


class StationBridge(QObject):
    recorded = Signal(object)  # InspectionRecorded: one view's verdict, committed
    part = Signal(object)  # PartInspected: every view of a part recorded
    source_changed = Signal(object)  # SourceEvent
    record_failed = Signal(object)  # RecordFailed
    faulted = Signal(str)  # StationFaulted: the cause
    dropped = Signal(int)  # frames dropped so far (free-run)
    stopped = Signal(object)  # StationStopped
    recipe_swapped = Signal(object)  # RecipeSwapped: a view runs another recipe (line, person)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lock = threading.Lock()
        self._latest: dict[str, Frame] = {}

    def listener(self, event: StationEvent) -> None:
        if isinstance(event, FrameCaptured):
            with self._lock:
                self._latest[event.view] = event.frame
        elif isinstance(event, InspectionRecorded):
            self.recorded.emit(event)
        elif isinstance(event, PartInspected):
            self.part.emit(event)
        elif isinstance(event, SourceEvent):
            self.source_changed.emit(event)
        elif isinstance(event, FrameDropped):
            self.dropped.emit(event.dropped_total)
        elif isinstance(event, RecordFailed):
            self.record_failed.emit(event)
        elif isinstance(event, StationFaulted):
            self.faulted.emit(event.cause)
        elif isinstance(event, StationStopped):
            self.stopped.emit(event)
        elif isinstance(event, RecipeSwapped):
            self.recipe_swapped.emit(event)

    def take_frames(self) -> dict[str, Frame]:
        """The newest frame of each view not yet taken (by view name); empty if none."""
        with self._lock:
            frames, self._latest = self._latest, {}
        return frames
