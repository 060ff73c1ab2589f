"""A GenICam camera as a `Source`, whichever library reaches it (Harvesters for GenTL, Aravis).

Each library supplies a `Device`: a connected camera that starts, stops, grabs one buffer and
exposes its features. This module does the rest the same way for all: the recipe's settings
(applied again after every reconnect, as a camera that lost power forgot them), pixel format
conversion, device timestamps, lost-frame counting from frame numbers and incomplete buffers,
the software trigger, and reconnecting with backoff. A frame that did not arrive whole is
counted and never handed to the station.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from inspector.cameras.base import Backoff, EventSink, FrameNumbering, SourceEvent, SourceState
from inspector.cameras.counters import SourceCounters
from inspector.cameras.pixels import UnsupportedPixelFormat, to_frame_pixels
from inspector.cameras.settings import Applied, Features, apply_settings
from inspector.domain import Frame
from inspector.recipes import CameraSettings

GRAB_SLICE_S = 0.25  # a blocked grab returns this often, so that close() is prompt


class DeviceGone(Exception):
    """The camera stopped answering or cannot be reached; the message says how."""


@dataclass(frozen=True)
class Grab:
    data: np.ndarray | bytes  # the buffer as delivered
    pixel_format: str  # PFNC name
    width: int
    height: int
    frame_id: int | None = None
    device_timestamp_ns: int | None = None
    complete: bool = True


class Device(Protocol):
    features: Features

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def grab(self, timeout_s: float) -> Grab | None:
        """The next buffer, or None when none came in time; raises DeviceGone."""
        ...

    def alive(self) -> bool:
        """Whether the camera still answers (a register read)."""
        ...

    def close(self) -> None: ...


class GenICamSource:
    live = True

    def __init__(
        self,
        uri: str,
        connect: Callable[[], Device],
        on_event: EventSink,
        timeout_s: float = 2.0,
        backoff: Backoff | None = None,
    ) -> None:
        self.uri = uri
        self.camera_id = uri
        self.counters = SourceCounters()
        self._connect = connect
        self._on_event = on_event
        self._timeout_s = timeout_s
        self._backoff = backoff or Backoff()
        self._settings: CameraSettings | None = None
        self._camera_trigger = False  # TriggerSoftware is fired on the camera
        self._closed = threading.Event()
        self._control = threading.Lock()  # feature access, start/stop, replacing the device
        self._grabbing = threading.Lock()  # held while a grab runs: the device stays until it ends
        self._numbering = FrameNumbering(self.camera_id)
        self._last_frame_id: int | None = None
        self._started = False
        self._lost = False  # the link is known lost and not yet back
        self._device: Device | None = connect()  # DeviceGone here: the caller explains

    @property
    def triggered(self) -> bool:
        """The camera takes a frame only on a trigger (its line, or TriggerSoftware): each
        frame is a part, and silence between parts is no lost link."""
        hardware = self._settings is not None and self._settings.trigger.mode == "hardware"
        return hardware or self._camera_trigger

    def configure(self, settings: CameraSettings) -> Applied:
        with self._control:
            if self._device is None:
                raise DeviceGone("the camera is not connected")
            self._stop_locked()
            applied = apply_settings(self._device.features, settings)
            self._settings = settings
            self._camera_trigger = (
                settings.trigger.mode == "software" and not applied.emulate_software_trigger
            )
            return applied

    def trigger(self) -> None:
        """Fire the camera's TriggerSoftware; the frame it takes comes through read()."""
        with self._control:
            ready = self._camera_trigger and self._started and not self._lost
            device = self._device if ready else None
            if device is not None:
                try:
                    device.features.execute("TriggerSoftware")
                    return
                except Exception as exc:  # a camera that just went away
                    reason = f"the camera did not take it ({exc})"
            elif not self._camera_trigger:
                reason = "the camera is not in software trigger mode"
            else:
                reason = "the camera is not acquiring (starting, or reconnecting)"
        self.counters.add(missed_triggers=1)
        message = f"trigger not taken: {reason} ({self.counters.missed_triggers} missed so far)"
        self._on_event(SourceEvent(self.uri, SourceState.SKIPPED, message))

    def read(self) -> Frame | None:
        silent_s = 0.0
        while not self._closed.is_set():
            try:
                device = self._ready_device()
                if device is None:
                    return None
                with self._grabbing:
                    grab = device.grab(min(GRAB_SLICE_S, self._timeout_s))
            except DeviceGone as exc:
                self._lose(str(exc))
                silent_s = 0.0
                continue
            if grab is None:
                silent_s += min(GRAB_SLICE_S, self._timeout_s)
                if silent_s < self._timeout_s:
                    continue
                silent_s = 0.0
                # A triggered camera is silent between parts: only one that stopped answering
                # is lost. A free-running one that sends nothing has lost its stream.
                if not self.triggered:
                    self._lose(f"no frame for {self._timeout_s:.1f} s")
                elif not device.alive():
                    self._lose("the camera stopped answering")
                continue
            silent_s = 0.0
            frame = self._frame(grab)
            if frame is not None:
                return frame
        return None

    def close(self) -> None:
        self._closed.set()
        with self._control:
            self._drop_locked()

    # -- inside ----------------------------------------------------------------------------
    def _frame(self, grab: Grab) -> Frame | None:
        gap = self._gap(grab.frame_id)
        if gap or not grab.complete:
            lost = gap + (0 if grab.complete else 1)
            self.counters.add(lost_frames=lost)
            why = "an incomplete frame" if not grab.complete else f"{gap} frame(s) missing"
            message = f"{why} (frame {grab.frame_id}); {self.counters.lost_frames} lost so far"
            self._on_event(SourceEvent(self.uri, SourceState.SKIPPED, message))
            if not grab.complete:
                return None
        try:
            image, native = to_frame_pixels(grab.data, grab.pixel_format, grab.width, grab.height)
        except UnsupportedPixelFormat as exc:
            self.counters.add(lost_frames=1)
            self._on_event(SourceEvent(self.uri, SourceState.SKIPPED, str(exc)))
            return None
        self.counters.add(frames=1)
        frame = self._numbering.frame(image, native=native)
        if grab.device_timestamp_ns:
            frame = dataclasses.replace(frame, device_timestamp_ns=grab.device_timestamp_ns)
        return frame

    def _gap(self, frame_id: int | None) -> int:
        last, self._last_frame_id = self._last_frame_id, frame_id
        if frame_id is None or last is None or frame_id <= last:
            return 0  # the first frame, a counter that wrapped, or a camera that restarted
        return frame_id - last - 1

    def _ready_device(self) -> Device | None:
        """The connected, acquiring device; reconnects first if needed. None once closed."""
        with self._control:
            device = self._device
            if device is not None and not self._started:
                device.start()
                self._started = True
            if device is not None:
                return device
        return self._reconnect()

    def _reconnect(self) -> Device | None:
        attempt = 0
        while not self._closed.is_set():
            attempt += 1
            try:
                device = self._connect()
            except DeviceGone as exc:
                delay = self._backoff.delay(attempt)
                message = f"cannot reach the camera ({exc}); trying again in {delay:.1f} s"
                self._on_event(
                    SourceEvent(self.uri, self._backoff.state(attempt), message, attempt)
                )
                self._closed.wait(delay)
                continue
            with self._control:
                if self._closed.is_set():
                    device.close()
                    return None
                try:
                    self._reapply(device)
                    device.start()
                    self._device, self._started, self._lost = device, True, False
                    failure = None
                except Exception as exc:  # DeviceGone, or a camera half there: try again
                    with contextlib.suppress(Exception):
                        device.close()
                    failure = f"the camera answered but did not start: {exc}"
            if failure is not None:
                self._on_event(SourceEvent(self.uri, SourceState.RECONNECTING, failure, attempt))
                self._closed.wait(self._backoff.delay(attempt))
                continue
            self.counters.add(reconnects=1)
            message = f"reconnected after {attempt} attempt(s); {self.counters.summary()}"
            self._on_event(SourceEvent(self.uri, SourceState.CONNECTED, message))
            return device
        return None

    def _reapply(self, device: Device) -> None:
        if self._settings is None:
            return
        applied = apply_settings(device.features, self._settings)
        if applied.problems:
            raise DeviceGone("settings not taken again: " + "; ".join(applied.problems))

    def _lose(self, reason: str) -> None:
        # Known lost from here on, before the device is dropped (which may wait out the
        # protocol's timeouts): a trigger meanwhile is counted as missed, never sent into the void.
        self._lost = True
        if not self._closed.is_set():
            message = f"link lost: {reason}; reconnecting"
            self._on_event(SourceEvent(self.uri, SourceState.RECONNECTING, message))
        with self._control:
            self._drop_locked()  # may wait out the protocol's timeouts: reported first

    def _stop_locked(self) -> None:
        if self._device is not None and self._started:
            with contextlib.suppress(DeviceGone):
                self._device.stop()
        self._started = False
        # Frames sent between the stop and the camera's next start are no loss of ours.
        self._last_frame_id = None

    def _drop_locked(self) -> None:
        with self._grabbing:
            self._stop_locked()
            if self._device is not None:
                with contextlib.suppress(DeviceGone):
                    self._device.close()
                self._device = None
