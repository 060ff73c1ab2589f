"""A station on the line for tests: `inspector run --trigger plc` on the demo camera with the
model-free reference recipe, serving the PLC handshake; its records read back from SQLite."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import time
from pathlib import Path

from tests.support.command_line import inspector, start
from tests.support.paths import ROOT

DEMO = ROOT / "assets" / "demo"
REFERENCE_RECIPE = DEMO / "recipe-reference.yaml"
# The demo camera as fast as it is read: each PLC trigger takes the next board.
DEMO_CAMERA = f"folder:{DEMO / 'camera'}?loop=1"
PLC_USER, PLC_PASSWORD = "plc", "line-password-1"


def add_plc_account(data_dir: Path) -> None:
    """The account the PLC logs in with (the first account of a station is an administrator)."""
    result = inspector(
        "user",
        "add",
        PLC_USER,
        "--role",
        "admin",
        "--password-stdin",
        data_dir=data_dir,
        input=PLC_PASSWORD + "\n",
    )
    assert result.returncode == 0, result.stderr


def start_line_station(
    data_dir: Path, *outputs: str, recipe: Path = REFERENCE_RECIPE, camera: str = DEMO_CAMERA
) -> subprocess.Popen:
    """The station, its output going to files beside its data (a pipe nobody reads while the
    PLC runs would fill up and hold the station's record thread on its next line)."""
    args = ["run", "--source", camera, "--recipe", str(recipe), "--trigger", "plc", "--json"]
    for output in outputs:
        args += ["--output", output]
    data_dir.mkdir(parents=True, exist_ok=True)
    stdout = (data_dir / "stdout.txt").open("w")
    stderr = (data_dir / "stderr.txt").open("w")
    station = start(*args, data_dir=data_dir, stdout=stdout, stderr=stderr)
    station.files = (stdout, stderr)  # type: ignore[attr-defined]
    station.data_dir = data_dir  # type: ignore[attr-defined]
    return station


def stop_station(station: subprocess.Popen) -> tuple[str, str]:
    """Ctrl-C, as an operator stops it; its output once it has ended."""
    if station.poll() is None:
        station.send_signal(signal.SIGINT)
    station.wait(timeout=60)
    for handle in station.files:  # type: ignore[attr-defined]
        handle.close()
    data_dir = station.data_dir  # type: ignore[attr-defined]
    stdout = (data_dir / "stdout.txt").read_text()
    stderr = (data_dir / "stderr.txt").read_text()
    assert station.returncode == 0, stderr
    return stdout, stderr


def records(data_dir: Path) -> list[tuple[int, str | None, str, str]]:
    """(id, part id, outcome, reason) of every inspection, in order."""
    with sqlite3.connect(data_dir / "inspector.db") as connection:
        rows = connection.execute(
            "SELECT id, part_id, outcome, reason FROM inspections ORDER BY id"
        )
        return list(rows)


def wait_for(check, timeout: float = 30.0, what: str = "the station") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"{what} did not come up within {timeout} s")
