"""A FAULT reaches the line, and the journal keeps the outbox: a station whose store refuses its
records says "fault" on MQTT (retained, with the cause) and its PLC handshake reads FAULT; the
records it kept in the journal carry their verdict messages, and once the journal is replayed
the broker receives those verdicts under the ids the store gave them. Real SQLite, the
machine's Mosquitto, a real paho subscriber, the scripted judge through the registry."""

from __future__ import annotations

import uuid

import cv2
import numpy as np
import pytest

import tests.support.scripted_judge as scripted
from inspector.cameras import open_source
from inspector.judges import build_chain
from inspector.outputs.handshake import ResultCode, State
from inspector.recipes import load_recipe
from inspector.station import RecordFailed, Station, StationFaulted, TriggerPolicy, View
from inspector.station.line import LineOutputs
from inspector.station.publishing import Publishing
from inspector.store import Store
from tests.support.mqtt_peers import MACHINE_BROKER, Reader, listening
from tests.support.recipes import recipe_file
from tests.support.store_faults import REFUSAL, accept_inspections, refuse_inspections

HOST, PORT = MACHINE_BROKER


def _folder(tmp_path, count: int):
    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(count):
        image = np.full((90, 120, 3), 40, np.uint8)
        cv2.putText(image, str(i), (30, 60), cv2.FONT_HERSHEY_SIMPLEX, 1.5, (255, 255, 255), 2)
        cv2.imwrite(str(folder / f"part-{i:03d}.png"), image)
    return folder


def _station(tmp_path, store, publishing=None, count=4):
    path = recipe_file(tmp_path, [{"engine": "scripted", "answers": [scripted.PASS_ANSWER]}])
    recipe = load_recipe(path)
    chain = build_chain(recipe, str(path))
    version = store.recipe_version_id(recipe, [])
    events: list = []
    source = open_source(f"folder:{_folder(tmp_path, count)}", on_event=events.append)
    view = View("top", source, recipe, version, chain)
    station = Station([view], store, TriggerPolicy.TRIGGERED, publishing=publishing)
    station.subscribe(events.append)
    return station, events


def _said(messages) -> list[tuple[str, bytes]]:
    return [(topic, payload) for topic, payload, _ in messages]


@pytest.mark.skipif(not listening(HOST, PORT), reason=f"no MQTT broker at {HOST}:{PORT}")
def test_a_fault_is_said_on_mqtt_and_journaled_verdicts_are_published_after_replay(
    tmp_path, sqlite_settings
) -> None:
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    url = f"mqtt://{HOST}:{PORT}/{prefix}?station=line-f"
    reader = Reader(PORT, [f"{prefix}/#"])
    with Store.open(sqlite_settings) as store:
        publishing = Publishing.open(store, [url], station="line-f")
        station, events = _station(tmp_path, store, publishing)
        refuse_inspections(sqlite_settings)
        station.start()
        assert station.wait(60)
        assert station.fault is not None and REFUSAL in station.fault
        journaled = [e for e in events if isinstance(e, RecordFailed) and e.journal]
        assert journaled and store.count() == 0
        [fault] = [e for e in events if isinstance(e, StationFaulted)]

        # The state topic says "fault" and stays so after the stop; the cause beside it.
        assert reader.wait_for(lambda m: (f"{prefix}/line-f/state", b"fault") in _said(m))
        late = Reader(PORT, [f"{prefix}/line-f/state", f"{prefix}/line-f/fault"])
        assert late.wait_for(lambda m: len(m) == 2, timeout=10)
        retained = {t.rsplit("/", 1)[1]: (p.decode(), r) for t, p, r in late.messages}
        late.close()
        assert retained["state"] == ("fault", True)
        assert retained["fault"] == (fault.cause, True) and REFUSAL in retained["fault"][0]
        assert reader.verdicts() == []  # nothing unrecorded was published

        # The journal kept each verdict's message; the replay writes it with its record.
        accept_inspections(sqlite_settings)
        report = store.replay_journal()
        assert report.written == len(journaled)
        assert store.outbox_count_pending(publishing.publishers[0].name) == len(journaled)

        again = Publishing.open(store, [url], station="line-f")  # the next run's output
        again.start()
        assert reader.wait_for(lambda m: len(reader.verdicts()) == len(journaled))
        again.close()
        records = store.history(limit=100)
    verdicts = reader.verdicts()
    reader.close()
    by_id = {r.id: r for r in records}
    assert sorted(v["inspection_id"] for v in verdicts) == sorted(by_id)
    for verdict in verdicts:
        record = by_id[verdict["inspection_id"]]
        assert verdict["uid"] == record.uid
        # As recorded: PASS (the scripted answer), or, for a part captured as the fault stopped
        # the station (a loaded machine's timing), UNJUDGED: not inspected, and never PASS.
        assert verdict["part_id"] == record.part_id
        assert verdict["outcome"] == record.outcome.value in ("PASS", "UNJUDGED")
        assert verdict["recorded_at"].endswith("Z") and verdict["station"] == "line-f"
    assert [v["part_id"] for v in verdicts] == sorted(v["part_id"] for v in verdicts)
    assert "PASS" in {v["outcome"] for v in verdicts}


def test_the_plc_handshake_reads_fault_with_its_cause_after_the_station_stops(
    tmp_path, sqlite_settings
) -> None:
    """The PLC side of the same fault: the handshake's state is FAULT, and stays FAULT (not
    STOPPED) once the station has stopped, so the last thing the PLC reads says why; a
    trigger meanwhile is answered FAULT at once."""
    with Store.open(sqlite_settings) as store:
        station, _ = _station(tmp_path, store)
        line = LineOutputs([], None)  # the handshake the OPC UA and Modbus servers mirror
        line.start()
        line.attach(station, plc=False)
        refuse_inspections(sqlite_settings)
        station.start()
        assert station.wait(60) and station.fault is not None
        snapshot = line.handshake.snapshot()
        assert snapshot.state is State.FAULT and REFUSAL in snapshot.fault
        assert snapshot.result is not None and snapshot.result.code is ResultCode.FAULT
        line.handshake.acknowledge()  # the PLC takes the failed part's result
        line.handshake.trigger("SN-after-fault")
        answered = line.handshake.snapshot()
        assert answered.result is not None and answered.result.code is ResultCode.FAULT
        assert answered.result.part_id == "SN-after-fault"
        line.close()
        assert line.handshake.snapshot().state is State.FAULT
