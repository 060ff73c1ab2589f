"""`inspector eval`: evaluate a recipe on a labelled data set, list runs, compare two.

`register` adds the parser; the handler imports the evaluation and the store only when it runs,
so `inspector --help` stays instant.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from inspector.cli.acting import add_user_option
from inspector.escapes import show, visible

if TYPE_CHECKING:
    from inspector.evaluation.evaluate import Step
    from inspector.store import Store
    from inspector.store.evaluations.runs import EvaluationRun


def register(commands) -> None:
    evaluation = commands.add_parser(
        "eval",
        help="judge a labelled image set with a recipe: miss rate, overkill, latency, recorded",
        description="Judge every image of a labelled set (MVTec AD layout, a folder per class, "
        "or a CSV of images and labels) and print the figures; the run is recorded, can be "
        "interrupted (Ctrl-C) and resumed (--resume), and compared with another (--compare).",
    )
    evaluation.add_argument("dataset", nargs="?", metavar="DATASET", help="folder or .csv file")
    evaluation.add_argument("--recipe", help="recipe YAML to evaluate")
    evaluation.add_argument("--good-label", default="good", help="the class of good parts")
    evaluation.add_argument("--image-column", default="image", help="CSV: column of image paths")
    evaluation.add_argument("--label-column", default="label", help="CSV: column of classes")
    evaluation.add_argument("--resume", metavar="RUN", help="finish an interrupted run")
    evaluation.add_argument("--compare", nargs=2, metavar=("RUN1", "RUN2"))
    evaluation.add_argument("--list", action="store_true", help="list the recorded runs")
    evaluation.add_argument("--report", metavar="FILE", help="write a report (.html or .pdf)")
    evaluation.add_argument(
        "--price",
        action="append",
        metavar="MODEL=IN,OUT",
        help="price per million tokens (input, output) of a model or engine, for the cost "
        "estimate of engines that give none; repeatable",
    )
    evaluation.add_argument("--json", action="store_true", help="print the figures as JSON")
    evaluation.add_argument(
        "--target-miss",
        type=float,
        metavar="RATE",
        help="choose the threshold of the score (reference, texture) that misses at most this "
        "share of the defective images (e.g. 0.01), with its confidence interval and overkill",
    )
    evaluation.add_argument(
        "--confidence", type=float, default=0.95, help="of the miss rate's interval (0.95)"
    )
    evaluation.add_argument(
        "--write-version",
        action="store_true",
        help="with --target-miss: save the recipe as a new version with that threshold",
    )
    add_user_option(evaluation)
    evaluation.set_defaults(handler=main)


def main(args, settings) -> int:
    """The handler of `inspector eval`."""
    from inspector.store import Store

    with Store.open(settings) as store:
        if args.list:
            return _list(store, args)
        if args.compare:
            return _compare(store, args)
        return _evaluate(store, args, settings)


def _evaluate(store: Store, args, settings) -> int:
    from inspector.errors import InputError
    from inspector.evaluation import metrics, report
    from inspector.evaluation.datasets import read_dataset
    from inspector.evaluation.evaluate import Interrupted, evaluate, load_judge, parse_prices

    if args.dataset is None or args.recipe is None:
        raise InputError(
            "eval: give a data set and a recipe: inspector eval DATASET --recipe RECIPE.yaml "
            "(or --compare RUN1 RUN2, or --list)"
        )
    if args.write_version and args.target_miss is None:
        raise InputError("eval --write-version needs --target-miss RATE (the threshold to write)")
    if args.target_miss is not None and not 0 <= args.target_miss < 1:
        raise InputError(f"eval --target-miss {args.target_miss:g}: give a fraction, e.g. 0.01")
    dataset = read_dataset(args.dataset, args.good_label, args.image_column, args.label_column)
    prices = parse_prices(args.price)
    display = _Display()
    prepared = load_judge(args.recipe, _say)
    try:
        run = evaluate(
            store,
            dataset,
            args.recipe,
            resume=args.resume,
            prices=prices,
            progress=display.step,
            say=_say,
            prepared=prepared,
        )
    except Interrupted as stop:
        display.finish()
        run = stop.run
        _say(
            f"evaluation run {run.short} interrupted after {run.judged} of {run.image_count} "
            f"images; resume with: inspector eval {args.dataset} --recipe {args.recipe} "
            f"--resume {run.short}"
        )
        return 130
    display.finish()
    results = store.run_results(run.id)
    figures = metrics.compute(results)
    if args.target_miss is not None:
        from inspector.evaluation import target

        try:
            point = target.target_threshold(results, args.target_miss, args.confidence)
        except ValueError as exc:
            raise InputError(f"eval --target-miss: {exc}") from None
        point["run"] = run.short
        figures["target"] = point
        for line in target.describe(point):
            _say(line)
        if args.write_version:
            path = _write_version(store, args, settings, point)
            _say(f"recipe saved as a new version with threshold {point['threshold']:.4g}: {path}")
    if args.report:
        from inspector.evaluation import worst

        examples = worst.pick(dataset, results, worst.COUNT, prepared.chain)
        kind = report.write(Path(args.report), run, figures, examples)
        _say(f"{kind} report written to {args.report}")
    if args.json:
        print(json.dumps({"run": _run_dict(run), "figures": figures}, indent=2, default=str))
    else:
        for line in report.summary_lines(run, figures):
            show(line)
    return 0


def _write_version(store: Store, args, settings, point: dict) -> Path:
    """The recipe as its next version with the point's threshold, the run that chose it as the
    justification in the file and the audit trail (evaluation/versions.py)."""
    import os

    from inspector.cli.acting import login
    from inspector.evaluation.versions import write_version

    # As the named user; else as the store's account, as the evaluation put its recipe on record.
    named = args.user or os.environ.get("INSPECTOR_USER")
    actor = login(args, store) if named else None
    return write_version(store, args.recipe, point, settings.data_dir, actor)


def _compare(store: Store, args) -> int:
    from inspector.evaluation import metrics, report

    run_a, run_b = (store.find_run(ref) for ref in args.compare)
    results_a = store.run_results(run_a.id)
    results_b = store.run_results(run_b.id)
    a, b = metrics.compute(results_a), metrics.compute(results_b)
    outcome_a = {r.image: r.outcome for r in results_a}
    common = [r for r in results_b if r.image in outcome_a]
    changed = [r.image for r in common if r.outcome != outcome_a[r.image]]
    if args.json:
        data = {
            "a": {"run": _run_dict(run_a), "figures": a},
            "b": {"run": _run_dict(run_b), "figures": b},
            "common_images": len(common),
            "judged_differently": changed,
        }
        print(json.dumps(data, indent=2, default=str))
    else:
        for line in report.compare_lines(run_a, a, run_b, b, len(changed), len(common)):
            show(line)
    return 0


def _list(store: Store, args) -> int:
    listed = store.list_runs()
    if args.json:
        print(json.dumps([_run_dict(r) for r in listed], indent=2, default=str))
        return 0
    if not listed:
        print("no evaluation runs recorded yet")
    for r in listed:
        show(
            f"{r.short}  {r.started_at:%Y-%m-%d %H:%M}  {r.status:<11} {r.judged:>6}/"
            f"{r.image_count:<6} {r.recipe} v{r.recipe_version}  {r.dataset}"
        )
    return 0


def _run_dict(run: EvaluationRun) -> dict:
    return {
        "id": run.short,
        "uid": run.uid,
        "status": run.status,
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "dataset": run.dataset,
        "dataset_kind": run.dataset_kind,
        "images": run.image_count,
        "judged": run.judged,
        "recipe": run.recipe,
        "recipe_version": run.recipe_version,
        "chain": run.chain,
    }


def _say(message: str) -> None:
    show(f"inspector: {message}", err=True)  # names a data set, a recipe: from outside


class _Display:
    """Progress on stderr: one line redrawn on a terminal, a line every few seconds otherwise."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.last = 0.0
        self.drawn = False

    def step(self, step: Step) -> None:
        now = time.monotonic()
        final = step.done == step.total
        if not final and now - self.last < (0.2 if self.tty else 5.0):
            return
        self.last = now
        rate = step.judged_now / step.elapsed_s if step.elapsed_s > 0 else 0.0
        left = (step.total - step.done) / rate if rate > 0 else 0.0
        line = (
            f"inspector: judged {step.done}/{step.total} ({100 * step.done / step.total:.0f}%)  "
            f"{rate:.1f} images/s  about {left:.0f} s left  last: {step.sample.name} "
            f"{step.result.outcome}"
        )
        line = visible(line)  # an image's name from the data set
        if self.tty:
            print("\r\x1b[K" + line, end="", file=sys.stderr, flush=True)
            self.drawn = True
        else:
            print(line, file=sys.stderr, flush=True)

    def finish(self) -> None:
        if self.drawn:
            print(file=sys.stderr, flush=True)
            self.drawn = False
