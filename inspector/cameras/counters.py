"""What a live source counts about its link: for the window, the logs and the station's summary."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass
class SourceCounters:
    frames: int = 0  # delivered to the station
    lost_frames: int = 0  # incomplete buffers and gaps in the camera's frame numbers
    reconnects: int = 0  # times the link was lost and made again
    missed_triggers: int = 0  # triggers that got no frame in time: no part, no verdict
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, **counts: int) -> None:
        with self._lock:
            for name, count in counts.items():
                setattr(self, name, getattr(self, name) + count)

    def summary(self) -> str:
        return (
            f"{self.frames} frames, {self.lost_frames} lost, {self.reconnects} reconnects, "
            f"{self.missed_triggers} missed triggers"
        )
