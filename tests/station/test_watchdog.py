"""systemd's watchdog fed by `inspector run`, read as systemd reads it: a unix datagram socket
named by NOTIFY_SOCKET, WATCHDOG_USEC set. READY=1 once running, WATCHDOG=1 while healthy;
nothing more once the station is stuck (a judge that never answers) or in FAULT (a database
that refuses records), so systemd restarts it."""

from __future__ import annotations

import shutil
import signal
import socket
import tempfile
import threading
import time
from pathlib import Path

import pytest

from inspector.config import Settings
from tests.support.command_line import start
from tests.support.recipes import recipe_file
from tests.support.store_faults import refuse_inspections

PERIOD_USEC = "400000"  # the station feeds every 0.2 s


class Manager:
    """The service manager's end: every datagram received, in order, with its arrival time."""

    def __init__(self) -> None:
        # A short path: a unix socket's name is limited to 107 bytes.
        self.folder = Path(tempfile.mkdtemp(prefix="notify-", dir="/tmp"))
        self.path = self.folder / "notify"
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(self.path))
        self.sock.settimeout(1.0)
        self.messages: list[tuple[float, str]] = []

    def env(self, **more: str) -> dict[str, str | None]:
        return {"NOTIFY_SOCKET": str(self.path), "WATCHDOG_USEC": PERIOD_USEC, **more}

    def wait_for(self, condition, deadline_s: float = 120) -> bool:
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            if condition(self.lines()):
                return True
            try:
                data = self.sock.recv(4096)
            except TimeoutError:
                continue
            self.messages.append((time.monotonic(), data.decode()))
        return condition(self.lines())

    def drain(self, seconds: float) -> None:
        self.wait_for(lambda _: False, seconds)

    def lines(self) -> list[str]:
        return [line for _, text in self.messages for line in text.splitlines()]

    def close(self) -> None:
        self.sock.close()
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture
def manager():
    peer = Manager()
    yield peer
    peer.close()


def _stop(station, hard: bool = False) -> str:
    """Ctrl-C, as `systemctl stop` sends it; `hard`: killed, as systemd ends a stuck station
    whose watchdog ran out (a part in hand that never ends would hold a clean stop)."""
    if station.poll() is None:
        station.kill() if hard else station.send_signal(signal.SIGINT)
    _, stderr = station.communicate(timeout=120)
    return stderr


def test_a_running_station_says_ready_and_feeds_the_watchdog(manager, tmp_path):
    station = start("run", data_dir=tmp_path / "data", env=manager.env())
    try:
        fed = manager.wait_for(lambda lines: lines.count("WATCHDOG=1") >= 3)
    finally:
        stderr = _stop(station)
    assert fed, (manager.lines(), stderr)
    lines = manager.lines()
    assert lines[0] == "READY=1" and lines.index("READY=1") < lines.index("WATCHDOG=1")
    assert "STATUS=running" in lines
    manager.wait_for(lambda lines: "STOPPING=1" in lines, 10)
    assert manager.lines()[-1] == "STOPPING=1"
    assert station.returncode == 0, stderr


def test_without_notify_socket_nothing_is_sent_and_the_station_runs(manager, tmp_path):
    station = start(
        "run", "--max-parts", "2", data_dir=tmp_path / "data", env={"WATCHDOG_USEC": PERIOD_USEC}
    )
    _, stderr = station.communicate(timeout=180)
    assert station.returncode == 0, stderr
    manager.drain(0.5)
    assert manager.messages == []


@pytest.fixture
def silent_server():
    """An inference server that accepts a connection and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.5)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                continue
            except OSError:
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/v1"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


def test_a_stuck_station_stops_feeding_the_watchdog(manager, tmp_path, silent_server):
    engine = {"engine": "openai-compatible", "model": "m", "base_url": silent_server}
    recipe = recipe_file(tmp_path, [engine], chain={"timeout_s": 600, "retries": 0})
    station = start(
        "run",
        "--recipe",
        str(recipe),
        data_dir=tmp_path / "data",
        env=manager.env(INSPECTOR_STUCK_AFTER_S="2"),
    )
    try:
        said = manager.wait_for(lambda lines: any(s.startswith("STATUS=stuck") for s in lines))
        assert said, (manager.lines(), station.poll())
        manager.drain(3)  # 15 feeding periods
    finally:
        stderr = _stop(station, hard=True)
    lines = manager.lines()
    assert lines[0] == "READY=1", (lines, stderr)
    assert "more than 2 s for its record" in next(s for s in lines if s.startswith("STATUS=stuck"))
    said_at = next(i for i, (_, m) in enumerate(manager.messages) if m.startswith("STATUS=stuck"))
    assert "WATCHDOG=1" not in [m for _, m in manager.messages[said_at:]], lines


def test_a_station_in_fault_stops_feeding_and_says_why(manager, tmp_path):
    data = tmp_path / "data"
    station = start("run", data_dir=data, env=manager.env())
    try:
        assert manager.wait_for(lambda lines: "WATCHDOG=1" in lines), manager.lines()
        refuse_inspections(Settings.from_env(data_dir=data))  # the next record fails: FAULT
        said = manager.wait_for(lambda lines: "STOPPING=1" in lines)
        _, stderr = station.communicate(timeout=120)  # it stops by itself
    finally:
        if station.poll() is None:
            _stop(station, hard=True)
    assert said, (manager.lines(), stderr)
    assert station.returncode == 4, stderr  # exit on FAULT: systemd restarts it
    lines = manager.lines()
    fault = next(i for i, s in enumerate(lines) if s.startswith("STATUS=FAULT"))
    assert "refuses new inspections" in lines[fault]
    assert "WATCHDOG=1" not in lines[fault:]
