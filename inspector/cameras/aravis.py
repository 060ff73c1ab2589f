"""`gige:ADDRESS_OR_ID[?timeout=S]` and `aravis:ID`: GigE Vision (and USB3 Vision) through Aravis.

A GigE camera is opened by its IP address: opened by name, Aravis may bind the wrong network
interface. An id, serial number or MAC address is first looked up among the cameras that answer
discovery, on every connection attempt, so a camera that came back with another address
(DHCP) is still found. USB3 Vision cameras have no address and are opened by their id.
"""

from __future__ import annotations

import ipaddress
import threading
from urllib.parse import parse_qs

from inspector.cameras.base import EventSink
from inspector.cameras.genicam import DeviceGone, GenICamSource, Grab
from inspector.cameras.settings import FeatureError
from inspector.errors import EngineUnavailable, InputError

INSTALL = (
    "install Aravis's introspection data (Debian/Ubuntu: apt install gir1.2-aravis-0.8) and "
    "PyGObject (pip install 'inspector[cameras]')"
)
BUFFERS = 8
_discovery = threading.Lock()  # Aravis's device list is process-wide


def load_aravis():
    """The Aravis module through PyGObject, or EngineUnavailable saying what to install."""
    try:
        import gi

        gi.require_version("Aravis", "0.8")
        from gi.repository import Aravis
    except (ImportError, ValueError) as exc:
        raise EngineUnavailable(f"GigE Vision cameras need Aravis ({exc}): {INSTALL}") from None
    return Aravis


def open_aravis(uri: str, rest: str, on_event: EventSink) -> GenICamSource:
    target, _, query = rest.partition("?")
    target = target.removeprefix("//")
    timeout_s = 2.0
    for name, values in parse_qs(query, keep_blank_values=True).items():
        if name != "timeout":
            raise InputError(f"source {uri}: unknown option {name!r}; use timeout=SECONDS")
        try:
            timeout_s = float(values[-1])
        except ValueError:
            timeout_s = 0.0
        if timeout_s <= 0:
            raise InputError(f"source {uri}: timeout={values[-1]} is not a number of seconds > 0")
    if not target:
        raise InputError(f"source {uri}: name the camera, as in gige:192.168.1.20 or gige:ID")
    aravis = load_aravis()

    def connect() -> AravisDevice:
        return AravisDevice(aravis, resolve(aravis, target))

    try:
        return GenICamSource(uri, connect, on_event, timeout_s=timeout_s)
    except DeviceGone as exc:
        raise InputError(f"source {uri}: {exc} (`inspector cameras` lists them)") from None


def discover(aravis) -> list[dict[str, str]]:
    """Every camera Aravis finds (GigE Vision discovery, USB3 Vision enumeration)."""
    with _discovery:
        aravis.update_device_list()
        return [
            {
                "id": aravis.get_device_id(i) or "",
                "address": aravis.get_device_address(i) or "",
                "protocol": aravis.get_device_protocol(i) or "",
                "serial": aravis.get_device_serial_nbr(i) or "",
                "vendor": aravis.get_device_vendor(i) or "",
                "model": aravis.get_device_model(i) or "",
                "physical_id": aravis.get_device_physical_id(i) or "",
            }
            for i in range(aravis.get_n_devices())
        ]


def resolve(aravis, target: str) -> str:
    """What to open: an IP address as given; otherwise the address (or id) discovery reports."""
    try:
        ipaddress.ip_address(target)
        return target
    except ValueError:
        pass
    for camera in discover(aravis):
        if target in (camera["id"], camera["serial"], camera["physical_id"]):
            return camera["address"] if camera["protocol"] == "GigEVision" else camera["id"]
    raise DeviceGone(f"no camera {target} answers discovery")


class AravisFeatures:
    def __init__(self, aravis, device) -> None:
        self._aravis = aravis
        self._device = device

    def available(self, name: str) -> bool:
        try:
            return self._device.get_feature(name) is not None and bool(
                self._device.is_feature_available(name)
            )
        except Exception:
            return False

    def _call(self, action: str, name: str, *value):
        """The typed getter or setter for this feature's node."""
        node = self._device.get_feature(name)
        if node is None:
            raise FeatureError(f"no feature {name}")
        aravis = self._aravis
        if isinstance(node, aravis.GcEnumeration | aravis.GcString):
            kind = "string"
        elif isinstance(node, aravis.GcBoolean):
            kind = "boolean"
        elif isinstance(node, aravis.GcFloat):
            kind, value = "float", tuple(float(v) for v in value)
        elif isinstance(node, aravis.GcInteger):
            kind, value = "integer", tuple(int(v) for v in value)
        else:
            raise FeatureError(f"{name} is a {type(node).__name__}, not a value")
        try:
            return getattr(self._device, f"{action}_{kind}_feature_value")(name, *value)
        except Exception as exc:  # GLib.Error: out of range, not writable, no such entry
            raise FeatureError(_message(exc)) from None

    def get(self, name: str) -> object:
        return self._call("get", name)

    def set(self, name: str, value: object) -> None:
        self._call("set", name, value)

    def choices(self, name: str) -> tuple[str, ...]:
        try:
            return tuple(self._device.dup_available_enumeration_feature_values_as_strings(name))
        except Exception:
            return ()

    def execute(self, name: str) -> None:
        try:
            self._device.execute_command(name)
        except Exception as exc:
            raise FeatureError(_message(exc)) from None


class AravisDevice:
    def __init__(self, aravis, target: str) -> None:
        self._aravis = aravis
        self.name = target
        try:
            self._camera = aravis.Camera.new(target)
        except Exception as exc:
            raise DeviceGone(f"cannot connect to {target}: {_message(exc)}") from None
        self._device = self._camera.get_device()
        self._lost = threading.Event()
        # Aravis's heartbeat thread tells when the camera stopped answering.
        self._handler = self._device.connect("control-lost", lambda _device: self._lost.set())
        self.features = AravisFeatures(aravis, self._device)
        self._stream = None
        self._format = ("", -1)

    def start(self) -> None:
        try:
            self._format = (
                self._device.get_string_feature_value("PixelFormat"),
                self._device.get_integer_feature_value("PixelFormat"),
            )
            stream = self._camera.create_stream(None, None)
            payload = self._camera.get_payload()
            for _ in range(BUFFERS):
                stream.push_buffer(self._aravis.Buffer.new_allocate(payload))
            self._camera.start_acquisition()
        except Exception as exc:
            raise DeviceGone(f"cannot start {self.name}: {_message(exc)}") from None
        self._stream = stream

    def stop(self) -> None:
        self._stream = None  # the stream's thread ends with its last reference
        if self._lost.is_set():
            return  # each command would wait out its timeouts
        try:
            self._camera.stop_acquisition()
        except Exception as exc:
            raise DeviceGone(_message(exc)) from None

    def grab(self, timeout_s: float) -> Grab | None:
        if self._lost.is_set():
            raise DeviceGone(f"{self.name} stopped answering (no heartbeat reply)")
        stream = self._stream
        if stream is None:
            raise DeviceGone(f"{self.name} is not acquiring")
        buffer = stream.timeout_pop_buffer(int(timeout_s * 1e6))
        if buffer is None:
            return None
        try:
            if buffer.get_status() != self._aravis.BufferStatus.SUCCESS:
                # Packets missing, or cut short: counted as lost, and no image to ask about.
                return Grab(b"", "", 0, 0, buffer.get_frame_id(), complete=False)
            name, code = self._format
            pixel_format = name if buffer.get_image_pixel_format() == code else "unknown"
            return Grab(
                data=buffer.get_image_data(),
                pixel_format=pixel_format,
                width=buffer.get_image_width(),
                height=buffer.get_image_height(),
                frame_id=buffer.get_frame_id(),
                device_timestamp_ns=buffer.get_timestamp() or None,
            )
        finally:
            stream.push_buffer(buffer)

    def alive(self) -> bool:
        # Aravis's heartbeat asks the camera every second or so; a register read here would
        # wait out GVCP's retries (seconds) for the same answer.
        return not self._lost.is_set()

    def close(self) -> None:
        if self._device is None:
            return
        self._device.disconnect(self._handler)
        held = [self._stream, self._camera, self._device]
        self._stream = self._camera = self._device = self.features._device = None
        # Releasing a camera that is gone waits out GVCP's timeouts (seconds): not on the
        # thread that reads the camera that replaces it.
        threading.Thread(target=held.clear, name="aravis-release", daemon=True).start()


def _message(exc: BaseException) -> str:
    return getattr(exc, "message", None) or str(exc) or type(exc).__name__
