"""The window's Models page on a real model store: a bundle imported with its progress bar, the
installed model's size, revision and verification, the recipes that use it, the default model,
a file changed after import found by Verify, and a bundle with one changed byte refused.

The store never loads a model, so the model here is a folder as the store sees one: a
config.json and a weights file of a few chunks (the progress bar has steps to follow)."""

from __future__ import annotations

import os

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from inspector.config import Settings, StationProfile
from inspector.judges.model_store import ModelStore
from inspector.store import Store
from tests.support.recipes import recipe_file

MODEL_ID = "site/tiny-model"


@pytest.fixture
def model_folder(tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text('{"model_type": "gemma3"}')
    (folder / "model.safetensors").write_bytes(os.urandom(3 << 20))
    return folder


@pytest.fixture
def bundle(tmp_path, model_folder):
    """A .tar bundle as `inspector models export` writes it on another station."""
    other = ModelStore(tmp_path / "other-station")
    other.import_bundle(model_folder, MODEL_ID)
    return other.export(MODEL_ID, tmp_path / "tiny.tar")


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    from inspector.ui.app import application
    from inspector.ui.main_window import MainWindow

    monkeypatch.setenv("INSPECTOR_CONFIG", str(tmp_path / "station.yaml"))
    monkeypatch.setenv("INSPECTOR_MODEL_STORE", str(tmp_path / "data" / "models"))
    _no_hub_cache(tmp_path, monkeypatch)
    application()
    settings = Settings.from_env(data_dir=tmp_path / "data")
    # A recipe the window saved, naming the model by id: the page lists it as a user.
    recipes = settings.data_dir / "recipes"
    recipes.mkdir(parents=True)
    recipe_file(recipes, [{"engine": "transformers", "model": MODEL_ID}]).rename(
        recipes / "boards.yaml"
    )
    with Store.open(settings) as store:
        window = MainWindow(settings, StationProfile(), store, "folder:/nonexistent", "")
        qtbot.addWidget(window)
        window.show()
        yield window


def _wait_idle(qtbot, view) -> None:
    qtbot.waitUntil(lambda: not view.busy, timeout=60_000)


def test_a_bundle_is_imported_with_progress_and_listed_with_its_users(window, bundle, qtbot):
    view = window.models_view
    window.tabs.setCurrentWidget(view)
    assert window.tabs.tabText(window.tabs.indexOf(view)) == "Models"
    assert view.table.rowCount() == 0
    # No model installed and no station recipe: the default is the demo's model, missing.
    assert "Qwen/Qwen2.5-VL-3B-Instruct" in view.default_label.text()
    assert "not installed" in view.default_label.text()
    assert "demo judges model-free" in view.default_label.text()

    seen = []
    view.progress.valueChanged.connect(seen.append)
    view.import_from(bundle)
    assert view.busy and not view.import_file_button.isEnabled()
    _wait_idle(qtbot, view)

    assert view.import_file_button.isEnabled()
    assert "Installed site/tiny-model" in view.result.text(), view.result.text()
    assert len(set(seen)) > 2 and view.progress.value() == view.progress.maximum()
    installed = ModelStore().get(MODEL_ID)
    assert view.table.rowCount() == 1
    row = [view.table.item(0, c).text() for c in range(view.table.columnCount())]
    assert row[0] == MODEL_ID
    assert row[1] == "3.1 MB"
    assert installed.manifest.digest.startswith(row[2].rstrip("…"))
    assert view.table.item(0, 2).toolTip().startswith(installed.manifest.digest)
    assert row[3].startswith("yes (")
    assert row[4] == "boards.yaml"


def test_verify_finds_a_file_changed_after_import(window, bundle, qtbot):
    view = window.models_view
    view.import_from(bundle)
    _wait_idle(qtbot, view)
    weights = ModelStore().get(MODEL_ID).folder / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[1000] ^= 1
    weights.write_bytes(bytes(data))

    view.table.selectRow(0)
    view.verify()
    _wait_idle(qtbot, view)
    assert f"{MODEL_ID}: CHANGED" in view.result.text()
    assert "model.safetensors" in view.result.text()
    assert view.table.item(0, 3).text() == "no"


def test_a_bundle_with_one_changed_byte_is_refused_naming_the_file(window, bundle, qtbot):
    import io
    import tarfile

    damaged = bundle.with_name("damaged.tar")
    with tarfile.open(bundle) as source, tarfile.open(damaged, "w") as out:
        for member in source.getmembers():
            body = source.extractfile(member).read() if member.isfile() else None
            if member.name == "files/model.safetensors":
                body = body[:500] + bytes([body[500] ^ 1]) + body[501:]
            out.addfile(member, io.BytesIO(body) if body is not None else None)

    view = window.models_view
    view.import_from(damaged)
    _wait_idle(qtbot, view)
    assert "Failed:" in view.result.text()
    assert "model.safetensors does not match its manifest" in view.result.text()
    assert view.table.rowCount() == 0 and ModelStore().entries() == []


def test_a_plain_model_folder_is_imported_under_the_id_given(window, model_folder, qtbot):
    view = window.models_view
    view.import_from(model_folder, MODEL_ID)
    _wait_idle(qtbot, view)
    assert view.table.item(0, 0).text() == MODEL_ID
    # The default model follows the station's recipe, installed now.
    assert "not installed" in view.default_label.text()  # the demo's model is still missing
    view.profile = StationProfile(recipe=str(window.settings.data_dir / "recipes/boards.yaml"))
    view.refresh()
    assert view.default_label.text().startswith(f"Default model: {MODEL_ID}")
    assert view.default_label.text().endswith("installed")


def test_what_is_neither_a_bundle_nor_a_folder_is_named(window, tmp_path, qtbot):
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"not a tar file")
    view = window.models_view
    view.import_from(junk)
    assert not view.busy
    assert "junk.tar: not a model bundle" in view.result.text()


def _no_hub_cache(tmp_path, monkeypatch) -> None:
    """An empty hub cache: the demo's model is not on this machine, whatever this one holds."""
    try:
        import huggingface_hub.constants
    except ImportError:
        return
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
