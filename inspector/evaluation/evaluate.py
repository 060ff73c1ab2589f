"""Judging a data set with a recipe, image by image, each result recorded as it comes.

A run can be stopped at any point (Ctrl-C) and resumed later by its id: the images already
judged are skipped. Resuming checks that the recipe and the data set are the ones the run
started with, so the figures of one run always come from one recipe version.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from inspector.cameras.images import UnreadableImage, read_image
from inspector.domain import Verdict, unsure
from inspector.errors import InputError
from inspector.evaluation.datasets import Dataset, Sample
from inspector.judges.judge import Progress
from inspector.station.runner import PreparedJudge, prepare_judge
from inspector.store import Store
from inspector.store.evaluations import runs
from inspector.store.evaluations.runs import EvaluationResult, EvaluationRun

# (input, output) price per million tokens, by model id or engine name.
Prices = Mapping[str, tuple[float, float]]


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during a run: the run, as recorded, so the user can be told how to resume it."""

    def __init__(self, run: EvaluationRun) -> None:
        super().__init__(run.short)
        self.run = run


@dataclass(frozen=True)
class Step:
    """What a progress display needs after each image."""

    done: int  # judged in this run so far, resumed ones included
    total: int
    sample: Sample
    result: EvaluationResult
    elapsed_s: float  # since this session of the run started
    judged_now: int  # judged in this session (for the rate)


def evaluate(
    store: Store,
    dataset: Dataset,
    recipe_path: str | Path,
    *,
    resume: str | None = None,
    prices: Prices | None = None,
    progress: Callable[[Step], None] | None = None,
    say: Progress | None = None,
    prepared: PreparedJudge | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> EvaluationRun:
    """Judge every image not yet judged in the run; returns the run as recorded.

    `prepared`: the recipe's judge, already loaded (`load_judge`), so the caller can use the
    same judge afterwards (the report's heat maps); else loaded here. KeyboardInterrupt, or
    `cancelled()` turning true between two images (a window's Cancel), leaves the run marked
    interrupted, every finished image recorded.
    """
    if prepared is None:
        prepared = load_judge(recipe_path, say)
    version_id = store.recipe_version_id(prepared.recipe, prepared.references)
    if resume:
        run = store.find_run(resume)
        _check_same(run, dataset, version_id, recipe_path)
        done = store.judged_images(run.id)
        store.set_run_status(run.id, runs.RUNNING)
    else:
        run = store.start_run(
            dataset=str(dataset.root),
            dataset_kind=dataset.kind,
            reader=dataset.reader,
            image_count=len(dataset.samples),
            recipe_version_id=version_id,
            chain=prepared.chain.description,
        )
        done = set()
    if say:
        verb = "resuming" if resume else "started"
        say(f"evaluation run {run.short} {verb}: {len(dataset.samples)} images, {len(done)} done")
    started = time.perf_counter()
    judged_now = 0
    try:
        for position, sample in enumerate(dataset.samples):
            if sample.name in done:
                continue
            if cancelled is not None and cancelled():
                raise KeyboardInterrupt
            result = judge_sample(prepared.chain, sample, position, prices or {})
            store.add_result(run.id, result)
            done.add(sample.name)
            judged_now += 1
            if progress:
                elapsed = time.perf_counter() - started
                progress(Step(len(done), len(dataset.samples), sample, result, elapsed, judged_now))
    except KeyboardInterrupt:
        store.set_run_status(run.id, runs.INTERRUPTED)
        raise Interrupted(store.get_run(run.id)) from None
    store.set_run_status(run.id, runs.COMPLETE)
    return store.get_run(run.id)


def load_judge(recipe_path: str | Path, say: Progress | None = None) -> PreparedJudge:
    """The recipe's judge chain, loaded, as an evaluation judges with it."""
    prepared = prepare_judge(recipe_path)
    prepared.chain.load(say)
    return prepared


def judge_sample(chain, sample: Sample, position: int, prices: Prices) -> EvaluationResult:
    start = time.perf_counter()
    try:
        image = read_image(sample.path)
    except UnreadableImage as exc:
        verdict: Verdict = unsure(f"cannot read the image: {exc}")
        error: str | None = f"unreadable image: {exc}"
    else:
        verdict = chain.judge(image)
        error = next((a.error for a in reversed(verdict.attempts) if a.error), None)
    latency_ms = (time.perf_counter() - start) * 1000.0
    return EvaluationResult(
        image=sample.name,
        label=sample.label,
        expected="good" if sample.good else "defect",
        outcome=verdict.outcome.value,
        latency_ms=latency_ms,
        reason=verdict.reason,
        boxes=[[d.class_name, *d.box.as_list()] for d in verdict.defects if d.box is not None],
        score=screen_score(verdict),
        engines=tuple(a.engine for a in verdict.attempts),
        prompt_tokens=_sum(a.prompt_tokens for a in verdict.attempts),
        completion_tokens=_sum(a.completion_tokens for a in verdict.attempts),
        cost=_sum(attempt_cost(a, prices) for a in verdict.attempts),
        error=error,
        position=position,
    )


def screen_score(verdict: Verdict) -> float | None:
    """The score a golden-image comparison gave the frame (its answer's `score`), if any."""
    for attempt in verdict.attempts:
        text = attempt.raw_text
        if not text.startswith("{") or '"score"' not in text:
            continue
        try:
            value = json.loads(text).get("score")
        except (ValueError, AttributeError):
            continue
        if isinstance(value, int | float) and math.isfinite(value):
            return float(value)
    return None


def attempt_cost(attempt, prices: Prices) -> float | None:
    """The attempt's own estimate where the engine gives one, else its tokens at list price."""
    own = getattr(attempt, "cost_usd", None)
    if own is not None:
        return own
    price = prices.get(attempt.model_id) or prices.get(attempt.engine)
    if price is None or (attempt.prompt_tokens is None and attempt.completion_tokens is None):
        return None
    return (
        (attempt.prompt_tokens or 0) * price[0] + (attempt.completion_tokens or 0) * price[1]
    ) / 1e6


def parse_prices(entries: list[str] | None) -> dict[str, tuple[float, float]]:
    """`MODEL=IN,OUT` (per million tokens) entries from the command line."""
    prices = {}
    for entry in entries or []:
        name, _, values = entry.partition("=")
        try:
            price_in, price_out = (float(v) for v in values.split(","))
        except ValueError:
            raise InputError(
                f"--price {entry!r}: expected MODEL=INPUT,OUTPUT in currency per million "
                "tokens, e.g. gpt-4.1=2,8"
            ) from None
        prices[name.strip()] = (price_in, price_out)
    return prices


def _check_same(run: EvaluationRun, dataset: Dataset, version_id: int, recipe: str | Path) -> None:
    if run.recipe_version_id != version_id:
        raise InputError(
            f"evaluation run {run.short} was judged with recipe {run.recipe} v{run.recipe_version}"
            f", not the one in {recipe}; resume it with the same recipe, or start a new run"
        )
    if run.dataset != str(dataset.root) or run.reader != dataset.reader:
        raise InputError(
            f"evaluation run {run.short} judged the data set {run.dataset} "
            f"(read with {run.reader}); resume it with the same data set and options"
        )
    if run.status == runs.COMPLETE:
        raise InputError(f"evaluation run {run.short} is already complete; nothing to resume")


def _sum(values) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) if present else None
