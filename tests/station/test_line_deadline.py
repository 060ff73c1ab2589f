"""The line's deadline: a judge slower than the recipe's `line.deadline_ms` gets the fail-safe
answer to the PLC at the deadline (tolerance: +50 ms), and the part is recorded UNSURE with
the reason "deadline", carrying the judge's late answer as its attempt; a judge in time is
answered with its own verdict. A station in FAULT answers FAULT. The PLC is a real Modbus
client; the station runs in this process with a scripted judge (tests/support)."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

import tests.support.scripted_judge  # noqa: F401 - registers the scripted engine
from inspector.config import Settings
from inspector.domain import Frame, Outcome, Verdict, utc_now
from inspector.outputs.handshake import ErrorCode, Handshake, ResultCode, State
from inspector.outputs.modbus import registers_text, text_registers
from inspector.recipes import LineSettings
from inspector.station import PartInspected, StationFaulted, StationStopped, ViewResult
from inspector.station.line import Line, part_result
from inspector.station.runner import StationRunner
from inspector.store import Store
from tests.support.line_station import DEMO_CAMERA, wait_for
from tests.support.ports import free_port
from tests.support.recipes import recipe_file
from tests.support.scripted_judge import PASS_ANSWER

pytest.importorskip("pymodbus")
from pymodbus.client import ModbusTcpClient

TOLERANCE_MS = 50
RESULT_VALID = 4


def run_one_part(tmp_path, judge_s: float, line: dict) -> tuple[float, dict, Store, list]:
    """One PLC part through a station on the line: the time from the trigger to ResultValid,
    the result registers, the store, and the station's events once its record is in."""
    recipe = recipe_file(tmp_path, [{"engine": "scripted", "delay_s": judge_s}], line=line)
    store = Store.open(Settings.from_env(data_dir=tmp_path / "data", database_url=None))
    events: list = []
    recorded = threading.Event()

    def listener(event) -> None:
        events.append(event)
        if isinstance(event, PartInspected):
            recorded.set()

    port = free_port()
    runner = StationRunner(store)
    runner.start(recipe, DEMO_CAMERA, listener, "plc", outputs=[f"modbus://127.0.0.1:{port}"])
    client = ModbusTcpClient("127.0.0.1", port=port, timeout=5)
    try:
        wait_for(client.connect, what="the Modbus server")
        client.write_registers(0, text_registers("SN-late"))
        started = time.perf_counter()
        client.write_coils(0, [True, False])
        while not client.read_coils(RESULT_VALID, count=1).bits[0]:
            assert time.perf_counter() - started < 10, "no result"
            time.sleep(0.001)  # a PLC's scan, and the station's threads get the interpreter
        answered_ms = (time.perf_counter() - started) * 1000
        r = client.read_holding_registers(16, count=72).registers
        result = {
            "code": r[18 - 16],
            "reason": r[34 - 16],
            "inspection_id": r[30 - 16] << 16 | r[31 - 16],
            "part_id": registers_text(r[40 - 16 : 56 - 16]),
        }
        client.write_coils(0, [False, True])
        assert recorded.wait(10), "the part was never recorded"
        time.sleep(0.1)  # a second answer, if one were given, would land now
        r = client.read_holding_registers(22, count=4).registers
        result["triggers"], result["results"] = r[0] << 16 | r[1], r[2] << 16 | r[3]
    finally:
        client.close()
        runner.stop()
    return answered_ms, result, store, events


@pytest.mark.parametrize(("unsure", "code"), [("divert", ResultCode.UNSURE), ("reject", 2)])
def test_a_late_judge_gets_the_fail_safe_answer_at_the_deadline(tmp_path, unsure, code):
    deadline_ms = 150
    answered_ms, result, store, _ = run_one_part(
        tmp_path, judge_s=0.6, line={"deadline_ms": deadline_ms, "unsure": unsure}
    )
    with store:
        print(f"answered {answered_ms:.1f} ms after the trigger (deadline {deadline_ms} ms)")
        assert deadline_ms <= answered_ms <= deadline_ms + TOLERANCE_MS, answered_ms
        assert result["code"] == code
        assert result["reason"] == 1  # deadline
        assert result["inspection_id"] == 0  # its record follows when the judge returns
        assert result["part_id"] == "SN-late"
        assert (result["triggers"], result["results"]) == (1, 1)  # the late record: no 2nd

        [record] = store.history()
        assert record.part_id == "SN-late"
        assert record.outcome is Outcome.UNSURE
        assert record.reason.startswith("deadline: no verdict within 150 ms of the trigger")
        assert "the judge answered PASS" in record.reason
        [attempt] = record.attempts  # the model's late answer, kept for review
        assert (attempt.engine, attempt.outcome, attempt.raw_text) == (
            "scripted",
            "PASS",
            PASS_ANSWER,
        )
        assert attempt.latency_ms >= 600


def test_a_judge_in_time_is_answered_with_its_verdict(tmp_path):
    answered_ms, result, store, _ = run_one_part(
        tmp_path, judge_s=0.0, line={"deadline_ms": 2000, "unsure": "reject"}
    )
    with store:
        [record] = store.history()
        assert record.outcome is Outcome.PASS and not record.reason.startswith("deadline")
        assert result["code"] == ResultCode.PASS and result["reason"] == 0
        assert result["inspection_id"] == record.id
        assert answered_ms < 2000


def test_a_station_in_fault_answers_every_trigger_with_fault():
    handshake = Handshake()
    line = Line(handshake, LineSettings(), "recipe", 1, plc=True)
    line.on_event(StationFaulted("could not record part 7: disk full"))
    for part in ("A", "B"):
        assert handshake.trigger(part) is ErrorCode.NONE
        snapshot = handshake.snapshot()
        assert (snapshot.result.code, snapshot.result.part_id) == (ResultCode.FAULT, part)
        assert snapshot.fault == "could not record part 7: disk full"
        handshake.acknowledge()
    line.on_event(StationStopped(None))  # stopped in FAULT: the PLC still reads FAULT, and why
    assert handshake.snapshot().state is State.FAULT
    assert handshake.snapshot().fault == "could not record part 7: disk full"
    handshake.close()
    assert handshake.snapshot().state is State.FAULT


def test_a_part_that_could_not_be_recorded_is_answered_fault():
    frame = Frame(np.zeros((4, 4), np.uint8), "cam", 1, utc_now(), 0, part_id="P1")
    verdict = Verdict(Outcome.PASS, "clean")
    unrecorded = PartInspected("P1", (ViewResult("camera", frame, verdict, None),))
    result = part_result(unrecorded, LineSettings(), "recipe", 1)
    assert (result.code, result.reason, result.part_id) == (ResultCode.FAULT, "not recorded", "P1")
    recorded = PartInspected("P1", (ViewResult("camera", frame, verdict, 12),))
    assert part_result(recorded, LineSettings(), "recipe", 1).code is ResultCode.PASS
    unsure = Verdict(Outcome.UNSURE, "blurred")
    for setting, code in (("reject", ResultCode.FAIL), ("divert", ResultCode.UNSURE)):
        event = PartInspected("P1", (ViewResult("camera", frame, unsure, 12),))
        assert part_result(event, LineSettings(unsure=setting), "recipe", 1).code is code


def test_the_recipe_states_the_line_and_a_mistake_is_named(tmp_path):
    from inspector.errors import InputError
    from inspector.recipes import load_recipe

    engines = [{"engine": "scripted"}]
    line = load_recipe(recipe_file(tmp_path, engines, line={"deadline_ms": 800})).line
    assert (line.deadline_ms, line.unsure) == (800, "reject")  # fail-safe by default
    plain = load_recipe(recipe_file(tmp_path, engines))
    assert plain.line == LineSettings() and "line" not in plain.to_yaml()  # versions unchanged
    with pytest.raises(InputError) as wrong:
        load_recipe(recipe_file(tmp_path, engines, line={"unsure": "pass", "deadline_ms": 0}))
    message = str(wrong.value)
    assert "field `line.unsure`" in message and "field `line.deadline_ms`" in message
