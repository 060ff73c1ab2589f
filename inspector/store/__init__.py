"""The record: `Store` (record_store.py) is the one way in; the modules beside it serve it.

Nothing outside this package holds a SQLAlchemy object: callers select with `InspectionFilter`
and read `InspectionRecord`s (one shape for the history, the window and, as `export_dict`, the
exports).
"""

from inspector.store.audit.trail_query import AuditFilter
from inspector.store.inspection_records import (
    AttemptInfo,
    Decision,
    DefectInfo,
    InspectionRecord,
    export_dict,
)
from inspector.store.journal import JournalEntry
from inspector.store.outbox import OutboxMessage, OutboxWrite
from inspector.store.pending import PendingRecord, Timings
from inspector.store.record_store import ReplayReport, Store, StoreError, describe_failure
from inspector.store.selection import InspectionFilter
from inspector.store.text import storable

__all__ = [
    "AttemptInfo",
    "AuditFilter",
    "Decision",
    "DefectInfo",
    "InspectionFilter",
    "InspectionRecord",
    "JournalEntry",
    "OutboxMessage",
    "OutboxWrite",
    "PendingRecord",
    "ReplayReport",
    "Store",
    "StoreError",
    "Timings",
    "describe_failure",
    "export_dict",
    "storable",
]
