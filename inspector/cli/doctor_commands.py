"""`inspector doctor`: what this station needs, checked one line each, with what to do.

Each check is a function returning a `Check` (OK, WARN or FAIL, what was found, what to do).
FAIL: the station cannot work as set up (exit 1); WARN: it works with less (no window, no GPU,
the demo without its model). A check that cannot tell is WARN, never OK. Nothing here loads a
model or starts a camera; the only peers it reaches are the database and the line outputs named
in station.yaml (a TCP connection to each broker or endpoint, a bind of each server port); the
database is opened as a station start opens it (which applies any migration not yet applied).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass

OK, WARN, FAIL = "OK", "WARN", "FAIL"
MIN_PYTHON = (3, 11)
_GB = 1 << 30


@dataclass(frozen=True)
class Check:
    name: str
    status: str
    found: str
    fix: str = ""


def register(commands) -> None:
    doctor = commands.add_parser(
        "doctor",
        help="check what this station needs, one line each, with what to do",
        description="Checks Python, the installed extras, the window (Qt and a display), the "
        "data directory and its free space, the clock, the database, the models the station's "
        "recipe needs, GPUs, camera libraries and the line outputs' libraries. Each line is OK, "
        "WARN (works with less) or FAIL (cannot work as set up: exit 1).",
    )
    doctor.add_argument("--json", action="store_true", help="print JSON (for IT)")
    doctor.set_defaults(handler=_doctor)


def _doctor(args, settings) -> int:
    from inspector.config import StationProfile

    profile = StationProfile.load()
    checks: list[tuple[str, Callable[[], Check]]] = [
        ("python", _python),
        ("extras", _extras),
        ("window", _window),
        ("data", lambda: _data_dir(settings)),
        ("clock", _clock),
        ("database", lambda: _database(settings)),
        ("models", lambda: _models(profile)),
        ("gpu", _gpu),
        ("cameras", _cameras),
        ("line", lambda: _line(profile)),
    ]
    results = []
    for name, check in checks:
        try:
            results.append(check())
        except Exception as exc:  # a check that breaks says so; the others still run
            results.append(Check(name, WARN, f"could not check ({type(exc).__name__}: {exc})"))
    from inspector.cli.escapes import json_visible, show

    if args.json:
        print(json_visible([asdict(r) for r in results], indent=2))
    else:
        for r in results:  # paths, URLs and errors from outside: shown, never obeyed
            fix = f" -> {r.fix}" if r.fix else ""
            show(f"{r.status:4}  {r.name:9} {r.found}{fix}")
    return 1 if any(r.status == FAIL for r in results) else 0


def _python() -> Check:
    version = ".".join(map(str, sys.version_info[:3]))
    if tuple(sys.version_info[:2]) < MIN_PYTHON:
        return Check("python", FAIL, f"Python {version}", "Inspector needs Python 3.11 or newer")
    return Check("python", OK, f"Python {version} ({sys.executable})")


def _extras() -> Check:
    """Which extras of the installed `inspector` have all their packages installed."""
    import re
    from importlib import metadata

    try:
        requires = metadata.requires("inspector") or []
    except metadata.PackageNotFoundError:
        return Check(
            "extras", WARN, "inspector is not installed as a package", "./installer/install.sh"
        )
    wanted: dict[str, list[str]] = {}
    for line in requires:
        extra = re.search(r"""extra\s*==\s*["']([^"']+)["']""", line)
        name = re.match(r"[A-Za-z0-9._-]+", line)
        if extra and name:
            wanted.setdefault(extra.group(1), []).append(name.group(0))
    have, lack = [], []
    for extra, names in sorted(wanted.items()):
        if extra == "dev":
            continue
        (have if all(_installed(n) for n in names) else lack).append(extra)
    found = f"installed: {', '.join(have) or 'none'}; not installed: {', '.join(lack) or 'none'}"
    return Check("extras", OK, found)


def _installed(distribution: str) -> bool:
    from importlib import metadata

    try:
        metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return False
    return True


def _window() -> Check:
    import importlib.util
    import os

    from inspector.cli.station_commands import QT_XCB_DEBS, _qt_start_failure

    if importlib.util.find_spec("PySide6") is None:
        return Check(
            "window", WARN, "PySide6 is not installed: headless only", "pip install 'inspector[ui]'"
        )
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY")
        or os.environ.get("WAYLAND_DISPLAY")
        or os.environ.get("QT_QPA_PLATFORM")
    ):
        return Check(
            "window",
            WARN,
            "no display (DISPLAY is not set): headless only",
            "run from the station's desktop session for the window",
        )
    failure = _qt_start_failure()
    if failure is not None:
        return Check(
            "window",
            FAIL,
            f"Qt cannot start: {failure}",
            f"sudo apt install {' '.join(QT_XCB_DEBS)}",
        )
    return Check("window", OK, "Qt starts on this display")


def _data_dir(settings) -> Check:
    import shutil
    import tempfile

    folder = settings.data_dir
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".doctor-"):
            pass
    except OSError as exc:
        return Check(
            "data",
            FAIL,
            f"{folder} is not writable ({exc.strerror or exc})",
            "give the station's user write access, or set --data-dir / INSPECTOR_DATA_DIR",
        )
    free = shutil.disk_usage(folder).free
    found = f"{folder} writable, {free / _GB:.1f} GB free"
    reserve = settings.min_free_disk_mb << 20
    if free < reserve:
        return Check(
            "data",
            FAIL,
            f"{found}, below the {settings.min_free_disk_mb} MB reserve",
            "free disk space (`inspector purge`), or move the data directory",
        )
    if free < max(5 * _GB, 4 * reserve):
        return Check("data", WARN, f"{found}: evidence fills this soon", "free disk space")
    return Check("data", OK, found)


def _clock() -> Check:
    import time

    now = time.gmtime()
    shown = time.strftime("%Y-%m-%d %H:%M UTC", now)
    if now.tm_year < 2025:
        return Check(
            "clock",
            FAIL,
            f"the clock says {shown}: records need a sane time",
            "set the clock (timedatectl set-ntp true)",
        )
    return Check("clock", OK, shown)


def _database(settings) -> Check:
    from inspector.errors import InspectorError
    from inspector.store import Store

    try:
        with Store.open(settings) as store:
            revisions = ", ".join(sorted(store.revisions()))
            differences = store.schema_differences()
            pragmas = store.connection_pragmas()
            url = store.url
    except InspectorError as exc:
        return Check("database", FAIL, str(exc), "check --database-url / INSPECTOR_DATABASE_URL")
    if differences:
        return Check(
            "database",
            FAIL,
            f"{url}: schema differs: {differences[0]}",
            "run `inspector db` with this version of Inspector",
        )
    found = f"{url} reachable, schema at {revisions}"
    mode = str(pragmas.get("journal_mode", "")).lower()
    if pragmas and mode != "wal":
        return Check("database", WARN, f"{found}, journal mode {mode}", "use a local disk (WAL)")
    return Check("database", OK, found + (", WAL" if pragmas else ""))


def _models(profile) -> Check:
    """The local models the station's recipe (the profile's, else the demo's) names."""
    import yaml

    from inspector.cli.demo import DEMO_RECIPE
    from inspector.judges.local_model import installed
    from inspector.judges.model_store import ModelStore

    recipe = profile.recipe or str(DEMO_RECIPE)
    store = ModelStore()
    entries = store.entries()
    unverified = [m.model_id for m in entries if not m.verified]
    where = f"store {store.root} ({len(entries)} installed)"
    try:
        with open(recipe, encoding="utf-8") as handle:
            engines = (yaml.safe_load(handle) or {}).get("engines") or []
    except (OSError, yaml.YAMLError) as exc:
        return Check("models", FAIL, f"recipe {recipe}: {exc}", "fix the recipe in station.yaml")
    local = [
        e for e in engines if isinstance(e, dict) and e.get("engine") in ("transformers", "ovis2")
    ]
    missing = [e["model"] for e in local if not installed(e["model"], e.get("revision"))]
    if missing:
        fix = f"inspector models pull {missing[0]} (connected), or inspector models import FILE"
        if profile.recipe:
            return Check(
                "models", FAIL, f"{where}; the recipe's {missing[0]} is not installed", fix
            )
        return Check(
            "models",
            WARN,
            f"{where}; the demo's {missing[0]} is not installed: the demo judges model-free",
            fix,
        )
    if unverified:
        return Check(
            "models",
            WARN,
            f"{where}; not verified: {', '.join(unverified)}",
            f"inspector models verify {unverified[0]}",
        )
    names = ", ".join(e["model"] for e in local) or "no local model"
    return Check("models", OK, f"{where}; the recipe's {names}: installed")


def _gpu() -> Check:
    from inspector.judges.gpu import cuda_device_count

    count = cuda_device_count()
    if count == 0:
        return Check(
            "gpu",
            WARN,
            "no CUDA GPU: a local model runs on the CPU, slowly",
            "install the NVIDIA driver, or judge through an inference server "
            "(engine: openai-compatible)",
        )
    return Check("gpu", OK, f"{count} CUDA GPU(s)")


def _cameras() -> Check:
    import importlib.util

    from inspector.errors import InspectorError

    parts, missing = [], []
    if importlib.util.find_spec("harvesters") is not None:
        from inspector.cameras.gentl import producer_files

        producers = producer_files()
        parts.append(f"GenTL: Harvesters, {len(producers)} producer(s)")
    else:
        missing.append("Harvesters (GenTL)")
    try:
        from inspector.cameras.aravis import load_aravis

        load_aravis()
        parts.append("Aravis (GigE Vision, USB3 Vision)")
    except InspectorError:
        missing.append("Aravis (GigE Vision)")
    found = "; ".join(parts + [f"no {m}" for m in missing]) + "; USB, files, RTSP, HTTP always"
    if missing:
        return Check(
            "cameras",
            WARN,
            found,
            "only for machine-vision cameras: pip install "
            "'inspector[cameras]' and apt install gir1.2-aravis-0.8",
        )
    return Check("cameras", OK, found)


def _line(profile) -> Check:
    import importlib.util

    needs = {"mqtt": "paho", "opcua": "asyncua", "modbus": "pymodbus"}
    have = [name for name, module in needs.items() if importlib.util.find_spec(module)]
    used = {url.partition("://")[0].lower() for url in profile.outputs}
    lacking = sorted(s for s in used if s in needs and s not in have)
    found = f"libraries for {', '.join(have) or 'no line protocol'}"
    if lacking:
        return Check(
            "line",
            FAIL,
            f"{found}; missing for {', '.join(lacking)} (station.yaml outputs)",
            "pip install 'inspector[line]'",
        )
    problems = [p for p in map(_port_problem, profile.outputs) if p]
    if profile.outputs:
        found += f"; station.yaml outputs: {', '.join(sorted(used))}"
    if problems:
        return Check("line", FAIL, f"{found}; {'; '.join(problems)}", _PORT_FIX)
    return Check("line", OK, found)


_SERVES = {"opcua": 4840, "modbus": 502}  # the station listens: the port must be free
_REACHES = {"mqtt": 1883, "http": 80, "https": 443}  # the station connects: the peer must answer
_PORT_FIX = "free the port (another station or process holds it), or start the broker / endpoint"


def _port_problem(url: str) -> str | None:
    """What keeps a station.yaml output from working: a server port already taken, or a broker
    or endpoint that does not accept a connection within 2 s. Shown as host:port only (a URL
    may carry a password)."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        return f"{scheme}://{parts.hostname}: the port is not a number"
    host = parts.hostname or ""
    if scheme in _SERVES:
        port = port or _SERVES[scheme]
        try:
            with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
                probe.bind((host, port))
        except OSError as exc:
            return f"{scheme} {host}:{port} cannot be served ({exc.strerror or exc})"
    elif scheme in _REACHES:
        port = port or _REACHES[scheme]
        try:
            socket.create_connection((host, port), timeout=2).close()
        except OSError as exc:
            return f"{scheme} {host}:{port} does not answer ({exc.strerror or exc})"
    return None
