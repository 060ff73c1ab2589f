"""The one protocol every camera kind implements, and what sources report about themselves."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, runtime_checkable

import numpy as np

from inspector.domain import Frame, utc_now


class SourceState(StrEnum):
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    LOST = "lost"  # still retrying, but for long enough that a person should look
    ENDED = "ended"  # a file or folder has no more frames
    SKIPPED = "skipped"  # one unreadable item was passed over; the source goes on


@dataclass(frozen=True)
class SourceEvent:
    uri: str
    state: SourceState
    message: str
    attempt: int = 0


EventSink = Callable[[SourceEvent], None]


def ignore_event(event: SourceEvent) -> None:
    """The default sink: sources always report; a caller may not be listening."""


@runtime_checkable
class Source(Protocol):
    uri: str
    camera_id: str
    # True for cameras and streams (frames arrive on their own clock and are lost if not read);
    # False for files and folders (each frame is a part, read at the reader's pace).
    live: bool

    def read(self) -> Frame | None:
        """The next frame, blocking; None once the source has ended or was closed."""
        ...

    def close(self) -> None:
        """Stop and release the device; safe to call from another thread and more than once."""
        ...


class FrameNumbering:
    """Turns images into Frames with a per-source sequence number and capture timestamps."""

    def __init__(self, camera_id: str) -> None:
        self.camera_id = camera_id
        self._sequence = 0

    def frame(
        self,
        image: np.ndarray,
        part_id: str | None = None,
        native: np.ndarray | None = None,
        unreadable: str | None = None,
    ) -> Frame:
        self._sequence += 1
        return Frame(
            image=image,
            camera_id=self.camera_id,
            sequence=self._sequence,
            captured_at=utc_now(),
            captured_monotonic_ns=time.monotonic_ns(),
            part_id=part_id,
            native=native,
            unreadable=unreadable,
        )


class Backoff:
    """Exponential delays between reconnection attempts, capped; `wait` is cut short by close."""

    def __init__(self, first_s: float = 0.5, cap_s: float = 10.0, lost_after: int = 5) -> None:
        self.first_s = first_s
        self.cap_s = cap_s
        self.lost_after = lost_after

    def delay(self, attempt: int) -> float:
        return min(self.cap_s, self.first_s * (2 ** max(0, attempt - 1)))

    def state(self, attempt: int) -> SourceState:
        return SourceState.LOST if attempt > self.lost_after else SourceState.RECONNECTING


class Pacer:
    """Holds a file source to a frame rate, as a camera would deliver it (0: as fast as read)."""

    def __init__(self, fps: float, closed: threading.Event) -> None:
        self._interval = 1.0 / fps if fps > 0 else 0.0
        self._closed = closed
        self._next = time.monotonic()

    def wait(self) -> None:
        if not self._interval:
            return
        now = time.monotonic()
        if self._next > now:
            self._closed.wait(self._next - now)
        self._next = max(self._next + self._interval, now)
