"""The installer as an administrator runs it: the locks are complete and hash-pinned, the scripts
answer their usage, a wheelhouse made from a lock installs with no index at all and the installed
`inspector` runs the demo, and the systemd unit passes `systemd-analyze verify`."""

from __future__ import annotations

import configparser
import json
import re
import shutil
import subprocess
import sys
import tomllib

import pytest

from tests.support.paths import ROOT

INSTALLER = ROOT / "installer"
PIN = re.compile(r"^([A-Za-z0-9._-]+)==(\S+) \\$")
HASH = re.compile(r"^--hash=sha256:[0-9a-f]{64}( \\)?$")


def _name(text: str) -> str:
    return re.sub(r"[-_.]+", "-", text).lower()


def _lock(path) -> dict[str, tuple[str, int]]:
    """name -> (version, number of hashes); every requirement line must be pinned and hashed."""
    pins: dict[str, tuple[str, int]] = {}
    current = None
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if match := PIN.match(stripped):
            current = _name(match.group(1))
            pins[current] = (match.group(2), 0)
        else:
            assert HASH.match(stripped), f"{path.name}: not a pin or a hash: {line!r}"
            version, hashes = pins[current]
            pins[current] = (version, hashes + 1)
    assert all(hashes >= 1 for _, hashes in pins.values())
    return pins


def _unmet(requirements: list[str], lock: dict[str, tuple[str, int]]) -> list[str]:
    """The requirements of pyproject.toml the lock's pins do not satisfy (a stale lock: run
    ./installer/lock.sh)."""
    from packaging.requirements import Requirement

    unmet = []
    for text in requirements:
        requirement = Requirement(text)
        pinned = lock.get(_name(requirement.name))
        if pinned is None or not requirement.specifier.contains(pinned[0], prereleases=True):
            unmet.append(f"{text} (locked: {pinned[0] if pinned else 'absent'})")
    return unmet


def test_the_locks_pin_every_package_with_hashes():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    station = _lock(INSTALLER / "requirements.lock")
    core = _lock(INSTALLER / "requirements-core.lock")
    build = _lock(INSTALLER / "build.lock")
    extras = project["optional-dependencies"]
    wanted = list(project["dependencies"])
    for extra in ("local", "postgres", "ui", "line"):
        wanted += extras[extra]
    assert _unmet(wanted, station) == []
    assert _unmet(project["dependencies"], core) == []
    assert all(station[name][0] == version for name, (version, _) in core.items())
    assert "setuptools" in build
    dev = _lock(INSTALLER / "requirements-dev.lock")
    for extra in ("local", "dev", "ui", "cameras", "line"):
        assert _unmet(extras[extra], dev) == [], extra
    constraints = dict(
        line.split("==")
        for line in (ROOT / ".ci" / "constraints.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    )
    for name, version in constraints.items():
        assert station[_name(name)][0] == version  # the releases CI tests


def test_the_scripts_answer_their_usage(tmp_path):
    helped = subprocess.run([INSTALLER / "install.sh", "--help"], capture_output=True, text=True)
    assert helped.returncode == 0 and "--offline DIR" in helped.stdout
    wrong = subprocess.run([INSTALLER / "install.sh", "--bogus"], capture_output=True, text=True)
    assert wrong.returncode == 2 and "unknown option --bogus" in wrong.stderr
    empty = subprocess.run(
        [INSTALLER / "install.sh", "--offline", tmp_path], capture_output=True, text=True
    )
    assert empty.returncode == 2 and "holds no wheels" in empty.stderr
    helped = subprocess.run([INSTALLER / "wheelhouse.sh", "--help"], capture_output=True, text=True)
    assert helped.returncode == 0 and "install.sh --offline DIR" in helped.stdout
    helped = subprocess.run([INSTALLER / "service.sh", "--help"], capture_output=True, text=True)
    assert helped.returncode == 0 and "uninstall" in helped.stdout
    helped = subprocess.run([INSTALLER / "uninstall.sh", "--help"], capture_output=True, text=True)
    assert helped.returncode == 0 and "--purge-data" in helped.stdout


def test_the_desktop_entry_is_a_valid_application_entry():
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str
    entry.read_string((INSTALLER / "inspector.desktop").read_text())
    desktop = entry["Desktop Entry"]
    assert desktop["Type"] == "Application" and desktop["Exec"] == "@INSPECTOR@ window"
    assert desktop["Icon"] == "@ICON@" and desktop["Categories"].endswith(";")
    import xml.etree.ElementTree as ElementTree

    icon = ElementTree.parse(INSTALLER / "inspector.svg").getroot()
    assert icon.tag == "{http://www.w3.org/2000/svg}svg"


def _one_package_lock(tmp_path, name="platformdirs", tamper=False):
    text = (INSTALLER / "requirements-core.lock").read_text()
    block = re.search(rf"^{name}==.*?(?=^\S)", text, re.M | re.S).group(0)
    if tamper:
        block = re.sub(r"sha256:[0-9a-f]{64}", "sha256:" + "0" * 64, block)
    lock = tmp_path / ("tampered.lock" if tamper else "one.lock")
    lock.write_text(block)
    return lock


def test_a_wheelhouse_holds_the_locked_wheels_and_refuses_a_changed_hash(tmp_path):
    wheels = tmp_path / "wheels"
    made = subprocess.run(
        [INSTALLER / "wheelhouse.sh", wheels, _one_package_lock(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        env=_pip_env(),
    )
    assert made.returncode == 0, made.stderr
    version = _lock(INSTALLER / "requirements-core.lock")["platformdirs"][0]
    assert [p.name for p in wheels.iterdir()] == [f"platformdirs-{version}-py3-none-any.whl"]
    bad = subprocess.run(
        [INSTALLER / "wheelhouse.sh", tmp_path / "bad", _one_package_lock(tmp_path, tamper=True)],
        capture_output=True,
        text=True,
        timeout=300,
        env=_pip_env(),
    )
    assert bad.returncode != 0
    assert "THESE PACKAGES DO NOT MATCH THE HASHES" in bad.stderr


def _pip_env() -> dict[str, str]:
    import os

    return {**os.environ, "PYTHON": sys.executable}


@pytest.mark.slow
@pytest.mark.timeout(1200)  # a wheelhouse of about 100 MB, then a venv, on a 2-core runner
def test_an_offline_install_from_the_wheelhouse_runs_the_demo(tmp_path):
    """The core set (what the model-free demo needs) and a model, as build-offline.sh bundles
    them, installed with no index at all into a fresh venv; the model is in the store, verified,
    and the installed `inspector` judges the demo headless."""
    from tests.installer.test_offline_bundle import MODEL_ID, store_with_model

    data = tmp_path / "data"
    source = store_with_model(tmp_path / "build-station")
    bundle, venv = tmp_path / "bundle", tmp_path / "venv"
    made = subprocess.run(
        [
            INSTALLER / "build-offline.sh",
            bundle,
            "--lock",
            INSTALLER / "requirements-core.lock",
            "--data-dir",
            source,
            "--models",
            MODEL_ID,
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env=_pip_env(),
    )
    assert made.returncode == 0, made.stderr
    # Nothing but the bundle: no index, and not this machine's pip.conf (its find-links).
    share = tmp_path / "share"
    env = {
        **_pip_env(),
        "VENV": str(venv),
        "PIP_FIND_LINKS": "",
        "PIP_CONFIG_FILE": "/dev/null",
        "XDG_DATA_HOME": str(share),
        "INSPECTOR_DATA_DIR": str(data),
    }
    installed = subprocess.run(
        [bundle / "inspector" / "installer" / "install.sh", "--offline", bundle, "--no-start"],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert installed.returncode == 0, installed.stderr
    assert f"installed {MODEL_ID}" in installed.stdout
    listed = subprocess.run(
        [venv / "bin" / "inspector", "--data-dir", data, "models", "list", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    [model] = json.loads(listed.stdout)["models"]
    assert model["id"] == MODEL_ID and model["verified"]
    run = subprocess.run(
        [venv / "bin" / "inspector", "--data-dir", data, "run", "--max-parts", "3"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env={**_pip_env(), "HF_HUB_OFFLINE": "1", "DISPLAY": ""},
    )
    assert run.returncode == 0, run.stderr
    assert (
        len([line for line in run.stdout.splitlines() if " PASS " in line or " FAIL " in line]) == 3
    )
    assert "judges with the model-free reference recipe" in run.stderr
    entry = (share / "applications" / "inspector.desktop").read_text()
    assert f"Exec={venv / 'bin' / 'inspector'} window" in entry
    assert (share / "icons" / "hicolor" / "scalable" / "apps" / "inspector.svg").is_file()

    # Uninstalling keeps the data unless asked.
    env["INSPECTOR_DATA_DIR"] = str(data)
    removed = subprocess.run(
        [INSTALLER / "uninstall.sh"], capture_output=True, text=True, timeout=120, env=env
    )
    assert removed.returncode == 0, removed.stderr
    assert f"data kept in {data}" in removed.stdout
    assert not venv.exists() and not (share / "applications" / "inspector.desktop").exists()
    assert (data / "inspector.db").is_file()


def test_the_systemd_unit_passes_systemd_analyze(tmp_path):
    text = (INSTALLER / "inspector.service").read_text()
    unit = configparser.ConfigParser(interpolation=None, strict=True)
    unit.optionxform = str
    unit.read_string(text)
    service = unit["Service"]
    assert service["ExecStart"].startswith("@INSPECTOR@ run")
    assert service["Restart"] == "on-failure"
    # The station's watchdog (tests/station/test_watchdog.py): READY=1, then fed while healthy.
    assert service["Type"] == "notify" and service["NotifyAccess"] == "main"
    assert int(service["WatchdogSec"]) > 0
    assert service["StandardOutput"] == service["StandardError"] == "journal"
    assert unit["Install"]["WantedBy"] == "default.target"
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (Debian: systemd)")
    installed = tmp_path / "inspector.service"
    installed.write_text(text.replace("@INSPECTOR@", sys.executable.replace("python", "inspector")))
    if not (
        installed.with_name("x") and shutil.which(sys.executable.replace("python", "inspector"))
    ):
        installed.write_text(text.replace("@INSPECTOR@ run", f"{sys.executable} -m inspector run"))
    result = subprocess.run([analyze, "verify", installed], capture_output=True, text=True)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    # The check itself finds a mistake: a restart rule systemd does not know.
    installed.write_text(installed.read_text().replace("on-failure", "sometimes"))
    result = subprocess.run([analyze, "verify", installed], capture_output=True, text=True)
    assert "Failed to parse service restart specifier" in result.stderr
