"""The recipe's camera settings, applied to a camera through its GenICam features.

GenICam names the same control differently across vendors and standard versions (ExposureTime
or ExposureTimeAbs...); each setting tries the standard name, then the older one. A setting the
camera does not offer, or refuses, is reported by name with the reason, and the start stops:
inspecting with an exposure nobody asked for would judge other images than the recipe's.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Protocol

from inspector.cameras.base import EventSink, Source, ignore_event
from inspector.cameras.pixels import COLOUR_FORMATS, CONVERTIBLE
from inspector.errors import InputError
from inspector.recipes import CameraSettings

log = logging.getLogger(__name__)

EXPOSURE = ("ExposureTime", "ExposureTimeAbs")  # microseconds in both
GAIN = ("Gain", "GainAbs")  # dB; GainRaw is in device units and is not taken for dB
FRAME_RATE = ("AcquisitionFrameRate", "AcquisitionFrameRateAbs")
FRAME_RATE_ENABLE = ("AcquisitionFrameRateEnable", "AcquisitionFrameRateEnabled")
EDGES = {"rising": "RisingEdge", "falling": "FallingEdge", "any": "AnyEdge"}


class FeatureError(Exception):
    """The camera refused a value; the message says what it allows, where it says."""


class Features(Protocol):
    """A camera's GenICam node map, as Harvesters and Aravis both reach it."""

    def available(self, name: str) -> bool:
        """Implemented by this camera and available now."""
        ...

    def get(self, name: str) -> object: ...

    def set(self, name: str, value: object) -> None:
        """Raises FeatureError when the camera refuses it."""
        ...

    def choices(self, name: str) -> tuple[str, ...]:
        """The entries an enumeration offers now."""
        ...

    def execute(self, name: str) -> None: ...


@dataclass
class Applied:
    values: dict[str, object] = field(default_factory=dict)  # feature: value read back
    problems: list[str] = field(default_factory=list)  # "setting (why)"
    # The camera takes no TriggerSoftware: it runs free and a trigger takes its next frame.
    emulate_software_trigger: bool = False


def apply_settings(features: Features, settings: CameraSettings) -> Applied:
    """Write every setting the recipe gives; acquisition must be stopped."""
    applied = Applied()
    _pixel_format(features, settings, applied)
    if settings.roi is not None:
        _roi(features, settings, applied)
    if settings.exposure_us is not None:
        _switch_off(features, "ExposureAuto", applied)
        _number(features, "exposure_us", EXPOSURE, settings.exposure_us, applied)
    if settings.gain_db is not None:
        _switch_off(features, "GainAuto", applied)
        _number(features, "gain_db", GAIN, settings.gain_db, applied)
    if settings.frame_rate is not None:
        for name in FRAME_RATE_ENABLE:
            if features.available(name):
                _write(features, "frame_rate", name, True, applied)
                break
        _number(features, "frame_rate", FRAME_RATE, settings.frame_rate, applied)
    _trigger(features, settings, applied)
    if applied.values:
        log.info("camera settings: %s", ", ".join(f"{k}={v}" for k, v in applied.values.items()))
    return applied


def configure(
    source: Source, settings: CameraSettings | None, on_event: EventSink = ignore_event
) -> Source:
    """Apply the recipe's camera settings to a live source; the source to read from after."""
    if settings is None or not source.live:
        return source
    configure_device = getattr(source, "configure", None)
    if configure_device is not None:
        applied = configure_device(settings)
    else:
        applied = _without_features(settings)
    if applied.problems:
        source.close()
        raise InputError(
            f"camera {source.uri}: cannot apply the recipe's camera settings: "
            + "; ".join(applied.problems)
            + " (remove them from the recipe's `camera:` section, or use a camera that has them)"
        )
    if applied.emulate_software_trigger:
        from inspector.cameras.trigger import SoftwareTriggered

        return SoftwareTriggered(source, on_event)
    return source


def _without_features(settings: CameraSettings) -> Applied:
    """A source read through OpenCV (USB, RTSP, HTTP): no GenICam features to set."""
    applied = Applied()
    fields = settings.model_dump(exclude_defaults=True)
    for name in ("exposure_us", "gain_db", "pixel_format", "roi", "frame_rate"):
        if fields.get(name) is not None:
            applied.problems.append(f"{name} (this source has no camera controls)")
    if settings.trigger.mode == "hardware":
        applied.problems.append("trigger.mode hardware (this source has no trigger input)")
    applied.emulate_software_trigger = settings.trigger.mode == "software"
    return applied


def _pixel_format(features: Features, settings: CameraSettings, applied: Applied) -> None:
    if not features.available("PixelFormat"):
        if settings.pixel_format is not None:
            applied.problems.append("pixel_format (the camera has no PixelFormat)")
        return
    offered = features.choices("PixelFormat")
    if settings.pixel_format is None:
        current = str(features.get("PixelFormat"))
        if current in CONVERTIBLE:
            return
        # The camera's default cannot be judged: take the nearest one that can, if offered.
        usable = [f for f in offered if f in CONVERTIBLE]
        if not usable:
            applied.problems.append(
                f"pixel format {current} (the camera offers {', '.join(offered)}; none of them "
                "can be converted for the judges)"
            )
            return
        wanted = usable[0]
    elif settings.pixel_format == "mono8":
        wanted = "Mono8" if "Mono8" in offered else ""
    else:
        wanted = next((f for f in COLOUR_FORMATS if f in offered), "")
    if not wanted:
        applied.problems.append(
            f"pixel_format {settings.pixel_format} (the camera offers {', '.join(offered)})"
        )
        return
    _write(features, "pixel_format", "PixelFormat", wanted, applied)


def _roi(features: Features, settings: CameraSettings, applied: Applied) -> None:
    roi = settings.roi
    assert roi is not None
    offsets = (("OffsetX", "roi.x", roi.x), ("OffsetY", "roi.y", roi.y))
    for name, label, value in offsets:
        if features.available(name):
            _write(features, label, name, 0, applied)  # so that width and height may grow
        elif value:
            applied.problems.append(f"{label} (the camera has no {name})")
    for name, label, value in (
        ("Width", "roi.width", roi.width),
        ("Height", "roi.height", roi.height),
    ):
        if features.available(name):
            _write(features, label, name, value, applied)
        else:
            applied.problems.append(f"{label} (the camera has no {name})")
    for name, label, value in offsets:
        if value and features.available(name):
            _write(features, label, name, value, applied)


def _number(
    features: Features, label: str, names: tuple[str, ...], value: float, applied: Applied
) -> None:
    for name in names:
        if features.available(name):
            _write(features, label, name, value, applied)
            return
    applied.problems.append(f"{label} (the camera has no {' or '.join(names)})")


def _switch_off(features: Features, name: str, applied: Applied) -> None:
    """Automatic exposure or gain would undo the recipe's value."""
    if features.available(name) and "Off" in features.choices(name):
        _write(features, name, name, "Off", applied)


def _trigger(features: Features, settings: CameraSettings, applied: Applied) -> None:
    trigger = settings.trigger
    has_mode = features.available("TriggerMode")
    if (
        has_mode
        and features.available("TriggerSelector")
        and "FrameStart" in features.choices("TriggerSelector")
    ):
        _write(features, "trigger", "TriggerSelector", "FrameStart", applied)
    if trigger.mode == "free-run":
        if has_mode:
            _write(features, "trigger.mode", "TriggerMode", "Off", applied)
        return
    if trigger.mode == "software":
        sources = features.choices("TriggerSource") if features.available("TriggerSource") else ()
        if has_mode and "Software" in sources and features.available("TriggerSoftware"):
            _write(features, "trigger.mode", "TriggerSource", "Software", applied)
            _write(features, "trigger.mode", "TriggerMode", "On", applied)
        else:
            if has_mode:
                _write(features, "trigger.mode", "TriggerMode", "Off", applied)
            applied.emulate_software_trigger = True
        return
    if not has_mode or not features.available("TriggerSource"):
        applied.problems.append("trigger.mode hardware (the camera has no TriggerMode)")
        return
    lines = features.choices("TriggerSource")
    if trigger.line not in lines:
        applied.problems.append(
            f"trigger.line {trigger.line} (the camera offers {', '.join(lines)})"
        )
        return
    _write(features, "trigger.line", "TriggerSource", trigger.line, applied)
    activation = EDGES[trigger.edge]
    if features.available("TriggerActivation"):
        edges = features.choices("TriggerActivation")
        if activation not in edges:
            applied.problems.append(
                f"trigger.edge {trigger.edge} (the camera offers {', '.join(edges)})"
            )
            return
        _write(features, "trigger.edge", "TriggerActivation", activation, applied)
    elif trigger.edge != "rising":
        applied.problems.append(
            f"trigger.edge {trigger.edge} (the camera has no TriggerActivation)"
        )
        return
    _write(features, "trigger.mode", "TriggerMode", "On", applied)


def _write(features: Features, label: str, name: str, value: object, applied: Applied) -> None:
    try:
        features.set(name, value)
        applied.values[name] = features.get(name)
    except FeatureError as exc:
        applied.problems.append(f"{label} ({name} = {value}: {exc})")
