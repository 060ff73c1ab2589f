"""Exports an auditor accepts: CSV, JSON Lines, a PDF report, and a verifiable evidence bundle.

One module per format. Each takes records as plain dicts (the shape `inspector.store.records`
yields) and never reads the database itself: exports sit beside the store, not above it, and the
interface (CLI, window) hands one to the other. Writers stream: memory stays bounded by one
record however many are exported (the PDF, a document for people, takes a bounded number of
rows). Output files are written under a temporary name and renamed when complete.
"""
