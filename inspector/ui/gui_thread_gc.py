"""Python's cyclic garbage collector, run on the window's thread only.

Why: the collector runs on whichever thread happens to allocate when a generation fills up. A
Qt object caught in a reference cycle (a widget whose slot refers back to it, say) is then
destroyed on that thread: a worker (the station's, a store read) ends up deleting a QMenu while
the GUI thread deletes its QActions, each holding what the other waits for (Qt's lock, the
GIL), and the window freezes for good. Qt objects must die on the GUI thread, so the automatic
collector is switched off and a timer on the GUI thread collects each generation when its
threshold is passed, as the automatic collector would (pyqtgraph's GarbageCollector does the
same for the same reason).
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

INTERVAL_MS = 500


class GuiThreadCollector(QObject):
    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.collect)
        self._timer.start(INTERVAL_MS)
        gc.disable()

    def collect(self) -> None:
        thresholds = gc.get_threshold()
        counts = gc.get_count()
        for generation in (2, 1, 0):  # the oldest due generation collects the younger too
            if counts[generation] > thresholds[generation]:
                gc.collect(generation)
                return


def collect_on_gui_thread(app: QObject) -> None:
    """Once per application: cyclic garbage is collected on the GUI thread from now on."""
    if app.findChild(GuiThreadCollector) is None:
        GuiThreadCollector(app)
