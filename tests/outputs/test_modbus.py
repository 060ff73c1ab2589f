"""A PLC played by a real pymodbus client runs the handshake against `inspector run --trigger plc
--output modbus://...` on the demo camera (reference recipe, no model): 200 parts, each trigger
answered once, the results equal to the records; then bad input, refused and counted."""

from __future__ import annotations

import signal
import subprocess
import time

import pytest

from inspector.outputs.modbus import registers_text, text_registers
from tests.support.line_station import records, start_line_station, stop_station, wait_for
from tests.support.ports import free_port

pytest.importorskip("pymodbus")
from pymodbus.client import ModbusTcpClient

PARTS = 200
# The map (README "Modbus TCP map"): coils and holding registers.
TRIGGER, RESULT_ACK, READY, BUSY, RESULT_VALID = 0, 1, 2, 3, 4
PART_ID, COMMAND = 0, 35
STATE, RESULT_CODE, ERROR, SEQUENCE = 16, 18, 20, 21
ILLEGAL_DATA_ADDRESS = 2


class Plc:
    def __init__(self, client: ModbusTcpClient) -> None:
        self.client = client

    def bit(self, address: int) -> bool:
        return self.client.read_coils(address, count=1).bits[0]

    def wait(self, address: int, value: bool, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.bit(address) == value:
                return
        state = self.client.read_holding_registers(STATE, count=6).registers
        raise AssertionError(f"coil {address} did not become {value}: registers 16-21 {state}")

    def result(self) -> dict:
        r = self.client.read_holding_registers(16, count=72).registers
        at = lambda address: r[address - 16]  # noqa: E731
        return {
            "code": at(18),
            "defects": at(19),
            "sequence": at(21),
            "inspection_id": at(30) << 16 | at(31),
            "reason": at(34),
            "part_id": registers_text(r[40 - 16 : 56 - 16]),
            "first_defect": registers_text(r[56 - 16 : 72 - 16]),
            "counters": [at(a) << 16 | at(a + 1) for a in (22, 24, 26, 28)],
        }

    def part(self, part_id: str, by_register: bool) -> dict:
        """One part through the whole handshake: coils, or the command register."""
        self.client.write_registers(PART_ID, text_registers(part_id))
        if by_register:
            self.client.write_register(COMMAND, 1)
        else:
            self.client.write_coils(TRIGGER, [True, False])  # Trigger up, ResultAck down
        self.wait(RESULT_VALID, True)
        result = self.result()
        if by_register:
            self.client.write_register(COMMAND, 2)
        else:
            self.client.write_coils(TRIGGER, [False, True])  # Trigger down, ResultAck up
        self.wait(RESULT_VALID, False)
        return result


def test_a_plc_runs_200_parts_over_modbus_and_bad_input_is_refused(tmp_path):
    data = tmp_path / "data"
    port = free_port()
    station = start_line_station(data, f"modbus://127.0.0.1:{port}")
    client = ModbusTcpClient("127.0.0.1", port=port, timeout=5)
    try:
        wait_for(client.connect, what="the Modbus server")
        plc = Plc(client)
        wait_for(lambda: plc.bit(READY), what="Ready")
        results = [plc.part(f"SN-{i:04d}", by_register=i % 4 == 3) for i in range(PARTS)]

        # Bad input: each answered with exception 02 (illegal data address) and counted.
        refused = {
            "unknown register": client.write_register(200, 1),
            "unknown coil": client.write_coil(50, True),
            "read-only register": client.write_register(STATE, 3),
            "read-only coil": client.write_coil(BUSY, True),
            "read past the map": client.read_holding_registers(80, count=20),
        }
        # A trigger while the last result waits for its acknowledgement: refused, counted.
        client.write_registers(PART_ID, text_registers("SN-busy-1"))
        client.write_coils(TRIGGER, [True, False])
        plc.wait(RESULT_VALID, True)
        client.write_coils(TRIGGER, [False, False])
        client.write_coil(TRIGGER, True)  # a second rising edge before the ResultAck
        busy_error = client.read_holding_registers(ERROR, count=1).registers[0]
        busy_result = plc.result()
        client.write_coils(TRIGGER, [False, True])
        plc.wait(RESULT_VALID, False)
        after = plc.part("SN-after", by_register=False)  # the station goes on
    finally:
        client.close()
        stdout, stderr = stop_station(station)

    assert [r["part_id"] for r in results] == [f"SN-{i:04d}" for i in range(PARTS)]
    assert [r["sequence"] for r in results] == list(range(1, PARTS + 1))
    rows = {row[0]: row for row in records(data)}
    assert len(rows) == PARTS + 2
    codes = {"PASS": 1, "FAIL": 2, "UNSURE": 2}  # the demo recipe rejects UNSURE parts
    for result in results:
        _, part_id, outcome, _ = rows[result["inspection_id"]]
        assert part_id == result["part_id"]
        assert result["code"] == codes[outcome] and result["reason"] == 0  # a verdict
    assert {r["code"] for r in results[0::2]} == {2}  # the demo camera's defective boards
    assert {r["first_defect"] for r in results[0::2]} == {"deviation"}
    assert {(r["code"], r["defects"], r["first_defect"]) for r in results[1::2]} == {(1, 0, "")}

    for what, answer in refused.items():
        assert answer.isError(), what
        assert answer.exception_code == ILLEGAL_DATA_ADDRESS, what
    assert busy_error == 1  # ErrorCode.BUSY
    assert busy_result["part_id"] == "SN-busy-1"
    assert after["part_id"] == "SN-after"
    # triggers, results, errors (5 refused requests and the busy trigger), busy rejections
    assert after["counters"] == [PARTS + 3, PARTS + 2, 6, 1]
    log = (data / "logs" / "inspector.log").read_text()
    assert "PLC handshake: Modbus write to registers 200+1 (UNKNOWN_ADDRESS)" in log
    assert "PLC handshake: Modbus write to read-only Busy (READ_ONLY)" in log
    n = PARTS + 2
    assert f"stopped: {n} frames captured, {n} judged, {n} recorded" in stderr
    assert len(stdout.splitlines()) == n


def test_a_plc_station_that_cannot_serve_the_line_says_why_and_records_nothing(tmp_path):
    import socket
    import sqlite3

    from tests.support.command_line import inspector
    from tests.support.line_station import DEMO_CAMERA, REFERENCE_RECIPE

    data = tmp_path / "data"
    base = ["run", "--source", DEMO_CAMERA, "--recipe", str(REFERENCE_RECIPE), "--trigger", "plc"]
    no_plc = inspector(*base, data_dir=data)
    assert no_plc.returncode == 2
    assert "--trigger plc needs a PLC to listen to: add --output" in no_plc.stderr
    bad_port = inspector(*base, "--output", "modbus://127.0.0.1:port", data_dir=data)
    assert bad_port.returncode == 2
    assert "output modbus://127.0.0.1:port: the port must be a number" in bad_port.stderr
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        in_use = inspector(*base, "--output", f"modbus://127.0.0.1:{port}", data_dir=data)
    assert in_use.returncode != 0 and "Traceback" not in in_use.stderr
    assert (
        f"output modbus://127.0.0.1:{port}: the Modbus server cannot serve on 127.0.0.1:{port}"
        in in_use.stderr
    )
    with sqlite3.connect(data / "inspector.db") as connection:  # nothing recorded, no recipe
        assert connection.execute("SELECT count(*) FROM inspections").fetchone() == (0,)
        assert connection.execute("SELECT count(*) FROM recipe_versions").fetchone() == (0,)


def test_a_station_on_its_own_trigger_publishes_each_recorded_part(tmp_path):
    """Without --trigger plc the station runs on its own (state RUNNING): the PLC reads each
    recorded part as the last result, and a PLC trigger is refused as not ready."""
    from tests.support.command_line import start
    from tests.support.line_station import DEMO, REFERENCE_RECIPE

    data = tmp_path / "data"
    port = free_port()
    camera = f"folder:{DEMO / 'camera'}?loop=1&fps=20"
    station = start(
        *("run", "--source", camera, "--recipe", str(REFERENCE_RECIPE)),
        *("--output", f"modbus://127.0.0.1:{port}"),
        data_dir=data,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    client = ModbusTcpClient("127.0.0.1", port=port, timeout=5)
    try:
        wait_for(client.connect, what="the Modbus server")
        plc = Plc(client)
        wait_for(lambda: plc.result()["sequence"] >= 5, what="five results")
        state = client.read_holding_registers(STATE, count=1).registers[0]
        seen = plc.result()
        client.write_coils(TRIGGER, [True, False])
        refused = client.read_holding_registers(ERROR, count=1).registers[0]
        ready = plc.bit(READY)
    finally:
        client.close()
        station.send_signal(signal.SIGINT)
        _, stderr = station.communicate(timeout=60)
    assert station.returncode == 0, stderr
    assert state == 2  # RUNNING
    assert (refused, ready) == (2, False)  # not ready: the station takes its own parts
    rows = {row[0]: row for row in records(data)}
    assert rows[seen["inspection_id"]][1] == seen["part_id"]  # the file's name, as recorded
    assert seen["code"] == {"PASS": 1, "FAIL": 2}[rows[seen["inspection_id"]][2]]
