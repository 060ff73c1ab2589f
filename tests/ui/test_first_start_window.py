"""The first start of the window on a new station, as `inspector window` runs it: a fresh data
directory, no model installed anywhere. The window opens on the demo judging model-free, says
which model is missing and how to set it up, and the live view shows the camera's image (issue
12: a new station showed READY, then a grey NOT RUNNING over a blank live view).

The window runs its own event loop (`app.exec()`) in a process of its own, offscreen, as the
command does; a watcher inside it reads the widgets and reports them as JSON."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from tests.support.command_line import python

DEADLINE_MS = 180_000  # a loaded CI machine; the watcher ends the window as soon as it has seen

WATCHER = """
import json, sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from inspector.cli import main
from inspector.ui.app import application
from inspector.ui.main_window import MainWindow

def bright_share(widget):
    # The share of bright on-screen pixels: the demo's copper is white on black; the stopped
    # view's placeholder is a line of text on a dark ground.
    image = widget.grab().toImage()
    xs, ys = range(0, image.width(), 4), range(0, image.height(), 4)
    bright = sum(image.pixelColor(x, y).lightness() > 200 for y in ys for x in xs)
    return bright / max(1, len(xs) * len(ys))

app = application()
seen, elapsed, timer = {}, [0], QTimer()

def watch():
    elapsed[0] += timer.interval()
    late = elapsed[0] > DEADLINE_MS
    windows = [w for w in app.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
    if windows:
        view = windows[0].station
        seen.update(
            notice=view.notice.text() if view.notice.isVisible() else None,
            recipe=view.recipe_path,
            verdicts=view.counters.total,
            bright=bright_share(view.image),
            fault=view.fault,
        )
        if not (late or (seen["verdicts"] >= 1 and seen["bright"] > 0.05 and seen["notice"])):
            return
        windows[0].close()  # stops the station, as the operator closing it does
    if windows or late:
        timer.stop()
        QApplication.quit()

timer.timeout.connect(watch)
timer.start(250)
code = main(["--data-dir", sys.argv[1], "window"])
print("SEEN " + json.dumps({"code": code, **seen}))
"""


def test_a_new_station_opens_on_the_model_free_demo_with_a_notice_and_a_live_image(tmp_path):
    code = f"import sys; sys.argv[1:] = [{str(tmp_path / 'data')!r}]\n"
    code += f"DEADLINE_MS = {DEADLINE_MS}\n" + WATCHER
    done = python(
        code,
        env={
            "INSPECTOR_CONFIG": str(tmp_path / "station.yaml"),  # none saved yet
            "HF_HUB_CACHE": str(tmp_path / "hub"),  # no model in the hub's cache either
            "QT_QPA_PLATFORM": "offscreen",
        },
        timeout=DEADLINE_MS / 1000 + 120,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("SEEN ")]
    assert done.returncode == 0 and lines, done.stderr[-3000:]
    seen = json.loads(lines[-1][5:])
    assert seen["code"] == 0
    assert seen.get("fault") is None, seen
    assert seen["recipe"].endswith("recipe-reference.yaml"), seen  # the model-free demo
    notice = seen["notice"] or ""
    assert "Qwen/Qwen2.5-VL-3B-Instruct is not installed" in notice, seen
    assert "inspector models import" in notice and "Models page" in notice
    assert seen["bright"] > 0.05, seen  # the camera's image, not a blank or placeholder view
    assert seen["verdicts"] >= 1, seen  # and the demo judged a part
