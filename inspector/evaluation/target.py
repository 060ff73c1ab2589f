"""Tuning a recipe to a target miss rate: the threshold of the screen's score that meets it on a
labelled set, the overkill it costs, and how sure that miss rate is for the set's size.

A frame scoring at most the threshold passes (`reference` and `texture` alike, alone or as a
screen). The threshold chosen is the highest that lets at most floor(target x defects) defective
images pass, set midway between the last score passed and the first defect stopped, so that a
rounding of the score cannot move an image across it. The miss rate's interval is the exact
(Clopper-Pearson) binomial interval at `confidence`: with 50 defective images and no miss, the
true miss rate may still be up to 7%: a set that small cannot promise 1%. Pure: no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from inspector.evaluation.metrics import Result


def clopper_pearson(misses: int, total: int, confidence: float = 0.95) -> tuple[float, float]:
    """The exact two-sided interval of a binomial proportion (misses of total)."""
    if total <= 0:
        return 0.0, 1.0
    alpha = 1 - confidence
    low = 0.0 if misses == 0 else _solve(lambda p: _upper_tail(misses, total, p) - alpha / 2)
    high = 1.0 if misses == total else _solve(lambda p: alpha / 2 - _cdf(misses, total, p))
    return low, high


def _cdf(k: int, n: int, p: float) -> float:
    """P(X <= k) for X ~ Binomial(n, p), summed in log space (safe for large n)."""
    if p <= 0:
        return 1.0
    if p >= 1:
        return 0.0 if k < n else 1.0
    lp, lq = math.log(p), math.log1p(-p)
    terms = [
        math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * lp + (n - i) * lq
        for i in range(k + 1)
    ]
    top = max(terms)
    return min(1.0, math.exp(top) * sum(math.exp(t - top) for t in terms))


def _upper_tail(k: int, n: int, p: float) -> float:
    return 1.0 - _cdf(k - 1, n, p)  # P(X >= k)


def _solve(increasing) -> float:
    """The root in [0, 1] of a function that grows with p, by bisection."""
    low, high = 0.0, 1.0
    for _ in range(60):
        mid = (low + high) / 2
        if increasing(mid) < 0:
            low = mid
        else:
            high = mid
    return (low + high) / 2


def target_threshold(
    results: Sequence[Result], target_miss: float, confidence: float = 0.95
) -> dict:
    """The operating point meeting `target_miss` on these results (those with a score)."""
    if not 0 <= target_miss < 1:
        raise ValueError("the target miss rate is a fraction from 0 up to 1, e.g. 0.01")
    scored = [r for r in results if r.score is not None and math.isfinite(r.score)]
    good = sorted(float(r.score) for r in scored if r.expected == "good")
    defect = sorted(float(r.score) for r in scored if r.expected != "good")
    unscored = len(results) - len(scored)
    if not defect or not good:
        raise ValueError(
            "the labelled set needs scored good and defective images to tune a threshold "
            f"({len(good)} good and {len(defect)} defective were scored)"
        )
    allowed = math.floor(target_miss * len(defect) + 1e-9)
    # The lowest-scoring defect that must be stopped (none: every defect may pass).
    stop = math.inf if allowed >= len(defect) else defect[allowed]
    below = [s for s in good + defect if s < stop]
    last = max(below) if below else stop / 2
    threshold = (last + stop) / 2 if math.isfinite(stop) else last * 1.01
    misses = sum(1 for s in defect if s <= threshold)
    overkill = sum(1 for s in good if s > threshold)
    low, high = clopper_pearson(misses, len(defect), confidence)
    return {
        "target_miss": target_miss,
        "threshold": threshold,
        "defects": len(defect),
        "good": len(good),
        "unscored": unscored,
        "misses": misses,
        "miss_rate": misses / len(defect),
        "miss_interval": [low, high],
        "confidence": confidence,
        "meets_target_with_confidence": high <= target_miss,
        "overkill": overkill / len(good),
        "overkilled": overkill,
        "passed": sum(1 for s in good + defect if s <= threshold) / (len(good) + len(defect)),
    }


def describe(point: dict) -> list[str]:
    low, high = point["miss_interval"]
    lines = [
        f"target miss rate {point['target_miss']:.2%}: threshold {point['threshold']:.4g}",
        f"  misses {point['misses']}/{point['defects']} = {point['miss_rate']:.2%} "
        f"({point['confidence']:.0%} interval {low:.2%} to {high:.2%})",
        f"  overkill {point['overkilled']}/{point['good']} = {point['overkill']:.2%}; "
        f"{point['passed']:.1%} of images passed by the score alone",
    ]
    if not point["meets_target_with_confidence"]:
        need = math.ceil(math.log(1 - point["confidence"]) / math.log(1 - point["target_miss"]))
        lines.append(
            f"  this set is too small to promise {point['target_miss']:.2%} at "
            f"{point['confidence']:.0%} confidence: about {need} defective images with no "
            "miss would be needed"
        )
    if point["unscored"]:
        lines.append(f"  {point['unscored']} images had no score and always go on (not passed)")
    return lines
