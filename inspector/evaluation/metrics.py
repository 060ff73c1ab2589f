"""The figures of an evaluation run, from its per-image results. Pure: no I/O.

Definitions (what a quality engineer reads them as):
- miss rate: defective images judged PASS, over defective images (UNSURE goes to a person and
  is not a miss);
- overkill: good images judged FAIL, over good images;
- accuracy: good images PASSed plus defective images FAILed, over all images (UNSURE is not
  correct: a person had to look);
- UNSURE rate: UNSURE verdicts over all images;
- recall of a class: the share judged right, PASS for the good class, FAIL for a defect class;
- latency percentiles by nearest rank (p95 of 20 values is the 19th smallest);
- cost: the sum over images whose attempts carry a cost estimate.

A screen's score (the `reference` engine's) gives the threshold sweep: at threshold t, frames
scoring at most t are passed by the screen (a defective one is missed), the rest go on to the
next engine (or fail, when the screen judges alone: a good one is overkill). An image the
screen could not score (not aligned) always goes on.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import Protocol

OUTCOMES = ("PASS", "FAIL", "UNSURE")
_CURVE_POINTS = 200


class Result(Protocol):
    label: str
    expected: str  # "good" or "defect"
    outcome: str
    latency_ms: float
    score: float | None
    engines: tuple[str, ...]
    prompt_tokens: int | None
    completion_tokens: int | None
    cost: float | None
    error: str | None


def compute(results: Sequence[Result]) -> dict:
    """Every figure of a run, as plain data (for the console, JSON and the report)."""
    good = [r for r in results if r.expected == "good"]
    defect = [r for r in results if r.expected != "good"]
    count = Counter((r.expected, r.outcome) for r in results)
    correct = count["good", "PASS"] + count["defect", "FAIL"]
    unsure = sum(1 for r in results if r.outcome == "UNSURE")
    latencies = [r.latency_ms for r in results]
    costs = [r.cost for r in results if r.cost is not None]
    calls = Counter(engine for r in results for engine in r.engines)
    figures = {
        "images": len(results),
        "good": len(good),
        "defect": len(defect),
        "accuracy": _rate(correct, len(results)),
        "miss_rate": _rate(count["defect", "PASS"], len(defect)),
        "overkill": _rate(count["good", "FAIL"], len(good)),
        "unsure_rate": _rate(unsure, len(results)),
        "errors": sum(1 for r in results if r.error),
        "latency_ms": {
            "p50": percentile(latencies, 50),
            "p95": percentile(latencies, 95),
            "mean": sum(latencies) / len(latencies) if latencies else None,
        },
        "tokens": {
            "prompt": sum(r.prompt_tokens or 0 for r in results),
            "completion": sum(r.completion_tokens or 0 for r in results),
        },
        "cost": (
            {"total": sum(costs), "per_image": sum(costs) / len(costs), "priced_images": len(costs)}
            if costs
            else None
        ),
        "engine_calls": dict(sorted(calls.items())),
        "confusion": {
            expected: {outcome: count[expected, outcome] for outcome in OUTCOMES}
            for expected in ("good", "defect")
        },
        "classes": per_class(results),
        "screen": screen_figures(results),
    }
    return figures


def per_class(results: Sequence[Result]) -> list[dict]:
    rows = []
    expected = {r.label: r.expected for r in results}
    # The good class first, then the defect classes by name.
    for label in sorted(expected, key=lambda label: (expected[label] != "good", label)):
        mine = [r for r in results if r.label == label]
        outcomes = Counter(r.outcome for r in mine)
        right = outcomes["PASS"] if expected[label] == "good" else outcomes["FAIL"]
        rows.append(
            {
                "label": label,
                "expected": expected[label],
                "count": len(mine),
                **{outcome: outcomes[outcome] for outcome in OUTCOMES},
                "recall": _rate(right, len(mine)),
            }
        )
    return rows


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile: the smallest value with at least p% of values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100.0 * len(ordered)))
    return ordered[rank - 1]


def auroc(positives: Sequence[float], negatives: Sequence[float]) -> float | None:
    """The chance that a defective image scores above a good one (ties count half)."""
    if not positives or not negatives:
        return None
    ordered = sorted([(s, 1) for s in positives] + [(s, 0) for s in negatives])
    # Mann-Whitney U from mid-ranks, so that tied scores share their rank.
    rank_sum, i = 0.0, 0
    while i < len(ordered):
        j = i
        while j < len(ordered) and ordered[j][0] == ordered[i][0]:
            j += 1
        mid_rank = (i + 1 + j) / 2.0
        rank_sum += mid_rank * sum(1 for _, positive in ordered[i:j] if positive)
        i = j
    n_pos, n_neg = len(positives), len(negatives)
    return (rank_sum - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg)


def sweep(results: Sequence[Result], thresholds: Sequence[float] | None = None) -> list[dict]:
    """Miss rate, overkill and the share handed on, at each threshold of the screen's score."""
    scored = [(_score(r), r.expected == "good") for r in results]
    good = [s for s, is_good in scored if is_good]
    defect = [s for s, is_good in scored if not is_good]
    if thresholds is None:
        finite = sorted({s for s, _ in scored if math.isfinite(s)})
        if len(finite) > _CURVE_POINTS:
            step = (len(finite) - 1) / (_CURVE_POINTS - 1)
            finite = [finite[round(i * step)] for i in range(_CURVE_POINTS)]
        # One point below every score: the screen passes nothing and hands everything on.
        below = (finite[0] - 1.0) if finite else 0.0
        thresholds = [min(below, 0.0), *finite]
    curve = []
    for t in thresholds:
        curve.append(
            {
                "threshold": t,
                "miss_rate": _rate(sum(1 for s in defect if s <= t), len(defect)),
                "overkill": _rate(sum(1 for s in good if s > t), len(good)),
                "handed_on": _rate(sum(1 for s, _ in scored if s > t), len(scored)),
            }
        )
    return curve


def screen_threshold(results: Sequence[Result], max_miss_rate: float = 0.0) -> float | None:
    """The highest threshold at which the screen misses no more than `max_miss_rate`."""
    best = None
    for point in sweep(results):
        miss = point["miss_rate"]
        if miss is not None and miss <= max_miss_rate:
            best = point["threshold"]
    return best


def screen_figures(results: Sequence[Result]) -> dict | None:
    """The screen's part: AUROC of its score, the curve, and the threshold missing nothing."""
    if not any(r.score is not None for r in results):
        return None
    positives = [_score(r) for r in results if r.expected != "good"]
    negatives = [_score(r) for r in results if r.expected == "good"]
    safe = screen_threshold(results, 0.0)
    at_safe = next((p for p in sweep(results, [safe]) if safe is not None), None)
    return {
        "scored": sum(1 for r in results if r.score is not None),
        "auroc": auroc(positives, negatives),
        "curve": sweep(results),
        "zero_miss_threshold": safe,
        "zero_miss_handed_on": at_safe["handed_on"] if at_safe else None,
    }


def _score(result: Result) -> float:
    # Not scored (the frame could not be aligned): as suspect as can be, never passed.
    return math.inf if result.score is None else float(result.score)


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None
