"""Making an export: records as of one chain head, written by a format's writer, then audited.

The CLI and the window both call `export_records`; the store reads, the writer writes (it never
reads the database itself), and the export is an audit entry with the file's SHA-256. A progress
callback that raises (a person pressed Cancel) leaves no file behind and no audit entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from inspector.domain import utc_now
from inspector.errors import InputError
from inspector.export.output import Progress, sha256_file
from inspector.store import InspectionFilter, Store, export_dict
from inspector.store.audit.users import Identity, Permission

FORMATS = ("csv", "jsonl", "pdf", "bundle")


@dataclass(frozen=True)
class ExportResult:
    path: Path
    records: int
    sha256: str
    chain_head: str
    audit_seq: int


def export_records(
    store: Store,
    actor: Identity,
    fmt: str,
    out: Path,
    where: InspectionFilter,
    progress: Progress | None = None,
    max_rows: int = 500,
) -> ExportResult:
    if fmt not in FORMATS:
        raise InputError(f"export format {fmt!r}: use one of {', '.join(FORMATS)}")
    actor.require(Permission.EXPORT)
    out = Path(out)
    head, where = store.as_of(where)  # records as of this chain head
    total = store.count(where)
    stream = (export_dict(record) for record in store.records(where))
    about = {
        "created_at": utc_now().isoformat().replace("+00:00", "Z"),
        "created_by": f"{actor.full_name} ({actor.name})",
        "filters": where.describe(),
        "chain_head": {"seq": head.seq, "hash": head.hash},
    }
    try:
        count = _write(fmt, store, where, about, stream, out, progress, total, max_rows)
        digest = sha256_file(out)
    except OSError as exc:
        raise InputError(f"export to {out}: cannot write it ({exc.strerror or exc})") from None
    seq = store.log_export(actor, fmt, out.name, digest, count, where.describe(), head)
    return ExportResult(out, count, digest, str(head), seq)


def _write(fmt, store, where, about, stream, out, progress, total, max_rows) -> int:
    """Write one export file; returns how many records it holds."""
    if fmt == "csv":
        from inspector.export.csv_file import write_csv

        return write_csv(stream, out, progress, total)
    if fmt == "jsonl":
        from inspector.export.jsonl import write_jsonl

        return write_jsonl(stream, out, progress, total)
    if fmt == "bundle":
        from inspector.export.bundle import write_bundle

        return write_bundle(stream, out, store.evidence.root, about, progress, total).records
    from inspector.export.pdf_report import write_pdf

    summary = store.summary(where)
    approvals = []
    for r in summary["recipes"]:
        for v in store.recipe_versions(r["name"]):
            if v.version == r["version"]:
                signed = [s.as_dict() for s in v.signatures]
                approvals.append({"name": v.name, "version": v.version, "signatures": signed})
    return write_pdf(
        stream, out, store.evidence.root, summary, about, approvals, max_rows, progress
    )
