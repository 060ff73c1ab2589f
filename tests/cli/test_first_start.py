"""`inspector` with no command on a machine whose screen Qt cannot use: the headless demo runs,
and the operator is told why and how to fix the window (issue 12: Qt aborted at start when the
xcb libraries were missing, and nothing ran)."""

from __future__ import annotations

import importlib.util
import signal

from tests.support.command_line import start


def test_a_screen_qt_cannot_open_falls_back_to_the_headless_demo(tmp_path):
    # A display name with no X server behind it: Qt's xcb plugin cannot start, as on a machine
    # without the xcb libraries (this one may or may not have them).
    station = start(
        data_dir=tmp_path / "data",
        env={"DISPLAY": ":97", "WAYLAND_DISPLAY": None, "QT_QPA_PLATFORM": None},
    )
    try:
        first = station.stdout.readline()  # the demo's first verdict line
    finally:
        station.send_signal(signal.SIGINT)
        _, stderr = station.communicate(timeout=60)
    assert first.strip(), stderr
    assert station.returncode == 0, stderr
    if importlib.util.find_spec("PySide6") is not None:
        assert "the window cannot start" in stderr
        assert "sudo apt install libxcb-cursor0" in stderr
    else:
        assert "PySide6 is not installed" in stderr
    assert "running the demo headless" in stderr


def test_the_demo_judges_with_its_model_only_where_the_model_is_installed(tmp_path, monkeypatch):
    import huggingface_hub.constants

    from inspector.cli.demo import DEMO_RECIPE, DEMO_REFERENCE_RECIPE, demo_recipe

    # An empty hub cache: the model is not installed; the demo is model-free and says why.
    cache = tmp_path / "hub"
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache))
    recipe, notice = demo_recipe()
    assert recipe == str(DEMO_REFERENCE_RECIPE)
    assert "Qwen/Qwen2.5-VL-3B-Instruct is not installed" in notice

    # The model in the cache, as a download leaves it: the demo judges with it.
    revision = "0" * 40
    model = cache / "models--Qwen--Qwen2.5-VL-3B-Instruct"
    (model / "refs").mkdir(parents=True)
    (model / "refs" / "main").write_text(revision)
    snapshot = model / "snapshots" / revision
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text("{}")
    assert demo_recipe() == (str(DEMO_RECIPE), None)
