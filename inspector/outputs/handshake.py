"""The PLC handshake: one state machine behind every line protocol (OPC UA, Modbus TCP).

    PLC      Trigger (+ part id) ─▶
    station                         Busy ▲ ─ capture, judge, record ─ Result, ResultValid ▲
    PLC                                                               ResultAck ─▶
    station                                                           ResultValid ▼, Busy ▼

Invariants:
- every accepted trigger gets exactly one result (`complete` answers only the trigger in work,
  once); a trigger while a part is in work, or while its result waits for the PLC's
  acknowledgement, is refused with ErrorCode.BUSY and counted, never dropped in silence;
- a station in FAULT answers every trigger at once with the FAULT result;
- the state, the heartbeat (a counter the station increments every `heartbeat_s`), the counters
  and the last result are always readable (`snapshot`), whatever the station is doing.

Protocol-free and Qt-free: the servers (opcua.py, modbus.py) translate their protocol into these
calls and mirror `snapshot()` into their address spaces; the station (station/line.py) starts
parts on `on_trigger` and answers them with `complete`. Thread-safe: every call may come from
any thread; listeners and `on_trigger` are called outside the lock and must return at once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import IntEnum

from inspector.domain import utc_now
from inspector.outputs.base import OutputStatus

log = logging.getLogger(__name__)

PART_ID_CHARS = 32  # the longest part id a PLC may send (Modbus: 16 registers of 2 characters)


class ResultCode(IntEnum):
    """What the PLC does with the part."""

    NONE = 0  # no result yet
    PASS = 1
    FAIL = 2  # reject; also UNSURE on a line whose recipe says `line.unsure: reject`
    UNSURE = 3  # divert to a person (`line.unsure: divert`)
    FAULT = 4  # the station cannot judge or record: treat the part as not inspected


class State(IntEnum):
    STOPPED = 0  # no station running (starting up, stopped)
    IDLE = 1  # waiting for the PLC's trigger: the PLC may trigger (Ready)
    RUNNING = 2  # inspecting on its own trigger (a camera, free-run): results only, no triggers
    BUSY = 3  # a PLC part in work, or its result not yet acknowledged
    FAULT = 4  # a part could not be recorded: every trigger is answered with FAULT


class ErrorCode(IntEnum):
    NONE = 0
    BUSY = 1  # a trigger while a part is in work or its result is not acknowledged
    NOT_READY = 2  # a trigger while the station is stopped or runs on its own trigger
    NO_RESULT = 3  # a ResultAck with no result waiting
    READ_ONLY = 4  # a write to a value the PLC may only read
    UNKNOWN_ADDRESS = 5  # a Modbus address outside the map, an unknown OPC UA node
    BAD_VALUE = 6  # a value that cannot be taken (a part id too long, not text)
    NOT_ALLOWED = 7  # a write or call without a user allowed to make it
    RECIPE_REFUSED = 8  # a recipe selection refused (unknown, cannot be loaded): the old stays


@dataclass(frozen=True)
class PartResult:
    """The result the PLC reads for one part."""

    code: ResultCode
    outcome: str = ""  # as recorded: PASS / FAIL / UNSURE; empty when nothing was recorded
    reason: str = "verdict"  # verdict | deadline | fault | not captured | not recorded
    defect_count: int = 0
    first_defect: str = ""  # the first defect's class
    part_id: str = ""
    inspection_id: int = 0  # 0: no record (the deadline answer precedes it; a fault has none)
    recipe: str = ""
    recipe_version: int = 0
    engine: str = ""  # the engine whose answer became the verdict
    latency_ms: float = 0.0  # the judge's time
    time: datetime = field(default_factory=utc_now)


@dataclass(frozen=True)
class Counters:
    triggers: int = 0  # every trigger received, refused ones included
    results: int = 0  # results given (one per accepted trigger, plus self-triggered parts)
    errors: int = 0  # every refusal: busy, not ready, bad writes, acks with nothing to ack
    busy_rejections: int = 0  # triggers refused because a part was in work


@dataclass(frozen=True)
class Snapshot:
    state: State
    busy: bool
    result_valid: bool
    ready: bool  # the PLC may trigger now
    error: ErrorCode  # the last error, until the next accepted trigger
    error_text: str
    heartbeat: int
    counters: Counters
    part_id: str  # the part in work (its trigger's id)
    result: PartResult | None  # the last result
    result_sequence: int  # increments with every result, so a PLC sees a new one
    recipe: str
    recipe_version: int
    fault: str  # the cause, in FAULT


Listener = Callable[[Snapshot], None]


class Handshake:
    def __init__(self, heartbeat_s: float = 0.5) -> None:
        self.heartbeat_s = heartbeat_s
        # Set by the station's line: (token, part id) for each accepted trigger.
        self.on_trigger: Callable[[int, str], None] | None = None
        # Set by the station's runner: selects a recipe by name (loads it, then switches between
        # parts); returns what to tell the PLC, raises with the reason where it refuses.
        self.on_select_recipe: Callable[[str], str] | None = None
        self._lock = threading.Lock()
        self._listeners: list[Listener] = []
        self._state = State.STOPPED
        self._fault = ""
        self._busy = False
        self._result_valid = False
        self._error = ErrorCode.NONE
        self._error_text = ""
        self._heartbeat = 0
        self._counters = Counters()
        self._token = 0  # the trigger in work (0: none)
        self._tokens = 0
        self._part_id = ""
        self._result: PartResult | None = None
        self._sequence = 0
        self._recipe = ("", 0)
        self._closed = threading.Event()
        self._beat = threading.Thread(target=self._beat_loop, name="heartbeat", daemon=True)

    # -- observers -------------------------------------------------------------------------
    def subscribe(self, listener: Listener) -> None:
        with self._lock:
            self._listeners.append(listener)

    def unsubscribe(self, listener: Listener) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def snapshot(self) -> Snapshot:
        with self._lock:
            return self._snapshot()

    def _snapshot(self) -> Snapshot:
        return Snapshot(
            state=State.BUSY if self._busy and self._state is State.IDLE else self._state,
            busy=self._busy,
            result_valid=self._result_valid,
            ready=self._state is State.IDLE and not self._busy,
            error=self._error,
            error_text=self._error_text,
            heartbeat=self._heartbeat,
            counters=self._counters,
            part_id=self._part_id,
            result=self._result,
            result_sequence=self._sequence,
            recipe=self._recipe[0],
            recipe_version=self._recipe[1],
            fault=self._fault,
        )

    def _tell(self, snapshot: Snapshot) -> None:
        for listener in list(self._listeners):
            try:
                listener(snapshot)
            except Exception:  # a broken server must not stop the handshake
                log.exception("handshake listener failed")

    # -- life cycle ------------------------------------------------------------------------
    def start(self) -> None:
        """Start the heartbeat."""
        if not self._beat.is_alive() and not self._closed.is_set():
            self._beat.start()

    def close(self) -> None:
        """Stop the heartbeat; the state reads STOPPED, or FAULT with its cause where the
        station stopped in FAULT."""
        self._closed.set()
        with self._lock:
            fault = self._state is State.FAULT
        if not fault:
            self.set_state(State.STOPPED)

    def _beat_loop(self) -> None:
        while not self._closed.wait(self.heartbeat_s):
            with self._lock:
                self._heartbeat = (self._heartbeat + 1) % 2**31
                snapshot = self._snapshot()
            self._tell(snapshot)

    def set_state(self, state: State, fault: str = "") -> None:
        """The station's state: IDLE (PLC-triggered), RUNNING (own trigger), FAULT, STOPPED."""
        if state is State.BUSY:
            raise ValueError("BUSY follows from a trigger, it is not set")
        with self._lock:
            self._state = state
            self._fault = fault if state is State.FAULT else ""
            snapshot = self._snapshot()
        self._tell(snapshot)

    def set_recipe(self, name: str, version: int) -> None:
        with self._lock:
            self._recipe = (name, version)
            snapshot = self._snapshot()
        self._tell(snapshot)

    # -- the PLC's side --------------------------------------------------------------------
    def trigger(self, part_id: str = "") -> ErrorCode:
        """The PLC's trigger: NONE when the part is taken (or answered FAULT), else the error."""
        part_id = (part_id or "").strip()
        start: tuple[int, str] | None = None
        with self._lock:
            self._counters = replace(self._counters, triggers=self._counters.triggers + 1)
            if len(part_id) > PART_ID_CHARS:
                error = self._refuse(ErrorCode.BAD_VALUE, f"part id longer than {PART_ID_CHARS}")
            elif self._state in (State.STOPPED, State.RUNNING):
                error = self._refuse(ErrorCode.NOT_READY, f"trigger while {self._state.name}")
            elif self._busy or self._result_valid:
                error = self._refuse(ErrorCode.BUSY, "trigger while busy")
                self._counters = replace(
                    self._counters, busy_rejections=self._counters.busy_rejections + 1
                )
            elif self._state is State.FAULT:
                error = ErrorCode.NONE
                self._clear_error()
                self._tokens += 1
                self._busy, self._part_id = True, part_id
                fault = PartResult(ResultCode.FAULT, reason="fault", part_id=part_id)
                self._give(self._tokens, fault)
            else:
                error = ErrorCode.NONE
                self._clear_error()
                self._tokens += 1
                self._token, self._busy, self._part_id = self._tokens, True, part_id
                start = (self._token, part_id)
            snapshot = self._snapshot()
        self._tell(snapshot)
        if start is not None:
            self._start_part(*start)
        return error

    def _start_part(self, token: int, part_id: str) -> None:
        """Hand the part to the station; one that cannot take it is answered FAULT."""
        try:
            if self.on_trigger is None:
                raise RuntimeError("no station takes the part")
            self.on_trigger(token, part_id)
        except Exception as exc:
            log.exception("the station could not take part %s", part_id or token)
            self.complete(
                token, PartResult(ResultCode.FAULT, reason=f"fault: {exc}", part_id=part_id)
            )

    def select_recipe(self, name: str) -> tuple[ErrorCode, str]:
        """The PLC selects a recipe by name: (NONE, what was selected), or the refusal, counted,
        with its reason (the station keeps its recipe). Blocks while the recipe loads: call it
        off the server's loop."""
        select = self.on_select_recipe
        if select is None:
            what = "this station takes no recipe selection from the line"
            self.refuse(ErrorCode.NOT_READY, what)
            return ErrorCode.NOT_READY, what
        try:
            return ErrorCode.NONE, select((name or "").strip())
        except Exception as exc:
            what = f"recipe {name!r} refused: {exc}"
            self.refuse(ErrorCode.RECIPE_REFUSED, what)
            return ErrorCode.RECIPE_REFUSED, what

    def acknowledge(self) -> ErrorCode:
        """The PLC's ResultAck: the result was taken; ResultValid and Busy fall."""
        with self._lock:
            if self._result_valid:
                self._result_valid = self._busy = False
                self._part_id = ""
                error = ErrorCode.NONE
            else:
                error = self._refuse(ErrorCode.NO_RESULT, "ResultAck with no result waiting")
            snapshot = self._snapshot()
        self._tell(snapshot)
        return error

    def refuse(self, error: ErrorCode, what: str) -> None:
        """A protocol-level refusal (a write to a read-only value, an unknown address), counted
        and shown like the handshake's own; the server answers its protocol's error."""
        with self._lock:
            self._refuse(error, what)
            snapshot = self._snapshot()
        self._tell(snapshot)

    def _refuse(self, error: ErrorCode, what: str) -> ErrorCode:
        log.warning("PLC handshake: %s (%s)", what, error.name)
        self._error, self._error_text = error, what
        self._counters = replace(self._counters, errors=self._counters.errors + 1)
        return error

    def _clear_error(self) -> None:
        self._error, self._error_text = ErrorCode.NONE, ""

    # -- the station's side ----------------------------------------------------------------
    def complete(self, token: int, result: PartResult) -> bool:
        """Answer the trigger `token` (once); False when it is not the trigger in work."""
        with self._lock:
            if token != self._token or not self._busy or self._result_valid:
                return False
            self._give(token, result)
            snapshot = self._snapshot()
        self._tell(snapshot)
        return True

    def publish(self, result: PartResult) -> None:
        """A part the station took on its own trigger (RUNNING): the PLC reads it as the last
        result, with ResultValid raised until acknowledged; nothing waits for it."""
        with self._lock:
            self._give(0, result)
            snapshot = self._snapshot()
        self._tell(snapshot)

    def _give(self, token: int, result: PartResult) -> None:
        self._result, self._result_valid = result, True
        self._sequence = (self._sequence + 1) % 2**31
        self._counters = replace(self._counters, results=self._counters.results + 1)
        if token == self._token:
            self._token = 0


def server_status(
    name: str,
    handshake: Handshake | None,
    running: bool,
    failure: str | None,
    clients: Callable[[], int],
) -> OutputStatus:
    """What a PLC server shows (the window's strip, the console at stop), whatever its protocol:
    the handshake's counts, and the connections open while it serves."""
    snapshot = handshake.snapshot() if handshake else None
    return OutputStatus(
        name=name,
        connected=running,
        sent=snapshot.counters.results if snapshot else 0,
        failed=snapshot.counters.errors if snapshot else 0,
        # the last refusal while it serves; once closed, only why it could not serve
        last_error=failure or (snapshot.error_text if snapshot and running else None),
        clients=clients() if running else 0,
        triggers=snapshot.counters.triggers if snapshot else 0,
    )
