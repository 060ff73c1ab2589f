"""The size of the offline bundle (installer/build-offline.sh) per extra set: core, and core with
each of ui, cameras, line, local; and the station's set (installer/requirements.lock).

How it is measured (nothing estimated): each set is resolved as installer/lock.sh resolves the
locks (`uv pip compile --generate-hashes`, Linux x86_64, CPython 3.11, .ci/constraints.txt),
held to the versions the committed locks pin (requirements.lock and requirements-dev.lock as
constraints, so each set is what build-offline.sh would carry today),
then its wheels are downloaded as build-offline.sh downloads them (`pip download --no-deps
--require-hashes --only-binary=:all:`) into one folder (a wheel shared by two sets is fetched
once), and each set's bytes are the sum of its own wheel files, plus the application (the
checkout's tracked files) and build.lock's setuptools, as the bundle holds them. A package with
no wheel for the platform (PyGObject and pycairo: sdists, built on the station against Debian's
libraries) is named and not counted; build-offline.sh cannot carry it either.

    python bench/bundle_sizes.py [--wheels DIR]     # DIR is kept for the next run (default
                                                    # /tmp/inspector-bundle-wheels)
Needs network (PyPI, or the machine's pip configuration) and, for `local`, about 4 GB of disk.

Measured 2026-11-30 (Linux x86_64, CPython 3.11; MB = 10^6 bytes, application 14.2 MB included):
core 20 packages 120.0 MB; +ui 24, 219.7 MB (1.8x core); +cameras 24, 122.9 MB (1.0x; PyGObject
and pycairo have no wheel: sdists built on the station); +line 31, 122.4 MB (1.0x); +local 72,
3169.9 MB (26.4x: torch 2.14.1 with its CUDA 13 wheels); the station's requirements.lock 87,
3275.8 MB (27.3x).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SETS = {
    "core": [],
    "core+ui": ["ui"],
    "core+cameras": ["cameras"],
    "core+line": ["line"],
    "core+local": ["local"],
    "station (requirements.lock)": ["local", "postgres", "ui", "line"],
}
PIN = re.compile(r"^([A-Za-z0-9._-]+)==(\S+)")


def _name(text: str) -> str:
    return re.sub(r"[-_.]+", "-", text).lower()


def _uv(tools: Path) -> Path:
    env = tools / "venv"
    if not (env / "bin" / "uv").exists():
        venv.create(env, with_pip=True)
        subprocess.run(
            [env / "bin" / "python", "-m", "pip", "install", "-q", "uv>=0.5"], check=True
        )
    return env / "bin" / "uv"


def pinned_versions(out: Path) -> Path:
    """The committed locks' pins as a plain constraints file (no hashes)."""
    pins = {}
    for name in ("requirements-dev.lock", "requirements.lock"):
        for line in (ROOT / "installer" / name).read_text().splitlines():
            if match := PIN.match(line):
                pins[_name(match.group(1))] = match.group(2)
    out.write_text("".join(f"{name}=={version}\n" for name, version in sorted(pins.items())))
    return out


def resolve(uv: Path, extras: list[str], out: Path, pinned: Path) -> dict[str, str]:
    command = [
        uv, "pip", "compile", "--quiet", "--generate-hashes", "--python-version", "3.11",
        "--python-platform", "x86_64-manylinux_2_28", "-c", ROOT / ".ci" / "constraints.txt",
        "-c", pinned, ROOT / "pyproject.toml", "-o", out,
    ]  # fmt: skip
    for extra in extras:
        command += ["--extra", extra]
    subprocess.run(command, check=True, cwd=ROOT)
    pins = {}
    for line in out.read_text().splitlines():
        if match := PIN.match(line):
            pins[_name(match.group(1))] = match.group(2)
    return pins


def download(lock: Path, wheels: Path) -> None:
    """The lock's wheels, as build-offline.sh fetches them; where one package has no wheel for
    the platform (pip then stops), the others one by one, so each set is counted whole."""
    base = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--require-hashes"]
    base += ["--only-binary=:all:", "-d", wheels]
    if subprocess.run([*base, "-r", lock], capture_output=True).returncode == 0:
        return
    text = lock.read_text()
    for block in re.findall(r"^[A-Za-z0-9].*?(?=^[A-Za-z0-9]|\Z)", text, re.M | re.S):
        one = lock.with_suffix(".one")
        one.write_text(block)
        subprocess.run([*base, "-r", one], capture_output=True)


def files_of(wheels: Path) -> dict[str, list[Path]]:
    found: dict[str, list[Path]] = {}
    for path in wheels.iterdir():
        stem = path.name.removesuffix(".tar.gz").removesuffix(".whl").removesuffix(".zip")
        name = _name(stem.split("-")[0])
        found.setdefault(name, []).append(path)
    return found


def application_bytes() -> int:
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    return sum(
        (ROOT / p.decode()).stat().st_size for p in listed if p and (ROOT / p.decode()).is_file()
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheels", type=Path, default=Path("/tmp/inspector-bundle-wheels"))
    args = parser.parse_args()
    args.wheels.mkdir(parents=True, exist_ok=True)
    tools = Path(tempfile.mkdtemp(prefix="bundle-sizes-"))
    uv = _uv(tools)
    pinned = pinned_versions(tools / "pinned.txt")
    download(ROOT / "installer" / "build.lock", args.wheels)
    app = application_bytes()
    rows = []
    for label, extras in SETS.items():
        lock = tools / f"{label.split()[0]}.lock"
        pins = resolve(uv, extras, lock, pinned)
        download(lock, args.wheels)
        files = files_of(args.wheels)
        total, missing = 0, []
        for name, version in pins.items():
            mine = [p for p in files.get(name, []) if f"-{version}" in p.name]
            if not mine:
                missing.append(f"{name}=={version}")
            total += sum(path.stat().st_size for path in mine)
        setuptools = sum(p.stat().st_size for p in files.get("setuptools", []))
        rows.append((label, len(pins), total + setuptools + app, missing))
    core = rows[0][2]
    print(f"application (tracked files): {app / 1e6:.1f} MB; wheels in {args.wheels}")
    print(f"{'set':30} {'packages':>8} {'bundle MB':>10} {'x core':>7}")
    for label, count, size, missing in rows:
        print(f"{label:30} {count:8d} {size / 1e6:10.1f} {size / core:7.1f}")
        if missing:
            print(f"{'':30} no wheel for the platform (not counted): {', '.join(missing)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
