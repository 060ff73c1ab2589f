"""`inspector run` on the demo (the model-free reference recipe) with outputs, as a user runs it:
`--output mqtt://...` read back by a subscriber on the machine's Mosquitto, station.yaml's
`outputs:` to a webhook, and a bad output URL refused before anything is recorded."""

from __future__ import annotations

import json
import uuid

import pytest

from inspector.cli.demo import ASSETS
from tests.support import command_line
from tests.support.mqtt_peers import MACHINE_BROKER, Reader, listening
from tests.support.webhook_peer import WebhookPeer

RECIPE = str(ASSETS / "demo" / "recipe-reference.yaml")
SOURCE = f"folder:{ASSETS / 'demo' / 'camera'}"


def _run(tmp_path, *options: str, env=None):
    return command_line.inspector(
        "run",
        "--recipe",
        RECIPE,
        "--source",
        SOURCE,
        "--trigger",
        "triggered",
        "--json",
        *options,
        data_dir=tmp_path / "data",
        env={"INSPECTOR_STATION": "demo-station", **(env or {})},
    )


@pytest.mark.slow
@pytest.mark.skipif(not listening(*MACHINE_BROKER), reason="no MQTT broker at 127.0.0.1:1883")
def test_run_publishes_every_recorded_verdict_to_mqtt(tmp_path) -> None:
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    reader = Reader(MACHINE_BROKER[1], [f"{prefix}/#"])
    url = f"mqtt://127.0.0.1:{MACHINE_BROKER[1]}/{prefix}"
    done = _run(tmp_path, "--output", url)
    assert done.returncode == 0, done.stderr
    printed = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(printed) == len(list((ASSETS / "demo" / "camera").iterdir()))
    assert reader.wait_for(lambda m: (f"{prefix}/demo-station/state", b"stopped", False) in m)
    reader.close()
    verdicts = reader.verdicts()
    assert [v["inspection_id"] for v in verdicts] == [p["inspection_id"] for p in printed]
    assert [v["outcome"] for v in verdicts] == [p["outcome"] for p in printed]
    assert [v["part_id"] for v in verdicts] == [p["part_id"] for p in printed]
    assert {v["recipe"]["name"] for v in verdicts} == {"demo-pcb-reference"}
    topics = {t for t, _, _ in reader.messages if t.endswith("/verdict")}
    assert topics == {f"{prefix}/demo-station/camera/verdict"}
    assert f"output {url}: closed, {len(printed)} sent, 0 failed, 0 pending" in done.stderr


@pytest.mark.slow
def test_station_yaml_outputs_post_to_a_webhook(tmp_path) -> None:
    peer = WebhookPeer()
    config = tmp_path / "station.yaml"
    config.write_text(f"outputs:\n  - {peer.url}\n")
    done = _run(tmp_path, env={"INSPECTOR_CONFIG": str(config)})
    assert done.returncode == 0, done.stderr
    printed = [json.loads(line) for line in done.stdout.splitlines()]
    assert peer.wait_for(len(printed))
    peer.close()
    assert [m["inspection_id"] for m in peer.received] == [p["inspection_id"] for p in printed]
    assert {m["station"] for m in peer.received} == {"demo-station"}
    assert f"output {peer.url}: connected, {len(printed)} sent, 0 failed, 0 pending" in done.stderr


def test_a_bad_output_url_stops_the_run_before_anything_is_recorded(tmp_path) -> None:
    done = _run(tmp_path, "--output", "mqtt://me:hunter2@127.0.0.1/p?qos=2")
    assert done.returncode == 2
    assert "output mqtt://me:***@127.0.0.1/p?qos=2: unknown option(s) qos" in done.stderr
    assert "hunter2" not in done.stderr and "Traceback" not in done.stderr
    assert done.stdout == ""
    history = command_line.inspector("history", "--json", data_dir=tmp_path / "data")
    assert json.loads(history.stdout or "[]") == []


@pytest.mark.slow
def test_run_prints_each_plc_servers_summary_at_stop(tmp_path) -> None:
    """The PLC servers are reported like the publishers: serving, then closed with the
    handshake's counts (the parts published to the PLC as results)."""
    from tests.support.ports import free_port

    opcua, modbus = f"opcua://127.0.0.1:{free_port()}", f"modbus://127.0.0.1:{free_port()}"
    done = _run(tmp_path, "--output", opcua, "--output", modbus)
    assert done.returncode == 0, done.stderr
    parts = len(done.stdout.splitlines())
    assert parts == len(list((ASSETS / "demo" / "camera").iterdir()))
    for url in (opcua, modbus):
        assert f"output {url}: closed, 0 triggers, {parts} results, 0 errors" in done.stderr
