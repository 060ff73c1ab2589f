"""`inspector eval`: evaluate a recipe on a labelled data set, list runs, compare two."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from inspector.errors import InputError
from inspector.evaluation import metrics, report
from inspector.evaluation.datasets import read_dataset
from inspector.evaluation.evaluate import Interrupted, Step, evaluate, parse_prices
from inspector.store import Store
from inspector.store.evaluations import runs


def main(args, settings) -> int:
    """The handler of `inspector eval` (arguments as inspector.cli defines them)."""
    store = Store.open(settings)
    try:
        if args.list:
            return _list(store, args)
        if args.compare:
            return _compare(store, args)
        return _evaluate(store, args)
    finally:
        store.close()


def _evaluate(store: Store, args) -> int:
    if args.dataset is None or args.recipe is None:
        raise InputError(
            "eval: give a data set and a recipe: inspector eval DATASET --recipe RECIPE.yaml "
            "(or --compare RUN1 RUN2, or --list)"
        )
    dataset = read_dataset(args.dataset, args.good_label, args.image_column, args.label_column)
    prices = parse_prices(args.price)
    display = _Display()
    try:
        run = evaluate(
            store,
            dataset,
            args.recipe,
            resume=args.resume,
            prices=prices,
            progress=display.step,
            say=_say,
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
    results = runs.results(store.engine, run.id)
    figures = metrics.compute(results)
    if args.report:
        kind = report.write(Path(args.report), run, figures)
        _say(f"{kind} report written to {args.report}")
    if args.json:
        print(json.dumps({"run": _run_dict(run), "figures": figures}, indent=2, default=str))
    else:
        for line in report.summary_lines(run, figures):
            print(line)
    return 0


def _compare(store: Store, args) -> int:
    run_a, run_b = (runs.find_run(store.engine, ref) for ref in args.compare)
    results_a = runs.results(store.engine, run_a.id)
    results_b = runs.results(store.engine, run_b.id)
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
            print(line)
    return 0


def _list(store: Store, args) -> int:
    listed = runs.list_runs(store.engine)
    if args.json:
        print(json.dumps([_run_dict(r) for r in listed], indent=2, default=str))
        return 0
    if not listed:
        print("no evaluation runs recorded yet")
    for r in listed:
        print(
            f"{r.short}  {r.started_at:%Y-%m-%d %H:%M}  {r.status:<11} {r.judged:>6}/"
            f"{r.image_count:<6} {r.recipe} v{r.recipe_version}  {r.dataset}"
        )
    return 0


def _run_dict(run: runs.EvaluationRun) -> dict:
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
    print(f"inspector: {message}", file=sys.stderr, flush=True)


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
        if self.tty:
            print("\r\x1b[K" + line, end="", file=sys.stderr, flush=True)
            self.drawn = True
        else:
            print(line, file=sys.stderr, flush=True)

    def finish(self) -> None:
        if self.drawn:
            print(file=sys.stderr, flush=True)
            self.drawn = False
