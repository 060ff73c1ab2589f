"""`inspector models pull` against a model hub on 127.0.0.1 (tests/support/hub_peer.py): the
download lands in the store verified, at the hub's commit; a download cut part-way resumes
where it stopped; an unreachable hub is said in a second, with the offline way to install."""

from __future__ import annotations

import json
import os

import pytest

from inspector.judges.model_store import ModelStore
from tests.support.command_line import inspector
from tests.support.hub_peer import HubPeer

pytest.importorskip("huggingface_hub")

MODEL_ID = "tiny-org/pulled-model"
COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture
def hub(tmp_path):
    folder = tmp_path / "hub-model"
    (folder / "sub").mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"model_type": "tiny"}))
    (folder / "sub" / "tokenizer.json").write_text("{}")
    # Larger than the client's 10 MiB read chunk, so that a cut download has something to keep.
    (folder / "model.safetensors").write_bytes(os.urandom(24 * 1024 * 1024))
    peer = HubPeer(MODEL_ID, folder, commit=COMMIT)
    yield peer
    peer.close()


def _pull(hub: HubPeer, data_dir):
    env = {"HF_HUB_OFFLINE": None, "HF_ENDPOINT": hub.url, "HF_HOME": str(data_dir / "hf")}
    return inspector("models", "pull", MODEL_ID, data_dir=data_dir, env=env, timeout=300)


def test_a_pulled_model_is_installed_verified_at_the_hubs_commit(hub, tmp_path):
    data_dir = tmp_path / "station"
    done = _pull(hub, data_dir)
    assert done.returncode == 0, done.stderr
    assert f"installed {MODEL_ID}" in done.stdout
    store = ModelStore(data_dir / "models")
    found = store.get(MODEL_ID)
    assert found is not None
    assert found.manifest.revision == COMMIT
    assert store.verify(MODEL_ID) == []
    assert (found.folder / "model.safetensors").read_bytes() == hub.files["model.safetensors"]
    assert (found.folder / "sub" / "tokenizer.json").read_text() == "{}"
    # Pulled again at the same commit: nothing downloaded.
    fetched = sum(1 for method, path, _ in hub.requests if method == "GET" and "/resolve/" in path)
    again = _pull(hub, data_dir)
    assert again.returncode == 0, again.stderr
    assert sum(1 for m, p, _ in hub.requests if m == "GET" and "/resolve/" in p) == fetched


def test_a_download_cut_part_way_resumes_where_it_stopped(hub, tmp_path):
    data_dir = tmp_path / "station"
    hub.cut = ("model.safetensors", 15 * 1024 * 1024)  # the uplink drops after 15 MiB
    first = _pull(hub, data_dir)
    if first.returncode != 0:  # the client gave up: the next pull goes on from the cut
        assert "Traceback" not in first.stderr
        second = _pull(hub, data_dir)
        assert second.returncode == 0, second.stderr
    # The file was not fetched again from its start: the second GET asked for the rest.
    gets = [
        r for method, path, r in hub.requests if method == "GET" and path.endswith(".safetensors")
    ]
    assert len(gets) == 2 and gets[0] is None, gets
    start = int(gets[1].removeprefix("bytes=").split("-")[0])
    assert 0 < start <= 15 * 1024 * 1024
    store = ModelStore(data_dir / "models")
    assert store.verify(MODEL_ID) == []
    found = store.get(MODEL_ID)
    assert (found.folder / "model.safetensors").read_bytes() == hub.files["model.safetensors"]


def test_an_unreachable_hub_is_said_with_the_offline_way(tmp_path):
    data_dir = tmp_path / "station"
    env = {"HF_HUB_OFFLINE": None, "HF_ENDPOINT": "http://127.0.0.1:9"}
    done = inspector("models", "pull", MODEL_ID, data_dir=data_dir, env=env, timeout=60)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert "cannot reach the model hub" in done.stderr
    assert f"inspector models import {MODEL_ID.replace('/', '--')}.tar" in done.stderr
