"""Fifty rounds in a row of what once hung the window, each with a deadline.

The hang (seen once in many runs of the window's tests): the GUI thread deleted a Qt menu while
holding the GIL and waiting on a Qt lock, and a worker thread that held that lock, destroying a
Qt object it had collected as garbage, waited for the GIL. Each round here does all of that at
once: the station judges on its worker threads and records verdicts that the window shows, the
GUI thread builds and deletes menus and rebuilds the account menu, and a worker thread allocates
enough to trigger Python's cyclic collector while a Qt object in a reference cycle waits to die.
A round that does not finish within its deadline dumps every thread's stack and ends the test
run (faulthandler), so a hang fails CI instead of stalling it. bench/ui_stress.py runs the whole
window suite many times in separate processes; this runs in every CI run.
"""

from __future__ import annotations

import faulthandler
import gc
import os
import sys
import threading
import weakref

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QMenu

import tests.support.scripted_judge as scripted
from inspector.config import Settings, StationProfile
from inspector.store import Store
from tests.support.paths import ROOT
from tests.support.recipes import recipe_file

ROUNDS = 50
DEADLINE_S = 120  # one round takes about a second; a busy 2-core CI machine, several

CAMERA = ROOT / "assets" / "demo" / "camera"


class _Cyclic(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.me = self  # only the cyclic collector can free it


def _allocate(kept: list) -> None:
    """Far past the collector's first threshold (700), kept alive so its counts stay there."""
    kept.extend([] for _ in range(20_000))


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    from inspector.ui.app import application
    from inspector.ui.main_window import MainWindow

    monkeypatch.setenv("INSPECTOR_CONFIG", str(tmp_path / "station.yaml"))
    application()
    answers = [scripted.PASS_ANSWER, scripted.FAIL_ANSWER, scripted.PASS_ANSWER]
    recipe = recipe_file(tmp_path, [{"engine": "scripted", "answers": answers}])
    settings = Settings.from_env(data_dir=tmp_path / "data")
    store = Store.open(settings)
    shown = MainWindow(settings, StationProfile(), store, f"folder:{CAMERA}?loop=1", str(recipe))
    qtbot.addWidget(shown)
    shown.show()
    yield shown
    store.close()


def test_fifty_rounds_of_judging_menus_and_garbage_never_hang(window, qtbot):
    station = window.station
    died_on: list[str] = []
    for round_number in range(1, ROUNDS + 1):
        faulthandler.dump_traceback_later(DEADLINE_S, exit=True, file=sys.stderr)
        try:
            seen = station.counters.total
            station.start()
            # While parts are judged: garbage with a Qt object in it, and a worker that
            # allocates far past the collector's first threshold.
            garbage = _Cyclic()
            weakref.finalize(garbage, lambda: died_on.append(threading.current_thread().name))
            del garbage
            worker = threading.Thread(target=_allocate, args=([],))
            worker.start()
            for _ in range(5):  # menus made and deleted on the GUI thread meanwhile
                menu = QMenu(window)
                menu.addAction(f"round {round_number}")
                menu.deleteLater()
                window.account.update()
                qtbot.wait(5)
            worker.join()
            judged = lambda wanted=seen + 2: station.counters.total >= wanted  # noqa: E731
            qtbot.waitUntil(judged, timeout=60_000)
            station.stop()
            qtbot.waitUntil(lambda: window.runner.station is None, timeout=60_000)
            gc.collect()  # the window's own collection point does this on a timer
        finally:
            faulthandler.cancel_dump_traceback_later()
    # Every round judged parts, and every Qt object in a cycle died on the GUI thread.
    assert station.counters.total >= 2 * ROUNDS
    main = threading.main_thread().name
    assert len(died_on) == ROUNDS and set(died_on) == {main}
