"""What a station needs, checked one line each, with what to do: `inspector doctor` prints
these checks and the window's Doctor page shows them (one implementation for both).

Each check returns a `Check` (OK, WARN or FAIL, what was found, what to do). FAIL: the station
cannot work as set up; WARN: it works with less (no window, no GPU, the demo without its model).
A check that cannot tell is WARN, never OK. Nothing here loads a model or starts a camera; the
only peers it reaches are the database and the line outputs named in station.yaml (a TCP
connection to each broker or endpoint, a bind of each server port); the database is opened as a
station start opens it (which applies any migration not yet applied). No Qt import: the window
check starts Qt in a child process (a Qt that cannot load its platform plugin aborts).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass

from inspector.config import DEMO_RECIPE, Settings, StationProfile

OK, WARN, FAIL = "OK", "WARN", "FAIL"
MIN_PYTHON = (3, 11)
_GB = 1 << 30

# The system libraries Qt's xcb platform plugin loads (PySide6 wheels do not carry them).
QT_XCB_DEBS = (
    "libxcb-cursor0",
    "libxcb-icccm4",
    "libxcb-keysyms1",
    "libxcb-image0",
    "libxcb-render-util0",
    "libxcb-shape0",
    "libxcb-xkb1",
    "libxkbcommon-x11-0",
    "libegl1",
    "libfontconfig1",
    "libdbus-1-3",
)


@dataclass(frozen=True)
class Check:
    name: str
    status: str
    found: str
    fix: str = ""


def run_checks(
    settings: Settings, profile: StationProfile, window_platform: str | None = None
) -> list[Check]:
    """Every check, in order; one that breaks says so as WARN and the others still run.
    `window_platform`: the Qt platform of the window asking (Qt is then known to start)."""
    checks: list[tuple[str, Callable[[], Check]]] = [
        ("python", _python),
        ("extras", _extras),
        ("window", lambda: _window(window_platform)),
        ("data", lambda: _data_dir(settings)),
        ("clock", _clock),
        ("database", lambda: _database(settings)),
        ("recipe", lambda: _recipe(profile)),
        ("models", lambda: _models(profile)),
        ("gpu", lambda: _gpu(profile)),
        ("cameras", _cameras),
        ("line", lambda: _line(profile)),
    ]
    results = []
    for name, check in checks:
        try:
            results.append(check())
        except Exception as exc:  # a check that breaks says so; the others still run
            results.append(Check(name, WARN, f"could not check ({type(exc).__name__}: {exc})"))
    return results


# PySide6 6.12.0 returns None from its void calls without taking a reference to it. Python 3.12
# made None immortal; under 3.11 every setText drops None's count by one, and the process dies
# ("Fatal Python error: none_dealloc") after some tens of thousands of label updates: an hour or
# so of a station at the line. tests/ui/test_window_stress.py hit it in about a minute.
QT_BINDING_FIX = "pip install 'PySide6-Essentials>=6.6,<6.12'"
_QT_PROBE = (  # run in a child process: no Qt import here
    "import sys; from PySide6.QtWidgets import QApplication, QLabel\n"
    "app = QApplication([])\n"
    "label = QLabel()\n"
    "before = sys.getrefcount(None)\n"
    "for _ in range(2000):\n"
    "    label.setText('probe')\n"
    "print(sys.getrefcount(None) - before)\n"
)


def qt_probe() -> tuple[str | None, str | None]:
    """(why Qt cannot open its platform here, why this PySide6 would crash a long-running
    window), each None where all is well. One child process: a Qt that cannot load its
    platform plugin aborts the process (SIGABRT), which would leave the operator a dead screen
    instead of the headless demo; one that starts updates a label 2,000 times and reports how
    None's reference count moved (a leak matters under Python 3.11 only)."""
    import subprocess

    try:
        result = subprocess.run(
            [sys.executable, "-c", _QT_PROBE], capture_output=True, text=True, timeout=30
        )
    except subprocess.TimeoutExpired:
        return "Qt did not start within 30 s", None
    if result.stdout.strip():  # Qt started; a leaking binding may then die at exit
        return None, _binding_fault(result.stdout)
    if result.returncode == 0:
        return None, None
    lines = [line.strip() for line in result.stderr.splitlines() if line.strip()]
    said = next((x for x in lines if "plugin" in x.lower()), lines[-1] if lines else "")
    return said or f"Qt exited with code {result.returncode}", None


def qt_binding_fault() -> str | None:
    """Why this PySide6 would crash a long-running window, or None (the probe's second half)."""
    return qt_probe()[1]


def _binding_fault(printed: str) -> str | None:
    if sys.version_info >= (3, 12):  # None is immortal (PEP 683): a dropped count is harmless
        return None
    try:
        change = int(printed.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None
    if change > -1000:
        return None
    from importlib import metadata

    try:
        version = metadata.version("PySide6-Essentials")
    except metadata.PackageNotFoundError:
        version = metadata.version("PySide6")
    return (
        f"PySide6 {version} drops a reference to None on every call under Python "
        f"{sys.version_info.major}.{sys.version_info.minor}: the window would crash "
        "(none_dealloc) after some tens of thousands of screen updates"
    )


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


def _window(window_platform: str | None = None) -> Check:
    import importlib.util
    import os

    if window_platform is not None:
        fault = qt_binding_fault()
        if fault is not None:
            return Check("window", FAIL, fault, QT_BINDING_FIX)
        return Check("window", OK, f"Qt runs this window (platform {window_platform})")
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
    failure, fault = qt_probe()
    if failure is not None:
        return Check(
            "window",
            FAIL,
            f"Qt cannot start: {failure}",
            f"sudo apt install {' '.join(QT_XCB_DEBS)}",
        )
    if fault is not None:
        return Check("window", FAIL, fault, QT_BINDING_FIX)
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


def _recipe(profile) -> Check:
    """The station's recipe (the profile's, else the demo's) loads, its engines take their
    settings, and it judges as meant: each engine's defect class is one the recipe lists."""
    from inspector.errors import InspectorError
    from inspector.judges import build_chain
    from inspector.judges.defect_classes import recipe_warnings
    from inspector.recipes import load_recipe

    path = profile.recipe or str(DEMO_RECIPE)
    try:
        recipe = load_recipe(path)
        build_chain(recipe, path)  # the engines' settings, no model loaded
    except InspectorError as exc:
        return Check(
            "recipe",
            FAIL,
            str(exc),
            f"fix it (the window's Recipe tab), then `inspector recipe check {path}`",
        )
    warnings = recipe_warnings(recipe)
    found = f"{path}: {recipe.name} v{recipe.version}"
    if warnings:
        more = f" (and {len(warnings) - 1} more)" if len(warnings) > 1 else ""
        return Check(
            "recipe",
            WARN,
            f"{found}: {warnings[0]}{more}",
            f"add the class in the Recipe tab (Defects), then `inspector recipe check {path}`",
        )
    engines = ", ".join(str(e.get("engine")) for e in recipe.engines)
    return Check("recipe", OK, f"{found}: loads; engines {engines}")


def _models(profile) -> Check:
    """The local models the station's recipe (the profile's, else the demo's) names."""
    import yaml

    from inspector.judges.model_store import ModelStore
    from inspector.station.models_in_use import local_models, missing_local_models

    recipe = profile.recipe or str(DEMO_RECIPE)
    store = ModelStore()
    entries = store.entries()
    unverified = [m.model_id for m in entries if not m.verified]
    where = f"store {store.root} ({len(entries)} installed)"
    try:
        named = local_models(recipe)
        missing = missing_local_models(recipe)
    except (OSError, yaml.YAMLError) as exc:
        return Check("models", FAIL, f"recipe {recipe}: {exc}", "fix the recipe in station.yaml")
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
    names = ", ".join(m.model for m in named) or "no local model"
    return Check("models", OK, f"{where}; the recipe's {names}: installed")


def _gpu(profile) -> Check:
    """CUDA GPUs, and whether the recipe's local model fits the largest one's memory."""
    from inspector.judges.gpu import cuda_memory_gb

    gpus = cuda_memory_gb()
    if not gpus:
        return Check(
            "gpu",
            WARN,
            "no CUDA GPU: a local model runs on the CPU, slowly",
            "install the NVIDIA driver, or judge through an inference server "
            "(engine: openai-compatible)",
        )
    return gpu_check(gpus, _recipe_model_need(profile))


def gpu_check(gpus: list[float], need: tuple[str, float | None] | None) -> Check:
    """The GPU check from the GPUs' memory (GB) and the recipe's model and its need (GB)."""
    from inspector.judges.gpu import gpu_fit_problem

    found = f"{len(gpus)} CUDA GPU(s), {max(gpus):.0f} GB the largest"
    if need is None or need[1] is None:
        return Check("gpu", OK, found)
    model, gb = need
    problem = gpu_fit_problem(model, gb, gpus)
    if problem:
        return Check(
            "gpu",
            FAIL,
            f"{found}; {problem}",
            "choose a smaller model (`inspector models` lists them with their GPU memory), "
            "spread it over GPUs (lmdeploy `tp`), or judge through an inference server",
        )
    return Check("gpu", OK, f"{found}; the recipe's {model} needs about {gb:.0f} GB")


def _recipe_model_need(profile) -> tuple[str, float | None] | None:
    """The station's recipe's first local model and the GPU memory it needs (GB, or None
    when unknown); None when the recipe loads no local model."""
    from inspector.judges.gpu import model_need_gb
    from inspector.judges.local_model import model_folder
    from inspector.station.models_in_use import local_models

    named = local_models(profile.recipe or str(DEMO_RECIPE))
    if not named:
        return None
    model = named[0].model
    try:
        folder = model_folder(model, named[0].revision)
    except Exception:  # not a model folder: the models check says so
        folder = None
    weights = None
    if folder is not None:
        weights = sum(
            p.stat().st_size for p in folder.rglob("*") if p.suffix in (".safetensors", ".bin")
        )
    return model, model_need_gb(model, weights)


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
