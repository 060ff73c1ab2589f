"""MQTT from the outbox: how fast recorded verdicts reach a broker, and how long 10,000 verdicts
queued during an outage take to drain once the broker is back.

A Mosquitto of the bench's own on 127.0.0.1 (no persistence), the real store (SQLite in a
temporary folder), the real Publishing drain and MqttPublisher (QoS 1, a verdict counts only
when its PUBACK arrives), and a subscriber in a process of its own (mosquitto_sub, so it takes
no time from the publisher's interpreter) that checks every verdict arrived, in order.

1. Publish rate: N verdicts recorded first (outputs configured, drain not started), then the
   drain started against a connected broker; rate = N / time until the outbox is empty.
2. Outage: the broker is down while N verdicts are recorded (the drain retrying), then it
   starts; the time from the broker's start to its reconnect, and to an empty outbox.
Goal: >= 2,000 verdicts/s.

    .venv/bin/python bench/mqtt_outbox.py [--verdicts 10000]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from inspector.config import Settings  # noqa: E402
from inspector.station.publishing import Publishing  # noqa: E402
from inspector.store import Store  # noqa: E402
from tests.support.mqtt_peers import Broker  # noqa: E402
from tests.support.outbox_records import Recorder  # noqa: E402

GOAL_PER_S = 2000


def _record(store: Store, publishing: Publishing, count: int) -> tuple[list[int], float]:
    recorder = Recorder(store, publishing)
    started = time.perf_counter()
    ids = [recorder.record() for _ in range(count)]
    return ids, time.perf_counter() - started


def _drained(store: Store, timeout: float = 600) -> float:
    deadline = time.monotonic() + timeout
    while store.outbox_count_pending():
        if time.monotonic() > deadline:
            raise SystemExit("the outbox did not drain")
        time.sleep(0.05)
    return time.perf_counter()


class Subscriber:
    """mosquitto_sub in its own process, QoS 1, until it has `count` verdicts."""

    def __init__(self, port: int, topic: str, count: int, out: Path) -> None:
        self.out = out
        self.process = subprocess.Popen(
            [
                *(shutil.which("mosquitto_sub") or "/usr/bin/mosquitto_sub",),
                *("-h", "127.0.0.1", "-p", str(port), "-t", topic, "-q", "1", "-C", str(count)),
            ],
            stdout=out.open("w"),
            stderr=subprocess.DEVNULL,
        )
        time.sleep(0.5)  # subscribed before anything is published

    def check(self, ids: list[int]) -> None:
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.kill()
        lines = self.out.read_text().splitlines()
        got = list(dict.fromkeys(json.loads(line)["inspection_id"] for line in lines))
        if got != ids:
            raise SystemExit(f"the subscriber got {len(got)} verdicts, not the {len(ids)} records")


def publish_rate(folder: Path, count: int) -> None:
    prefix = f"bench-{uuid.uuid4().hex[:8]}"
    with Broker(folder / "broker-1", persistence=False) as broker:
        with Store.open(Settings.from_env(data_dir=folder / "data-1")) as store:
            publishing = Publishing.open(store, [f"{broker.url}/{prefix}"], station="bench")
            ids, record_s = _record(store, publishing, count)
            print(f"recorded {count} verdicts with their outbox rows: {count / record_s:,.0f}/s")
            reader = Subscriber(broker.port, f"{prefix}/+/+/verdict", count, folder / "sub-1")
            [publisher] = publishing.publishers
            publishing.start()
            publisher.wait_connected(10)
            started = time.perf_counter()
            publishing.wake()
            seconds = _drained(store) - started
            publishing.close()
        reader.check(ids)
    rate = count / seconds
    verdict = "meets" if rate >= GOAL_PER_S else "MISSES"
    print(
        f"publish rate, outbox -> Mosquitto (QoS 1, PUBACK each): {rate:,.0f} verdicts/s "
        f"({count} in {seconds:.2f} s; {verdict} the goal of {GOAL_PER_S:,}/s, "
        f"ratio {rate / GOAL_PER_S:.2f})"
    )


def outage(folder: Path, count: int) -> None:
    prefix = f"bench-{uuid.uuid4().hex[:8]}"
    broker = Broker(folder / "broker-2", persistence=False)
    with Store.open(Settings.from_env(data_dir=folder / "data-2")) as store:
        publishing = Publishing.open(store, [f"{broker.url}/{prefix}"], station="bench")
        [publisher] = publishing.publishers
        publishing.start()  # the broker is down: the drain retries, the records go on
        ids, record_s = _record(store, publishing, count)
        print(
            f"recorded {count} verdicts while the broker was down: {count / record_s:,.0f}/s, "
            f"{store.outbox_count_pending()} kept in the outbox"
        )
        broker.start()
        up = time.perf_counter()
        reader = Subscriber(broker.port, f"{prefix}/+/+/verdict", count, folder / "sub-2")
        publisher.wait_connected(60)
        connected = time.perf_counter()
        done = _drained(store)
        publishing.close()
        reader.check(ids)
        broker.stop()
    print(
        f"outage: {count} queued verdicts drained {done - up:.2f} s after the broker came back "
        f"(reconnect {connected - up:.2f} s, then {done - connected:.2f} s sending: "
        f"{count / (done - connected):,.0f}/s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--verdicts", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        publish_rate(Path(folder), args.verdicts)
        outage(Path(folder), args.verdicts)


if __name__ == "__main__":
    main()
