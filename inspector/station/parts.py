"""Which frames make one part: a lane of waiting frames per view, and the gathering of a part.

Each view's capture thread offers its frames to its lane; the judge thread takes one part at a
time, one frame (or none) per view:

- files and folders (no view is live): the n-th frame of each view, waiting for a slow reader;
- cameras: the frames taken within `sync_window_s` of the part's first frame (one trigger fires
  every camera); a view with no frame in the window gave none for this part, and a later frame
  belongs to the next part.

With one view a part is simply the next frame. How a lane fills is the trigger policy: in
free-run it holds only the newest frame (an older one is handed back to be counted as dropped);
triggered, it holds up to `queue_size` frames and the camera waits for room (backpressure).
Once the station stops, a camera waiting for room queues its frame anyway and ends; parts are
still gathered the same way (a view's last frame may arrive just after the stop, and it belongs
to its part, not to a part of its own), and `next_part` returns None when every lane has ended
and is empty.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from inspector.domain import Frame
from inspector.station.events import TriggerPolicy
from inspector.station.inspection import View


@dataclass
class _Lane:
    """One view's frames waiting for a part."""

    view: View
    frames: deque[Frame] = field(default_factory=deque)
    ended: bool = False


class Lanes:
    def __init__(
        self,
        views: Sequence[View],
        policy: TriggerPolicy,
        queue_size: int,
        sync_window_s: float,
        stopping: threading.Event,
    ) -> None:
        self._lanes = [_Lane(v) for v in views]
        self._free_run = policy is TriggerPolicy.FREE_RUN
        self._queue_size = queue_size
        self._window_ns = int(sync_window_s * 1e9)
        self._stopping = stopping
        self._files = all(not v.source.live for v in views)
        self._changed = threading.Condition()

    def offer(self, index: int, frame: Frame, waiting: Callable[[], None]) -> Frame | None:
        """Queue a view's frame; returns the frame it replaced (free-run). Triggered, a full
        lane makes the camera wait for room, and `waiting` is called as the wait begins."""
        lane = self._lanes[index]
        dropped = None
        with self._changed:
            if self._free_run:
                if lane.frames:
                    dropped = lane.frames.popleft()
            elif len(lane.frames) >= self._queue_size:
                waiting()
                # Backpressure: the camera waits for the judge. Once stopping, the frame is
                # queued anyway: the part was seen, and it is recorded (UNSURE) at the drain.
                while len(lane.frames) >= self._queue_size and not self._stopping.is_set():
                    self._changed.wait(0.1)
            lane.frames.append(frame)
            self._changed.notify_all()
        return dropped

    def end(self, index: int) -> None:
        """The view's source has ended (or the station stops): no more frames from it."""
        with self._changed:
            self._lanes[index].ended = True
            self._changed.notify_all()

    def wake(self) -> None:
        """Stopping: waiters look again at once."""
        with self._changed:
            self._changed.notify_all()

    def next_part(self) -> list[Frame | None] | None:
        """One frame (or None) per view for the next part; None when no part is left."""
        lanes = self._lanes
        with self._changed:
            while not any(lane.frames for lane in lanes):
                if all(lane.ended for lane in lanes):
                    return None
                self._changed.wait(0.1)
            if len(lanes) == 1:
                taken: list[Frame | None] = [lanes[0].frames.popleft()]
            elif self._files:
                while not self._heads_ready():
                    self._changed.wait(0.1)
                taken = [lane.frames.popleft() if lane.frames else None for lane in lanes]
            else:
                taken = self._within_window()
            self._changed.notify_all()  # room in the lanes: a waiting camera goes on
            return taken

    def _heads_ready(self) -> bool:
        return all(lane.frames or lane.ended for lane in self._lanes)

    def _within_window(self) -> list[Frame | None]:
        first = min(lane.frames[0].captured_monotonic_ns for lane in self._lanes if lane.frames)
        deadline = time.monotonic() + self._window_ns / 1e9
        while not self._heads_ready():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self._changed.wait(remaining)
        taken: list[Frame | None] = []
        for lane in self._lanes:
            head = lane.frames[0] if lane.frames else None
            if head is not None and head.captured_monotonic_ns - first <= self._window_ns:
                taken.append(lane.frames.popleft())
            else:
                taken.append(None)  # a frame later than the window belongs to the next part
        return taken
