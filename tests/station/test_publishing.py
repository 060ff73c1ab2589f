"""The station with outputs: the real Station (folder source, scripted judge, real store)
publishing through the outbox to a real webhook server and the machine's Mosquitto. Every
recorded inspection is published once, in order, with what the record holds; a verdict
that could not be published stays in the outbox and goes out with the next run."""

from __future__ import annotations

import json
import uuid

import cv2
import numpy as np
import pytest

import tests.support.scripted_judge as scripted
from inspector.cameras import open_source
from inspector.errors import InputError
from inspector.judges import build_chain
from inspector.outputs.commands import Command, CommandRefused
from inspector.recipes import load_recipe
from inspector.station import InspectionRecorded, Station, TriggerPolicy, View
from inspector.station import publishing as publishing_module
from inspector.station.publishing import Publishing, station_commands
from inspector.store import Store
from tests.support.mqtt_peers import MACHINE_BROKER, Reader, listening, publish
from tests.support.outbox_records import Recorder
from tests.support.ports import free_port
from tests.support.recipes import recipe_file
from tests.support.webhook_peer import WebhookPeer


def _folder(tmp_path, count: int):
    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(count):
        image = np.full((60, 80, 3), 40 + i, np.uint8)
        cv2.imwrite(str(folder / f"{i:03d}.png"), image)
    return folder


def _run_station(tmp_path, store: Store, urls: list[str], count: int = 8):
    station, events = _start_station(tmp_path, store, urls, f"folder:{_folder(tmp_path, count)}")
    assert station.wait(timeout=60)
    return station, [e for e in events if isinstance(e, InspectionRecorded)]


def _start_station(tmp_path, store: Store, urls: list[str], uri: str):
    path = recipe_file(
        tmp_path,
        [{"engine": "scripted", "answers": [scripted.PASS_ANSWER, scripted.FAIL_ANSWER]}],
    )
    recipe = load_recipe(path)
    chain = build_chain(recipe, str(path))
    version = store.recipe_version_id(recipe, [])
    source = open_source(uri)
    publishing = Publishing.open(store, urls, station="st-1")
    station = Station(
        [View("top", source, recipe, version, chain)],
        store,
        TriggerPolicy.TRIGGERED,
        publishing=publishing,
    )
    events = []
    station.subscribe(events.append)
    station.start()
    return station, events


def test_every_recorded_inspection_is_posted_once_in_order_with_its_record(
    tmp_path, settings
) -> None:
    peer = WebhookPeer()
    with Store.open(settings) as store:
        station, recorded = _run_station(tmp_path, store, [peer.url])
        assert peer.wait_for(len(recorded))
        records = {r.id: r for r in store.history(limit=100)}
        [report] = station.publishing.reports()
    peer.close()
    assert [m["inspection_id"] for m in peer.received] == [e.inspection_id for e in recorded]
    for message in peer.received:
        record = records[message["inspection_id"]]
        assert message["uid"] == record.uid
        assert message["outcome"] == record.outcome.value
        assert message["part_id"] == record.part_id
        assert message["view"] == "top" and message["station"] == "st-1"
        assert message["recipe"] == {"name": record.recipe, "version": record.recipe_version}
        assert [d["class"] for d in message["defects"]] == list(record.defect_names)
    assert [m["outcome"] for m in peer.received] == ["PASS", "FAIL"] * 4
    assert report.pending == 0 and report.status.sent == 8


def test_verdicts_kept_while_the_output_was_down_go_out_with_the_next_run(
    sqlite_settings, monkeypatch
) -> None:
    monkeypatch.setattr(publishing_module, "FIRST_BACKOFF_S", 0.05)
    port = free_port()
    url = f"http://127.0.0.1:{port}/hook"
    with Store.open(sqlite_settings) as store:
        first = Publishing.open(store, [url], station="st-1")
        first.start()
        recorder = Recorder(store, first)
        early = [recorder.record() for _ in range(5)]
        first.close(drain_s=0.2)
        assert store.outbox_count_pending(url) == 5
        assert first.reports()[0].status.failed >= 1

        peer = WebhookPeer(port=port)  # the server is back; the station starts again
        second = Publishing.open(store, [url], station="st-1")
        second.start()
        recorder.publishing = second
        late = [recorder.record() for _ in range(3)]
        assert peer.wait_for(8)
        second.close()
        assert store.outbox_count_pending() == 0
    peer.close()
    assert [m["inspection_id"] for m in peer.received] == early + late


def test_one_output_down_does_not_hold_back_another(sqlite_settings, monkeypatch) -> None:
    monkeypatch.setattr(publishing_module, "FIRST_BACKOFF_S", 0.05)
    peer = WebhookPeer()
    down = f"http://127.0.0.1:{free_port()}/down"
    with Store.open(sqlite_settings) as store:
        publishing = Publishing.open(store, [down, peer.url], station="st-1")
        publishing.start()
        recorder = Recorder(store, publishing)
        ids = [recorder.record() for _ in range(6)]
        assert peer.wait_for(6)
        reports = publishing.reports()
        publishing.close(drain_s=0.2)
        assert store.outbox_count_pending(down) == 6 and store.outbox_count_pending(peer.url) == 0
    peer.close()
    assert [m["inspection_id"] for m in peer.received] == ids
    assert "NOT CONNECTED" in reports[0].line() and "6 pending" in reports[0].line()
    assert reports[1].line().startswith(f"output {peer.url}: connected, 6 sent, 0 failed")


@pytest.mark.skipif(not listening(*MACHINE_BROKER), reason="no MQTT broker at 127.0.0.1:1883")
def test_the_station_publishes_to_mqtt_and_stops_on_a_command(tmp_path, sqlite_settings):
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    port = MACHINE_BROKER[1]
    reader = Reader(port, [f"{prefix}/#"])
    folder = _folder(tmp_path, 4)
    with Store.open(sqlite_settings) as store:
        station, events = _start_station(
            tmp_path, store, [f"mqtt://127.0.0.1:{port}/{prefix}"], f"folder:{folder}?loop=1&fps=20"
        )
        assert reader.wait_for(lambda m: len(reader.payloads("/verdict")) >= 3)
        publish(port, f"{prefix}/st-1/command", b'{"command": "stop", "id": "end"}')
        assert station.wait(timeout=60)  # the line stopped the station
        assert reader.wait_for(lambda m: (f"{prefix}/st-1/state", b"stopped", False) in m)
        assert store.outbox_count_pending() == 0
    reader.close()
    recorded = [e.inspection_id for e in events if isinstance(e, InspectionRecorded)]
    assert [v["inspection_id"] for v in reader.verdicts()] == recorded
    assert json.loads(reader.payloads("/command/reply")[0]) == {
        "ok": True,
        "result": "stopping",
        "id": "end",
    }


def test_station_commands_trigger_and_stop() -> None:
    calls = []
    handle = station_commands(lambda: calls.append("trigger") or True, lambda: calls.append("stop"))
    assert handle(Command("trigger")) == "triggered"
    assert handle(Command("stop")) == "stopping"
    with pytest.raises(CommandRefused, match="already running"):
        handle(Command("start"))
    with pytest.raises(CommandRefused, match="recipe 'b'"):
        handle(Command("recipe", "b"))
    no_trigger = station_commands(lambda: False, lambda: None)
    with pytest.raises(CommandRefused, match="takes a trigger"):
        no_trigger(Command("trigger"))
    assert calls == ["trigger", "stop"]

    def select(name: str) -> str:
        if name == "bad":
            raise InputError("no recipe 'bad' in /recipes")
        return f"recipe {name} version 1 selected"

    selecting = station_commands(lambda: True, lambda: None, select)
    assert selecting(Command("recipe", "b")) == "recipe b version 1 selected"
    with pytest.raises(CommandRefused, match=r"recipe 'bad' refused: no recipe 'bad' in /recipes"):
        selecting(Command("recipe", "bad"))


def test_the_outbox_is_written_in_the_records_transaction(settings) -> None:
    """Both or neither: a message that cannot be built leaves no record and no outbox row, so
    nothing is ever published that is not recorded."""
    from inspector.store import OutboxWrite

    with Store.open(settings) as store:
        publishing = Publishing(store, [], "st-1")
        recorder = Recorder(store, publishing)
        recorder.record()  # no publisher: no outbox row
        assert store.outbox_count_pending() == 0

        # A message that cannot be written (not JSON) fails inside the record's transaction.
        publishing.outbox_for = lambda view, judged: OutboxWrite(
            ("mqtt://a/b", "http://c/d"), {"inspection_id": None, "not json": object()}
        )
        with pytest.raises(TypeError, match="not JSON serializable"):
            recorder.record()
        assert store.count() == 1 and store.outbox_count_pending() == 0

        template = {"inspection_id": None, "uid": None, "recorded_at": None, "outcome": "PASS"}
        publishing.outbox_for = lambda view, judged: OutboxWrite(
            ("mqtt://a/b", "http://c/d"), template
        )
        ids = [recorder.record() for _ in range(3)]
        assert store.count() == 4
        assert store.outbox_count_pending() == 6
        pending = store.outbox_pending("http://c/d")
        assert [p.inspection_id for p in pending] == ids
        assert [p.message["inspection_id"] for p in pending] == ids
        # The store stamps what only the commit knows, in the template's order.
        assert list(pending[0].message) == ["inspection_id", "uid", "recorded_at", "outcome"]
        assert pending[0].message["uid"] and pending[0].message["recorded_at"].endswith("Z")
        assert template["inspection_id"] is None  # the station's template is left as it was
        store.outbox_mark_sent([pending[0].id])
        store.outbox_mark_failed(pending[1].id, "HTTP 500")
        assert [p.inspection_id for p in store.outbox_pending("http://c/d")] == ids[1:]
        assert store.outbox_pending("http://c/d")[0].attempts == 1
        assert store.outbox_count_pending("mqtt://a/b") == 3
        assert [i for i, _ in store.outbox_sent("http://c/d")] == ids[:1]
