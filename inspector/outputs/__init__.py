"""Line outputs: where a recorded verdict goes beyond the screen and the database.

One file per protocol behind one interface (base.py), one registry of URL schemes, one way to
open them (`open_output`). Each output's library (paho, urllib, asyncua, pymodbus) is imported
only inside its file, when a URL of its scheme is opened. Publishers are fed from the store's
outbox by the station (station/publishing.py), so a verdict leaves only after it is committed;
PLC servers (opcua, modbus) serve the one handshake (handshake.py), which the station drives
(station/line.py) from its recorded parts.
"""

from __future__ import annotations

import importlib
from urllib.parse import urlsplit

from inspector.addresses import shown_address
from inspector.errors import InputError
from inspector.outputs.base import Output, OutputError, OutputStatus

__all__ = ["OUTPUTS", "Output", "OutputError", "OutputStatus", "open_output"]

OUTPUTS: dict[str, str] = {  # URL scheme -> "module:Class", imported only when used
    "mqtt": "inspector.outputs.mqtt:MqttPublisher",
    "http": "inspector.outputs.webhook:WebhookPublisher",
    "https": "inspector.outputs.webhook:WebhookPublisher",
    "opcua": "inspector.outputs.opcua:OpcUaServer",
    "modbus": "inspector.outputs.modbus:ModbusServer",
}


def open_output(url: str) -> Output:
    """The output a URL names (not started yet); an unknown scheme is named with the known ones."""
    scheme = urlsplit(url).scheme.lower()
    target = OUTPUTS.get(scheme)
    if target is None:
        known = ", ".join(f"{s}://" for s in OUTPUTS)
        raise InputError(f"output {mask(url)}: unknown kind {scheme or '(none)'!r}; use {known}")
    module_name, class_name = target.split(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise InputError(
            f"output {mask(url)} needs {exc.name}, which is not installed: "
            "pip install 'inspector[line]'"
        ) from None
    return getattr(module, class_name)(url)


def mask(url: str) -> str:
    """The URL as it may be shown and recorded: its password and secret parameters masked."""
    return shown_address(url)
