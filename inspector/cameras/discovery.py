"""What `inspector cameras` lists: every camera this station can open, with the URI to open it.

Each family is asked on its own: USB cameras (V4L2 on Linux), the devices of every GenTL
producer, the cameras Aravis discovers (GigE Vision, USB3 Vision). A family whose library is
missing is a line saying what to install; one that fails is a line saying why; neither stops
the others from being listed.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from inspector.errors import InspectorError


@dataclass(frozen=True)
class Found:
    family: str  # usb, gentl, gige, u3v
    uri: str
    description: str


@dataclass(frozen=True)
class Note:
    family: str
    message: str


def discover(producers: tuple[Path, ...] = ()) -> tuple[list[Found], list[Note]]:
    found: list[Found] = []
    notes: list[Note] = []
    for family, lister in (
        ("usb", _usb),
        ("gentl", lambda: _gentl(producers)),
        ("gige", _aravis),
    ):
        try:
            more, remarks = lister()
        except InspectorError as exc:  # a library that is not installed: what to install
            more, remarks = [], [Note(family, str(exc))]
        except Exception as exc:  # a driver that fails must not hide the other families
            more, remarks = [], [Note(family, f"listing failed: {exc}")]
        found.extend(more)
        notes.extend(remarks)
    return found, notes


def _usb(root: Path = Path("/sys/class/video4linux")) -> tuple[list[Found], list[Note]]:
    if not sys.platform.startswith("linux"):
        return [], [Note("usb", "USB cameras are listed on Linux only; try usb:0, usb:1...")]
    found = []
    for node in sorted(root.glob("video*"), key=lambda p: int(p.name[5:] or 0)):
        # A camera has several nodes; index 0 is its picture, the others carry metadata.
        if _read(node / "index", "0") != "0":
            continue
        number = node.name.removeprefix("video")
        name = _read(node / "name", "unnamed camera")
        found.append(Found("usb", f"usb:{number}", f"{name} (/dev/{node.name})"))
    notes = [] if found else [Note("usb", "no USB camera (no /dev/video* capture device)")]
    return found, notes


def _gentl(extra: tuple[Path, ...]) -> tuple[list[Found], list[Note]]:
    from inspector.cameras import gentl

    files = gentl.producer_files(extra)
    if not files:
        return [], [
            Note(
                "gentl",
                "no GenTL producer: install your camera maker's GenTL producer (it sets "
                "GENICAM_GENTL64_PATH), or pass --producer PATH.cti",
            )
        ]
    notes = [Note("gentl", f"producer {line}") for line in gentl.HUB.load(list(extra))]
    configured = set(gentl.producer_files())
    infos = gentl.HUB.devices()
    described = [gentl.describe(info) for info in infos]
    ids = [d["id"] for d in described]
    found = []
    for index, device in enumerate(described):
        key = device["id"] if device["id"] and ids.count(device["id"]) == 1 else f"#{index}"
        uri = f"gentl:{key}"
        producer = Path(device["producer"]).resolve() if device["producer"] else None
        if producer is not None and producer not in configured:
            uri += f"?producer={producer}"
        what = " ".join(filter(None, (device["vendor"], device["model"])))
        serial = f", serial {device['serial']}" if device["serial"] else ""
        via = f" via {producer.name}" if producer else ""
        found.append(Found("gentl", uri, f"{what or 'GenTL device'}{serial}{via}"))
    if not found:
        loaded = ", ".join(str(p) for p in files)
        notes.append(Note("gentl", f"no device found by the producers ({loaded})"))
    return found, notes


def _aravis() -> tuple[list[Found], list[Note]]:
    from inspector.cameras import aravis

    module = aravis.load_aravis()
    found = []
    for camera in aravis.discover(module):
        what = " ".join(filter(None, (camera["vendor"], camera["model"])))
        details = f"id {camera['id']}, serial {camera['serial']}"
        if camera["protocol"] == "GigEVision":
            found.append(Found("gige", f"gige:{camera['address']}", f"{what} ({details})"))
        else:
            found.append(Found("u3v", f"aravis:{camera['id']}", f"{what} ({details})"))
    notes = [] if found else [Note("gige", "no GigE Vision or USB3 Vision camera answered")]
    return found, notes


def _read(path: Path, default: str) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip() or default
    except OSError:
        return default
