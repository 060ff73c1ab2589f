"""Station overhead per frame, capture to persisted verdict, with an instant judge.

The judge is the scripted engine through the real base class (prompt, parser, attempt record),
answering at once, so what is measured is the station: queue hand-off, evidence encoding and
hashing, the evidence file, and the SQLite transaction. Frames are real PCB images scaled to
each size. Target: p95 <= 5 ms at 1920x1080.

A second table gives the same with a judge that takes 50 ms (as a model on a GPU does, leaving
the CPU free): the station encodes the evidence while the model runs, so its overhead is the
committed latency less the judge's own time.

    .venv/bin/python bench/station_overhead.py [--frames 300]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import tests.support.scripted_judge  # noqa: E402,F401 - registers the scripted engine
from bench.memory_source import MemorySource  # noqa: E402
from inspector.config import Settings  # noqa: E402
from inspector.judges import build_chain  # noqa: E402
from inspector.recipes import parse_recipe  # noqa: E402
from inspector.station import InspectionRecorded, Station, TriggerPolicy  # noqa: E402
from inspector.store import Store  # noqa: E402

SIZES = [(640, 480), (1920, 1080)]
TARGET_P95_MS = 5.0


def real_images(width: int, height: int) -> list[np.ndarray]:
    folder = ROOT / "assets" / "demo" / "camera"
    return [cv2.resize(cv2.imread(str(p)), (width, height)) for p in sorted(folder.glob("*.jpg"))]


def measure(
    width: int, height: int, frames: int, evidence_format: str, judge_s: float = 0.0
) -> np.ndarray:
    engine = {"engine": "scripted", "delay_s": judge_s}
    recipe = parse_recipe(
        {"name": "bench", "version": 1, "prompt": "Inspect.", "engines": [engine]}, "bench"
    )
    with tempfile.TemporaryDirectory() as folder:
        store = Store.open(Settings.from_env(data_dir=folder), evidence_format)
        chain = build_chain(recipe, "bench")
        version = store.recipe_version_id(recipe, [])
        # The next part arrives when the last verdict is committed: pure latency, no queueing.
        gate = threading.Semaphore(1)
        source = MemorySource(real_images(width, height), frames, gate)
        station = Station.for_camera(source, chain, recipe, version, store, TriggerPolicy.TRIGGERED)
        latencies = []

        def on_event(event) -> None:
            if isinstance(event, InspectionRecorded):  # emitted once the row is committed
                total = (time.monotonic_ns() - event.frame.captured_monotonic_ns) / 1e6
                latencies.append(total - (event.timings.judge_ms if judge_s else 0.0))
                gate.release()

        station.subscribe(on_event)
        station.start()
        station.wait()
        store.close()
    return np.array(latencies[10:])  # the first frames warm caches and the connection pool


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames", type=int, default=300)
    args = parser.parse_args()
    print(f"station overhead per frame, capture -> committed verdict ({args.frames} frames)")
    for judge_s, title in ((0.0, "instant judge"), (0.05, "50 ms judge, overhead beyond it")):
        print(f"{title}:")
        for evidence_format in ("jpeg", "png"):
            for width, height in SIZES:
                frames = args.frames if not judge_s else args.frames // 4
                ms = measure(width, height, frames, evidence_format, judge_s)
                p50, p95 = np.percentile(ms, [50, 95])
                line = (
                    f"  {evidence_format:4} {width}x{height}: p50 {p50:6.2f} ms  p95 {p95:6.2f} ms"
                )
                if (width, height) == (1920, 1080):
                    line += f"  p95/target {p95 / TARGET_P95_MS:4.2f}"
                print(line)


if __name__ == "__main__":
    main()
