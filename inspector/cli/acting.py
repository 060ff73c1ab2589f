"""Acting as a user on the command line: `--user`, the password, the signature, the store.

Commands that change a record act as a user: `--user NAME` (or INSPECTOR_USER) and the password
typed at the prompt (or INSPECTOR_PASSWORD, for scripts). Signing (overrides, recipe approvals)
asks for the password again: that re-entry is the electronic signature. The password is never
kept. Only the standard library is imported at the top, so `inspector --help` stays instant.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from inspector.config import Settings
    from inspector.store import Store
    from inspector.store.audit.users import Identity


def add_user_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--user",
        metavar="NAME",
        help="act as this user (env INSPECTOR_USER); the password is asked for, or taken "
        "from INSPECTOR_PASSWORD",
    )


def _has_terminal() -> bool:
    try:
        os.close(os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY))
        return True
    except OSError:
        return sys.stdin.isatty()


def password(prompt: str) -> str:
    """INSPECTOR_PASSWORD when set (scripts), else typed at the terminal, never echoed."""
    from inspector.errors import InputError

    given = os.environ.get("INSPECTOR_PASSWORD")
    if given is not None:
        return given
    if not _has_terminal():
        raise InputError("no password: run in a terminal, or set INSPECTOR_PASSWORD for scripts")
    import getpass

    return getpass.getpass(prompt)


def login(args: argparse.Namespace, store: Store) -> Identity:
    """The identity of the acting user (`--user` or INSPECTOR_USER), password checked."""
    from inspector.errors import InputError

    name = getattr(args, "user", None) or os.environ.get("INSPECTOR_USER")
    if not name:
        raise InputError("this command acts as a user: give --user NAME (or set INSPECTOR_USER)")
    return store.authenticate(name, password(f"password for {name}: "))


def sign_password(identity: Identity) -> str:
    return password(f"{identity.full_name} ({identity.name}), type your password to sign: ")


def new_password(args: argparse.Namespace, whose: str = "the new user") -> str:
    """A new password for `args.name` (`whose` says whom, in the prompt): never
    INSPECTOR_PASSWORD, which is the acting user's."""
    from inspector.errors import InputError

    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not _has_terminal():
        raise InputError(
            f"no password for {args.name}: give it on standard input with --password-stdin, "
            "or run in a terminal"
        )
    import getpass

    typed = getpass.getpass(f"password for {whose} {args.name}: ")
    if typed != getpass.getpass("the same again: "):
        raise InputError("the two passwords differ; nothing was changed")
    return typed


def open_store(settings: Settings) -> Store:
    """The store, as a context manager (`with open_store(settings) as store:`)."""
    from inspector.store import Store

    return Store.open(settings)


def progress_printer(verb: str) -> Callable[..., None]:
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
