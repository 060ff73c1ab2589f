"""Sources read through OpenCV's VideoCapture: `usb:N`, video files, `rtsp://`, `http(s)://`.

Live streams that drop are reopened with backoff and the loss is reported as an event; the
station never stops for a camera. Files end, or loop when asked.
"""

from __future__ import annotations

import os
import threading
from urllib.parse import parse_qsl, urlencode

import cv2

from inspector.addresses import shown_address
from inspector.cameras.base import (
    Backoff,
    EventSink,
    FrameNumbering,
    Pacer,
    SourceEvent,
    SourceState,
)
from inspector.cameras.counters import SourceCounters
from inspector.domain import Frame
from inspector.errors import InputError

OPEN_TIMEOUT_MS = 5000
READ_TIMEOUT_MS = 5000
# OpenCV reads FFmpeg's options from the environment when a capture opens: one open at a time.
_FFMPEG_OPTIONS_LOCK = threading.Lock()
RTSP_OPTIONS = ("transport", "open_timeout")


def rtsp_settings(uri: str, shown: str | None = None) -> tuple[str, str, int]:
    """`rtsp://...[?transport=tcp|udp&open_timeout=S]`: the URL for the camera (our options
    taken out, the camera's own kept), FFmpeg's options, and the open timeout in ms. Messages
    name the source as `shown` (its secrets masked; by default masked here).

    TCP by default: RTP over UDP loses packets on a busy plant network and shows them as smeared
    frames that a model would judge. No buffering: a frame is the newest one, not one queued
    while the stream opened (seconds old, and possibly another part).
    """
    shown = shown_address(uri) if shown is None else shown
    base, _, query = uri.partition("?")
    mine: dict[str, str] = {}
    theirs: list[tuple[str, str]] = []
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key in RTSP_OPTIONS:
            mine[key] = value
        else:
            theirs.append((key, value))
    transport = mine.get("transport", "tcp").lower()
    if transport not in ("tcp", "udp"):
        raise InputError(f"source {shown}: transport={transport} must be tcp or udp")
    try:
        timeout_ms = int(float(mine.get("open_timeout", OPEN_TIMEOUT_MS / 1000)) * 1000)
    except ValueError:
        timeout_ms = 0
    if timeout_ms <= 0:
        raise InputError(f"source {shown}: open_timeout must be a number of seconds > 0")
    url = base + ("?" + urlencode(theirs) if theirs else "")
    options = f"rtsp_transport;{transport}|fflags;nobuffer|flags;low_delay"
    return url, options, timeout_ms


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
        ffmpeg_options: str | None = None,
        open_timeout_ms: int = OPEN_TIMEOUT_MS,
    ) -> None:
        self.uri = shown_address(uri)  # masked already by open_source; a direct caller too
        self.camera_id = self.uri
        self.live = live
        self.counters = SourceCounters()
        self._target = target
        self._ffmpeg_options = ffmpeg_options
        self._open_timeout_ms = open_timeout_ms
        self._on_event = on_event
        self._loop = loop
        self._backoff = backoff or Backoff()
        self._closed = threading.Event()
        self._lock = threading.Lock()  # one VideoCapture call at a time, close included
        self._pacer = Pacer(fps, self._closed)
        self._numbering = FrameNumbering(self.camera_id)
        self._capture = self._open()
        if self._capture is None:
            raise InputError(f"source {self.uri}: cannot open it{hint}")

    def _open(self) -> cv2.VideoCapture | None:
        if isinstance(self._target, int):
            capture = cv2.VideoCapture(self._target)
        else:
            params = [
                cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
                self._open_timeout_ms,
                cv2.CAP_PROP_READ_TIMEOUT_MSEC,
                READ_TIMEOUT_MS,
            ]
            if self._ffmpeg_options is None:
                capture = cv2.VideoCapture(self._target, cv2.CAP_FFMPEG, params)
            else:
                # One decoding thread: FFmpeg's frame threads each hold a frame back, and the
                # newest frame matters more here than decoding speed (1080p H.264 decodes at
                # over 100 frames/s on one core).
                params += [cv2.CAP_PROP_N_THREADS, 1]
                with _FFMPEG_OPTIONS_LOCK:
                    before = os.environ.get("OPENCV_FFMPEG_CAPTURE_OPTIONS")
                    os.environ["OPENCV_FFMPEG_CAPTURE_OPTIONS"] = self._ffmpeg_options
                    try:
                        capture = cv2.VideoCapture(self._target, cv2.CAP_FFMPEG, params)
                    finally:
                        if before is None:
                            os.environ.pop("OPENCV_FFMPEG_CAPTURE_OPTIONS", None)
                        else:
                            os.environ["OPENCV_FFMPEG_CAPTURE_OPTIONS"] = before
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
                        self.counters.add(reconnects=1)
                        message = f"reconnected after {attempt} attempt(s)"
                        self._on_event(SourceEvent(self.uri, SourceState.CONNECTED, message))
                    self.counters.add(frames=1)
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
