"""MQTT against the machine's Mosquitto (127.0.0.1:1883), read back by a real paho subscriber:
verdicts on their topic in order with the documented schema, the retained state, the last
will, and commands (good, malformed, refused)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid

import pytest

from inspector.errors import InputError
from inspector.outputs import open_output
from inspector.outputs.commands import Command, CommandRefused
from inspector.outputs.mqtt import MqttPublisher
from inspector.station.publishing import Publishing
from inspector.store import Store
from tests.support.mqtt_peers import MACHINE_BROKER, Reader, listening, publish
from tests.support.outbox_records import Recorder
from tests.support.paths import ROOT

HOST, PORT = MACHINE_BROKER

pytestmark = pytest.mark.skipif(
    not listening(HOST, PORT), reason=f"no MQTT broker (Mosquitto) at {HOST}:{PORT}"
)


@pytest.fixture
def prefix() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


def _url(prefix: str, query: str = "station=line-1") -> str:
    return f"mqtt://{HOST}:{PORT}/{prefix}?{query}"


def test_recorded_verdicts_reach_the_broker_in_order_with_the_schema(
    sqlite_settings, prefix
) -> None:
    reader = Reader(PORT, [f"{prefix}/#"])
    with Store.open(sqlite_settings) as store:
        publishing = Publishing.open(store, [_url(prefix)], station="line-1")
        publishing.start()
        recorder = Recorder(store, publishing, view="top")
        ids = [recorder.record() for _ in range(30)]
        assert reader.wait_for(lambda m: len([t for t, _, _ in m if t.endswith("/verdict")]) == 30)
        deadline = time.monotonic() + 10  # the broker's PUBACKs may trail its deliveries
        while store.outbox_count_pending() and time.monotonic() < deadline:
            time.sleep(0.02)
        [report] = publishing.reports()
        publishing.close()
        assert store.outbox_count_pending() == 0
        assert [i for i, _ in store.outbox_sent(report.status.name)] == ids
    verdicts = reader.verdicts()
    assert [v["inspection_id"] for v in verdicts] == ids
    first = verdicts[2]  # the first FAIL of records_data.verdict
    assert first["schema"] == 1
    assert first["station"] == "line-1" and first["view"] == "top"
    assert first["outcome"] == "FAIL" and first["part_id"] == "P-00003"
    assert first["defects"][0] == {
        "class": "scratch",
        "severity": "major",
        "box": [3, 4, 30, 40],
        "confidence": 0.875,
    }
    assert first["recipe"] == {"name": "bracket", "version": 1}
    assert first["engine"] == "transformers" and first["latency_ms"] == 2.0
    assert [v["outcome"] for v in verdicts[:3]] == ["PASS", "UNSURE", "FAIL"]
    assert first["recorded_at"].endswith("Z")
    assert {t for t, _, _ in reader.messages if t.endswith("/verdict")} == {
        f"{prefix}/line-1/top/verdict"
    }
    assert report.status.connected and report.status.sent == 30 and report.status.failed == 0
    assert reader.wait_for(lambda m: (f"{prefix}/line-1/state", b"stopped", False) in m)
    assert reader.payloads("/state")[0] == b"running"
    reader.close()


def test_the_state_is_retained_for_a_late_subscriber(prefix) -> None:
    early = Reader(PORT, [f"{prefix}/line-1/state"])
    publisher = open_output(_url(prefix))
    publisher.start()
    assert early.wait_for(lambda m: m == [(f"{prefix}/line-1/state", b"running", False)])
    late = Reader(PORT, [f"{prefix}/line-1/state"])
    assert late.wait_for(lambda m: m and m[-1] == (f"{prefix}/line-1/state", b"running", True))
    publisher.close()
    late.close()
    early.close()


def test_the_last_will_says_offline_when_the_station_vanishes(prefix) -> None:
    """A station killed outright (no goodbye): the broker publishes its will, retained."""
    code = (
        "import sys, time\n"
        "from inspector.outputs.mqtt import MqttPublisher\n"
        f"p = MqttPublisher({_url(prefix)!r})\n"
        "p.start()\n"
        "assert p.wait_connected(10)\n"
        "print('connected', flush=True)\n"
        "time.sleep(60)\n"
    )
    reader = Reader(PORT, [f"{prefix}/line-1/state"])
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT
    )
    try:
        assert child.stdout.readline().strip() == "connected"
        assert reader.wait_for(lambda m: (f"{prefix}/line-1/state", b"running", False) in m)
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        assert reader.wait_for(lambda m: m[-1][1] == b"offline", timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    retained = Reader(PORT, [f"{prefix}/line-1/state"])
    assert retained.wait_for(lambda m: m == [(f"{prefix}/line-1/state", b"offline", True)])
    reader.close()
    retained.close()


def _replies(reader: Reader) -> list[dict]:
    return [json.loads(p) for p in reader.payloads("/command/reply")]


def test_commands_good_malformed_and_refused_are_answered_and_counted(prefix) -> None:
    seen: list[Command] = []

    def handler(command: Command) -> str:
        seen.append(command)
        if command.name == "start":
            raise CommandRefused("the station is already running")
        return "triggered"

    publisher = MqttPublisher(_url(prefix))
    publisher.commands = handler
    publisher.start()
    assert publisher.wait_connected(10)
    reader = Reader(PORT, [f"{prefix}/line-1/command/reply"])
    topic = f"{prefix}/line-1/command"
    sent = [
        b'{"command": "trigger", "id": 7}',
        b"not json at all",
        b"[1, 2]",
        b'{"command": "explode"}',
        b'{"command": "recipe"}',
        b'{"command": "trigger", "extra": 1}',
        b"\xff\xfe",
        b'{"command": "start", "id": "s"}',
    ]
    for payload in sent:
        publish(PORT, topic, payload)
    assert reader.wait_for(lambda m: len(m) == len(sent))
    replies = _replies(reader)
    assert replies[0] == {"ok": True, "result": "triggered", "id": 7}
    assert [r["ok"] for r in replies] == [True] + [False] * 7
    assert all(r["error"].startswith("malformed command") for r in replies[1:7])
    assert "unknown command 'explode'" in replies[3]["error"]
    assert replies[7] == {"ok": False, "error": "the station is already running", "id": "s"}
    assert [c.name for c in seen] == ["trigger", "start"]
    assert (publisher.commands_done, publisher.commands_malformed) == (1, 6)
    assert publisher.commands_refused == 1
    assert publisher.status().connected  # still connected, still publishing
    publisher.close()
    reader.close()


def test_commands_are_refused_without_an_authenticated_connection_when_required(prefix) -> None:
    seen: list[Command] = []
    publisher = MqttPublisher(_url(prefix, "station=line-1&require_auth=1"))
    publisher.commands = lambda command: seen.append(command) or "done"
    publisher.start()
    assert publisher.wait_connected(10)
    reader = Reader(PORT, [f"{prefix}/line-1/command/reply"])
    publish(PORT, f"{prefix}/line-1/command", b'{"command": "stop", "id": 1}')
    assert reader.wait_for(lambda m: len(m) == 1)
    [reply] = _replies(reader)
    assert reply["ok"] is False and "authenticated" in reply["error"] and reply["id"] == 1
    assert seen == [] and publisher.commands_refused == 1
    publisher.close()
    reader.close()


@pytest.mark.parametrize(
    "url, says",
    [
        ("mqtt:///nohost", "no broker host"),
        ("mqtt://127.0.0.1/p?colour=red", "unknown option(s) colour"),
        ("ftp://127.0.0.1/x", "unknown kind 'ftp'"),
        ("mqtt://me:secret@127.0.0.1/p?x=1", "mqtt://me:***@127.0.0.1/p?x=1"),
        ("ftp://127.0.0.1/x?token=secret", "ftp://127.0.0.1/x?token=***"),
    ],
)
def test_a_bad_output_url_is_named_without_its_password(url, says) -> None:
    with pytest.raises(InputError) as raised:
        open_output(url)
    assert says in str(raised.value) and "secret" not in str(raised.value)
