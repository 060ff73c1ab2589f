"""`inspector journal`: the records a FAULT kept out of the store, and writing them back.

    inspector journal list      what waits in <data>/journal/, oldest first
    inspector journal replay    write it to the store (also done at every station start)

A replay writes each record once, under its own uid (a record already in the store is not
written again), and deletes its file only after the commit. Only argparse at import.
"""

from __future__ import annotations

from inspector.escapes import show

EXIT_STATUS = (
    "exit status: 0 the journal is empty (replay: everything written); 4 records still wait "
    "(list) or could not be written (replay: the cause is printed, they stay in the journal)."
)
WAITING_EXIT = 4


def register(commands) -> None:
    journal = commands.add_parser(
        "journal",
        help="records kept while the store could not take them (a FAULT), and their replay",
        epilog=EXIT_STATUS,
    )
    actions = journal.add_subparsers(dest="journal_command", metavar="ACTION", required=True)
    listing = actions.add_parser(
        "list", help="the records waiting in the journal", epilog=EXIT_STATUS
    )
    listing.add_argument("--json", action="store_true", help="one JSON object per record")
    listing.set_defaults(handler=_list)
    replay = actions.add_parser(
        "replay", help="write the journal to the store, each record once", epilog=EXIT_STATUS
    )
    replay.set_defaults(handler=_replay)


def _list(args, settings) -> int:
    import json

    from inspector.store.journal import Journal

    entries = Journal(settings.journal_dir).entries()  # read with the database down too
    for entry in entries:
        record = entry.record
        if args.json:
            data = {"file": str(entry.path), "problem": entry.problem}
            if record is not None:
                data |= {
                    "uid": record.uid,
                    "camera": record.camera_id,
                    "sequence": record.sequence,
                    "part_id": record.part_id,
                    "outcome": record.verdict.outcome.value,
                    "captured_at": record.captured_at.isoformat(),
                }
            print(json.dumps(data))
        elif record is None:
            show(f"{entry.path}: cannot be read: {entry.problem}")
        else:
            show(f"{entry.path}: {record.describe()}")
    if not args.json:
        show(f"{len(entries)} records in the journal {settings.journal_dir}")
    return WAITING_EXIT if entries else 0


def _replay(args, settings) -> int:
    from inspector.cli.interrupts import say
    from inspector.store import Store, StoreError

    with Store.open(settings) as store:
        waiting = len(store.journal_entries())
        try:
            report = store.replay_journal(lambda record: show(f"recorded {record.describe()}"))
        except StoreError as exc:
            say(str(exc))
            left = len(store.journal_entries())
            say(f"{left} of {waiting} records stay in the journal {settings.journal_dir}")
            return WAITING_EXIT
    said = f"journal: {report.written} records written to the store"
    if report.already:
        said += f", {report.already} were already there (not written again)"
    say(said)
    for problem in report.unreadable:
        say(f"cannot be read, left in the journal: {problem}")
    return WAITING_EXIT if report.unreadable else 0
