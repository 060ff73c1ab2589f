"""Slow work off the window's thread, with progress and results as queued signals."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

log = logging.getLogger(__name__)


class Task(QObject):
    """Runs `work(progress)` on a thread; `finished` or `failed` comes back on the Qt thread.

    Cancelling cannot interrupt a model loading inside a library; it makes the task's result be
    ignored, and the window is free again at once.
    """

    progress = Signal(str)
    finished = Signal(object)
    failed = Signal(object)  # the exception

    def __init__(self, work: Callable[[Callable[[str], None]], object], parent=None) -> None:
        super().__init__(parent)
        self._work = work
        self.cancelled = False
        self._thread = threading.Thread(target=self._run, name="ui-task", daemon=True)

    def start(self) -> Task:
        self._thread.start()
        return self

    def cancel(self) -> None:
        self.cancelled = True

    def _run(self) -> None:
        try:
            result = self._work(self._report)
        except BaseException as exc:  # shown to the user as a message, with details
            log.info("task failed: %s", exc, exc_info=True)
            if not self.cancelled:
                self.failed.emit(exc)
            return
        if not self.cancelled:
            self.finished.emit(result)

    def _report(self, message: str) -> None:
        if not self.cancelled:
            self.progress.emit(message)
