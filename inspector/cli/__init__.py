"""`inspector`: the headless station and its tools, one command module per command group.

Every command module has `register(commands)`: it adds its parsers to the `commands`
subparsers action and sets `handler=` on each (`handler(args, settings) -> int`). `main` builds
the parser from the modules listed in `COMMANDS` and dispatches to `args.handler`. Only
argparse is imported at the top of any command module: `inspector --help` must answer at once,
so every handler imports what it needs when it runs (torch and transformers load only with a
local model).
"""

from __future__ import annotations

import argparse
import sys

from inspector.cli import (
    audit_commands,
    camera_commands,
    doctor_commands,
    eval_commands,
    export_commands,
    history_commands,
    journal_commands,
    learn_commands,
    models_commands,
    override_commands,
    purge_commands,
    recipe_commands,
    setting_commands,
    station_commands,
    user_commands,
)
from inspector.cli.demo import ASSETS, DEMO_RECIPE, DEMO_SOURCE

__all__ = ["ASSETS", "COMMANDS", "DEMO_RECIPE", "DEMO_SOURCE", "build_parser", "main"]

COMMANDS = (
    station_commands,  # run, window, judge, parts
    history_commands,  # history, db
    eval_commands,  # eval
    camera_commands,  # cameras
    user_commands,  # user
    audit_commands,  # audit
    override_commands,  # override
    recipe_commands,  # recipe
    export_commands,  # export
    purge_commands,  # purge
    setting_commands,  # setting
    models_commands,  # models
    journal_commands,  # journal
    doctor_commands,  # doctor
    learn_commands,  # learn
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="inspector",
        description="Visual quality inspection: line cameras judged by a vision-language model, "
        "every verdict recorded with its evidence. With no command: the window (`inspector "
        "window`), or `inspector run` on the demo where no screen is available.",
    )
    parser.add_argument(
        "--data-dir",
        help="where the database, evidence and logs live "
        "(default: the user data directory; env INSPECTOR_DATA_DIR)",
    )
    parser.add_argument(
        "--database-url",
        help="any SQLAlchemy URL (default: SQLite in the "
        "data directory; env INSPECTOR_DATABASE_URL)",
    )
    parser.add_argument(
        "--min-free-disk-mb",
        type=int,
        metavar="MB",
        help="the station stops (FAULT, exit 4) when the data directory has less free space "
        "(default 500; 0: no check; env INSPECTOR_MIN_FREE_DISK_MB)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more to stderr")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMANDS:
        module.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from inspector.errors import InspectorError
    from inspector.logs import setup_logging

    if args.command is None:
        default = "window" if station_commands.can_show_window() else "run"
        args = build_parser().parse_args([*(argv or sys.argv[1:]), default])
    try:
        settings = _settings(args)
        # The model store follows --data-dir, for the engines loaded in this process too.
        from inspector.judges.model_store import set_data_dir

        set_data_dir(settings.data_dir)
        setup_logging(settings.data_dir, verbose=args.verbose)
        return args.handler(args, settings)
    except InspectorError as exc:
        from inspector.escapes import visible

        print(f"inspector: {visible(exc, keep_line_breaks=True)}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


def _settings(args):
    import os

    from inspector.config import Settings

    settings = Settings.from_env(
        data_dir=args.data_dir,
        database_url=args.database_url,
        min_free_disk_mb=args.min_free_disk_mb,
    )
    # Engines that keep learned models under the data directory find them by the environment.
    os.environ["INSPECTOR_DATA_DIR"] = str(settings.data_dir)
    return settings


if __name__ == "__main__":
    raise SystemExit(main())
