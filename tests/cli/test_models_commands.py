"""`inspector models list|import|export|verify|remove|pull` as a user runs them, on a tiny real
Gemma 3 checkpoint carried from one station's data directory to another's."""

from __future__ import annotations

import json

import pytest

from tests.support.command_line import inspector
from tests.support.ports import free_port
from tests.support.recipes import recipe_file

MODEL_ID = "tiny-org/gemma3-tiny"


@pytest.fixture(scope="module")
def tiny_gemma(tmp_path_factory):
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from tests.support.tiny_models import build_tiny_model

    return build_tiny_model("gemma3", tmp_path_factory.mktemp("tiny") / "gemma3")


def _ok(result):
    assert result.returncode == 0, result.stderr
    return result


def test_a_model_travels_from_one_station_to_another(tiny_gemma, tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    out = _ok(inspector("models", "import", str(tiny_gemma), "--id", MODEL_ID, data_dir=one))
    assert f"installed {MODEL_ID}" in out.stdout and "files verified" in out.stdout
    listed = json.loads(_ok(inspector("models", "list", "--json", data_dir=one)).stdout)
    assert listed["store"] == str(one / "models")
    [row] = listed["models"]
    assert row["id"] == MODEL_ID and row["verified"] and row["revision"].startswith("sha256:")
    assert row["size"] == sum(p.stat().st_size for p in tiny_gemma.rglob("*") if p.is_file())
    assert MODEL_ID in _ok(inspector("models", "list", data_dir=one)).stdout

    bundle = tmp_path / "usb" / "gemma.tar"
    bundle.parent.mkdir()
    out = _ok(inspector("models", "export", MODEL_ID, str(bundle), data_dir=one))
    assert f"exported {MODEL_ID} to {bundle}" in out.stdout
    assert bundle.is_file()

    _ok(inspector("models", "import", str(bundle), data_dir=two))
    [copied] = json.loads(inspector("models", "list", "--json", data_dir=two).stdout)["models"]
    assert copied["revision"] == row["revision"]
    assert f"{MODEL_ID}: OK" in _ok(inspector("models", "verify", data_dir=two)).stdout

    weights = two / "models" / "tiny-org--gemma3-tiny" / "files" / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-5] ^= 0xFF
    weights.write_bytes(bytes(data))
    result = inspector("models", "verify", MODEL_ID, data_dir=two)
    assert result.returncode == 1
    assert f"{MODEL_ID}: CHANGED" in result.stdout and "model.safetensors: SHA-256" in result.stdout

    out = _ok(inspector("models", "remove", MODEL_ID, data_dir=two))
    assert f"removed {MODEL_ID}" in out.stdout
    assert json.loads(inspector("models", "list", "--json", data_dir=two).stdout)["models"] == []


def test_a_bundle_with_a_changed_byte_is_refused_naming_the_file(tiny_gemma, tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    _ok(inspector("models", "import", str(tiny_gemma), "--id", MODEL_ID, data_dir=one))
    folder = tmp_path / "bundle"
    _ok(inspector("models", "export", MODEL_ID, str(folder), data_dir=one))
    config = folder / "files" / "config.json"
    config.write_text(config.read_text().replace("gemma3", "gemma4", 1))
    result = inspector("models", "import", str(folder), data_dir=two)
    assert result.returncode == 2
    assert "file config.json does not match its manifest" in result.stderr
    assert "Traceback" not in result.stderr
    assert json.loads(inspector("models", "list", "--json", data_dir=two).stdout)["models"] == []


def test_bad_input_is_named_without_a_traceback(tmp_path):
    result = inspector("models", "import", str(tmp_path / "nothing"), data_dir=tmp_path)
    assert result.returncode == 2 and "no such file or folder" in result.stderr
    result = inspector("models", "export", "org/none", str(tmp_path / "x.tar"), data_dir=tmp_path)
    assert result.returncode == 2 and "org/none is not installed" in result.stderr
    result = inspector("models", "remove", "../escape", data_dir=tmp_path)
    assert result.returncode == 2 and "give a hub-style id" in result.stderr
    folder = tmp_path / "not-a-model"
    folder.mkdir()
    result = inspector("models", "import", str(folder), data_dir=tmp_path)
    assert result.returncode == 2 and "no config.json" in result.stderr
    (folder / "config.json").write_text("{}")
    _ok(inspector("models", "import", str(folder), "--id", "org/m", data_dir=tmp_path))
    result = inspector(
        "models", "export", "org/m", str(tmp_path / "no" / "x.tar"), data_dir=tmp_path
    )
    assert (
        result.returncode == 2 and f"the folder {tmp_path / 'no'} does not exist" in result.stderr
    )
    assert "Traceback" not in result.stderr


def test_pull_on_a_station_without_network_says_how_to_carry_the_model(tmp_path):
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens: an offline station
    result = inspector(
        "models",
        "pull",
        "Org/Model",
        data_dir=tmp_path,
        env={"HF_HUB_OFFLINE": None, "HF_ENDPOINT": closed},
    )
    assert result.returncode == 3
    assert "cannot reach the model hub" in result.stderr
    assert "inspector models export Org/Model" in result.stderr
    assert "inspector models import Org--Model.tar" in result.stderr
    result = inspector("models", "pull", "Org/Model", data_dir=tmp_path)  # HF_HUB_OFFLINE=1
    assert result.returncode == 3 and "HF_HUB_OFFLINE=1" in result.stderr
    assert not (tmp_path / "models" / ".pull-Org--Model").exists()


def test_the_demo_judges_with_its_model_once_the_store_holds_it(tiny_gemma, tmp_path, monkeypatch):
    from inspector.cli.demo import DEMO_RECIPE, DEMO_REFERENCE_RECIPE, demo_recipe
    from inspector.judges.model_store import ModelStore

    monkeypatch.setenv("INSPECTOR_MODEL_STORE", str(tmp_path / "models"))
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    recipe, notice = demo_recipe()
    assert recipe == str(DEMO_REFERENCE_RECIPE)
    assert "`inspector models pull Qwen/Qwen2.5-VL-3B-Instruct`" in notice
    assert "`inspector models import FILE`" in notice
    ModelStore().import_bundle(tiny_gemma, model_id="Qwen/Qwen2.5-VL-3B-Instruct")
    assert demo_recipe() == (str(DEMO_RECIPE), None)


def test_a_recipe_naming_an_imported_id_judges_through_the_cli(tiny_gemma, tmp_path, test_data):
    """`--data-dir` names the station: its store resolves the recipe's id in `inspector judge`."""
    data = tmp_path / "station"
    imported = inspector(
        "--data-dir", str(data), "models", "import", str(tiny_gemma), "--id", MODEL_ID
    )
    assert imported.returncode == 0, imported.stderr
    digest = json.loads(inspector("--data-dir", str(data), "models", "list", "--json").stdout)
    [row] = digest["models"]
    assert digest["store"] == str(data / "models")
    recipe = recipe_file(
        tmp_path, [{"engine": "transformers", "model": MODEL_ID, "max_new_tokens": 8}]
    )
    image = test_data / "deeppcb" / "defect" / "00041000_test.jpg"
    result = inspector(
        "--data-dir", str(data), "judge", str(image), "--recipe", str(recipe), "--json"
    )
    assert result.returncode in (0, 1), result.stderr  # random weights: UNSURE
    [verdict] = json.loads(result.stdout)
    assert verdict["outcome"] == "UNSURE" and verdict["model"] == MODEL_ID
    assert f"loaded {MODEL_ID}" in result.stderr
    assert f"revision {row['revision']}" in result.stderr  # the manifest's digest
