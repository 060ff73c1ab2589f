"""The first start of the window on a new station, as `inspector window` runs it: a fresh data
directory, no model installed anywhere. The window opens on the demo judging model-free, says
which model is missing and how to set it up, and the live view shows the camera's image (issue
12: a new station showed READY, then a grey NOT RUNNING over a blank live view)."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

DEADLINE_MS = 180_000  # a loaded CI machine; the watcher ends the window as soon as it has seen


def _bright_share(widget) -> float:
    """The share of the widget's on-screen pixels that are bright: the demo's copper is white on
    black, the stopped view's placeholder is a line of text on a dark ground."""
    image = widget.grab().toImage()
    width, height = image.width(), image.height()
    bright = sum(
        image.pixelColor(x, y).lightness() > 200
        for y in range(0, height, 4)
        for x in range(0, width, 4)
    )
    return bright / max(1, len(range(0, height, 4)) * len(range(0, width, 4)))


def test_a_new_station_opens_on_the_model_free_demo_with_a_notice_and_a_live_image(
    qtbot, tmp_path, monkeypatch
):
    import huggingface_hub.constants
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    import inspector.judges.model_store as model_store
    from inspector.cli import main
    from inspector.ui.app import application
    from inspector.ui.main_window import MainWindow

    monkeypatch.setenv("INSPECTOR_CONFIG", str(tmp_path / "station.yaml"))  # none saved yet
    # What `main` sets for this process, put back after the test: the data directory in the
    # environment and the model store's.
    monkeypatch.setenv("INSPECTOR_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(model_store, "_data_dir", None)
    monkeypatch.delenv("INSPECTOR_MODEL_STORE", raising=False)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    app = application()
    seen: dict = {}
    timer = QTimer()
    elapsed = {"ms": 0}

    def watch() -> None:
        elapsed["ms"] += timer.interval()
        windows = [w for w in app.topLevelWidgets() if isinstance(w, MainWindow)]
        if windows and windows[0].isVisible():
            window = windows[0]
            view = window.station
            seen.update(
                notice=view.notice.text() if view.notice.isVisible() else None,
                recipe=view.recipe_path,
                verdicts=view.counters.total,
                bright=_bright_share(view.image),
                fault=view.fault,
            )
            done = seen["verdicts"] >= 1 and seen["bright"] > 0.05 and seen["notice"]
            if not (done or elapsed["ms"] > DEADLINE_MS):
                return
            window.close()  # stops the station, as the operator closing it does
        if windows or elapsed["ms"] > DEADLINE_MS:
            timer.stop()
            QApplication.quit()

    timer.timeout.connect(watch)
    timer.start(250)
    code = main(["--data-dir", str(tmp_path / "data"), "window"])

    assert code == 0
    assert seen.get("fault") is None, seen
    assert seen["recipe"].endswith("recipe-reference.yaml"), seen  # the model-free demo
    notice = seen["notice"] or ""
    assert "Qwen/Qwen2.5-VL-3B-Instruct is not installed" in notice, seen
    assert "inspector models import" in notice
    assert seen["bright"] > 0.05, seen  # the camera's image, not a blank or placeholder view
    assert seen["verdicts"] >= 1, seen  # and the demo judged a part
