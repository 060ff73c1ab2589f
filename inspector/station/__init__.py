"""The station: cameras → judge → record, headless, for one view or several; the CLI and the
window observe it through its events.

- events.py: what listeners receive, the one stats record, the trigger policy;
- inspection.py: a view, and the inspect step (judge, evidence, timings, record) written once;
- parts.py: which frames of the views make one part;
- pipeline.py: the `Station`, its threads and queues;
- runner.py: preparing views from recipe files and source URIs, and starting a station;
- line.py: the PLC handshake wired to the station (`--trigger plc`, the line's deadline).
"""

from inspector.station.events import (
    FrameCaptured,
    FrameDropped,
    InspectionRecorded,
    Listener,
    PartInspected,
    RecipeSwapped,
    RecordFailed,
    StationEvent,
    StationFaulted,
    StationStats,
    StationStopped,
    TriggerPolicy,
    ViewResult,
    combine,
)
from inspector.station.inspection import View
from inspector.station.pipeline import Station

__all__ = [
    "FrameCaptured",
    "FrameDropped",
    "InspectionRecorded",
    "Listener",
    "PartInspected",
    "RecipeSwapped",
    "RecordFailed",
    "Station",
    "StationEvent",
    "StationFaulted",
    "StationStats",
    "StationStopped",
    "TriggerPolicy",
    "View",
    "ViewResult",
    "combine",
]
