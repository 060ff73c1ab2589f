"""The record: `Store` (record_store.py) is the one way in; the modules beside it serve it.

Nothing outside this package holds a SQLAlchemy object: callers select with `InspectionFilter`
and read `InspectionRecord`s (one shape for the history, the window and, as `export_dict`, the
exports).
"""

from inspector.store.inspection_records import (
    AttemptInfo,
    Decision,
    DefectInfo,
    InspectionRecord,
    export_dict,
)
from inspector.store.outbox import OutboxMessage, OutboxWrite
from inspector.store.record_store import Store, StoreError, Timings
from inspector.store.selection import InspectionFilter

__all__ = [
    "AttemptInfo",
    "Decision",
    "DefectInfo",
    "InspectionFilter",
    "InspectionRecord",
    "OutboxMessage",
    "OutboxWrite",
    "Store",
    "StoreError",
    "Timings",
    "export_dict",
]
