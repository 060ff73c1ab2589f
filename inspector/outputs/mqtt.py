"""MQTT (paho-mqtt 2.x): verdicts, the station's state, and commands, on one broker connection.

    mqtt://[USER:PASSWORD@]HOST[:PORT]/PREFIX[?station=NAME&require_auth=1]

Topics (PREFIX defaults to "inspector", the station name to config.station_name()):
- `PREFIX/STATION/VIEW/verdict`: each recorded verdict (message.py), QoS 1, not retained;
- `PREFIX/STATION/state`: "running" / "stopped" / "fault", retained; the broker's last will
  sets "offline" when the station vanishes without saying goodbye. A station that stopped in
  FAULT leaves "fault" (a clean stop after it does not hide it);
- `PREFIX/STATION/fault`: the FAULT's cause, retained while the state is "fault" (cleared, an
  empty retained message, when the station runs again);
- `PREFIX/STATION/command`: commands in (commands.py); answers on `PREFIX/STATION/command/reply`.
  Commands are carried out one at a time on a thread of their own, in the order they came, so
  a slow one (selecting a recipe loads its model) never holds up paho's network thread and the
  verdicts' acknowledgements.
  With `require_auth=1` (the site's rule that only an authenticated connection takes
  commands) a connection without a user name refuses every command.

Delivery: a verdict counts as sent only when the broker's PUBACK arrives. Many are kept in
flight at once (max_inflight) so a batch costs one round trip, not one per verdict. A message
in flight when the connection drops is re-sent by paho on reconnect with the same content, so
it is never published again under another id: `publish_batch` remembers what it has handed
to paho (by inspection id) and waits for those before sending anything newer, so the broker
receives verdicts in outbox order.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, unquote, urlsplit

import paho.mqtt.client as mqtt

from inspector.config import station_name
from inspector.errors import InputError
from inspector.outputs import mask
from inspector.outputs.base import OutputError, OutputStatus
from inspector.outputs.commands import (
    CommandHandler,
    CommandRefused,
    MalformedCommand,
    no_commands,
    parse_command,
)

log = logging.getLogger(__name__)

DEFAULT_PREFIX = "inspector"
MAX_INFLIGHT = 1000  # PUBACKs awaited at once; 20 (paho's default) caps a batch at 20 per RTT
ACK_TIMEOUT_S = 10.0
RECONNECT_MAX_S = 2  # a broker back after an outage is found within this (paho doubles from 1 s)


def topic_part(name: str) -> str:
    """A name as one topic level: MQTT wildcards and separators become '_'."""
    cleaned = "".join("_" if c in "/+#\0" else c for c in name.strip())
    return cleaned or "_"


class MqttPublisher:
    def __init__(self, url: str, ack_timeout_s: float = ACK_TIMEOUT_S) -> None:
        parts = urlsplit(url)
        if not parts.hostname:
            raise InputError(f"output {mask(url)}: no broker host; use mqtt://HOST:1883/PREFIX")
        query = parse_qs(parts.query)
        unknown = set(query) - {"station", "require_auth"}
        if unknown:
            raise InputError(
                f"output {mask(url)}: unknown option(s) {', '.join(sorted(unknown))}; "
                "use station=NAME, require_auth=1"
            )
        self.name = mask(url)
        self.host = parts.hostname
        self.port = parts.port or 1883
        self.username = unquote(parts.username) if parts.username else None
        self._password = unquote(parts.password) if parts.password else None
        self.prefix = parts.path.strip("/") or DEFAULT_PREFIX
        self._named = "station" in query  # the URL's station name wins over the station's
        self.require_auth = query.get("require_auth", ["0"])[0].lower() in ("1", "true", "yes")
        self._topics(query.get("station", [station_name()])[0])
        self.ack_timeout_s = ack_timeout_s
        self.commands: CommandHandler = no_commands
        self.on_connected: Callable[[], None] = lambda: None  # the outbox's drain: send now
        self.commands_done = 0
        self.commands_refused = 0
        self.commands_malformed = 0
        self._state = "running"
        self._fault = ""  # the cause, in FAULT
        self._lock = threading.Condition()
        self._connected = False
        self._listening = False  # the broker acknowledged the command subscription
        self._closing = False
        self._sent = 0
        self._failed = 0
        self._last_error: str | None = "not connected yet"
        self._inflight: dict[int, int] = {}  # inspection id -> paho mid, until its PUBACK
        self._acked: set[int] = set()  # mids acknowledged and not yet collected
        self._commands_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mqtt-command")
        self._client = self._make_client()

    def _topics(self, station: str) -> None:
        self.station = topic_part(station)
        self.base = f"{self.prefix}/{self.station}"
        self.state_topic = f"{self.base}/state"
        self.fault_topic = f"{self.base}/fault"
        self.command_topic = f"{self.base}/command"
        self.reply_topic = f"{self.base}/command/reply"

    def set_station(self, name: str) -> None:
        """The station's name for the topics, unless the URL gave one (before `start`)."""
        if not self._named:
            self._topics(name)
            self._client.will_set(self.state_topic, "offline", qos=1, retain=True)

    def verdict_topic(self, view: str) -> str:
        return f"{self.base}/{topic_part(view)}/verdict"

    def _make_client(self) -> mqtt.Client:
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=f"inspector-{self.station}-{uuid.uuid4().hex[:8]}",
            protocol=mqtt.MQTTv311,
        )
        client.max_inflight_messages_set(MAX_INFLIGHT)
        client.reconnect_delay_set(min_delay=1, max_delay=RECONNECT_MAX_S)
        if self.username:
            client.username_pw_set(self.username, self._password)
        client.will_set(self.state_topic, "offline", qos=1, retain=True)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        return client

    # -- life cycle ----------------------------------------------------------------------
    def start(self) -> None:
        """Connect in the background; an absent broker is retried, never waited for."""
        self._client.connect_async(self.host, self.port, keepalive=15)
        self._client.loop_start()

    def wait_connected(self, timeout_s: float) -> bool:
        """Until connected and listening to the command topic; False on timeout."""
        deadline = time.monotonic() + timeout_s
        with self._lock:
            while not (self._connected and self._listening) and time.monotonic() < deadline:
                self._lock.wait(0.05)
            return self._connected and self._listening

    def set_state(self, state: str) -> None:
        """The station's state, retained, so a late subscriber reads it at once."""
        self._state = state
        if self._connected:
            self._say_state(self._client)

    def set_fault(self, cause: str) -> None:
        """The station is in FAULT: the state says "fault" and the fault topic the cause, both
        retained, so the line's systems learn it at once and whenever they subscribe."""
        self._fault = cause or "fault"
        self.set_state("fault")

    def _say_state(self, client: mqtt.Client) -> mqtt.MQTTMessageInfo:
        """The state, the cause first (an empty retained message clears an earlier cause)."""
        client.publish(self.fault_topic, self._fault, qos=1, retain=True)
        return client.publish(self.state_topic, self._state, qos=1, retain=True)

    def close(self) -> None:
        """Say "stopped" (a clean exit is not the last will's "offline"), unless the station
        stopped in FAULT, which stays said; then disconnect."""
        self._closing = True
        if self._connected:
            if self._state != "fault":
                self._state = "stopped"
            info = self._say_state(self._client)
            with contextlib.suppress(RuntimeError, ValueError):
                info.wait_for_publish(2.0)
        self._commands_pool.shutdown(wait=True, cancel_futures=True)
        self._client.disconnect()
        self._client.loop_stop()
        with self._lock:
            self._connected = False
            self._lock.notify_all()

    def status(self) -> OutputStatus:
        with self._lock:
            return OutputStatus(
                self.name, self._connected, self._sent, self._failed, self._last_error
            )

    # -- verdicts --------------------------------------------------------------------------
    def publish(self, message: dict) -> None:
        if self.publish_batch([message]) != 1:
            raise OutputError(f"{self.name}: {self._last_error or 'not delivered'}")

    def publish_batch(self, messages: Sequence[dict]) -> int:
        """Publish in order; returns how many, from the first, the broker acknowledged.

        The rest stay in the outbox. A message already in paho's hands (sent before a
        disconnect) is not published again: paho re-sends it on reconnect, and it is awaited
        before anything newer is sent, so the broker receives verdicts in outbox order.
        """
        with self._lock:
            old = 0
            while old < len(messages) and messages[old]["inspection_id"] in self._inflight:
                old += 1
            mids = [self._inflight[m["inspection_id"]] for m in messages[:old]]
        if self._await(mids) == len(mids):
            for message in messages[old:]:
                with self._lock:
                    mid = self._inflight.get(message["inspection_id"])
                if mid is None:
                    if not self._connected:
                        break
                    mid = self._hand_to_paho(message)
                    if mid is None:
                        break
                mids.append(mid)
        done = self._await(mids)
        with self._lock:
            for message in messages[:done]:
                del self._inflight[message["inspection_id"]]
            # forget acknowledgements nobody awaits (state, replies, verdicts just collected)
            self._acked.intersection_update(self._inflight.values())
            self._sent += done
            if done < len(messages):
                self._failed += 1  # tries that did not deliver, as a webhook counts them
                self._last_error = (
                    "no PUBACK in time" if self._connected else "broker not connected"
                )
        return done

    def _hand_to_paho(self, message: dict) -> int | None:
        """Queue one verdict in paho; its mid (to await), or None where paho refused it.

        Not under self._lock: paho calls on_publish holding its own lock, and publish() takes
        that lock too. A PUBACK that arrives before the mid is noted is kept in _acked all the
        same (only this thread prunes _acked, after noting)."""
        info = self._client.publish(
            self.verdict_topic(message.get("view") or "camera"),
            json.dumps(message, separators=(",", ":")),
            qos=1,
        )
        if info.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):
            return None
        # NO_CONN: paho keeps it and sends it on reconnect; noted so it is not sent twice
        with self._lock:
            self._inflight[message["inspection_id"]] = info.mid
        return info.mid

    def _await(self, mids: Sequence[int]) -> int:
        """Wait for PUBACKs; how many of `mids`, from the first, arrived."""
        deadline = time.monotonic() + self.ack_timeout_s
        done = 0  # only grows: acknowledgements are not taken back
        with self._lock:
            while True:
                while done < len(mids) and mids[done] in self._acked:
                    done += 1
                if done == len(mids) or not self._connected or time.monotonic() >= deadline:
                    return done
                self._lock.wait(0.05)

    # -- paho callbacks (its network thread) --------------------------------------------
    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            with self._lock:
                self._last_error = f"broker refused the connection: {reason_code}"
            log.warning("MQTT %s: %s", self.name, self._last_error)
            return
        with self._lock:
            self._connected = True
            self._last_error = None
            self._lock.notify_all()
        log.info("MQTT %s: connected", self.name)
        self._say_state(client)
        client.subscribe(self.command_topic, qos=1)
        self.on_connected()

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        with self._lock:
            self._listening = True
            self._lock.notify_all()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        with self._lock:
            was = self._connected
            self._connected = False
            self._listening = False
            if not self._closing:
                self._last_error = f"not connected ({reason_code})"
            self._lock.notify_all()
        if was and not self._closing:
            log.warning("MQTT %s: connection lost (%s); retrying", self.name, reason_code)

    def _on_publish(self, client, userdata, mid, reason_code, properties) -> None:
        with self._lock:
            self._acked.add(mid)
            self._lock.notify_all()

    def _on_message(self, client, userdata, message) -> None:
        if message.topic != self.command_topic or self._closing:
            return
        with contextlib.suppress(RuntimeError):  # closing: the pool takes no more
            self._commands_pool.submit(self._command, message.payload)

    def _command(self, payload: bytes) -> None:
        """One command, carried out on the commands thread, answered on the reply topic."""
        command_id = None
        try:
            command = parse_command(payload)
            command_id = command.id
            if self.require_auth and not self.username:
                raise CommandRefused(
                    "commands need an authenticated broker connection (require_auth=1) and "
                    "this station connected without a user"
                )
            answer = self.commands(command)
        except MalformedCommand as exc:
            self.commands_malformed += 1
            log.warning("MQTT %s: malformed command %r: %s", self.name, payload[:200], exc)
            self._reply(False, f"malformed command: {exc}", command_id)
        except CommandRefused as exc:
            self.commands_refused += 1
            log.warning("MQTT %s: command refused: %s", self.name, exc)
            self._reply(False, str(exc), command_id)
        except Exception as exc:  # a handler's bug must not end the commands thread
            self.commands_refused += 1
            log.exception("MQTT %s: command failed", self.name)
            self._reply(False, f"command failed: {exc}", command_id)
        else:
            self.commands_done += 1
            self._reply(True, answer, command_id)

    def _reply(self, ok: bool, text: str, command_id) -> None:
        body = {"ok": ok, ("result" if ok else "error"): text, "id": command_id}
        self._client.publish(self.reply_topic, json.dumps(body), qos=1)
