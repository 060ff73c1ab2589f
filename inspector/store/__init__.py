"""The record: `Store` (record_store.py) is the one way in; the modules beside it serve it.

Nothing outside this package holds a SQLAlchemy object: callers get plain dataclasses and dicts.
"""

from inspector.store.record_store import InspectionRecord, Store, StoreError, Timings

__all__ = ["InspectionRecord", "Store", "StoreError", "Timings"]
