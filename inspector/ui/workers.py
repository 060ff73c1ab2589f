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
            self._emit(self.failed, exc)
            return
        self._emit(self.finished, result)

    def _report(self, message: str) -> None:
        self._emit(self.progress, message)

    def _emit(self, signal, value: object) -> None:
        """Emit unless cancelled, or unless the page that started the task is gone (its
        QObject, and so this one, deleted while the work ran): nobody is left to tell, and
        PySide raises on a deleted sender, in this thread, where nothing would catch it."""
        if self.cancelled:
            return
        try:
            signal.emit(value)
        except RuntimeError:  # "Signal source has been deleted"
            self.cancelled = True
            log.info("a background task ended after its page closed; its result is dropped")
