"""`inspector export`: records as CSV, JSON Lines, a PDF report or a signed bundle; `verify`.

Every export is an audit entry under the name of the person who made it, with the file's SHA-256.
"""

from __future__ import annotations

from inspector.cli.acting import add_user_option, login, open_store, progress_printer
from inspector.escapes import show

EXPORT_FORMATS = ("csv", "jsonl", "pdf", "bundle")


def register(commands) -> None:
    export = commands.add_parser("export", help="export records (CSV, JSONL, PDF, bundle)")
    export_commands = export.add_subparsers(dest="export_command", metavar="FORMAT", required=True)
    for kind in EXPORT_FORMATS:
        what = {
            "csv": "CSV, every field",
            "jsonl": "JSON Lines, every field",
            "pdf": "a PDF report with evidence thumbnails and signatures",
            "bundle": "a zip of records, evidence images and a manifest of hashes",
        }[kind]
        sub = export_commands.add_parser(kind, help=what)
        sub.add_argument("out", metavar="OUT")
        sub.add_argument("--since", help="captured at or after (ISO date or time, UTC)")
        sub.add_argument("--until", help="captured before (ISO date or time, UTC)")
        sub.add_argument("--recipe", help="recipe name")
        sub.add_argument(
            "--outcome",
            type=str.upper,
            choices=("PASS", "FAIL", "UNSURE"),
            help="final outcome (after overrides)",
        )
        sub.add_argument("--lot", help="lot, serial or part id (its beginning is enough)")
        if kind == "pdf":
            sub.add_argument(
                "--max-rows",
                type=int,
                default=500,
                help="inspections in the report's table (the summary counts all)",
            )
        add_user_option(sub)
    check = export_commands.add_parser(
        "verify", help="check a bundle: its site signature, every file and every record"
    )
    check.add_argument("bundle", metavar="BUNDLE")
    check.add_argument(
        "--against-database",
        action="store_true",
        help="also check the bundle against this database: its chain head is an entry of the "
        "chain, its signing key the one the chain recorded, every record the one recorded",
    )
    check.add_argument(
        "--key",
        metavar="SHA256",
        help="the site's key fingerprint (from `inspector audit site-key`): the bundle must be "
        "signed by it (for checking without the database)",
    )
    check.add_argument(
        "--allow-unsigned",
        action="store_true",
        help="accept a bundle with no site signature (made before the site had a key), with a "
        "warning; without the signature only --against-database vouches for its records",
    )
    export.set_defaults(handler=_export)


def _when(text: str | None, option: str):
    from datetime import UTC, datetime

    from inspector.errors import InputError

    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(f"{option} {text!r}: give an ISO date or time, e.g. 2026-03-01") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _export(args, settings) -> int:
    from pathlib import Path

    if args.export_command == "verify":
        return _export_verify(args, settings)
    from inspector.domain import Outcome
    from inspector.export.service import export_records
    from inspector.store import InspectionFilter

    where = InspectionFilter(
        since=_when(args.since, "--since"),
        until=_when(args.until, "--until"),
        recipe=args.recipe,
        outcomes=(Outcome(args.outcome),) if args.outcome else (),
        lot_or_serial=args.lot,
    )
    with open_store(settings) as store:
        actor = login(args, store)
        done = export_records(
            store,
            actor,
            args.export_command,
            Path(args.out),
            where,
            progress_printer("exported"),
            getattr(args, "max_rows", 500),
        )
    show(
        f"exported {done.records} records to {done.path} (sha256 {done.sha256}); "
        f"chain head {done.chain_head}; audit entry #{done.audit_seq}"
    )
    if done.signed_by:
        show(f"signed by the site key sha256:{done.signed_by}")
    elif done.unsigned:
        print(
            "warning: the bundle is NOT signed: this site has no signing key (it was set up "
            "before keys existed); an administrator creates one with "
            "`inspector audit site-key --create`"
        )
    return 0


def _export_verify(args, settings) -> int:
    from pathlib import Path

    from inspector.errors import InputError
    from inspector.export.bundle import verify_bundle

    path = Path(args.bundle)
    if not path.is_file():
        raise InputError(f"bundle {path}: no such file")
    check = verify_bundle(path, allow_unsigned=args.allow_unsigned)
    if args.key:
        expected = args.key.lower().removeprefix("sha256:")
        if check.signed_by is not None and not check.fingerprint.startswith(expected):
            check.problems.append(
                f"signed by key sha256:{check.fingerprint}, not by the key given ({args.key})"
            )
    if args.against_database and check.manifest:
        from inspector.export.service import verify_bundle_against

        with open_store(settings) as store:
            verify_bundle_against(store, check)
    for warning in check.warnings:
        show(f"warning: {warning}")
    head = check.manifest.get("chain_head") or {}
    if check.ok:
        records = check.manifest.get("records")
        images = sum(1 for name in check.manifest["files"] if name.startswith("evidence/"))
        signed = (
            f"signed by the site key sha256:{check.fingerprint}" if check.signed_by else "UNSIGNED"
        )
        checked = "; every record matches this database" if args.against_database else ""
        show(
            f"bundle intact: {records} records, {images} images; chain head "
            f"#{head.get('seq')} sha256:{head.get('hash')}; {signed}{checked}"
        )
        return 0
    show(f"bundle FAILS verification: {check.problems[0]}")
    for problem in check.problems[1:20]:
        show(f"  also: {problem}")
    if len(check.problems) > 20:
        show(f"  ... {len(check.problems)} problems in all")
    return 1
