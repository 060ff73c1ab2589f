"""Making an export: records as of one chain head, written by a format's writer, then audited.

The CLI and the window both call `export_records`; the store reads, the writer writes (it never
reads the database itself), and the export is an audit entry with the file's SHA-256. A progress
callback that raises (a person pressed Cancel) leaves no file behind and no audit entry. A bundle
is signed with the site's key (`Store.site_signer`); a site without one writes it unsigned and
says so (`ExportResult.unsigned`).

`verify_bundle_against` checks a bundle against a database: its chain head is an entry of the
chain, its signing key one the chain recorded, and every record's digest (and each override's)
the one the chain recorded for it, with no override of it left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from inspector.domain import utc_now
from inspector.errors import InputError
from inspector.export.output import Progress, sha256_file
from inspector.store import InspectionFilter, Store, export_dict
from inspector.store.audit.users import Identity, Permission

if TYPE_CHECKING:
    from inspector.export.bundle import BundleCheck

FORMATS = ("csv", "jsonl", "pdf", "bundle")


@dataclass(frozen=True)
class ExportResult:
    path: Path
    records: int
    sha256: str
    chain_head: str
    audit_seq: int
    signed_by: str | None = None  # the signing key's fingerprint (bundles)
    unsigned: bool = False  # a bundle the site had no key to sign


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
    signer = store.site_signer() if fmt == "bundle" else None  # a missing key file: say so now
    if fmt == "bundle":
        from inspector.export.record_digests import bundle_fields

        stream = ({**export_dict(r), **bundle_fields(r)} for r in store.records(where))
    else:
        stream = (export_dict(record) for record in store.records(where))
    about = {
        "created_at": utc_now().isoformat().replace("+00:00", "Z"),
        "created_by": f"{actor.full_name} ({actor.name})",
        "filters": where.describe(),
        "chain_head": {"seq": head.seq, "hash": head.hash},
    }
    try:
        count = _write(fmt, store, where, about, stream, out, progress, total, max_rows, signer)
        digest = sha256_file(out)
    except OSError as exc:
        raise InputError(f"export to {out}: cannot write it ({exc.strerror or exc})") from None
    seq = store.log_export(actor, fmt, out.name, digest, count, where.describe(), head)
    signed_by = signer.fingerprint if signer is not None else None
    unsigned = fmt == "bundle" and signer is None
    return ExportResult(out, count, digest, str(head), seq, signed_by, unsigned)


def _write(fmt, store, where, about, stream, out, progress, total, max_rows, signer) -> int:
    """Write one export file; returns how many records it holds."""
    if fmt == "csv":
        from inspector.export.csv_file import write_csv

        return write_csv(stream, out, progress, total)
    if fmt == "jsonl":
        from inspector.export.jsonl import write_jsonl

        return write_jsonl(stream, out, progress, total)
    if fmt == "bundle":
        from inspector.export.bundle import write_bundle

        root = store.evidence.root
        return write_bundle(stream, out, root, about, progress, total, signer).records
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


def verify_bundle_against(store: Store, check: BundleCheck) -> None:
    """Add to `check` (a bundle verified on its own) whatever differs from this database."""
    from inspector.export.bundle import record_name, records_of
    from inspector.export.record_digests import inspection_digest, override_digest

    head = check.manifest.get("chain_head") or {}
    try:
        head_seq, head_hash = int(head["seq"]), str(head["hash"])
    except (KeyError, TypeError, ValueError):
        check.problems.append("the manifest names no chain head to check against the database")
        return
    if store.audit_hash_of(head_seq) != head_hash:
        check.problems.append(
            f"chain head #{head_seq} of the bundle is not in this database's audit chain"
        )
        return
    if check.signed_by is not None:
        recorded = {key.public_key: key for key in store.site_keys()}
        if check.signed_by not in recorded:
            check.problems.append(
                f"the bundle is signed by key sha256:{check.fingerprint}, which this database's "
                "audit chain never recorded as the site's: re-signed by someone else"
            )
    versions = None  # (recipe, version, sha256) -> id, read for format-1 bundles only
    for batch in records_of(check.path):
        ids = [r["inspection_id"] for _, r in batch if isinstance(r.get("inspection_id"), int)]
        facts = store.chain_facts(ids, head_seq)
        listed: dict[int, set[int]] = {}
        for number, record in batch:
            what = record_name(number, record)
            recorded = facts.inspections.get(record.get("inspection_id"))
            if recorded is None:
                check.problems.append(f"{what}: no such inspection in this database's chain")
                continue
            if "recipe_version_id" not in record:  # format 1: the database knows it
                if versions is None:
                    versions = {
                        (v.name, v.version, v.sha256): v.id for v in store.recipe_versions()
                    }
                recipe = (
                    record.get("recipe"),
                    record.get("recipe_version"),
                    record.get("recipe_sha256"),
                )
                record = {**record, "recipe_version_id": versions.get(recipe)}
            try:
                digest = inspection_digest(record)
            except (ValueError, TypeError, AttributeError) as exc:
                check.problems.append(f"{what}: cannot recompute its digest ({exc})")
                continue
            if digest != recorded:
                check.problems.append(
                    f"{what}: differs from the record in this database (not the digest its "
                    "audit entry holds)"
                )
            for override in record.get("overrides") or []:
                oid = override.get("id") if isinstance(override, dict) else None
                listed.setdefault(record.get("inspection_id"), set()).add(oid)
                known = facts.overrides.get(oid)
                try:
                    same = known is not None and override_digest(record, override) == known[1]
                except (ValueError, TypeError, AttributeError):
                    same = False
                if not same:
                    check.problems.append(
                        f"{what}: override {oid} differs from this database's (or is not in it)"
                    )
        for oid, (inspection_id, _) in sorted(facts.overrides.items()):
            if oid not in listed.get(inspection_id, set()):
                check.problems.append(
                    f"inspection {inspection_id}: override {oid}, recorded before the bundle's "
                    "chain head, is missing from the bundle (left out)"
                )
