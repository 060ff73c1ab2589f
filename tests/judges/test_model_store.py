"""The model store on a tiny real Gemma 3 checkpoint: import, list, verify, export to a second
station, a changed byte refused by name, remove; and a recipe naming the id loads from the store
through the transformers engine."""

from __future__ import annotations

import tarfile

import cv2
import pytest

from inspector.domain import Outcome
from inspector.errors import InputError
from inspector.judges import build_chain
from inspector.judges.local_model import installed, model_folder
from inspector.judges.model_store import ModelStore
from inspector.recipes import load_recipe
from tests.support.recipes import recipe_file

MODEL_ID = "tiny-org/gemma3-tiny"


@pytest.fixture(scope="module")
def tiny_gemma(tmp_path_factory):
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from tests.support.tiny_models import build_tiny_model

    return build_tiny_model("gemma3", tmp_path_factory.mktemp("tiny") / "gemma3")


def _flip_byte(path, offset=100) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def test_a_model_folder_is_imported_listed_and_verified(tiny_gemma, tmp_path):
    store = ModelStore(tmp_path / "models")
    seen = []
    found = store.import_bundle(tiny_gemma, model_id=MODEL_ID, progress=seen.append)
    files = sorted(
        p.relative_to(tiny_gemma).as_posix() for p in tiny_gemma.rglob("*") if p.is_file()
    )
    assert sorted(f.path for f in found.manifest.files) == files
    assert found.manifest.size == sum((tiny_gemma / f).stat().st_size for f in files)
    assert sum(seen) == found.manifest.size  # the progress saw every byte
    assert (found.folder / "config.json").is_file()
    assert found.verified is not None
    assert found.manifest.digest.startswith("sha256:") and len(found.manifest.digest) == 71
    [listed] = store.entries()
    assert listed.model_id == MODEL_ID
    assert store.verify(MODEL_ID) == []
    with pytest.raises(InputError, match="already installed"):
        store.import_bundle(tiny_gemma, model_id=MODEL_ID)


def test_verify_finds_a_file_changed_after_import(tiny_gemma, tmp_path):
    store = ModelStore(tmp_path / "models")
    found = store.import_bundle(tiny_gemma, model_id=MODEL_ID)
    _flip_byte(found.folder / "model.safetensors", offset=-10)
    problems = store.verify(MODEL_ID)
    assert len(problems) == 1 and problems[0].startswith("model.safetensors: SHA-256")
    assert store.get(MODEL_ID).verified is None  # the last check failed
    (found.folder / "stray.bin").write_bytes(b"x")
    assert "stray.bin: not in the manifest" in store.verify(MODEL_ID)


@pytest.mark.parametrize("bundle_name", ["model.tar", "bundle-folder"])
def test_export_then_import_on_a_second_station(tiny_gemma, tmp_path, bundle_name):
    first = ModelStore(tmp_path / "one" / "models")
    original = first.import_bundle(tiny_gemma, model_id=MODEL_ID, revision="abc123")
    bundle = first.export(MODEL_ID, tmp_path / bundle_name)
    second = ModelStore(tmp_path / "two" / "models")
    copied = second.import_bundle(bundle)
    assert copied.model_id == MODEL_ID
    assert copied.manifest == original.manifest
    assert copied.manifest.revision == "abc123"
    assert second.verify(MODEL_ID) == []


def test_a_bundle_with_one_changed_byte_is_refused_naming_the_file(tiny_gemma, tmp_path):
    first = ModelStore(tmp_path / "one" / "models")
    first.import_bundle(tiny_gemma, model_id=MODEL_ID)
    folder = first.export(MODEL_ID, tmp_path / "bundle")
    _flip_byte(folder / "files" / "tokenizer.json")
    second = ModelStore(tmp_path / "two" / "models")
    with pytest.raises(InputError, match=r"file tokenizer\.json does not match its manifest"):
        second.import_bundle(folder)
    assert second.entries() == []
    assert [p.name for p in second.root.iterdir()] == []  # nothing half-installed

    # The same in a tar: the changed member is named too.
    tar_path = tmp_path / "bad.tar"
    with tarfile.open(tar_path, "w") as tar:
        for name in ("manifest.json", "SHA256SUMS", "files"):
            tar.add(folder / name, arcname=name)
    with pytest.raises(InputError, match=r"file tokenizer\.json does not match"):
        second.import_bundle(tar_path)


def test_a_bundle_with_a_file_outside_its_manifest_or_a_bad_path_is_refused(tiny_gemma, tmp_path):
    first = ModelStore(tmp_path / "one" / "models")
    first.import_bundle(tiny_gemma, model_id=MODEL_ID)
    folder = first.export(MODEL_ID, tmp_path / "bundle")
    (folder / "files" / "extra.py").write_text("print('hi')")
    second = ModelStore(tmp_path / "two" / "models")
    with pytest.raises(InputError, match=r"file extra\.py is not in the manifest"):
        second.import_bundle(folder)
    (folder / "files" / "extra.py").unlink()
    manifest = (folder / "manifest.json").read_text()
    (folder / "manifest.json").write_text(manifest.replace('"config.json"', '"../config.json"'))
    with pytest.raises(InputError, match="would leave the model folder"):
        second.import_bundle(folder)
    (folder / "manifest.json").write_text(manifest.replace(MODEL_ID, "tiny-org/\\u001b[2Jx"))
    with pytest.raises(InputError, match="give a hub-style id"):
        second.import_bundle(folder)
    (folder / "manifest.json").write_text(manifest.replace(MODEL_ID, "../../etc"))
    with pytest.raises(InputError, match="give a hub-style id"):
        second.import_bundle(folder)
    with pytest.raises(InputError, match="not a model bundle"):
        (tmp_path / "junk.tar").write_bytes(b"not a tar")
        second.import_bundle(tmp_path / "junk.tar")


def test_remove_deletes_the_entry(tiny_gemma, tmp_path):
    store = ModelStore(tmp_path / "models")
    store.import_bundle(tiny_gemma, model_id=MODEL_ID)
    store.remove(MODEL_ID)
    assert store.entries() == []
    with pytest.raises(InputError, match="not installed"):
        store.remove(MODEL_ID)


def test_a_recipe_naming_the_id_loads_from_the_store(tiny_gemma, tmp_path, monkeypatch, test_data):
    monkeypatch.setenv("INSPECTOR_MODEL_STORE", str(tmp_path / "models"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert not installed(MODEL_ID) and model_folder(MODEL_ID) is None
    found = ModelStore().import_bundle(tiny_gemma, model_id=MODEL_ID, revision="abc123")
    assert installed(MODEL_ID)
    assert installed(MODEL_ID, "abc123") and installed(MODEL_ID, found.manifest.digest)
    assert not installed(MODEL_ID, "another-revision")
    assert model_folder(MODEL_ID) == found.folder

    path = recipe_file(
        tmp_path, [{"engine": "transformers", "model": MODEL_ID, "max_new_tokens": 8}]
    )
    judge = build_chain(load_recipe(path), str(path)).judges[0]
    messages = []
    judge.load(progress=messages.append)
    assert messages[-1].startswith(f"loaded {MODEL_ID}")
    assert judge.model_revision == found.manifest.digest  # the verified manifest's hash
    part = cv2.imread(str(test_data / "deeppcb" / "defect" / "00041000_test.jpg"))
    verdict = judge.judge(part)
    [attempt] = verdict.attempts
    assert attempt.error is None and attempt.model_id == MODEL_ID
    assert attempt.completion_tokens >= 1
    assert verdict.outcome is Outcome.UNSURE  # random weights never pass a part
