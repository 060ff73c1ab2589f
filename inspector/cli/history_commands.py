"""The record as it stands: `history` (recorded inspections, newest first) and `db` (the schema).

Only argparse at import; the handlers open the store when they run.
"""

from __future__ import annotations


def register(commands) -> None:
    history = commands.add_parser("history", help="list recorded inspections, newest first")
    history.add_argument("--limit", type=int, default=20)
    history.add_argument("--json", action="store_true")
    history.set_defaults(handler=_history)

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    db_commands.add_parser("upgrade", help="apply schema migrations (also done on every start)")
    db.set_defaults(handler=_db)


def _open_store(settings):
    from inspector.store import Store

    return Store.open(settings)


def _history(args, settings) -> int:
    import json

    from inspector.cli import console

    with _open_store(settings) as store:
        records = store.history(limit=args.limit)
    if args.json:
        print(json.dumps([console.record_dict(r) for r in records], indent=2))
    else:
        for line in console.history_table(records):
            print(line)
    return 0


def _db(args, settings) -> int:
    with _open_store(settings) as store:
        revisions = ", ".join(sorted(store.revisions()))
    print(f"database schema up to date (revision {revisions})")
    return 0
