"""The model-answer parser's time against the answer's length: linear, 1 MB in milliseconds.

Each shape is built at 1 KB, 10 KB, 100 KB and 1 MB (characters) and read with `read_verdict`
as every engine's answer is; the time is the best of several runs. The ratio time(1 MB) /
time(1 KB) shows the growth: 1000 is linear, 1,000,000 would be quadratic (before this parser,
16 k characters of `{` took 9 s: each `{` re-scanned the rest of the answer).

Honest shapes are read whole. Hostile shapes (all `{`, deep nesting, many objects, all `"`) are
refused early by the parser's limits (MAX_TOKENS, MAX_DEPTH, answer_json.py), so their time
stops growing; `--lifted` lifts those limits to show the scan itself is linear without them.

    .venv/bin/python bench/answer_parser.py [--lifted]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from inspector.judges import answer_json  # noqa: E402
from inspector.judges.answers import BoxConvention, ImageGeometry, read_verdict  # noqa: E402
from inspector.recipes import parse_recipe  # noqa: E402

SIZES = (1_000, 10_000, 100_000, 1_000_000)
RECIPE = parse_recipe(
    {
        "name": "bench",
        "version": 1,
        "prompt": "Inspect.",
        "defects": [{"name": "scratch", "severity": "major"}, {"name": "dent"}],
    },
    "bench",
)
GEOMETRY = ImageGeometry.whole(1280, 960)
VERDICT = json.dumps(
    {
        "outcome": "FAIL",
        "defects": [
            {"class": "scratch", "box": [100, 120, 300, 180], "confidence": 0.9},
            {"class": "dent", "box": [500, 600, 560, 650], "confidence": 0.8},
        ],
        "confidence": 0.9,
        "reason": "a scratch across the bracket and a dent near the hole",
    }
)
PASS = '{"outcome": "PASS", "defects": []}'


def _fill(unit: str, size: int, tail: str = "") -> str:
    return (unit * (size // len(unit) + 1))[: max(size - len(tail), 0)] + tail


SHAPES: dict[str, Callable[[int], str]] = {
    # honest: prose (or a thinking block) then the verdict, read whole
    "prose + verdict": lambda n: _fill("The bracket is inspected closely. ", n, VERDICT),
    "thinking + verdict": lambda n: (
        "<think>" + _fill("is that a scratch? ", n - 15 - len(VERDICT)) + "</think>" + VERDICT
    ),
    "fenced verdict + prose": lambda n: (
        _fill(" Checked.", n - len(VERDICT) - 12) + f"```json\n{VERDICT}\n```"
    ),
    # hostile
    "all {": lambda n: "{" * n,
    'deep nesting {"a":': lambda n: _fill('{"a":', n),
    "many objects": lambda n: _fill(PASS, n),
    'all "': lambda n: '"' * n,
    "stray { + spaces": lambda n: "{" + " " * (n - 1),
    "<ref> flood": lambda n: _fill("<ref>", n),
    "outcome: words": lambda n: _fill("outcome: pass ", n),
}


def best_time(text: str) -> tuple[float, str]:
    runs, total, best = 0, 0.0, float("inf")
    outcome = ""
    while runs < 3 or (total < 0.3 and runs < 200):
        start = time.perf_counter()
        verdict = read_verdict(text, RECIPE, GEOMETRY, BoxConvention.XYXY_1000)
        elapsed = time.perf_counter() - start
        best, total, runs = min(best, elapsed), total + elapsed, runs + 1
        outcome = verdict.outcome.value
    return best, outcome


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lifted", action="store_true", help="lift MAX_TOKENS and MAX_DEPTH")
    args = parser.parse_args()
    if args.lifted:
        answer_json.MAX_TOKENS = answer_json.MAX_DEPTH = 10**9
    limits = "lifted" if args.lifted else "as shipped"
    print(
        f"read_verdict, best of runs, limits {limits} "
        f"(MAX_TOKENS {answer_json.MAX_TOKENS}, MAX_DEPTH {answer_json.MAX_DEPTH})"
    )
    header = "".join(f"{f'{n // 1000} KB':>11}" for n in SIZES)
    print(f"{'shape':<24}{header}{'1MB/1KB':>10}  outcome at 1 MB")
    for name, build in SHAPES.items():
        cells, times, outcome = [], [], ""
        for size in SIZES:
            text = build(size)
            assert abs(len(text) - size) <= size // 100 + 64, (name, size, len(text))
            seconds, outcome = best_time(text)
            times.append(seconds)
            cells.append(f"{seconds * 1000:>8.3f} ms")
        ratio = times[-1] / times[0]
        print(f"{name:<24}{''.join(cells)}{ratio:>10.0f}  {outcome}")


if __name__ == "__main__":
    main()
