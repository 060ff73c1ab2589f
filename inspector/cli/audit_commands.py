"""`inspector audit`: verify the hash chain and the evidence files (exit 1 if anything was
changed), list entries, show the site's signing key."""

from __future__ import annotations

import sys
import time

from inspector.cli.acting import add_user_option, login, open_store
from inspector.escapes import json_visible, show


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
    verify.add_argument(
        "--no-evidence",
        action="store_true",
        help="skip hashing the evidence files (by default each is checked against its record)",
    )
    key = audit_commands.add_parser(
        "site-key",
        help="show the site's signing key (bundles are signed with it), or create it",
    )
    key.add_argument(
        "--create",
        action="store_true",
        help="create the key on a site set up before keys existed (an administrator)",
    )
    key.add_argument("--reason", default="", help="why (kept in the audit entry)")
    add_user_option(key)
    log = audit_commands.add_parser("log", help="list audit entries, newest first")
    log.add_argument("--limit", type=int, default=30)
    log.add_argument(
        "--entity",
        metavar="TYPE[:ID]",
        help="only the entries of one record (an inspection's include its overrides), or of "
        "one kind (`user`)",
    )
    log.add_argument("--actor", metavar="TEXT", help="only entries by users whose name holds TEXT")
    log.add_argument("--action", metavar="TEXT", help="only actions holding TEXT (`login`)")
    log.add_argument("--since", metavar="DATE", help="from this local date or time on")
    log.add_argument("--until", metavar="DATE", help="before this local date or time")
    log.add_argument("--json", action="store_true")
    audit.set_defaults(handler=_audit)


def _audit(args, settings) -> int:
    from inspector.errors import InputError

    with open_store(settings) as store:
        if args.audit_command == "site-key":
            return _site_key(args, store)
        if args.audit_command == "log":
            found = store.audit_search(_log_filter(args), args.limit)
            if args.json:
                rows = [
                    {**e.__dict__, "at": e.at.isoformat().replace("+00:00", "Z")} for e in found
                ]
                print(json_visible(rows, indent=2))  # every script readable, no control obeyed
            else:
                for e in found:
                    when = e.at.strftime("%Y-%m-%d %H:%M:%S")
                    why = f"  ({e.reason})" if e.reason else ""
                    show(
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
        entries = _status("audit entries")
        files = _status("evidence files", after=entries)
        report = store.verify(
            anchor=anchor,
            progress=entries,
            evidence=not args.no_evidence,
            evidence_progress=files,
        )
        entries.done(report.entries)
        if report.evidence_files is not None:
            files.done(report.evidence_files)
    checked = (
        "evidence not checked (--no-evidence)"
        if report.evidence_files is None
        else f"{report.evidence_files} evidence files match their records"
    )
    if report.ok:
        show(f"audit chain intact: {report.entries} entries, head {report.head}; {checked}")
        return 0
    first = report.first
    chain_ok = report.problem_count == report.evidence_problems
    show(f"{'evidence FAILS' if chain_ok else 'audit chain BROKEN'}: {first.message}")
    for problem in report.problems[1:20]:
        show(f"  also: {problem.message}")
    files = f" and {report.evidence_files} evidence files" if report.evidence_files else ""
    show(f"{report.problem_count} problem(s) in {report.entries} entries{files}")
    return 1


def _log_filter(args):
    from inspector.store import AuditFilter

    return AuditFilter.of_entity(
        args.entity or "",
        actor=args.actor or "",
        action=args.action or "",
        since=_moment("--since", args.since),
        until=_moment("--until", args.until),
    )


def _moment(flag: str, text: str | None):
    """A local date (`2026-03-01`) or time (`2026-03-01 14:30`) as an aware datetime."""
    from datetime import datetime

    from inspector.errors import InputError

    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InputError(
            f"{flag} {text!r}: give a date or time, e.g. 2026-03-01 or '2026-03-01 14:30'"
        ) from None
    return moment if moment.tzinfo is not None else moment.astimezone()


def _site_key(args, store) -> int:
    if args.create:
        created = store.create_site_key(login(args, store), args.reason)
        show(
            f"site signing key created: sha256:{created.fingerprint} (audit entry "
            f"#{created.seq}); private key at {store.site_key_path} (mode 0600)"
        )
        return 0
    keys = store.site_keys()
    if not keys:
        print("this site has no signing key: `inspector audit site-key --create` (an admin)")
        return 1
    for key in keys:
        when = key.at.strftime("%Y-%m-%d %H:%M:%S UTC")
        show(f"sha256:{key.fingerprint}  Ed25519 {key.public_key}  #{key.seq}  {when}")
    path = store.site_key_path
    state = "present" if path is not None and path.is_file() else "NOT on this station"
    show(f"private key: {path} ({state}); the last key listed signs")
    return 0


class _status:
    """Progress on stderr: a bar redrawn in place on a terminal (at most ten times a second);
    elsewhere (a log, a pipe) one short line when the phase ends, so logs stay readable. A
    phase that follows another (`after`) closes that one's line when it starts."""

    def __init__(self, what: str, after: _status | None = None, stream=None) -> None:
        self.what = what
        self.after = after
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.last = 0.0
        self.count = 0
        self.drawn = self.closed = False

    def __call__(self, count: int, total: int | None = None) -> None:
        self.count = count
        if self.after is not None:
            self.after.close()
        now = time.monotonic()
        if not self.tty or now - self.last < 0.1:
            return
        self.last = now
        self.drawn = True
        if total:
            filled = min(30, 30 * count // total)
            bar = "#" * filled + "." * (30 - filled)
            line = f"\rinspector: [{bar}] {100 * count // total:3d}% {count}/{total} {self.what}"
        else:
            line = f"\rinspector: checked {count} {self.what}"
        self.stream.write(line)
        self.stream.flush()

    def done(self, count: int) -> None:
        self.count = count
        self.close()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        erase = "\r\x1b[K" if self.drawn else ""
        self.stream.write(f"{erase}inspector: checked {self.count} {self.what}\n")
        self.stream.flush()
