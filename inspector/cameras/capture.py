"""Sources read through OpenCV's VideoCapture: `usb:N`, video files, `rtsp://`, `http(s)://`.

Live streams that drop are reopened with backoff and the loss is reported as an event; the
station never stops for a camera. Files end, or loop when asked.
"""

from __future__ import annotations

import threading

import cv2

from inspector.cameras.base import (
    Backoff,
    EventSink,
    FrameNumbering,
    Pacer,
    SourceEvent,
    SourceState,
)
from inspector.domain import Frame
from inspector.errors import InputError

OPEN_TIMEOUT_MS = 5000
READ_TIMEOUT_MS = 5000


class CaptureSource:
    def __init__(
        self,
        uri: str,
        target: int | str,
        on_event: EventSink,
        live: bool,
        loop: bool = False,
        fps: float = 0.0,
        backoff: Backoff | None = None,
        hint: str = "",
    ) -> None:
        self.uri = uri
        self.camera_id = uri
        self.live = live
        self._target = target
        self._on_event = on_event
        self._loop = loop
        self._backoff = backoff or Backoff()
        self._closed = threading.Event()
        self._lock = threading.Lock()  # one VideoCapture call at a time, close included
        self._pacer = Pacer(fps, self._closed)
        self._numbering = FrameNumbering(self.camera_id)
        self._capture = self._open()
        if self._capture is None:
            raise InputError(f"source {uri}: cannot open it{hint}")

    def _open(self) -> cv2.VideoCapture | None:
        if isinstance(self._target, int):
            capture = cv2.VideoCapture(self._target)
        else:
            params = [
                cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
                OPEN_TIMEOUT_MS,
                cv2.CAP_PROP_READ_TIMEOUT_MSEC,
                READ_TIMEOUT_MS,
            ]
            capture = cv2.VideoCapture(self._target, cv2.CAP_FFMPEG, params)
        if not capture.isOpened():
            capture.release()
            return None
        return capture

    def read(self) -> Frame | None:
        attempt = 0
        while not self._closed.is_set():
            with self._lock:
                if self._closed.is_set():
                    break
                if self._capture is None:
                    self._capture = self._open()
                ok, image = self._capture.read() if self._capture is not None else (False, None)
                if ok and image is not None:
                    if attempt:
                        message = f"reconnected after {attempt} attempt(s)"
                        self._on_event(SourceEvent(self.uri, SourceState.CONNECTED, message))
                    frame = self._numbering.frame(image)
                elif not self.live and self._loop and self._capture is not None:
                    self._capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
                    if self._capture.read()[0]:
                        self._capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
                        continue
                    frame = None  # an empty file cannot loop
                else:
                    frame = None
            if frame is not None:
                self._pacer.wait()
                return frame
            if not self.live:
                self._on_event(SourceEvent(self.uri, SourceState.ENDED, "end of file"))
                return None
            attempt += 1
            self._drop_capture()
            delay = self._backoff.delay(attempt)
            state = self._backoff.state(attempt)
            message = f"no frame; reconnecting in {delay:.1f} s"
            self._on_event(SourceEvent(self.uri, state, message, attempt))
            self._closed.wait(delay)
        return None

    def _drop_capture(self) -> None:
        with self._lock:
            if self._capture is not None:
                self._capture.release()
                self._capture = None

    def close(self) -> None:
        self._closed.set()
        self._drop_capture()
