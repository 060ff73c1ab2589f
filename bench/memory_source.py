"""Prepared frames handed out as fast as asked: it measures the station, not a camera."""

from __future__ import annotations

import threading

import numpy as np

from inspector.cameras.base import FrameNumbering
from inspector.domain import Frame


class MemorySource:
    live = False

    def __init__(
        self, images: list[np.ndarray], count: int, gate: threading.Semaphore | None = None
    ) -> None:
        self.uri = "memory:bench"
        self.camera_id = self.uri
        self._images = images
        self._count = count
        self._numbering = FrameNumbering(self.camera_id)
        self._closed = threading.Event()
        self._gate = gate  # when given, one frame per release: latency without queueing

    def read(self) -> Frame | None:
        if self._closed.is_set() or self._count <= 0:
            return None
        if self._gate is not None:
            self._gate.acquire()
        self._count -= 1
        image = self._images[self._count % len(self._images)]
        return self._numbering.frame(image, part_id=str(self._count))

    def close(self) -> None:
        self._closed.set()
