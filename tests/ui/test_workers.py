"""A background task whose page closes while it runs ends quietly: no exception in its thread,
its result dropped, and a live page still gets its result."""

from __future__ import annotations

import threading

import shiboken6
from PySide6.QtWidgets import QWidget

from inspector.ui.app import application
from inspector.ui.workers import Task


def _raised_in_threads(monkeypatch) -> list[BaseException]:
    raised: list[BaseException] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: raised.append(args.exc_value))
    return raised


def test_a_task_outliving_its_page_ends_without_an_exception(qtbot, monkeypatch):
    application()
    raised = _raised_in_threads(monkeypatch)
    page = QWidget()
    release = threading.Event()
    task = Task(lambda progress: (release.wait(10), progress("half way"), "done")[-1], page)
    thread = task._thread
    task.start()
    page.deleteLater()  # the page closes while the work runs; its children go with it
    qtbot.waitUntil(lambda: not shiboken6.isValid(page), timeout=5000)
    release.set()
    thread.join(10)
    assert not thread.is_alive()
    assert raised == []


def test_a_live_page_gets_the_result_and_the_progress(qtbot):
    application()
    page = QWidget()
    qtbot.addWidget(page)
    seen: list[object] = []
    task = Task(lambda progress: (progress("half way"), 42)[-1], page)
    task.progress.connect(seen.append)
    task.finished.connect(seen.append)
    task.start()
    qtbot.waitUntil(lambda: 42 in seen, timeout=5000)
    assert seen == ["half way", 42]
