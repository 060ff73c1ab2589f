"""Qt objects die on the window's thread: cyclic garbage is collected there, never on a worker.

A worker that allocates enough to fill the collector's first generation would, with Python's
automatic collection, destroy a Qt object held in a reference cycle on the worker's thread,
which can deadlock against the GUI thread (Qt's lock against the GIL).
"""

from __future__ import annotations

import gc
import threading
import weakref

from PySide6.QtCore import QObject

from inspector.ui.app import application


class _Cyclic(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.me = self  # a reference cycle: only the cyclic collector can free it


def test_a_qt_object_in_a_cycle_is_destroyed_on_the_gui_thread(qtbot):
    application()
    assert not gc.isenabled()
    died_on: list[str] = []
    garbage = _Cyclic()
    weakref.finalize(garbage, lambda: died_on.append(threading.current_thread().name))
    del garbage

    kept: list[list] = []  # alive, so the collector's counts stay past its thresholds

    def allocate() -> None:  # far past generation 0's threshold (700 by default)
        kept.extend([] for _ in range(20_000))

    worker = threading.Thread(target=allocate, name="worker")
    worker.start()
    worker.join()
    assert died_on == []  # the worker's allocations collected nothing
    qtbot.waitUntil(lambda: bool(died_on), timeout=5_000)
    assert died_on == [threading.main_thread().name]
