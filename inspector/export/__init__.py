"""Exports an auditor accepts: CSV, JSON Lines, a PDF report, and a verifiable evidence bundle.

One module per format. Each takes records as plain dicts (`inspector.store.export_dict` of each
`InspectionRecord`) and never reads the database itself; `service.py` reads them through the
`Store` and hands them to the writer, for the CLI and the window alike. Writers stream: memory
stays bounded by one record however many are exported (the PDF, a document for people, takes a
bounded number of rows). Output files are written under a temporary name and renamed when complete.
"""
