"""The one shape of a line output: `Output` (start, status, close), its `OutputStatus`, and
`OutputError`.

Publishers (mqtt.py, webhook.py) add `publish(message: dict) -> None`, which returns only once
the peer has taken the message and raises `OutputError` otherwise (the outbox keeps it). PLC
servers (opcua.py, modbus.py) add `attach(handshake)`. An output never raises into the station:
its failures are counted in its status and logged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from inspector.errors import InspectorError


class OutputError(InspectorError):
    """An output could not deliver (peer down, refused, timed out); the message says which."""


@dataclass
class OutputStatus:
    """What the window and the console show per output. A PLC server (opcua, modbus) is
    `connected` while it serves, says how many clients (the PLC) are connected to it, and
    counts triggers, results (`sent`) and errors (`failed`: every refusal)."""

    name: str  # the URL with any secret masked
    connected: bool
    sent: int = 0
    failed: int = 0
    last_error: str | None = None
    clients: int | None = None  # PLC servers only: sessions connected now
    triggers: int | None = None  # PLC servers only: every trigger received


class Output(Protocol):
    name: str

    def start(self) -> None: ...

    def status(self) -> OutputStatus: ...

    def close(self) -> None: ...
