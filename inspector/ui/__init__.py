"""The operator's window (PySide6): the only package that imports Qt.

It observes the headless station through `StationBridge` and reads the store through
`inspector.store.queries`; it never calls engines or writes records behind the station's back.
"""
