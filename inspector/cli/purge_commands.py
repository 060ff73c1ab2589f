"""`inspector purge`: delete records past the retention period (admin), audited."""

from __future__ import annotations

from inspector.cli.acting import add_user_option, login, open_store, progress_printer


def register(commands) -> None:
    purge = commands.add_parser("purge", help="delete records past the retention period (admin)")
    purge.add_argument(
        "--older-than",
        type=int,
        metavar="DAYS",
        help="captured more than DAYS ago (default: the retention_days setting)",
    )
    purge.add_argument("--reason", default="")
    add_user_option(purge)
    purge.set_defaults(handler=_purge)


def _purge(args, settings) -> int:
    with open_store(settings) as store:
        actor = login(args, store)
        result = store.purge(
            actor,
            args.older_than,
            args.reason,
            progress=lambda n: progress_printer("purged")(n),
        )
    entries = ", ".join(f"#{s}" for s in result.audit_entries) or "none"
    print(
        f"purged {result.inspections} inspections captured before "
        f"{result.cutoff.isoformat(timespec='seconds')}, {result.overrides} overrides, "
        f"{result.evidence_files} evidence files; audit entries {entries}"
    )
    return 0
