"""`inspector user`: add, list, disable, reactivate and unlock accounts, change roles and
passwords (the first administrator bootstraps)."""

from __future__ import annotations

import os

from inspector.cli.acting import (
    add_user_option,
    login,
    new_password,
    open_store,
    password,
    sign_password,
)
from inspector.escapes import show


def register(commands) -> None:
    user = commands.add_parser("user", help="user accounts and roles")
    user_commands = user.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    add = user_commands.add_parser(
        "add",
        help="add a user (the very first: an admin, with no --user)",
        description="Add an account. On a database with no accounts yet, the first "
        "administrator is added with no --user (bootstrap); after that an admin adds users. "
        "Passwords: at least 10 characters (admins 15, mixing 3 kinds of character unless "
        "20 or more), not a common password, not containing the user name.",
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
    add_user_option(add)
    listing = user_commands.add_parser("list", help="list users")
    listing.add_argument("--json", action="store_true")
    disable = user_commands.add_parser("disable", help="disable a user (kept on record)")
    disable.add_argument("name", metavar="NAME")
    disable.add_argument("--reason", default="")
    add_user_option(disable)
    enable = user_commands.add_parser("enable", help="reactivate a disabled user (an admin)")
    enable.add_argument("name", metavar="NAME")
    enable.add_argument("--reason", default="")
    add_user_option(enable)
    role = user_commands.add_parser(
        "role",
        help="change a person's role (an admin)",
        description="Change NAME's role to operator, engineer or admin. The last active "
        "administrator stays one; a person's account and a service account do not change "
        "into each other.",
    )
    role.add_argument("name", metavar="NAME")
    role.add_argument("role", choices=("operator", "engineer", "admin"))
    role.add_argument("--reason", default="")
    add_user_option(role)
    unlock = user_commands.add_parser(
        "unlock",
        help="lift a lockout after too many wrong passwords (an admin)",
        description="Lift the lock of an account that too many wrong passwords locked, and "
        "clear its count of failed attempts. How many lock an account, and for how long: "
        "the site settings lockout_attempts and lockout_minutes.",
    )
    unlock.add_argument("name", metavar="NAME")
    unlock.add_argument("--reason", default="")
    add_user_option(unlock)
    passwd = user_commands.add_parser(
        "passwd",
        help="change a password (your own; an admin's signature for another user's)",
        description="Change NAME's password. Your own: type the current one (or "
        "INSPECTOR_PASSWORD). Another user's: act as an admin with --user ADMIN and sign "
        "with your own password. The new password is typed twice, or read from standard "
        "input with --password-stdin.",
    )
    passwd.add_argument("name", metavar="NAME")
    passwd.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the new password from the first line of standard input",
    )
    passwd.add_argument("--reason", default="")
    add_user_option(passwd)
    user.set_defaults(handler=_user)


def _user(args, settings) -> int:
    with open_store(settings) as store:
        if args.user_command == "list":
            return _list(store, args.json)
        if args.user_command == "add":
            bootstrap = not store.has_people() and not (
                args.user or os.environ.get("INSPECTOR_USER")
            )
            actor = None if bootstrap else login(args, store)
            password_ = None if args.role == "service" else new_password(args)
            added = store.add_user(
                actor, args.name, args.role, password_, args.full_name, args.reason
            )
            how = " (first administrator)" if actor is None else ""
            show(f"user {added.name} added as {added.role.value}{how}")
            return 0
        if args.user_command == "passwd":
            return _passwd(args, store)
        actor = login(args, store)
        if args.user_command == "unlock":
            before = store.unlock_user(actor, args.name, args.reason)
            if before.locked_until is not None:
                until = before.locked_until.astimezone().strftime("%H:%M")
                was = f"was locked until {until} after {before.failed_logins} failed attempts"
            else:
                was = f"was not locked; {before.failed_logins} failed attempts cleared"
            show(f"user {args.name} unlocked ({was})")
            return 0
        if args.user_command == "enable":
            store.enable_user(actor, args.name, args.reason)
            show(f"user {args.name} reactivated")
            return 0
        if args.user_command == "role":
            before = store.set_user_role(actor, args.name, args.role, args.reason)
            show(f"user {args.name} is now {args.role} (was {before.value})")
            return 0
        store.disable_user(actor, args.name, args.reason)
        show(f"user {args.name} disabled")
        return 0


def _passwd(args, store) -> int:
    acting_as = args.user or os.environ.get("INSPECTOR_USER") or args.name
    if acting_as == args.name:
        current = password(f"current password for {args.name}: ")
        store.change_own_password(args.name, current, new_password(args, "user"), args.reason)
        show(f"password of {args.name} changed")
        return 0
    admin = login(args, store)
    new = new_password(args, "user")
    signature_id = store.reset_password(admin, sign_password(admin), args.name, new, args.reason)
    show(f"password of {args.name} changed by {admin.name} (signature {signature_id})")
    return 0


def _list(store, as_json: bool) -> int:
    import json

    found = store.list_users()
    logins = store.last_logins()
    if as_json:
        rows = [
            {
                "name": u.name,
                "full_name": u.full_name,
                "role": u.role.value,
                "disabled": u.disabled,
                "created_at": u.created_at.isoformat(),
                "locked_until": u.locked_until.isoformat() if u.locked_until else None,
                "failed_logins": u.failed_logins,
                "last_login": logins[u.name].isoformat() if u.name in logins else None,
            }
            for u in found
        ]
        print(json.dumps(rows, indent=2))
        return 0
    for u in found:
        state = "  (disabled)" if u.disabled else ""
        if u.locked_until is not None:
            state += f"  (locked until {u.locked_until.astimezone():%H:%M})"
        show(f"{u.name:<20} {u.role.value:<9} {u.full_name}{state}")
    return 0
