"""The accountability commands: users, audit, overrides, recipe approvals, exports, retention.

`inspector.cli` adds these commands to its parser (`add_commands`) and runs them through
`HANDLERS`. Only argparse is imported at the top, as in cli.py, so `inspector --help` stays
instant. Commands that change a record act as a user: `--user NAME` (or INSPECTOR_USER) and
the password typed at the prompt (or INSPECTOR_PASSWORD, for scripts). Signing (overrides,
recipe approvals) asks for the password again: that re-entry is the electronic signature.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

EXPORT_FORMATS = ("csv", "jsonl", "pdf", "bundle")


def _acting(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--user",
        metavar="NAME",
        help="act as this user (env INSPECTOR_USER); the password is asked for, or taken "
        "from INSPECTOR_PASSWORD",
    )


def add_commands(commands) -> None:
    user = commands.add_parser("user", help="user accounts and roles")
    user_commands = user.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    add = user_commands.add_parser(
        "add",
        help="add a user (the very first: an admin, with no --user)",
        description="Add an account. On a database with no accounts yet, the first "
        "administrator is added with no --user (bootstrap); after that an admin adds users.",
    )
    add.add_argument("name", metavar="NAME")
    add.add_argument("--role", required=True, choices=("operator", "engineer", "admin", "service"))
    add.add_argument("--full-name", default="", help="the printed name shown on signatures")
    add.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the new user's password from the first line of standard input",
    )
    add.add_argument("--reason", default="")
    _acting(add)
    listing = user_commands.add_parser("list", help="list users")
    listing.add_argument("--json", action="store_true")
    disable = user_commands.add_parser("disable", help="disable a user (kept on record)")
    disable.add_argument("name", metavar="NAME")
    disable.add_argument("--reason", default="")
    _acting(disable)

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

    override = commands.add_parser(
        "override", help="decide an inspection's outcome in place of the model (signed)"
    )
    override.add_argument("inspection_id", type=int, metavar="INSPECTION_ID")
    override.add_argument("--outcome", required=True, type=str.upper, choices=("PASS", "FAIL"))
    override.add_argument("--reason", required=True)
    override.add_argument("--meaning", required=True, choices=("reviewed", "approved", "rejected"))
    _acting(override)

    recipe = commands.add_parser("recipe", help="recipe versions on record and their approvals")
    recipe_commands = recipe.add_subparsers(dest="recipe_command", metavar="ACTION", required=True)
    save = recipe_commands.add_parser("save", help="put a recipe file's version on record")
    save.add_argument("path", metavar="RECIPE.yaml")
    _acting(save)
    approve = recipe_commands.add_parser("approve", help="sign a recipe version")
    approve.add_argument("name", metavar="NAME")
    approve.add_argument("version", type=int, metavar="VERSION")
    approve.add_argument(
        "--meaning", default="approved", choices=("approved", "rejected", "reviewed")
    )
    approve.add_argument("--reason", default="")
    _acting(approve)
    recipe_commands.add_parser("list", help="recipe versions on record and their signatures")

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
        sub.add_argument("--lot")
        if kind == "pdf":
            sub.add_argument(
                "--max-rows",
                type=int,
                default=500,
                help="inspections in the report's table (the summary counts all)",
            )
        _acting(sub)
    check = export_commands.add_parser("verify", help="check a bundle, byte by byte")
    check.add_argument("bundle", metavar="BUNDLE")
    check.add_argument(
        "--against-database",
        action="store_true",
        help="also check that the bundle's chain head is an entry of this database's chain",
    )

    purge = commands.add_parser("purge", help="delete records past the retention period (admin)")
    purge.add_argument(
        "--older-than",
        type=int,
        metavar="DAYS",
        help="captured more than DAYS ago (default: the retention_days setting)",
    )
    purge.add_argument("--reason", default="")
    _acting(purge)

    setting = commands.add_parser("setting", help="site settings kept in the database")
    setting_commands = setting.add_subparsers(
        dest="setting_command", metavar="ACTION", required=True
    )
    setting_commands.add_parser("list", help="show the settings")
    change = setting_commands.add_parser("set", help="change a setting (admin)")
    change.add_argument("key", metavar="KEY")
    change.add_argument("value", metavar="VALUE", help="a number, true/false, or none")
    change.add_argument("--reason", default="")
    _acting(change)


# -- users and passwords -------------------------------------------------------------------


def _has_terminal() -> bool:
    try:
        os.close(os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY))
        return True
    except OSError:
        return sys.stdin.isatty()


def _password(prompt: str) -> str:
    from inspector.errors import InputError

    given = os.environ.get("INSPECTOR_PASSWORD")
    if given is not None:
        return given
    if not _has_terminal():
        raise InputError("no password: run in a terminal, or set INSPECTOR_PASSWORD for scripts")
    import getpass

    return getpass.getpass(prompt)


def _login(args, store):
    from inspector.errors import InputError
    from inspector.store.audit import users

    name = getattr(args, "user", None) or os.environ.get("INSPECTOR_USER")
    if not name:
        raise InputError("this command acts as a user: give --user NAME (or set INSPECTOR_USER)")
    return users.authenticate(store.engine, name, _password(f"password for {name}: "))


def _sign_password(identity) -> str:
    return _password(f"{identity.full_name} ({identity.name}), type your password to sign: ")


def _new_password(args) -> str:
    """The new user's own password: never INSPECTOR_PASSWORD, which is the acting user's."""
    from inspector.errors import InputError

    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not _has_terminal():
        raise InputError(
            f"no password for {args.name}: give it on standard input with --password-stdin, "
            "or run in a terminal"
        )
    import getpass

    password = getpass.getpass(f"password for the new user {args.name}: ")
    if password != getpass.getpass("the same again: "):
        raise InputError("the two passwords differ; nothing was changed")
    return password


def _open(settings):
    from inspector.store import Store

    return Store.open(settings)


def _user(args, settings) -> int:
    import json

    from inspector.store.audit import users

    store = _open(settings)
    try:
        if args.user_command == "list":
            found = users.list_users(store.engine)
            if args.json:
                rows = [
                    {
                        "name": u.name,
                        "full_name": u.full_name,
                        "role": u.role.value,
                        "disabled": u.disabled,
                        "created_at": u.created_at.isoformat(),
                    }
                    for u in found
                ]
                print(json.dumps(rows, indent=2))
            else:
                for u in found:
                    state = "  (disabled)" if u.disabled else ""
                    print(f"{u.name:<20} {u.role.value:<9} {u.full_name}{state}")
            return 0
        if args.user_command == "add":
            bootstrap = not users.has_people(store.engine) and not (
                args.user or os.environ.get("INSPECTOR_USER")
            )
            actor = None if bootstrap else _login(args, store)
            password = None if args.role == "service" else _new_password(args)
            added = users.add_user(
                store.engine, actor, args.name, args.role, password, args.full_name, args.reason
            )
            how = " (first administrator)" if actor is None else ""
            print(f"user {added.name} added as {added.role.value}{how}")
            return 0
        actor = _login(args, store)
        users.disable_user(store.engine, actor, args.name, args.reason)
        print(f"user {args.name} disabled")
        return 0
    finally:
        store.close()


# -- audit -----------------------------------------------------------------------------------


def _audit(args, settings) -> int:
    import json

    from inspector.errors import InputError
    from inspector.store.audit import trail as audit
    from inspector.store.audit import verify

    store = _open(settings)
    try:
        if args.audit_command == "log":
            entity_type = entity_id = None
            if args.entity:
                entity_type, _, entity_id = args.entity.partition(":")
            found = audit.entries(store.engine, args.limit, entity_type, entity_id or None)
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
        report = verify.verify(store.engine, anchor=anchor, progress=_progress("checked"))
    finally:
        store.close()
    if report.ok:
        print(f"audit chain intact: {report.entries} entries, head {report.head}")
        return 0
    first = report.first
    print(f"audit chain BROKEN: {first.message}")
    for problem in report.problems[1:20]:
        print(f"  also: {problem.message}")
    print(f"{report.problem_count} problem(s) in {report.entries} entries")
    return 1


def _progress(verb: str):
    """Progress on stderr, at most once a second, and the last count."""
    last = [0.0]

    def report(count: int, total: int | None = None) -> None:
        now = time.monotonic()
        if now - last[0] < 1.0 and count != total:
            return
        last[0] = now
        of = f" / {total}" if total is not None else ""
        print(f"inspector: {verb} {count}{of}", file=sys.stderr, flush=True)

    return report


# -- overrides and recipes ---------------------------------------------------------------------


def _override(args, settings) -> int:
    from inspector.store.audit import overrides

    store = _open(settings)
    try:
        actor = _login(args, store)
        done = overrides.override_verdict(
            store.engine,
            actor,
            _sign_password(actor),
            args.inspection_id,
            args.outcome,
            args.reason,
            args.meaning,
        )
    finally:
        store.close()
    change = f"{done.previous_outcome.value} -> {done.outcome.value}"
    print(
        f"inspection {done.inspection_id}: {change}, signed ({args.meaning}) by "
        f"{actor.full_name} ({actor.name}); audit entry #{done.audit_seq}"
    )
    return 0


def _recipe(args, settings) -> int:
    from inspector.store.audit import recipe_log

    store = _open(settings)
    try:
        if args.recipe_command == "list":
            versions = recipe_log.list_versions(store.engine)
            if not versions:
                print("no recipe versions on record yet")
            for v in versions:
                print(f"{v.name} v{v.version}  {v.status}  sha256 {v.sha256[:16]}")
                for s in v.signatures:
                    print(f"    {s.line()}")
            return 0
        actor = _login(args, store)
        if args.recipe_command == "save":
            from inspector.recipes import load_recipe
            from inspector.station.runner import read_image_or_explain

            recipe = load_recipe(args.path)
            references = [
                read_image_or_explain(p, f"recipe {args.path}: reference")
                for p in recipe.references
            ]
            version_id = store.recipe_version_id(recipe, references, actor=actor)
            print(f"recipe {recipe.name} v{recipe.version} on record (id {version_id})")
            return 0
        recipe_log.approve_recipe(
            store.engine,
            actor,
            _sign_password(actor),
            args.name,
            args.version,
            args.meaning,
            args.reason,
        )
        print(
            f"recipe {args.name} v{args.version} {args.meaning} by {actor.full_name} ({actor.name})"
        )
        return 0
    finally:
        store.close()


# -- exports ---------------------------------------------------------------------------------


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
    from inspector.store import records

    where = records.RecordFilter(
        since=_when(args.since, "--since"),
        until=_when(args.until, "--until"),
        recipe=args.recipe,
        outcome=Outcome(args.outcome) if args.outcome else None,
        lot=args.lot,
    )
    store = _open(settings)
    try:
        actor = _login(args, store)
        done = export_records(
            store,
            actor,
            args.export_command,
            Path(args.out),
            where,
            _progress("exported"),
            getattr(args, "max_rows", 500),
        )
    finally:
        store.close()
    print(
        f"exported {done.records} records to {done.path} (sha256 {done.sha256}); "
        f"chain head {done.chain_head}; audit entry #{done.audit_seq}"
    )
    return 0


def _export_verify(args, settings) -> int:
    from pathlib import Path

    from inspector.export.bundle import verify_bundle

    check = verify_bundle(Path(args.bundle))
    head = check.manifest.get("chain_head") if check.manifest else None
    if args.against_database and head and check.ok:
        from inspector.store.audit import trail as audit

        store = _open(settings)
        try:
            found = audit.hash_of(store.engine, int(head["seq"]))
        finally:
            store.close()
        if found != head["hash"]:
            check.problems.append(
                f"chain head #{head['seq']} of the bundle is not in this database's audit chain"
            )
    if check.ok:
        records = check.manifest.get("records")
        print(
            f"bundle intact: {records} records, {len(check.manifest['files']) - 1} images; "
            f"chain head #{head['seq']} sha256:{head['hash']}"
        )
        return 0
    print(f"bundle FAILS verification: {check.problems[0]}")
    for problem in check.problems[1:20]:
        print(f"  also: {problem}")
    return 1


# -- retention and settings --------------------------------------------------------------------


def _purge(args, settings) -> int:
    from inspector.store.audit import retention

    store = _open(settings)
    try:
        actor = _login(args, store)
        result = retention.purge(
            store.engine,
            store.evidence,
            actor,
            args.older_than,
            args.reason,
            progress=lambda n: _progress("purged")(n),
        )
    finally:
        store.close()
    entries = ", ".join(f"#{s}" for s in result.audit_entries) or "none"
    print(
        f"purged {result.inspections} inspections captured before "
        f"{result.cutoff.isoformat(timespec='seconds')}, {result.overrides} overrides, "
        f"{result.evidence_files} evidence files; audit entries {entries}"
    )
    return 0


def _setting(args, settings) -> int:
    from inspector.store.audit import site_settings

    store = _open(settings)
    try:
        if args.setting_command == "list":
            for key, value in site_settings.load(store.engine).model_dump().items():
                print(f"{key} = {value}")
            return 0
        actor = _login(args, store)
        old, new = site_settings.set_setting(store.engine, actor, args.key, args.value, args.reason)
    finally:
        store.close()
    print(f"{args.key}: {old} -> {new}")
    return 0


HANDLERS = {
    "user": _user,
    "audit": _audit,
    "override": _override,
    "recipe": _recipe,
    "export": _export,
    "purge": _purge,
    "setting": _setting,
}
