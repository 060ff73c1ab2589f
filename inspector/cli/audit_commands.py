"""`inspector audit`: verify the hash chain (exit 1 if anything was changed), list entries."""

from __future__ import annotations

from inspector.cli.acting import open_store, progress_printer


def register(commands) -> None:
    audit = commands.add_parser("audit", help="the audit trail")
    audit_commands = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    verify = audit_commands.add_parser(
        "verify",
        help="check the whole chain and the records it covers; exit 1 if anything was changed",
    )
    verify.add_argument(
        "--anchor",
        metavar="SEQ:HASH",
        help="an entry's hash known from outside (a report, a bundle manifest): a chain "
        "rewritten since cannot match it",
    )
    log = audit_commands.add_parser("log", help="list audit entries, newest first")
    log.add_argument("--limit", type=int, default=30)
    log.add_argument("--entity", metavar="TYPE:ID", help="only the entries of one record")
    log.add_argument("--json", action="store_true")
    audit.set_defaults(handler=_audit)


def _audit(args, settings) -> int:
    import json

    from inspector.errors import InputError

    with open_store(settings) as store:
        if args.audit_command == "log":
            entity_type = entity_id = None
            if args.entity:
                entity_type, _, entity_id = args.entity.partition(":")
            found = store.audit_entries(args.limit, entity_type, entity_id or None)
            if args.json:
                rows = [
                    {**e.__dict__, "at": e.at.isoformat().replace("+00:00", "Z")} for e in found
                ]
                print(json.dumps(rows, indent=2, ensure_ascii=False))
            else:
                for e in found:
                    when = e.at.strftime("%Y-%m-%d %H:%M:%S")
                    why = f"  ({e.reason})" if e.reason else ""
                    print(
                        f"#{e.seq:<7} {when}  {e.user_name:<12} {e.action:<20} "
                        f"{e.entity_type} {e.entity_id}{why}"
                    )
            return 0
        anchor = None
        if args.anchor:
            seq, _, hash_ = args.anchor.partition(":")
            hash_ = hash_.removeprefix("sha256:")
            if not seq.lstrip("#").isdigit() or len(hash_) != 64:
                raise InputError(f"--anchor {args.anchor!r}: give SEQ:HASH, e.g. 1234:ab12...")
            anchor = (int(seq.lstrip("#")), hash_)
        report = store.verify(anchor=anchor, progress=progress_printer("checked"))
    if report.ok:
        print(f"audit chain intact: {report.entries} entries, head {report.head}")
        return 0
    first = report.first
    print(f"audit chain BROKEN: {first.message}")
    for problem in report.problems[1:20]:
        print(f"  also: {problem.message}")
    print(f"{report.problem_count} problem(s) in {report.entries} entries")
    return 1
