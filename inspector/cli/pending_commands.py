"""Registration for the two command modules that do not follow the pattern yet.

`records_commands` (user, audit, override, recipe, export, purge, setting) still offers
`add_commands` and a `HANDLERS` table, and `eval_commands` has no parser of its own; both are
being rewritten to `register(commands)` in parallel. Until then these adapters give them the
same door as every other command module. TODO(lead): delete this module once the store helper's
modules (records split per group, eval_commands.register) are listed in cli/__init__.py.
Only argparse at import, as everywhere in the command line.
"""

from __future__ import annotations


class records:  # stands where a command module will be listed
    @staticmethod
    def register(commands) -> None:
        from inspector.cli import records_commands

        records_commands.add_commands(commands)
        for name, handler in records_commands.HANDLERS.items():
            commands.choices[name].set_defaults(handler=handler)


class evaluation:  # stands where a command module will be listed
    @staticmethod
    def register(commands) -> None:
        parser = commands.add_parser(
            "eval",
            help="judge a labelled image set with a recipe: miss rate, overkill, latency, recorded",
            description="Judge every image of a labelled set (MVTec AD layout, a folder per "
            "class, or a CSV of images and labels) and print the figures; the run is recorded, "
            "can be interrupted (Ctrl-C) and resumed (--resume), and compared with another "
            "(--compare).",
        )
        parser.add_argument("dataset", nargs="?", metavar="DATASET", help="folder or .csv file")
        parser.add_argument("--recipe", help="recipe YAML to evaluate")
        parser.add_argument("--good-label", default="good", help="the class of good parts")
        parser.add_argument("--image-column", default="image", help="CSV: column of image paths")
        parser.add_argument("--label-column", default="label", help="CSV: column of classes")
        parser.add_argument("--resume", metavar="RUN", help="finish an interrupted run")
        parser.add_argument("--compare", nargs=2, metavar=("RUN1", "RUN2"))
        parser.add_argument("--list", action="store_true", help="list the recorded runs")
        parser.add_argument("--report", metavar="FILE", help="write a report (.html or .pdf)")
        parser.add_argument(
            "--price",
            action="append",
            metavar="MODEL=IN,OUT",
            help="price per million tokens (input, output) of a model or engine, for the cost "
            "estimate of engines that give none; repeatable",
        )
        parser.add_argument("--json", action="store_true", help="print the figures as JSON")
        parser.set_defaults(handler=_evaluate)


def _evaluate(args, settings) -> int:
    from inspector.cli.eval_commands import main

    return main(args, settings)
