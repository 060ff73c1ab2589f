"""The station's line publishers (MQTT, webhook), fed from the store's outbox.

The record thread adds each verdict's message to the outbox in the record's own transaction
(`outbox_for`) and wakes the drains; it never waits for an output. One drain thread per
publisher reads that publisher's pending messages in order, publishes them and marks them
sent. A publisher that fails (broker down, a 500, a server that hangs) keeps its messages in
the outbox: the failure is counted and logged, the drain waits (exponential backoff, 0.5 s up
to 30 s) and tries again from the same message, so verdicts arrive in order, none is lost,
and each is sent with its own inspection id whenever it is sent again. Messages left pending
when the station stops are sent by the next run that has the same output.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from inspector.errors import InputError, InspectorError
from inspector.outputs import Output, OutputError, OutputStatus, open_output
from inspector.outputs.commands import Command, CommandHandler, CommandRefused
from inspector.outputs.message import verdict_message
from inspector.station.events import StationEvent, StationFaulted
from inspector.station.inspection import Judged, View
from inspector.store import OutboxMessage, OutboxWrite, Store

log = logging.getLogger(__name__)

BATCH = 500  # messages read from the outbox at a time
FIRST_BACKOFF_S = 0.5
MAX_BACKOFF_S = 30.0
IDLE_POLL_S = 1.0  # a drain also looks without being woken (rows left by an earlier run)
CLOSE_DRAIN_S = 5.0  # at stop, how long publishers may take to send what is still pending


@dataclass(frozen=True)
class OutputReport:
    """An output's status with the verdicts still waiting for it in the outbox."""

    status: OutputStatus
    pending: int

    def line(self) -> str:
        s = self.status
        if s.clients is not None:  # a PLC server
            return self._server_line()
        state = "connected" if s.connected else "NOT CONNECTED" if s.last_error else "closed"
        text = f"output {s.name}: {state}, {s.sent} sent, {s.failed} failed, {self.pending} pending"
        return f"{text} (last error: {s.last_error})" if s.last_error else text

    def _server_line(self) -> str:
        s = self.status
        if not s.connected:
            state = "NOT SERVING" if s.last_error else "closed"
        elif s.clients:
            state = f"listening, {s.clients} client{'s' if s.clients != 1 else ''} connected"
        else:
            state = "listening, NO CLIENT connected"
        text = (
            f"output {s.name}: {state}, {s.triggers or 0} triggers, {s.sent} results, "
            f"{s.failed} errors"
        )
        return f"{text} (last error: {s.last_error})" if s.last_error else text


def _publishes(output: Output) -> bool:
    return callable(getattr(output, "publish", None))


class Publishing:
    """The station's publishers, and what every line output reports (the PLC servers too,
    whose life the line owns: station/line.py)."""

    def __init__(
        self,
        store: Store,
        outputs: Sequence[Output],
        station: str,
        servers: Sequence[Output] = (),
    ) -> None:
        names = [o.name for o in outputs]
        if len(set(names)) != len(names):
            raise InputError(f"outputs named twice: {', '.join(names)}")
        self.store = store
        self.station = station
        self.outputs = tuple(outputs)
        self.servers = tuple(servers)  # reported only: started and closed by the line
        self.publishers = tuple(o for o in outputs if _publishes(o))
        for output in self.outputs:  # one name on the line: the messages' and the topics'
            if callable(getattr(output, "set_station", None)):
                output.set_station(station)
        self._names = tuple(p.name for p in self.publishers)
        self._wake = [threading.Event() for _ in self.publishers]
        # Ends a drain's backoff early: the publisher is back (a reconnect), or the station stops.
        self._ready = [threading.Event() for _ in self.publishers]
        for publisher, ready in zip(self.publishers, self._ready, strict=True):
            if hasattr(publisher, "on_connected"):
                publisher.on_connected = ready.set
        self._closing = threading.Event()
        self._close_by = 0.0
        self._threads = [
            threading.Thread(target=self._drain, args=(i,), name=f"output-{i}", daemon=True)
            for i in range(len(self.publishers))
        ]

    @classmethod
    def open(
        cls,
        store: Store,
        urls: Sequence[str],
        station: str | None = None,
        servers: Sequence[Output] = (),
    ) -> Publishing:
        """The outputs the URLs name, checked (bad URLs raise InputError) but not started;
        `servers`: the line's PLC servers, reported with them."""
        from inspector.config import station_name

        outputs = [open_output(url) for url in urls]
        return cls(store, outputs, station or station_name(), servers)

    # -- life cycle ----------------------------------------------------------------------
    def start(self, commands: CommandHandler | None = None) -> None:
        for output in self.outputs:
            if commands is not None and hasattr(output, "commands"):
                output.commands = commands
            output.start()
        for thread in self._threads:
            thread.start()

    def close(self, drain_s: float = CLOSE_DRAIN_S) -> None:
        """Give the drains `drain_s` to send what is pending, then close every output."""
        self._close_by = time.monotonic() + drain_s
        self._closing.set()
        self.wake()
        for ready in self._ready:
            ready.set()
        for thread in self._threads:
            if thread.is_alive():
                thread.join(max(0.0, self._close_by - time.monotonic()) + 1.0)
        for output in self.outputs:
            try:
                output.close()
            except Exception:
                log.exception("closing output %s failed", output.name)

    def on_event(self, event: StationEvent) -> None:
        """A station listener: a FAULT reaches the outputs that say the station's state."""
        if isinstance(event, StationFaulted):
            for output in self.outputs:
                if callable(getattr(output, "set_fault", None)):
                    try:
                        output.set_fault(event.cause)
                    except Exception:  # an output's trouble never reaches the station
                        log.exception("output %s: saying the FAULT failed", output.name)

    def wake(self) -> None:
        for event in self._wake:
            event.set()

    def reports(self) -> list[OutputReport]:
        reports = []
        for output in self.outputs:
            try:
                pending = self.store.outbox_count_pending(output.name) if _publishes(output) else 0
            except Exception:  # the store's trouble is the station's to report, not this
                pending = -1
            reports.append(OutputReport(output.status(), pending))
        for server in self.servers:
            try:
                reports.append(OutputReport(server.status(), 0))
            except Exception:  # a server's trouble is shown as such, never raised here
                log.exception("output %s: status failed", server.name)
        return reports

    # -- the record thread's side ----------------------------------------------------------
    def outbox_for(self, view: View, judged: Judged) -> OutboxWrite | None:
        """The messages to add to this record's transaction (None: no publisher)."""
        if not self.publishers:
            return None
        frame, verdict = judged.frame, judged.verdict
        decided = verdict.decided_by
        latency_ms = (judged.judged_ns - judged.taken_ns) / 1e6
        # The id, uid and time recorded are stamped by the store in the record's transaction.
        message = verdict_message(
            station=self.station,
            view=view.name,
            camera_id=frame.camera_id,
            sequence=frame.sequence,
            part_id=frame.part_id,
            serial=frame.serial,
            lot=frame.lot,
            outcome=verdict.outcome,
            reason=verdict.reason,
            defects=verdict.defects,
            recipe=view.recipe.name,
            recipe_version=view.recipe.version,
            engine=decided.engine if decided else None,
            model_id=decided.model_id if decided else None,
            latency_ms=latency_ms,
            captured_at=frame.captured_at,
        )
        return OutboxWrite(self._names, message)

    # -- drain threads -----------------------------------------------------------------------
    def _drain(self, index: int) -> None:
        publisher, wake, ready = self.publishers[index], self._wake[index], self._ready[index]
        backoff = FIRST_BACKOFF_S
        while True:
            closing = self._closing.is_set()
            if closing and time.monotonic() >= self._close_by:
                return
            wake.clear()
            try:
                rows = self.store.outbox_pending(publisher.name, BATCH)
            except Exception:
                log.exception("output %s: reading the outbox failed", publisher.name)
                rows, error = None, "outbox unreadable"
            if rows == []:
                if closing:
                    return
                wake.wait(IDLE_POLL_S)
                continue
            if rows:
                ready.clear()  # a reconnect from here on ends the backoff below
                done, error = _publish(publisher, rows)
                try:
                    self.store.outbox_mark_sent([r.id for r in rows[:done]])
                    if done < len(rows):
                        self.store.outbox_mark_failed(rows[done].id, error)
                except Exception:
                    # Not marked: they are sent again (same ids) when the store is back.
                    log.exception("output %s: marking the outbox failed", publisher.name)
                    done = 0
                if done == len(rows):
                    backoff = FIRST_BACKOFF_S
                    continue
            if closing:  # until the close deadline, a short wait: the next run sends the rest
                time.sleep(min(0.1, max(0.0, self._close_by - time.monotonic())))
                continue
            log.warning(
                "output %s: %s; %d verdict(s) kept in the outbox, retrying in %.1f s",
                publisher.name,
                error,
                len(rows) - done if rows else 0,
                backoff,
            )
            if ready.wait(backoff) and not self._closing.is_set():
                backoff = FIRST_BACKOFF_S  # it reconnected since the try: send now
            else:
                backoff = min(backoff * 2, MAX_BACKOFF_S)


def _publish(publisher, rows: Sequence[OutboxMessage]) -> tuple[int, str]:
    """How many rows, from the first, the publisher took, and why it stopped there."""
    batch = getattr(publisher, "publish_batch", None)
    try:
        if batch is not None:
            done = batch([r.message for r in rows])
            return done, "" if done == len(rows) else (publisher.status().last_error or "failed")
        for done, row in enumerate(rows):
            try:
                publisher.publish(row.message)
            except OutputError as exc:
                return done, str(exc)
        return len(rows), ""
    except Exception as exc:  # a publisher's bug must not end its drain
        log.exception("output %s: publishing failed", publisher.name)
        return 0, f"publishing failed: {exc}"


def station_commands(
    trigger: Callable[[], bool],
    stop: Callable[[], None],
    select_recipe: Callable[[str], str] | None = None,
) -> CommandHandler:
    """What a running headless station does with a command from the line. Selecting a recipe
    loads it first; one that cannot be loaded is refused with the reason, and the station keeps
    the recipe it has."""

    def handle(command: Command) -> str:
        if command.name == "trigger":
            if not trigger():
                raise CommandRefused("no camera of this station takes a trigger")
            return "triggered"
        if command.name == "stop":
            stop()
            return "stopping"
        if command.name == "start":
            raise CommandRefused("the station is already running")
        if select_recipe is None:
            raise CommandRefused(
                f"recipe {command.recipe!r}: this station takes no recipe selection from the "
                "line; stop it and start it with the recipe"
            )
        try:
            return select_recipe(command.recipe or "")
        except InspectorError as exc:
            raise CommandRefused(f"recipe {command.recipe!r} refused: {exc}") from None

    return handle
