"""`inspector user`: add, list and disable accounts (the first administrator bootstraps)."""

from __future__ import annotations

import os

from inspector.cli.acting import add_user_option, login, new_password, open_store


def register(commands) -> None:
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
    add_user_option(add)
    listing = user_commands.add_parser("list", help="list users")
    listing.add_argument("--json", action="store_true")
    disable = user_commands.add_parser("disable", help="disable a user (kept on record)")
    disable.add_argument("name", metavar="NAME")
    disable.add_argument("--reason", default="")
    add_user_option(disable)
    user.set_defaults(handler=_user)


def _user(args, settings) -> int:
    import json

    with open_store(settings) as store:
        if args.user_command == "list":
            found = store.list_users()
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
            bootstrap = not store.has_people() and not (
                args.user or os.environ.get("INSPECTOR_USER")
            )
            actor = None if bootstrap else login(args, store)
            password = None if args.role == "service" else new_password(args)
            added = store.add_user(
                actor, args.name, args.role, password, args.full_name, args.reason
            )
            how = " (first administrator)" if actor is None else ""
            print(f"user {added.name} added as {added.role.value}{how}")
            return 0
        actor = login(args, store)
        store.disable_user(actor, args.name, args.reason)
        print(f"user {args.name} disabled")
        return 0
