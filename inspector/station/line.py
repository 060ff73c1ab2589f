"""The station on the line: the PLC handshake (outputs/handshake.py) wired to the station, the
line's deadline and its fail-safe answer.

- `--trigger plc`: each accepted PLC trigger makes the camera take the next part
  (`LineTriggered`, the view's source): a folder or a video gives its next frame, a camera with
  TriggerSoftware fires it, any other live camera gives the first frame after the trigger. The
  PLC's part id becomes the frame's part id, and so the record's.
- A verdict reaches the PLC only once it is recorded: the line answers a trigger on the
  station's `PartInspected`, which fires after the commit. A part that could not be recorded is
  answered FAULT; a station in FAULT answers every trigger with FAULT (the handshake does).
- The deadline (recipe `line.deadline_ms`, from the trigger): when no verdict is ready by then,
  the PLC gets the fail-safe answer at the deadline: FAIL where `line.unsure` is `reject`,
  UNSURE where it is `divert`. The part is then recorded UNSURE with the reason "deadline",
  carrying the judge's late answer (its attempts, raw text included) for review. Whether a part
  is in time is decided once, under one lock, when its verdict is ready (`settle`, on the
  judge thread) or when its deadline passes, whichever comes first, so the record and the PLC
  never disagree. The deadline answer is the one signal that precedes its record: it is always
  the fail-safe code, and the record follows as soon as the judge returns.
- Without `--trigger plc` the station runs on its own trigger (state RUNNING) and each recorded
  part is published to the PLC as the last result, with ResultValid raised until acknowledged.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from inspector.cameras import Source, SourceEvent, SourceState
from inspector.domain import Frame, Outcome, Verdict, utc_now
from inspector.outputs.handshake import Handshake, PartResult, ResultCode, State
from inspector.recipes import LineSettings
from inspector.station.events import (
    PartInspected,
    StationEvent,
    StationFaulted,
    StationStopped,
)

if TYPE_CHECKING:
    from inspector.recipes import Recipe
    from inspector.station.pipeline import Station
    from inspector.store import Store

log = logging.getLogger(__name__)

DEADLINE = "deadline"


class LineTriggered:
    """A view's source that gives one frame per PLC trigger, stamped with the PLC's part id.

    A folder or video frame is read ahead, before the trigger (the part is already there, as it
    is in front of a camera): the trigger only hands it over, stamped with the trigger's time.
    A live camera is fired at the trigger (its TriggerSoftware, or the first frame after the
    trigger on a camera without one); frames answer triggers in order, and a trigger that got
    no frame (the camera is reconnecting) is handed back through `on_missed`, so the next
    frame is never taken for the missed part.
    """

    triggered = True  # every frame it gives is a part

    def __init__(self, source: Source, on_event: Callable[[SourceEvent], None]) -> None:
        self._on_event = on_event
        if source.live and not getattr(source, "triggered", False):
            from inspector.cameras.trigger import SoftwareTriggered

            source = SoftwareTriggered(source, self._source_event)
        self.uri = source.uri
        self.camera_id = source.camera_id
        self.live = source.live
        self.counters = getattr(source, "counters", None)
        # Told which frame answers which trigger (ticket, frame), and which got none (ticket).
        self.on_frame: Callable[[object, Frame], None] | None = None
        self.on_missed: Callable[[object], None] | None = None
        self._source = source
        self._fired: deque[tuple[str, object]] = deque()
        self._ahead: Frame | None = None
        self._closed = False
        self._changed = threading.Condition()

    def trigger(self, part_id: str = "", ticket: object = None) -> None:
        with self._changed:
            self._fired.append((part_id, ticket))
            self._changed.notify_all()
        fire = getattr(self._source, "trigger", None)
        if self.live and fire is not None:
            fire()

    def _source_event(self, event: SourceEvent) -> None:
        """SoftwareTriggered drops a trigger that got no frame, the oldest: so is its ticket."""
        if event.state is SourceState.SKIPPED and "trigger" in event.message:
            with self._changed:
                missed = self._fired.popleft() if self._fired else None
            if missed is not None and self.on_missed is not None:
                self.on_missed(missed[1])
        self._on_event(event)

    def read(self) -> Frame | None:
        if self.live:
            frame = self._source.read()
            if frame is None:
                return None
            with self._changed:
                part_id, ticket = self._fired.popleft() if self._fired else ("", None)
        else:
            frame = self._next_file_frame()
            if frame is None:
                return None
            part_id, ticket = frame[1]
            frame = frame[0]
        if part_id:
            frame = dataclasses.replace(frame, part_id=part_id)
        if self.on_frame is not None and ticket is not None:
            self.on_frame(ticket, frame)
        return frame

    def _next_file_frame(self) -> tuple[Frame, tuple[str, object]] | None:
        if self._ahead is None:
            self._ahead = self._source.read()
            if self._ahead is None:
                return None
        with self._changed:
            while not self._fired and not self._closed:
                self._changed.wait(0.5)
            if self._closed:
                return None
            fired = self._fired.popleft()
        frame, self._ahead = self._ahead, None
        now = dataclasses.replace(
            frame, captured_at=utc_now(), captured_monotonic_ns=time.monotonic_ns()
        )
        return now, fired

    def close(self) -> None:
        with self._changed:
            self._closed = True
            self._changed.notify_all()
        self._source.close()


@dataclass(eq=False)
class _Part:
    """A PLC trigger on its way: answered once, by its record or by its deadline."""

    token: int
    part_id: str
    triggered_ns: int
    timer: threading.Timer | None = None
    settled: bool = False  # its verdict was ready in time: the record answers it
    answered: bool = False
    key: tuple[str, int] | None = field(default=None)  # its frame (camera, sequence)


def result_code(outcome: Outcome, line: LineSettings) -> ResultCode:
    """What the PLC is told for a recorded outcome: UNSURE as the recipe's line says."""
    if outcome is Outcome.PASS:
        return ResultCode.PASS
    if outcome is Outcome.FAIL:
        return ResultCode.FAIL
    return ResultCode.UNSURE if line.unsure == "divert" else ResultCode.FAIL


def part_result(event: PartInspected, line: LineSettings, recipe: str, version: int) -> PartResult:
    """The PLC's result for a part whose views are all recorded (FAULT where one is not)."""
    views = [v for v in event.views if v.frame is not None]
    if not views or any(v.inspection_id is None for v in views):
        return PartResult(
            ResultCode.FAULT, reason="not recorded", part_id=event.part_id or "", recipe=recipe
        )
    defects = [d for v in views if v.verdict is not None for d in v.verdict.defects]
    first = views[0]
    verdict = first.verdict
    assert verdict is not None
    decided = verdict.decided_by
    late = verdict.reason.startswith(DEADLINE)
    return PartResult(
        code=result_code(event.outcome, line),
        outcome=str(event.outcome),
        reason=DEADLINE if late else "verdict",
        defect_count=len(defects),
        first_defect=defects[0].class_name if defects else "",
        part_id=event.part_id or "",
        inspection_id=first.inspection_id or 0,
        recipe=recipe,
        recipe_version=version,
        engine=decided.engine if decided is not None else "",
        latency_ms=first.timings.judge_ms if first.timings is not None else 0.0,
    )


class Line:
    """The handshake and the station of one line: triggers in, recorded results out."""

    def __init__(
        self, handshake: Handshake, line: LineSettings, recipe: str, version: int, plc: bool
    ) -> None:
        self.handshake = handshake
        self.settings = line
        self.recipe, self.version = recipe, version
        self.plc = plc  # the PLC triggers the parts (--trigger plc)
        self._lock = threading.Lock()
        self._waiting: deque[_Part] = deque()  # triggered, no frame yet
        self._by_frame: dict[tuple[str, int], _Part] = {}
        self._source: LineTriggered | None = None
        self._station: Station | None = None
        handshake.on_trigger = self._on_trigger
        handshake.set_recipe(recipe, version)

    # -- wiring ----------------------------------------------------------------------------
    def set_recipe(self, recipe: Recipe) -> None:
        """The recipe switched (between parts): its line settings and name from the next part."""
        with self._lock:
            self.settings = recipe.line
            self.recipe, self.version = recipe.name, recipe.version
        self.handshake.set_recipe(recipe.name, recipe.version)

    def attach(self, station: Station) -> None:
        """Take the station's parts; the PLC's triggers reach its LineTriggered source."""
        if self.plc:
            sources = [v.source for v in station.views if isinstance(v.source, LineTriggered)]
            if len(sources) != len(station.views) or len(sources) != 1:
                raise ValueError("--trigger plc takes one view whose source is LineTriggered")
            self._source = sources[0]
            self._source.on_frame = self._on_frame
            self._source.on_missed = self._on_missed
        station.settle = self.settle
        self._station = station
        self.handshake.set_state(State.IDLE if self.plc else State.RUNNING)

    def on_event(self, event: StationEvent) -> None:
        """A station listener: recorded parts answer their triggers; faults and stops."""
        if isinstance(event, PartInspected):
            self._on_part(event)
        elif isinstance(event, StationFaulted):
            self.handshake.set_state(State.FAULT, event.cause)
        elif isinstance(event, StationStopped):
            self._on_stopped()

    # -- triggers --------------------------------------------------------------------------
    def _on_trigger(self, token: int, part_id: str) -> None:
        """An accepted trigger (the handshake's thread): the source takes the part."""
        part = _Part(token, part_id, time.monotonic_ns())
        station, source = self._station, self._source
        fault = getattr(station, "fault", None) if station is not None else "no station"
        if fault or source is None:
            self._answer(part, PartResult(ResultCode.FAULT, reason="fault", part_id=part_id))
            return
        deadline = self.settings.deadline_ms
        if deadline is not None:
            part.timer = threading.Timer(deadline / 1000, self._at_deadline, (part,))
            part.timer.daemon = True
        with self._lock:
            self._waiting.append(part)
        if part.timer is not None:
            part.timer.start()
        source.trigger(part_id, part)

    def _on_frame(self, ticket: object, frame: Frame) -> None:
        """The source took the frame for a trigger (the capture thread)."""
        if not isinstance(ticket, _Part):
            return
        with self._lock:
            if ticket in self._waiting:
                self._waiting.remove(ticket)
            ticket.key = (frame.camera_id, frame.sequence)
            self._by_frame[ticket.key] = ticket

    def _on_missed(self, ticket: object) -> None:
        """The camera took no frame for this trigger: nothing to judge or record; FAULT."""
        if not isinstance(ticket, _Part):
            return
        with self._lock:
            if ticket in self._waiting:
                self._waiting.remove(ticket)
        result = PartResult(ResultCode.FAULT, reason="not captured", part_id=ticket.part_id)
        self._answer(ticket, result)

    # -- the deadline ----------------------------------------------------------------------
    def settle(self, frame: Frame, verdict: Verdict) -> Verdict:
        """The verdict to record for a judged frame (the judge thread): the judge's own when it
        is ready before the part's deadline, else UNSURE "deadline" carrying the late answer."""
        with self._lock:
            part = self._by_frame.get((frame.camera_id, frame.sequence))
            if part is None:
                return verdict
            if not part.answered:
                part.settled = True
                if part.timer is not None:
                    part.timer.cancel()
                return verdict
        late_ms = (time.monotonic_ns() - part.triggered_ns) / 1e6
        return Verdict(
            outcome=Outcome.UNSURE,
            reason=(
                f"{DEADLINE}: no verdict within {self.settings.deadline_ms} ms of the trigger; "
                f"the judge answered {verdict.outcome} after {late_ms:.0f} ms "
                f"(kept as an attempt for review: {verdict.reason})"
            ),
            defects=verdict.defects,
            confidence=verdict.confidence,
            attempts=verdict.attempts,
        )

    def _at_deadline(self, part: _Part) -> None:
        with self._lock:
            if part.settled or part.answered:
                return
            part.answered = True  # decided here, under the lock `settle` takes
        code = ResultCode.UNSURE if self.settings.unsure == "divert" else ResultCode.FAIL
        result = PartResult(
            code,
            outcome=str(Outcome.UNSURE),
            reason=DEADLINE,
            part_id=part.part_id,
            recipe=self.recipe,
            recipe_version=self.version,
        )
        log.warning(
            "part %s: no verdict within %s ms: the PLC is told %s",
            part.part_id or part.token,
            self.settings.deadline_ms,
            code.name,
        )
        self.handshake.complete(part.token, result)

    # -- results ---------------------------------------------------------------------------
    def _on_part(self, event: PartInspected) -> None:
        result = part_result(event, self.settings, self.recipe, self.version)
        frames = [v.frame for v in event.views if v.frame is not None]
        part = None
        if frames:
            with self._lock:
                part = self._by_frame.pop((frames[0].camera_id, frames[0].sequence), None)
        if part is None:
            if not self.plc:
                self.handshake.publish(result)
            else:
                log.warning("part %s was recorded without a PLC trigger", event.part_id)
            return
        self._answer(part, result)

    def _answer(self, part: _Part, result: PartResult) -> None:
        """Give the trigger its one result (a second answer is dropped)."""
        with self._lock:
            if part.answered:
                return
            part.answered = True
        if part.timer is not None:
            part.timer.cancel()
        self.handshake.complete(part.token, result)

    def _on_stopped(self) -> None:
        """Triggers that never got a frame are answered FAULT; the state becomes STOPPED, or
        stays FAULT for a station that stopped in FAULT (the PLC reads why until it is gone)."""
        with self._lock:
            left = list(self._waiting) + list(self._by_frame.values())
            self._waiting.clear()
            self._by_frame.clear()
        for part in left:
            self._answer(part, PartResult(ResultCode.FAULT, reason="fault", part_id=part.part_id))
        if self.handshake.snapshot().state is not State.FAULT:
            self.handshake.set_state(State.STOPPED)


PLC_SCHEMES = ("opcua", "modbus")


def is_plc_output(url: str) -> bool:
    return url.partition(":")[0].lower() in PLC_SCHEMES


class LineOutputs:
    """A station's PLC servers (opcua://, modbus://) and the one handshake they serve."""

    def __init__(
        self, servers: list[Any], check_password: Callable[[str, str], bool] | None
    ) -> None:
        self.handshake = Handshake()
        self.servers = servers
        self.line: Line | None = None
        for server in servers:
            server.attach(self.handshake)
            if check_password is not None and hasattr(server, "set_accounts"):
                server.set_accounts(check_password)

    @classmethod
    def open(cls, store: Store, urls: list[str]) -> LineOutputs:
        """The servers the URLs name, checked (a bad URL raises InputError) but not started;
        writes and method calls over OPC UA are allowed to the station's accounts."""
        from inspector.errors import InspectorError
        from inspector.outputs import open_output

        def check_password(user: str, password: str) -> bool:
            try:
                store.authenticate(user, password)
            except InspectorError:
                return False
            return True

        return cls([open_output(url) for url in urls], check_password)

    def start(self) -> None:
        """Serve (the state reads STOPPED until a station is attached). A server that cannot
        start (a port in use) stops the start, naming it, before anything is recorded."""
        self.handshake.start()
        started = []
        try:
            for server in self.servers:
                server.start()
                started.append(server)
        except BaseException:
            for server in started:
                server.close()
            self.handshake.close()
            raise

    def attach(self, station: Station, plc: bool) -> None:
        """Serve the station's parts: the PLC triggers them (`plc`) or reads them as they come."""
        recipe = station.views[0].recipe
        self.line = Line(self.handshake, recipe.line, recipe.name, recipe.version, plc)
        self.line.attach(station)
        station.subscribe(self._on_event)

    def _on_event(self, event: StationEvent) -> None:
        if self.line is not None:
            self.line.on_event(event)
        if isinstance(event, StationStopped):
            self.close()

    def close(self) -> None:
        for server in self.servers:
            try:
                server.close()
            except Exception:
                log.exception("closing output %s failed", server.name)
        self.handshake.close()
