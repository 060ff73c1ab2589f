"""The PLC handshake on loopback: a station (`inspector run --trigger plc`, its own process) and
a PLC (this process: an asyncua client, a pymodbus client) polling ResultValid every 1 ms, as
a fast PLC's scan does (a poll as fast as the network allows would only load the station).

1. Trigger -> ResultValid latency beyond the judge's own time, with an instant judge (the
   scripted engine through the real base class), over OPC UA and Modbus TCP: p50 / p95
   (goal: p95 <= 10 ms). The judge's time of each part is read from its record (judge_ms).
2. The sustained handshake rate (trigger, result, acknowledgement, next part) with the instant
   judge (goal: >= 50 parts/s) and with the reference judge on DeepPCB frames (the demo camera
   and its model-free recipe).

    .venv/bin/python bench/plc_handshake.py [--parts 300]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from inspector.outputs.modbus import text_registers  # noqa: E402

DEMO = ROOT / "assets" / "demo"
CAMERA = f"folder:{DEMO / 'camera'}?loop=1"
USER, PASSWORD = "plc", "bench-password-1"
PASSWORD_STDIN = ("--password-stdin",)
GOAL_P95_MS, GOAL_RATE = 10.0, 50.0
SCAN_S = 0.001  # the PLC reads ResultValid once a millisecond, as a fast PLC's scan does
# The station in its own process, with the scripted engine registered as a plugin would be.
STATION = (
    "import sys; import tests.support.scripted_judge; from inspector.cli import main; "
    "sys.exit(main(sys.argv[1:]))"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def instant_recipe(folder: Path) -> Path:
    path = folder / "instant.yaml"
    path.write_text(
        "name: bench-instant\nversion: 1\nprompt: Inspect.\n"
        "defects: [{name: scratch, severity: major}]\n"
        "engines: [{engine: scripted, delay_s: 0}]\n"
    )
    return path


def environment(data: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INSPECTOR_")}
    env.update(INSPECTOR_DATA_DIR=str(data), HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT))
    return env


def start_station(data: Path, recipe: Path, output: str) -> subprocess.Popen:
    args = ["run", "--source", CAMERA, "--recipe", str(recipe), "--trigger", "plc"]
    return subprocess.Popen(
        [sys.executable, "-c", STATION, *args, "--output", output],
        env=environment(data),
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop(station: subprocess.Popen) -> None:
    station.send_signal(signal.SIGINT)
    station.wait(60)


def judge_ms(data: Path, ids: list[int]) -> np.ndarray:
    with sqlite3.connect(data / "inspector.db") as connection:
        rows = dict(connection.execute("SELECT id, judge_ms FROM inspections"))
    return np.array([rows[i] for i in ids])


# -- the PLCs ------------------------------------------------------------------------------
async def opcua_plc(port: int, parts: int) -> tuple[list[float], list[int], float]:
    from asyncua import Client, ua

    url = f"opc.tcp://127.0.0.1:{port}/inspector/"
    for _ in range(600):
        client = Client(url, timeout=5)
        client.set_user(USER)
        client.set_password(PASSWORD)
        try:
            await client.connect()
            break
        except (TimeoutError, OSError):
            await asyncio.sleep(0.1)
    else:
        raise SystemExit(f"no OPC UA server at {url}")
    try:
        ns = await client.get_namespace_index("urn:inspector:station")

        def node(name: str):
            return client.get_node(ua.NodeId(f"VisionSystem.{name}", ns))

        trigger, part_id = node("Handshake.Trigger"), node("Handshake.PartId")
        valid, ack = node("Handshake.ResultValid"), node("Handshake.ResultAck")
        inspection = node("ResultManagement.Result.InspectionId")
        while not await node("Handshake.Ready").read_value():
            await asyncio.sleep(0.05)
        rounds, ids = [], []
        started = time.perf_counter()
        for i in range(parts):
            t0 = time.perf_counter()
            await client.write_values([part_id, trigger], [f"B-{i:05d}", True])
            while not await valid.read_value():
                await asyncio.sleep(SCAN_S)
            rounds.append((time.perf_counter() - t0) * 1000)
            ids.append(await inspection.read_value())
            await ack.write_value(True)
            while await valid.read_value():
                await asyncio.sleep(SCAN_S)
        return rounds, ids, time.perf_counter() - started
    finally:
        await client.disconnect()


def modbus_plc(port: int, parts: int) -> tuple[list[float], list[int], float]:
    from pymodbus.client import ModbusTcpClient

    client = ModbusTcpClient("127.0.0.1", port=port, timeout=5)
    for _ in range(600):
        if client.connect() and client.read_coils(2, count=1).bits[0]:
            break
        time.sleep(0.1)
    rounds, ids = [], []
    started = time.perf_counter()
    for i in range(parts):
        t0 = time.perf_counter()
        client.write_registers(0, text_registers(f"B-{i:05d}"))
        client.write_coils(0, [True, False])
        while not client.read_coils(4, count=1).bits[0]:
            time.sleep(SCAN_S)
        rounds.append((time.perf_counter() - t0) * 1000)
        r = client.read_holding_registers(30, count=2).registers
        ids.append(r[0] << 16 | r[1])
        client.write_coils(0, [False, True])
        while client.read_coils(4, count=1).bits[0]:
            time.sleep(SCAN_S)
    client.close()
    return rounds, ids, time.perf_counter() - started


def measure(protocol: str, recipe: Path, parts: int, folder: Path) -> dict:
    data = folder / f"{protocol}-{recipe.stem}"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "inspector",
            "user",
            "add",
            USER,
            "--role",
            "admin",
            *PASSWORD_STDIN,
        ],
        input=PASSWORD + "\n",
        text=True,
        env=environment(data),
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    port = free_port()
    station = start_station(data, recipe, f"{protocol}://127.0.0.1:{port}")
    try:
        if protocol == "opcua":
            rounds, ids, seconds = asyncio.run(opcua_plc(port, parts))
        else:
            rounds, ids, seconds = modbus_plc(port, parts)
    finally:
        stop(station)
    beyond = np.array(rounds) - judge_ms(data, ids)
    return {
        "p50": float(np.percentile(beyond, 50)),
        "p95": float(np.percentile(beyond, 95)),
        "judge_p50": float(np.median(judge_ms(data, ids))),
        "rate": parts / seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        recipes = {
            "instant judge": instant_recipe(folder),
            "reference judge, DeepPCB": DEMO / "recipe-reference.yaml",
        }
        print(
            f"{args.parts} parts per run, station and PLC on 127.0.0.1, the PLC polling every 1 ms"
        )
        print(
            f"{'protocol':8} {'judge':26} {'beyond judge p50':>17} {'p95':>8} "
            f"{'judge p50':>10} {'parts/s':>8}"
        )
        for name, recipe in recipes.items():
            for protocol in ("opcua", "modbus"):
                m = measure(protocol, recipe, args.parts, folder)
                print(
                    f"{protocol:8} {name:26} {m['p50']:14.2f} ms {m['p95']:5.2f} ms "
                    f"{m['judge_p50']:7.2f} ms {m['rate']:8.1f}"
                )
        print(f"goals (instant judge): p95 <= {GOAL_P95_MS:g} ms, >= {GOAL_RATE:g} parts/s")


if __name__ == "__main__":
    main()
