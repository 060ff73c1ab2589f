"""An export is itself an audited event: who took which records out, in which file."""

from __future__ import annotations

from sqlalchemy import Engine

from inspector.store.audit import trail as audit
from inspector.store.audit.users import Identity, Permission, acting


def log_export(
    engine: Engine,
    actor: Identity,
    kind: str,
    file_name: str,
    sha256: str,
    records: int,
    filters: dict,
    head: audit.ChainHead,
) -> int:
    """Append the `export.made` entry after the file is complete; returns the entry's number."""
    with audit.audited(engine) as connection:
        by = acting(connection, actor, Permission.EXPORT)
        new = {
            "format": kind,
            "file": file_name,
            "sha256": sha256,
            "records": records,
            "filters": filters,
            "chain_head": {"seq": head.seq, "hash": head.hash},
        }
        return audit.append(connection, by.name, "export.made", "export", kind, new=new)
