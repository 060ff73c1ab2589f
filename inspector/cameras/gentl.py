"""`gentl:DEVICE[?producer=PATH.cti&timeout=S]`: any vendor's camera through its GenTL producer.

DEVICE is the device id, serial number or user-defined name that `inspector cameras` lists, or
`#N` for the N-th device; empty: the only device. Producers (.cti files) come from the folders
on GENICAM_GENTL64_PATH (as vendors' installers set it), from INSPECTOR_GENTL_PRODUCERS (files,
separated as PATH is), and from `producer=` in the URI.

Harvesters keeps one device list per process, and its `update()` destroys every open camera.
So all known producers are loaded once, on first use, and a camera that comes back after a
disconnect is found by refreshing the interfaces' device lists only, which leaves the other
cameras streaming.
"""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path
from urllib.parse import parse_qs

from inspector.cameras.base import EventSink
from inspector.cameras.genicam import DeviceGone, GenICamSource, Grab
from inspector.cameras.settings import FeatureError
from inspector.errors import EngineUnavailable, InputError

INSTALL = "pip install 'inspector[cameras]' (Harvesters, with the genicam package)"
REFRESH_MS = 500
_RW, _RO, _WO = 4, 3, 2  # GenApi access modes that make a feature usable


def open_gentl(uri: str, rest: str, on_event: EventSink) -> GenICamSource:
    key, _, query = rest.partition("?")
    producer, timeout_s = None, 2.0
    for name, values in parse_qs(query, keep_blank_values=True).items():
        if name == "producer":
            producer = Path(values[-1]).expanduser()
            if not producer.is_file():
                raise InputError(f"source {uri}: no GenTL producer at {producer}")
        elif name == "timeout":
            timeout_s = _seconds(uri, values[-1])
        else:
            raise InputError(f"source {uri}: unknown option {name!r}; use producer=PATH.cti")
    hub = HUB
    hub.load([producer] if producer else [])

    def connect() -> HarvestersDevice:
        return hub.connect(key)

    try:
        return GenICamSource(uri, connect, on_event, timeout_s=timeout_s)
    except DeviceGone as exc:
        raise InputError(f"source {uri}: {exc} (`inspector cameras` lists them)") from None


def producer_files(extra: list[Path] | tuple[Path, ...] = ()) -> list[Path]:
    """Every .cti file on GENICAM_GENTL64_PATH and INSPECTOR_GENTL_PRODUCERS, then `extra`."""
    found: list[Path] = []
    for folder in os.environ.get("GENICAM_GENTL64_PATH", "").split(os.pathsep):
        if folder and Path(folder).is_dir():
            found.extend(sorted(Path(folder).glob("*.cti")))
    for entry in os.environ.get("INSPECTOR_GENTL_PRODUCERS", "").split(os.pathsep):
        if entry:
            found.append(Path(entry).expanduser())
    found.extend(extra)
    unique: dict[Path, None] = {}
    for path in found:
        unique.setdefault(path.resolve(), None)
    return list(unique)


class GenTLHub:
    """The process's one Harvester: producers, device list, and the cameras opened from it."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._harvester = None
        self._open: set[HarvestersDevice] = set()

    def load(self, extra: list[Path]) -> list[str]:
        """Load producers not loaded yet; the problems, one line per producer that failed."""
        with self._lock:
            harvester = self._get()
            loaded = {Path(p).resolve() for p in harvester.files}
            wanted = [p for p in producer_files(extra) if p not in loaded]
            missing = [p for p in wanted if not p.is_file()]
            wanted = [p for p in wanted if p.is_file()]
            if wanted:
                if self._open:
                    names = ", ".join(str(p) for p in wanted)
                    raise InputError(
                        f"GenTL producer {names} must be loaded before other GenTL cameras open "
                        "(Harvesters restarts them all): put it on GENICAM_GENTL64_PATH or "
                        "INSPECTOR_GENTL_PRODUCERS"
                    )
                for path in wanted:
                    harvester.add_file(str(path))
                harvester.update()
            opened = {Path(p.path_name).resolve() for p in harvester._producers}
            problems = [f"{p}: no such file" for p in missing]
            problems += [f"{p}: the producer did not load" for p in wanted if p not in opened]
            return problems

    def devices(self, refresh: bool = True) -> list:
        """Harvesters' DeviceInfo of every device of every loaded producer."""
        with self._lock:
            harvester = self._get()
            if refresh:
                self._refresh(harvester)
            return list(harvester.device_info_list)

    def connect(self, key: str) -> HarvestersDevice:
        with self._lock:
            harvester = self._get()
            self._refresh(harvester)
            info = _choose(harvester.device_info_list, key, harvester.files)
            try:
                acquirer = harvester.create(info)
            except Exception as exc:
                message = f"cannot open GenTL device {_name(info)}: {_first_line(exc)}"
                raise DeviceGone(message) from None
            device = HarvestersDevice(self, acquirer, _name(info))
            self._open.add(device)
            return device

    def release(self, device: HarvestersDevice) -> None:
        with self._lock:
            self._open.discard(device)
            with contextlib.suppress(Exception):  # a camera that is gone is closed enough
                device.acquirer.destroy()

    def _get(self):
        if self._harvester is None:
            try:
                from harvesters.core import Harvester
            except ImportError:
                raise EngineUnavailable(f"GenTL cameras need Harvesters: {INSTALL}") from None
            self._harvester = Harvester()
        return self._harvester

    def _refresh(self, harvester) -> None:
        """New and returned devices, without Harvesters' update (which closes open cameras)."""
        from harvesters.core import DeviceInfo

        interfaces = getattr(harvester, "_ifaces", None)
        listing = getattr(harvester, "_device_info_list", None)
        if interfaces is None or listing is None:  # another Harvesters: the documented way
            if not self._open:
                harvester.update()
            return
        fresh = []
        for interface in interfaces:
            try:
                interface.module.update_device_info_list(REFRESH_MS)
                fresh.extend(
                    DeviceInfo(module=info, parent=interface)
                    for info in interface.module.device_info_list
                )
            except Exception:  # an interface that went away lists nothing
                continue
        listing[:] = fresh


class HarvestersFeatures:
    def __init__(self, node_map) -> None:
        self._nodes = node_map

    def _node(self, name: str):
        node = getattr(self._nodes, name, None)
        if node is None:
            raise FeatureError(f"no feature {name}")
        return node

    def available(self, name: str) -> bool:
        try:
            node = getattr(self._nodes, name, None)
            return node is not None and node.node.get_access_mode() in (_RW, _RO, _WO)
        except Exception:  # a camera that is gone has no features
            return False

    def get(self, name: str) -> object:
        try:
            return self._node(name).value
        except FeatureError:
            raise
        except Exception as exc:
            raise FeatureError(_first_line(exc)) from None

    def set(self, name: str, value: object) -> None:
        node = self._node(name)
        kind = type(node).__name__
        try:
            if kind == "IInteger":
                value = int(value)  # type: ignore[call-overload]
            elif kind == "IFloat":
                value = float(value)  # type: ignore[arg-type]
            node.value = value
        except Exception as exc:  # GenApi: out of range, not writable now, no such entry
            raise FeatureError(_first_line(exc).split(" : ")[0]) from None

    def choices(self, name: str) -> tuple[str, ...]:
        try:
            entries = self._node(name).entries
            usable = (_RW, _RO, _WO)
            return tuple(e.symbolic for e in entries if e.node.get_access_mode() in usable)
        except Exception:
            return ()

    def execute(self, name: str) -> None:
        try:
            self._node(name).execute()
        except Exception as exc:
            raise FeatureError(_first_line(exc)) from None


class HarvestersDevice:
    def __init__(self, hub: GenTLHub, acquirer, name: str) -> None:
        self.hub = hub
        self.acquirer = acquirer
        self.name = name
        self.features = HarvestersFeatures(acquirer.remote_device.node_map)

    def start(self) -> None:
        try:
            self.acquirer.start()
        except Exception as exc:
            raise DeviceGone(f"cannot start {self.name}: {_first_line(exc)}") from None

    def stop(self) -> None:
        try:
            self.acquirer.stop()
        except Exception as exc:
            raise DeviceGone(_first_line(exc)) from None

    def grab(self, timeout_s: float) -> Grab | None:
        from genicam.gentl import TimeoutException

        try:
            buffer = self.acquirer.fetch(timeout=timeout_s)
        except TimeoutException:
            return None
        except Exception as exc:
            raise DeviceGone(f"{self.name}: {_first_line(exc)}") from None
        try:
            component = buffer.payload.components[0]
            module = buffer.module
            return Grab(
                data=component.data.copy(),
                pixel_format=component.data_format,
                width=component.width,
                height=component.height,
                frame_id=_optional(lambda: int(module.frame_id)),
                device_timestamp_ns=_optional(lambda: int(buffer.timestamp_ns)) or None,
                complete=bool(_optional(module.is_complete, default=True)),
            )
        finally:
            buffer.queue()

    def alive(self) -> bool:
        try:
            _ = self.features.get("PayloadSize") if self.features.available("PayloadSize") else 0
            return self.acquirer.is_valid()
        except Exception:
            return False

    def close(self) -> None:
        self.hub.release(self)


def describe(info) -> dict[str, str]:
    """What `inspector cameras` shows of a GenTL device, and its producer's file."""
    system = _optional(lambda: info.parent.parent)
    producer = _optional(lambda: system.parent.path_name) if system is not None else None
    return {
        "id": _text(info, "id_"),
        "serial": _text(info, "serial_number"),
        "vendor": _text(info, "vendor"),
        "model": _text(info, "model"),
        "name": _text(info, "user_defined_name"),
        "producer": str(producer or ""),
    }


def _choose(infos: list, key: str, files: list[str]):
    if not infos:
        where = ", ".join(files) or "none loaded: set GENICAM_GENTL64_PATH"
        raise DeviceGone(f"no GenTL device found (producers: {where})")
    if not key:
        if len(infos) == 1:
            return infos[0]
        raise DeviceGone(
            f"{len(infos)} GenTL devices found; name one: "
            + ", ".join(f"gentl:{_name(i)}" for i in infos)
        )
    if key.startswith("#") and key[1:].isdigit():
        index = int(key[1:])
        if index < len(infos):
            return infos[index]
        raise DeviceGone(f"no GenTL device #{index} ({len(infos)} found)")
    for attribute in ("id_", "serial_number", "user_defined_name"):
        matches = [i for i in infos if _text(i, attribute) == key]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise DeviceGone(f"{len(matches)} GenTL devices answer to {key}; give ?producer=")
    raise DeviceGone(f"no GenTL device {key} among {', '.join(_name(i) for i in infos)}")


def _name(info) -> str:
    return _text(info, "id_") or "?"


def _text(info, attribute: str) -> str:
    return str(_optional(lambda: getattr(info, attribute)) or "")


def _optional(read, default=None):
    """A GenTL property a producer may not implement (timestamps, names...)."""
    try:
        return read()
    except Exception:
        return default


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _seconds(uri: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if value <= 0:
        raise InputError(f"source {uri}: timeout={text} is not a number of seconds > 0")
    return value


HUB = GenTLHub()
