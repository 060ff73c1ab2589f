"""The station: camera → judge → record, headless; the CLI and the window observe it."""

from inspector.station.pipeline import (
    FrameCaptured,
    FrameDropped,
    InspectionRecorded,
    Listener,
    RecordFailed,
    Station,
    StationEvent,
    StationStats,
    StationStopped,
    TriggerPolicy,
)

__all__ = [
    "FrameCaptured",
    "FrameDropped",
    "InspectionRecorded",
    "Listener",
    "RecordFailed",
    "Station",
    "StationEvent",
    "StationStats",
    "StationStopped",
    "TriggerPolicy",
]
