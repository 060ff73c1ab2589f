"""`inspector setting`: the site settings kept in the database (changing one is audited)."""

from __future__ import annotations

from inspector.cli.acting import add_user_option, login, open_store
from inspector.escapes import show


def register(commands) -> None:
    setting = commands.add_parser("setting", help="site settings kept in the database")
    setting_commands = setting.add_subparsers(
        dest="setting_command", metavar="ACTION", required=True
    )
    setting_commands.add_parser("list", help="show the settings")
    change = setting_commands.add_parser("set", help="change a setting (admin)")
    change.add_argument("key", metavar="KEY")
    change.add_argument("value", metavar="VALUE", help="a number, true/false, or none")
    change.add_argument("--reason", default="")
    add_user_option(change)
    setting.set_defaults(handler=_setting)


def _setting(args, settings) -> int:
    with open_store(settings) as store:
        if args.setting_command == "list":
            for key, value in store.site_settings().model_dump().items():
                show(f"{key} = {value}")
            return 0
        actor = login(args, store)
        old, new = store.set_setting(actor, args.key, args.value, args.reason)
    show(f"{args.key}: {old} -> {new}")
    return 0
