"""The audit trail's entries as CSV (the window's audit view exports the entries it filters).

The file holds the entries as of one chain head, newest first, with every field the hash covers
(so a reader can recompute each entry's hash), times in UTC ISO 8601 with Z. Cells are written as
the records' CSV writes them (every cell quoted, formula starts neutralised: csv_file.py). The
export is itself audited (`export.made`, format `audit-csv`) once the file is complete.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from inspector.export.csv_file import neutralised
from inspector.export.output import Progress, atomic_file, counted, sha256_file
from inspector.store import AuditFilter, Store
from inspector.store.audit.hash_chain import utc_text
from inspector.store.audit.users import Identity

FORMAT = "audit-csv"
HEADER = (
    "seq",
    "at_utc",
    "user",
    "action",
    "entity_type",
    "entity_id",
    "reason",
    "old",
    "new",
    "signature_id",
    "hash",
)


@dataclass(frozen=True)
class AuditExport:
    path: Path
    entries: int
    sha256: str
    audit_seq: int  # the export's own audit entry


def _json(value: object) -> str:
    return "" if value is None else json.dumps(value, sort_keys=True, ensure_ascii=False)


def write_audit_csv(entries: Iterable, path: Path, progress: Progress | None = None, total=None):
    """Write the entries; returns how many."""
    count = 0
    with atomic_file(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, quoting=csv.QUOTE_ALL)
        writer.writerow(HEADER)
        for e in counted(entries, progress, total):
            row = (
                str(e.seq),
                utc_text(e.at),
                e.user_name,
                e.action,
                e.entity_type,
                e.entity_id,
                e.reason,
                _json(e.old),
                _json(e.new),
                "" if e.signature_id is None else str(e.signature_id),
                e.hash,
            )
            writer.writerow([neutralised(cell) for cell in row])
            count += 1
    return count


def export_audit(
    store: Store,
    actor: Identity,
    path: Path,
    where: AuditFilter,
    progress: Callable[[int, int | None], None] | None = None,
) -> AuditExport:
    """The entries `where` selects as of now, written to `path`, then audited under `actor`."""
    head = store.audit_head()
    bounded = replace(where, through_seq=head.seq)
    total = store.audit_count(bounded)
    written = write_audit_csv(store.iter_audit_entries(bounded), Path(path), progress, total)
    digest = sha256_file(path)
    seq = store.log_export(actor, FORMAT, Path(path).name, digest, written, where.as_dict(), head)
    return AuditExport(Path(path), written, digest, seq)
