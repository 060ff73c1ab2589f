"""installer/build-offline.sh: a bundle for a station with no network, with models from the
store: each model exported through its manifest check (a model changed in the store is refused
before any download), the wheels of the lock, the application, and a checksum of all; the
model in it is what `install.sh --offline` imports (`inspector models import`, verified).

The wheels here are one small package's (the full set is the slow test in test_installer.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.installer.test_installer import INSTALLER, _one_package_lock
from tests.support.command_line import inspector

MODEL_ID = "site/tiny-model"


def store_with_model(data: Path) -> Path:
    """A data directory whose store holds MODEL_ID (a config.json and a weights file), imported
    as an engineer imports a model folder; returns the data directory."""
    folder = data.parent / f"{data.name}-model"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text('{"model_type": "gemma3"}')
    (folder / "model.safetensors").write_bytes(os.urandom(1 << 20))
    done = inspector("models", "import", str(folder), "--id", MODEL_ID, data_dir=data)
    assert done.returncode == 0, done.stderr
    return data


def _build(out: Path, *args, **env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [INSTALLER / "build-offline.sh", out, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHON": sys.executable, **env},
    )


def test_a_bundle_carries_the_wheels_the_application_and_the_models(tmp_path):
    data = store_with_model(tmp_path / "build-station")
    lock = _one_package_lock(tmp_path)
    out = tmp_path / "bundle"
    made = _build(out, "--lock", lock, "--data-dir", data, "--models", MODEL_ID)
    assert made.returncode == 0, made.stderr
    assert "1 models" in made.stdout

    wheels = sorted(p.name.split("-")[0] for p in (out / "wheels").iterdir())
    assert wheels == ["platformdirs", "setuptools"]  # the lock's, and the build's
    assert (out / "requirements.lock").read_text() == lock.read_text()
    assert (out / "inspector" / "installer" / "install.sh").is_file()
    assert (out / "inspector" / "inspector" / "station" / "watchdog.py").is_file()
    assert not (out / "inspector" / ".venv").exists()
    checked = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=out, capture_output=True)
    assert checked.returncode == 0, checked.stdout
    assert b"models/site--tiny-model.tar: OK" in checked.stdout
    assert "install.sh --offline bundle" in (out / "README.txt").read_text()

    # On the station: the model as install.sh imports it, verified, the same revision.
    station = tmp_path / "station"
    imported = inspector(
        "models",
        "import",
        str(out / "models" / "site--tiny-model.tar"),
        "--replace",
        data_dir=station,
    )
    assert imported.returncode == 0, imported.stderr
    here = json.loads(inspector("models", "list", "--json", data_dir=station).stdout)["models"]
    there = json.loads(inspector("models", "list", "--json", data_dir=data).stdout)["models"]
    assert [(m["id"], m["revision"]) for m in here] == [(m["id"], m["revision"]) for m in there]
    assert here[0]["verified"]


def test_a_model_changed_in_the_store_is_refused_before_any_download(tmp_path):
    data = store_with_model(tmp_path / "build-station")
    weights = data / "models" / "site--tiny-model" / "files" / "model.safetensors"
    body = bytearray(weights.read_bytes())
    body[100] ^= 1
    weights.write_bytes(bytes(body))
    out = tmp_path / "bundle"
    made = _build(
        out, "--lock", _one_package_lock(tmp_path), "--data-dir", data, "--models", MODEL_ID
    )
    assert made.returncode == 1
    assert (
        "model.safetensors" in made.stderr and "has changed since it was installed" in made.stderr
    )
    assert "could not be exported; nothing more built" in made.stderr
    assert not (out / "wheels").exists() and not (out / "models" / "site--tiny-model.tar").exists()


def test_the_builder_answers_its_usage_and_bad_input(tmp_path):
    helped = _build("--help")
    assert helped.returncode == 0 and "install.sh --offline DIR" in helped.stdout
    assert _build(tmp_path / "b", "--bogus").returncode == 2
    assert "--models needs model ids" in _build(tmp_path / "b", "--models").stderr
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "x").write_text("x")
    refused = _build(busy)
    assert refused.returncode == 2 and "is not empty" in refused.stderr
    missing = _build(tmp_path / "c", "--lock", tmp_path / "nope.lock")
    assert missing.returncode == 2 and "no lock file" in missing.stderr
