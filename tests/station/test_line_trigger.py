"""`--trigger plc` on a live camera: each PLC trigger takes the first frame after it, stamped with
the PLC's part id; a trigger that gets no frame is handed back as missed, and the next frame
answers the next trigger, never the missed one. The camera is a stream of real frames on its
own clock; the trigger is the real SoftwareTriggered under the line's source."""

from __future__ import annotations

import threading
import time

import numpy as np

from inspector.cameras import SourceState
from inspector.cameras.base import FrameNumbering
from inspector.station.line import LineTriggered


class StreamingCamera:
    """A camera streaming a frame every 5 ms; `paused`, it sends none (as one reconnecting)."""

    live = True

    def __init__(self) -> None:
        self.uri = self.camera_id = "stream:test"
        self.paused = threading.Event()
        self._closed = threading.Event()
        self._numbering = FrameNumbering(self.camera_id)

    def read(self):
        while not self._closed.is_set():
            time.sleep(0.005)
            if not self.paused.is_set():
                return self._numbering.frame(np.full((8, 8), 128, np.uint8))
        return None

    def close(self) -> None:
        self._closed.set()


def test_each_trigger_takes_the_next_frame_and_a_missed_one_is_handed_back():
    camera = StreamingCamera()
    events, given, missed = [], [], []
    source = LineTriggered(camera, events.append)
    source.on_frame = lambda ticket, frame: given.append((ticket, frame))
    source.on_missed = missed.append
    frames = []
    reader = threading.Thread(
        target=lambda: frames.extend(iter(source.read, None)), name="capture", daemon=True
    )
    reader.start()
    try:
        fired = time.monotonic_ns()
        source.trigger("SN-1", "ticket-1")
        deadline = time.monotonic() + 5
        while not given and time.monotonic() < deadline:
            time.sleep(0.01)
        [(ticket, frame)] = given
        assert (ticket, frame.part_id) == ("ticket-1", "SN-1")
        assert frame.captured_monotonic_ns >= fired  # taken after the trigger, not before

        camera.paused.set()  # the camera stops sending: the next trigger gets no frame
        source.trigger("SN-2", "ticket-2")
        deadline = time.monotonic() + 10
        while not missed and time.monotonic() < deadline:
            time.sleep(0.05)
        assert missed == ["ticket-2"]
        assert any(e.state is SourceState.SKIPPED for e in events)

        camera.paused.clear()
        source.trigger("SN-3", "ticket-3")
        deadline = time.monotonic() + 5
        while len(given) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert [(t, f.part_id) for t, f in given] == [("ticket-1", "SN-1"), ("ticket-3", "SN-3")]
    finally:
        source.close()
        reader.join(5)
    assert [f.part_id for f in frames] == ["SN-1", "SN-3"]
