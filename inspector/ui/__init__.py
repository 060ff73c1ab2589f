"""The operator's window (PySide6): the only package that imports Qt.

It observes the headless station through `StationBridge` and reads the record through `Store`
methods (`InspectionRecord`s selected by an `InspectionFilter`); it never calls engines or writes
records behind the station's back.
"""
