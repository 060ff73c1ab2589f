"""The PLC handshake on its own: trigger, busy, result, acknowledgement, errors, heartbeat."""

from __future__ import annotations

import threading
import time

import pytest

from inspector.outputs.handshake import (
    PART_ID_CHARS,
    ErrorCode,
    Handshake,
    PartResult,
    ResultCode,
    State,
)


class Station:
    """Takes each trigger the handshake passes on; the test answers them."""

    def __init__(self, handshake: Handshake) -> None:
        self.taken: list[tuple[int, str]] = []
        handshake.on_trigger = lambda token, part_id: self.taken.append((token, part_id))


@pytest.fixture
def handshake() -> Handshake:
    shake = Handshake(heartbeat_s=0.01)
    shake.set_state(State.IDLE)
    yield shake
    shake.close()


def test_one_part_goes_through_the_handshake(handshake):
    station = Station(handshake)
    seen = []
    handshake.subscribe(seen.append)
    assert handshake.snapshot().ready

    assert handshake.trigger("SN-001") is ErrorCode.NONE
    busy = handshake.snapshot()
    assert (busy.busy, busy.result_valid, busy.ready, busy.state) == (
        True,
        False,
        False,
        State.BUSY,
    )
    assert busy.part_id == "SN-001"
    [(token, part_id)] = station.taken
    assert part_id == "SN-001"

    result = PartResult(
        ResultCode.FAIL, "FAIL", defect_count=2, first_defect="open", part_id=part_id
    )
    assert handshake.complete(token, result)
    valid = handshake.snapshot()
    assert (valid.busy, valid.result_valid, valid.result, valid.result_sequence) == (
        True,
        True,
        result,
        1,
    )

    assert handshake.acknowledge() is ErrorCode.NONE
    done = handshake.snapshot()
    assert (done.busy, done.result_valid, done.ready, done.state) == (
        False,
        False,
        True,
        State.IDLE,
    )
    assert done.result == result  # the last result stays readable
    assert (done.counters.triggers, done.counters.results, done.counters.errors) == (1, 1, 0)
    assert [s.busy for s in seen][:1] == [True] and seen[-1] == done


def test_a_trigger_while_busy_is_refused_counted_and_the_part_in_work_kept(handshake):
    station = Station(handshake)
    handshake.trigger("A")
    assert handshake.trigger("B") is ErrorCode.BUSY
    refused = handshake.snapshot()
    assert refused.error is ErrorCode.BUSY and "busy" in refused.error_text
    assert (refused.counters.busy_rejections, refused.counters.errors) == (1, 1)
    assert refused.part_id == "A" and len(station.taken) == 1

    token = station.taken[0][0]
    assert handshake.complete(token, PartResult(ResultCode.PASS, part_id="A"))
    # Until the PLC acknowledges, the result stands and a new trigger is refused too.
    assert handshake.trigger("C") is ErrorCode.BUSY
    assert handshake.snapshot().result.part_id == "A"
    handshake.acknowledge()
    assert handshake.trigger("D") is ErrorCode.NONE
    assert handshake.snapshot().error is ErrorCode.NONE  # an accepted trigger clears the error
    counters = handshake.snapshot().counters
    assert (counters.triggers, counters.busy_rejections, counters.results) == (4, 2, 1)


def test_each_trigger_is_answered_once(handshake):
    station = Station(handshake)
    handshake.trigger("A")
    token = station.taken[0][0]
    assert handshake.complete(token, PartResult(ResultCode.PASS, part_id="A"))
    assert not handshake.complete(token, PartResult(ResultCode.FAIL, part_id="A"))
    assert not handshake.complete(token + 1, PartResult(ResultCode.FAIL, part_id="?"))
    snapshot = handshake.snapshot()
    assert snapshot.result.code is ResultCode.PASS and snapshot.counters.results == 1


def test_a_station_in_fault_answers_every_trigger_with_fault(handshake):
    station = Station(handshake)
    handshake.set_state(State.FAULT, "disk full")
    for part in ("A", "B"):
        assert handshake.trigger(part) is ErrorCode.NONE
        snapshot = handshake.snapshot()
        assert snapshot.result_valid and snapshot.result.code is ResultCode.FAULT
        assert snapshot.result.part_id == part and snapshot.fault == "disk full"
        assert snapshot.state is State.FAULT
        handshake.acknowledge()
    assert station.taken == []  # nothing is captured or judged
    assert handshake.snapshot().counters.results == 2


@pytest.mark.parametrize("state", [State.STOPPED, State.RUNNING])
def test_a_trigger_while_not_waiting_for_one_is_refused(handshake, state):
    station = Station(handshake)
    handshake.set_state(state)
    assert handshake.trigger("A") is ErrorCode.NOT_READY
    snapshot = handshake.snapshot()
    assert not snapshot.ready and snapshot.counters.errors == 1 and station.taken == []


def test_bad_input_is_counted(handshake):
    Station(handshake)
    assert handshake.acknowledge() is ErrorCode.NO_RESULT
    assert handshake.trigger("x" * (PART_ID_CHARS + 1)) is ErrorCode.BAD_VALUE
    handshake.refuse(ErrorCode.READ_ONLY, "write to Busy")
    snapshot = handshake.snapshot()
    assert snapshot.counters.errors == 3
    assert (snapshot.error, snapshot.error_text) == (ErrorCode.READ_ONLY, "write to Busy")
    assert snapshot.ready  # nothing of it stops the station


def test_parts_the_station_takes_itself_are_published(handshake):
    handshake.set_state(State.RUNNING)
    handshake.publish(PartResult(ResultCode.PASS, part_id="own-1"))
    snapshot = handshake.snapshot()
    assert snapshot.result_valid and snapshot.result.part_id == "own-1"
    assert snapshot.result_sequence == 1 and not snapshot.busy


def test_the_heartbeat_counts_while_nothing_else_happens(handshake):
    handshake.start()
    first = handshake.snapshot().heartbeat
    deadline = time.monotonic() + 5
    while handshake.snapshot().heartbeat < first + 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert handshake.snapshot().heartbeat >= first + 3


def test_concurrent_triggers_give_one_part_at_a_time(handshake):
    """Eight PLC threads trigger at once; every accepted trigger is answered exactly once."""
    answered: list[int] = []

    def station(token: int, part_id: str) -> None:
        assert handshake.snapshot().busy
        assert handshake.complete(token, PartResult(ResultCode.PASS, part_id=part_id))
        answered.append(token)

    handshake.on_trigger = station
    accepted = []
    lock = threading.Lock()

    def plc(name: str) -> None:
        for i in range(200):
            if handshake.trigger(f"{name}-{i}") is ErrorCode.NONE:
                with lock:
                    accepted.append(f"{name}-{i}")
            handshake.acknowledge()

    threads = [threading.Thread(target=plc, args=(f"plc{n}",)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    counters = handshake.snapshot().counters
    assert counters.triggers == 1600
    assert counters.results == len(accepted) == len(answered) == len(set(answered))
    assert counters.busy_rejections + len(accepted) == 1600
