"""MQTT peers on 127.0.0.1 for the output tests and benchmarks: a Mosquitto of the test's own
(killed and restarted like a broker that crashes), and a subscriber that reads verdicts back.

`Broker` runs /usr/sbin/mosquitto on a free port with persistence on, so a subscriber's
persistent session (and the messages queued for it) survive a restart, as on a plant's broker.
It is ended by its own process id. `Reader` is a plain paho client; with `session=True` it keeps
its subscriptions across reconnects (clean_session off, QoS 1) so nothing published while it
was away is missed. `MACHINE_BROKER` is the broker these machines run (skip where absent).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import uuid
from pathlib import Path

import paho.mqtt.client as mqtt

from tests.support.ports import free_port

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
MACHINE_BROKER = ("127.0.0.1", 1883)


def listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


class Broker:
    def __init__(self, folder: Path, port: int | None = None, persistence: bool = True) -> None:
        self.port = port or free_port()
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.config = folder / "mosquitto.conf"
        self.config.write_text(
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous true\n"
            f"persistence {'true' if persistence else 'false'}\n"
            f"persistence_location {folder}/\n"
            "autosave_interval 1\n"
            "max_inflight_messages 0\n"
            "max_queued_messages 0\n"
        )
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> Broker:
        if not os.path.exists(MOSQUITTO):
            raise RuntimeError(f"no mosquitto at {MOSQUITTO}")
        log = open(self.folder / "mosquitto.log", "ab")  # noqa: SIM115 (the child holds it)
        self.process = subprocess.Popen(
            [MOSQUITTO, "-c", str(self.config)], stdout=log, stderr=log, stdin=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 10
        while not listening("127.0.0.1", self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"mosquitto did not start: see {self.folder}/mosquitto.log")
            time.sleep(0.05)
        return self

    def kill(self) -> None:
        """SIGKILL: the broker vanishes mid-run, as in a crash or a power cut."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self) -> Broker:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class Reader:
    """Subscribes to `topics` and keeps every message (topic, payload bytes, retained)."""

    def __init__(self, port: int, topics: list[str], session: bool = False) -> None:
        self.messages: list[tuple[str, bytes, bool]] = []
        self._changed = threading.Condition()
        self._topics = topics
        self._subscribed = threading.Event()
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=f"reader-{uuid.uuid4().hex[:8]}",
            protocol=mqtt.MQTTv311,
            clean_session=not session,
        )
        self.client.reconnect_delay_set(min_delay=1, max_delay=1)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda *args: self._subscribed.set()
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port, keepalive=10)
        self.client.loop_start()
        if not self._subscribed.wait(10):
            raise RuntimeError("the reader could not subscribe")

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        client.subscribe([(topic, 1) for topic in self._topics])

    def _on_message(self, client, userdata, message) -> None:
        with self._changed:
            self.messages.append((message.topic, message.payload, bool(message.retain)))
            self._changed.notify_all()

    def wait_for(self, predicate, timeout: float = 30) -> bool:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate(self.messages):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(min(left, 0.2))
            return True

    def payloads(self, suffix: str) -> list[bytes]:
        with self._changed:
            return [p for t, p, _ in self.messages if t.endswith(suffix)]

    def verdicts(self) -> list[dict]:
        return [json.loads(p) for p in self.payloads("/verdict")]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def publish(port: int, topic: str, payload: bytes | str) -> None:
    """One message from another client (a line system sending a command)."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
    client.connect("127.0.0.1", port)
    client.loop_start()
    client.publish(topic, payload, qos=1).wait_for_publish(5)
    client.disconnect()
    client.loop_stop()
