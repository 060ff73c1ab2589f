"""`modbus://HOST:PORT`: the PLC handshake (handshake.py) as a Modbus TCP server (pymodbus 3.x),
on a thread with its own event loop, for the small PLCs that speak nothing else.

The map (the README has it as a table), any unit id:

- coils (FC1 read, FC5/FC15 write), the handshake's bits: 0 Trigger and 1 ResultAck, written by
  the PLC and edge-triggered (0→1 acts; write 0 any time after, e.g. [Trigger, ResultAck] =
  [0, 1] after reading a result, then [1, 0] for the next part); 2 Ready, 3 Busy, 4 ResultValid,
  5 Fault, 6 Error, 7 Heartbeat (toggles with the counter), read-only. Discrete inputs (FC2)
  read the same bits.
- holding registers (FC3 read, FC6/FC16 write): 0-15 PartId (the next part's id, 2 ASCII
  characters per register, high byte first, NUL-padded; taken and cleared by the trigger) and
  35 Command (1 trigger, 2 acknowledge: for PLCs that write no coils) are writable; the rest is
  read-only: 16 State, 17 Heartbeat, 18 ResultCode, 19 DefectCount, 20 Error, 21 ResultSequence,
  22-23 Triggers, 24-25 Results, 26-27 Errors, 28-29 BusyRejections (32-bit, high word first),
  30-31 InspectionId, 32 LatencyMs, 33 RecipeVersion, 34 Reason, 36-39 reserved (read 0),
  40-55 the result's PartId,
  56-71 FirstDefect, 72-87 RecipeName (text as PartId). Input registers (FC4) read the same.

A read or write outside the map, or a write to a read-only address, is answered with the Modbus
exception 02 (illegal data address), counted and logged through the handshake; the server and
the station go on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Sequence
from urllib.parse import urlsplit

from pymodbus.constants import ExcCodes
from pymodbus.datastore import ModbusServerContext
from pymodbus.server import ModbusTcpServer

from inspector.errors import InputError
from inspector.outputs.base import OutputError, OutputStatus
from inspector.outputs.handshake import ErrorCode, Handshake, Snapshot, State, server_status

log = logging.getLogger(__name__)

START_TIMEOUT_S = 10.0
TRIGGER, RESULT_ACK = 0, 1
BITS = ("Trigger", "ResultAck", "Ready", "Busy", "ResultValid", "Fault", "Error", "Heartbeat")
PART_ID = range(0, 16)
COMMAND = 35
REGISTERS = 88
RESERVED = range(36, 40)  # read as 0; a write is refused as to an unknown address
TEXT_REGISTERS = 16
REASONS = {"verdict": 0, "deadline": 1, "fault": 2, "not recorded": 3, "not captured": 4}
READ_BITS, READ_REGISTERS = (1, 2), (3, 4)
WRITE_BITS, WRITE_REGISTERS = (5, 15), (6, 16)


def text_registers(text: str, count: int = TEXT_REGISTERS) -> list[int]:
    """Text as registers: 2 characters each, high byte first, NUL-padded (ASCII; others '?')."""
    data = text.encode("ascii", "replace")[: 2 * count].ljust(2 * count, b"\0")
    return [data[i] << 8 | data[i + 1] for i in range(0, 2 * count, 2)]


def registers_text(registers: Sequence[int]) -> str:
    data = b"".join(bytes((r >> 8 & 0xFF, r & 0xFF)) for r in registers)
    return data.split(b"\0", 1)[0].decode("ascii", "replace")


def _u32(value: int) -> list[int]:
    value &= 0xFFFFFFFF
    return [value >> 16, value & 0xFFFF]


def register_image(snapshot: Snapshot, part_id: list[int], command: int) -> list[int]:
    """Every holding register's value for a handshake snapshot."""
    c, r = snapshot.counters, snapshot.result
    image = list(part_id) + [0] * (REGISTERS - len(part_id))
    image[16:22] = [
        int(snapshot.state),
        snapshot.heartbeat & 0xFFFF,
        int(r.code) if r else 0,
        min(r.defect_count, 0xFFFF) if r else 0,
        int(snapshot.error),
        snapshot.result_sequence & 0xFFFF,
    ]
    image[22:30] = _u32(c.triggers) + _u32(c.results) + _u32(c.errors) + _u32(c.busy_rejections)
    if r is not None:
        image[30:32] = _u32(r.inspection_id)
        image[32] = min(round(r.latency_ms), 0xFFFF)
        image[33] = r.recipe_version & 0xFFFF
        image[34] = REASONS.get(r.reason, 0xFFFF)
        image[40:56] = text_registers(r.part_id)
        image[56:72] = text_registers(r.first_defect)
        image[72:88] = text_registers(r.recipe)
    image[COMMAND] = command
    return image


class _HandshakeContext(ModbusServerContext):
    """pymodbus's datastore hook, answering from the handshake instead of stored blocks."""

    def __init__(self, handshake: Handshake) -> None:  # no super(): no stored blocks
        self.old_simulator = True  # pymodbus then calls async_getValues/async_setValues
        self.simdevices = []
        self._handshake = handshake
        self._coils = [False, False]  # Trigger, ResultAck as the PLC last wrote them
        self._part_id = [0] * len(PART_ID)
        self._command = 0

    def device_ids(self) -> list[int]:
        return [0]

    def _refuse(self, error: ErrorCode, what: str) -> ExcCodes:
        self._handshake.refuse(error, what)
        return ExcCodes.ILLEGAL_ADDRESS

    async def async_getValues(self, device_id, func_code, address, count=1):
        snapshot = self._handshake.snapshot()
        if func_code in READ_BITS or func_code in WRITE_BITS:
            if address < 0 or address + count > len(BITS):
                return self._refuse(
                    ErrorCode.UNKNOWN_ADDRESS, f"Modbus read of bits {address}+{count}"
                )
            bits = [
                *self._coils,
                snapshot.ready,
                snapshot.busy,
                snapshot.result_valid,
                snapshot.state is State.FAULT,
                snapshot.error is not ErrorCode.NONE,
                bool(snapshot.heartbeat & 1),
            ]
            return bits[address : address + count]
        if func_code in READ_REGISTERS or func_code in WRITE_REGISTERS:
            if address < 0 or address + count > REGISTERS:
                return self._refuse(
                    ErrorCode.UNKNOWN_ADDRESS, f"Modbus read of registers {address}+{count}"
                )
            image = register_image(snapshot, self._part_id, self._command)
            return image[address : address + count]
        return ExcCodes.ILLEGAL_FUNCTION

    async def async_setValues(self, device_id, func_code, address, values):
        count = len(values)
        if func_code in WRITE_BITS:
            if address < 0 or address + count > len(BITS):
                return self._refuse(
                    ErrorCode.UNKNOWN_ADDRESS, f"Modbus write to bits {address}+{count}"
                )
            if address + count > RESULT_ACK + 1:
                name = BITS[max(address, RESULT_ACK + 1)]
                return self._refuse(ErrorCode.READ_ONLY, f"Modbus write to read-only {name}")
            for offset, value in enumerate(values):
                self._write_bit(address + offset, bool(value))
            return None
        if func_code in WRITE_REGISTERS:
            span = range(address, address + count)
            if address < 0 or address + count > REGISTERS or any(a in RESERVED for a in span):
                return self._refuse(
                    ErrorCode.UNKNOWN_ADDRESS, f"Modbus write to registers {address}+{count}"
                )
            if not all(a in PART_ID or a == COMMAND for a in span):
                first = next(a for a in span if a not in PART_ID and a != COMMAND)
                return self._refuse(
                    ErrorCode.READ_ONLY, f"Modbus write to read-only register {first}"
                )
            for offset, value in enumerate(values):
                where = address + offset
                if where == COMMAND:
                    self._command = int(value)
                    self._act(int(value))
                else:
                    self._part_id[where] = int(value) & 0xFFFF
            return None
        return ExcCodes.ILLEGAL_FUNCTION

    def _write_bit(self, address: int, value: bool) -> None:
        rising = value and not self._coils[address]
        self._coils[address] = value
        if rising:
            self._act(1 if address == TRIGGER else 2)

    def _act(self, command: int) -> None:
        if command == 1:
            part_id = registers_text(self._part_id)
            self._part_id = [0] * len(PART_ID)
            self._handshake.trigger(part_id)
        elif command == 2:
            self._handshake.acknowledge()
        elif command != 0:
            self._handshake.refuse(ErrorCode.BAD_VALUE, f"Modbus command {command} (use 1 or 2)")


class ModbusServer:
    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme.lower() != "modbus" or not parts.hostname:
            raise InputError(f"output {url}: expected modbus://HOST:PORT")
        try:
            self.port = parts.port or 502
        except ValueError:
            raise InputError(f"output {url}: the port must be a number") from None
        if parts.query:
            raise InputError(f"output {url}: takes no options")
        self.host = parts.hostname
        self.name = url
        self._handshake: Handshake | None = None
        self._server: ModbusTcpServer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._started = threading.Event()
        self._failure: str | None = None
        self._thread = threading.Thread(target=self._run, name="modbus", daemon=True)

    def attach(self, handshake: Handshake) -> None:
        self._handshake = handshake

    def start(self) -> None:
        if self._handshake is None:
            raise OutputError(f"output {self.name}: no handshake attached")
        self._thread.start()
        if not self._started.wait(START_TIMEOUT_S):
            raise OutputError(f"output {self.name}: the Modbus server did not start in time")
        if self._failure is not None:
            raise OutputError(f"output {self.name}: {self._failure}")

    def status(self) -> OutputStatus:
        running = self._started.is_set() and self._failure is None and self._thread.is_alive()
        return server_status(self.name, self._handshake, running, self._failure, self._clients)

    def _clients(self) -> int:
        """The connections open now (a PLC, a tool reading registers)."""
        server = self._server
        return len(getattr(server, "active_connections", {}) or {}) if server is not None else 0

    def close(self) -> None:
        loop, server = self._loop, self._server
        if loop is not None and server is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop ended meanwhile
                asyncio.run_coroutine_threadsafe(server.shutdown(), loop)
        if self._thread.is_alive():
            self._thread.join(10)

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except Exception as exc:  # said by start(); the traceback goes to the log file only
            log.warning("Modbus server on %s:%s failed", self.host, self.port, exc_info=True)
            self._failure = f"the Modbus server cannot serve on {self.host}:{self.port}: {exc}"
        finally:
            self._started.set()

    async def _serve(self) -> None:
        assert self._handshake is not None
        self._loop = asyncio.get_running_loop()
        context = _HandshakeContext(self._handshake)
        self._server = ModbusTcpServer(context, address=(self.host, self.port))
        await self._server.serve_forever(background=True)
        self._started.set()
        await self._server.serving
