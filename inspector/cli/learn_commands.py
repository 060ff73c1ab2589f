"""`inspector learn RECIPE`: learn what good looks like for the recipe's learning engines.

For every `texture` engine of the recipe: its good images (the engine's `good:`, else the
recipe's references), learnt with a progress bar, written as a versioned artefact
`<data>/learned/<recipe>-v<version>-<sha12>.npz`; its SHA-256 is printed and becomes the model
revision on every attempt the engine judges. The station finds the newest artefact of the recipe
version at load. Only argparse is imported at the top, so `inspector --help` stays instant.
"""

from __future__ import annotations

import sys


def register(commands) -> None:
    learn = commands.add_parser(
        "learn",
        help="learn good texture for the recipe's `texture` engines (CPU, minutes)",
        description="Learn the recipe's `texture` engines from its images of good parts and "
        "store the learned model beside the recipe version, under <data>/learned/.",
    )
    learn.add_argument("recipe", metavar="RECIPE.yaml")
    learn.set_defaults(handler=main)


def main(args, settings) -> int:
    from inspector.station.learning import learn_recipe

    bar = _Bar()
    done = learn_recipe(args.recipe, settings.data_dir / "learned", progress=bar.step)
    bar.finish()
    for learned in done:
        print(learned.describe())
        print(f"sha256 {learned.sha256}")
    return 0


class _Bar:
    """A progress bar on stderr: redrawn on a terminal, a line per step otherwise."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.drawn = ""

    def step(self, done: int, total: int, what: str) -> None:
        filled = round(30 * done / total)
        line = f"learning [{'#' * filled}{'.' * (30 - filled)}] {done}/{total} {what}"
        if self.tty:
            print("\r\x1b[K" + line, end="", file=sys.stderr, flush=True)
        elif what != self.drawn or done == total:
            print(line, file=sys.stderr, flush=True)
        self.drawn = what

    def finish(self) -> None:
        if self.tty:
            print(file=sys.stderr, flush=True)
