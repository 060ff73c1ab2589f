"""The window's tests, many times in a row: does any run hang?

One hang in a window test (the GUI thread waiting on a Qt lock while a worker thread that held
it waited for the GIL) was seen once in many runs, so a single green run proves little. This runs
the window test modules N times, each in its own process (a fresh QApplication), under Xvfb when
it is installed (else Qt's offscreen platform), each with a deadline. A run past its deadline is
a hang: pytest's faulthandler dumps every thread's stack into the run's log a little before the
deadline, then the run's process group is killed and the next run starts.

    python bench/ui_stress.py                       # 50 runs of tests/ui, 600 s each
    python bench/ui_stress.py --runs 10 --timeout 300 tests/ui/test_ui.py tests/ui/test_layout.py

It prints a line per run and then: runs, passed, hangs, failures, and the time per run
(median, slowest). Exit 0 only when no run hung or failed. The children never inherit the
caller's INSPECTOR_* environment (a developer's database or data directory).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_TESTS = ("tests/ui",)


@dataclass(frozen=True)
class Run:
    number: int
    status: str  # "passed", "failed", "hung"
    seconds: float
    log: Path
    summary: str


def child_environment(display: str) -> dict[str, str]:
    """The caller's environment without INSPECTOR_*, with the repository importable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("INSPECTOR_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    env["QT_QPA_PLATFORM"] = display
    env["PYTHONFAULTHANDLER"] = "1"
    return env


def command(tests: list[str], timeout: float, display: str) -> list[str]:
    pytest = [
        sys.executable,
        "-m",
        "pytest",
        *tests,
        "-q",
        "-p",
        "no:cacheprovider",
        # Every thread's stack into the log shortly before the run is killed as hung.
        "-o",
        f"faulthandler_timeout={max(10, int(timeout * 0.9))}",
    ]
    if display == "xcb":
        # A real X server (Xvfb) per run, as an operator's screen would be.
        return ["xvfb-run", "-a", "-s", "-screen 0 1920x1080x24", *pytest]
    return pytest


def run_once(number: int, tests: list[str], timeout: float, display: str, logs: Path) -> Run:
    log = logs / f"run-{number:03d}.log"
    started = time.perf_counter()
    with log.open("w") as out:
        process = subprocess.Popen(
            command(tests, timeout, display),
            cwd=ROOT,
            env=child_environment(display),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: a hang is killed whole
        )
        try:
            code = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            code = None
    seconds = time.perf_counter() - started
    lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
    summary = lines[-1] if lines else ""
    if code is None:
        return Run(number, "hung", seconds, log, f"killed after {timeout:.0f} s")
    return Run(number, "passed" if code == 0 else "failed", seconds, log, summary)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tests", nargs="*", default=list(DEFAULT_TESTS))
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per run")
    parser.add_argument(
        "--display",
        choices=("auto", "xcb", "offscreen"),
        default="auto",
        help="xcb: under Xvfb (xvfb-run); auto: Xvfb when installed, else offscreen",
    )
    parser.add_argument("--logs", type=Path, help="folder for each run's output (default: temp)")
    parser.add_argument("--stop-on-hang", action="store_true")
    parser.add_argument(
        "--max-minutes", type=float, help="start no run after this long (the summary still prints)"
    )
    args = parser.parse_args(argv)
    display = args.display
    if display == "auto":
        display = "xcb" if shutil.which("xvfb-run") else "offscreen"
    logs = args.logs or Path(tempfile.mkdtemp(prefix="ui-stress-"))
    logs.mkdir(parents=True, exist_ok=True)
    print(
        f"{args.runs} runs of {' '.join(args.tests)} on {display}, {args.timeout:.0f} s each; "
        f"logs in {logs}",
        flush=True,
    )
    runs: list[Run] = []
    began = time.monotonic()
    for number in range(1, args.runs + 1):
        if args.max_minutes is not None and time.monotonic() - began > args.max_minutes * 60:
            print(f"stopped starting runs after {args.max_minutes:g} minutes", flush=True)
            break
        run = run_once(number, args.tests, args.timeout, display, logs)
        runs.append(run)
        print(f"run {number:3d}: {run.status:6s} {run.seconds:7.1f} s  {run.summary}", flush=True)
        if run.status == "hung" and args.stop_on_hang:
            break
    hung = [r for r in runs if r.status == "hung"]
    failed = [r for r in runs if r.status == "failed"]
    times = [r.seconds for r in runs if r.status != "hung"]
    print(f"\nruns {len(runs)}, passed {len(runs) - len(hung) - len(failed)}, ", end="")
    print(f"hangs {len(hung)}, failures {len(failed)}")
    if times:
        print(
            f"time per run: median {statistics.median(times):.1f} s, "
            f"fastest {min(times):.1f} s, slowest {max(times):.1f} s"
        )
    for run in hung + failed:
        print(f"  run {run.number} {run.status}: {run.log}")
    return 0 if not hung and not failed else 1


if __name__ == "__main__":
    sys.exit(main())
