"""The recipe editor's Learn button: `inspector learn RECIPE` from the window, on a worker thread,
with a progress bar and Cancel; then the artefact's hash, and that the recipe version loads it.

The learning runs `station.learning.learn_recipe`, the routine the command runs. Its worker
thread only computes and emits signals: every Qt object here is made, changed and deleted on the
GUI thread. Cancel stops the learning at its next step; nothing is written for it (the artefact
is written only once learning is complete).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from inspector.errors import InspectorError
from inspector.station.learning import LearnedModel, learn_recipe, loads_for
from inspector.ui.messages import plain


class LearningCancelled(InspectorError):
    """The person pressed Cancel."""


class _Learning(QObject):
    """One learning on its thread; `ended` comes last, whatever happened (cancelled too)."""

    step = Signal(int, int, str)
    finished = Signal(object)  # list[LearnedModel]
    failed = Signal(object)  # the exception
    ended = Signal()

    def __init__(self, recipe: Path, folder: Path | None, parent: QObject) -> None:
        super().__init__(parent)
        self.recipe, self.folder = recipe, folder
        self.cancelled = threading.Event()
        self._thread = threading.Thread(target=self._run, name="learn", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _step(self, done: int, total: int, what: str) -> None:
        if self.cancelled.is_set():
            raise LearningCancelled("learning cancelled")
        self.step.emit(done, total, what)

    def _run(self) -> None:
        try:
            learned = learn_recipe(self.recipe, self.folder, self._step)
        except BaseException as exc:  # said on screen; a cancel is no failure
            if not self.cancelled.is_set():
                self.failed.emit(exc)
        else:
            if not self.cancelled.is_set():
                self.finished.emit(learned)
        finally:
            self.ended.emit()


class LearnBox(QWidget):
    learned = Signal(object)  # list[LearnedModel], once written

    def __init__(
        self, target: Callable[[], tuple[Path | None, str]], folder: Path | None = None
    ) -> None:
        """`target` gives, when Learn is pressed, the saved recipe file to learn for and why
        learning cannot start now ("" when it can)."""
        super().__init__()
        self.target = target
        self.folder = folder  # None: where the station looks (<data>/learned)
        self.recipe: Path | None = None
        self._learning: _Learning | None = None
        self.button = QPushButton("Learn good texture")
        self.button.setToolTip(
            "Learn the texture engine from the recipe's images of good parts (as `inspector "
            "learn RECIPE` does); the learned model is kept beside this recipe version"
        )
        self.button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.hide()
        self.bar = QProgressBar()
        self.bar.hide()
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row = QHBoxLayout()
        row.addWidget(self.button)
        row.addWidget(self.bar, 1)
        row.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.message)

    @property
    def running(self) -> bool:
        return self._learning is not None

    def start(self) -> None:
        if self.running:
            return
        recipe, why_not = self.target()
        if recipe is None or why_not:
            self._say(why_not or "Open or save a recipe first.", error=True)
            return
        self.recipe = recipe
        self._learning = learning = _Learning(self.recipe, self.folder, self)
        learning.step.connect(self._step)
        learning.finished.connect(self._finished)
        learning.failed.connect(self._failed)
        learning.ended.connect(lambda: self._ended(learning))
        self.button.setEnabled(False)
        self.cancel_button.show()
        self.cancel_button.setEnabled(True)
        self.bar.setRange(0, 0)  # busy until the first step says how many
        self.bar.show()
        self._say("Learning from the good images…")
        learning.start()

    def cancel(self) -> None:
        if self._learning is None:
            return
        self._learning.cancelled.set()
        self.cancel_button.setEnabled(False)
        self._say("Cancelling: the learning stops at its next step; nothing is written.")

    def _step(self, done: int, total: int, what: str) -> None:
        self.bar.setRange(0, total)
        self.bar.setValue(done)
        self.bar.setFormat(f"%v/%m {what}")

    def _finished(self, learned: list[LearnedModel]) -> None:
        lines = []
        for model in learned:
            loads = loads_for(self.recipe, self.folder) if self.recipe else None
            kept = (
                f"recipe {model.recipe} v{model.version} loads it from the station's next "
                "start (or switch to it); every part it judges records this hash as the model "
                "revision"
                if loads == model.path
                else f"recipe {model.recipe} v{model.version} loads another artefact: {loads}"
            )
            lines.append(
                f"Learned from {model.images} good images in {model.seconds:.1f} s: "
                f"{model.path.name}\nsha256 {model.sha256}\n{kept}."
            )
        self._say("\n".join(lines))
        self.learned.emit(learned)

    def _failed(self, exc: BaseException) -> None:
        self._say(plain(exc), error=True)

    def _ended(self, learning: _Learning) -> None:
        if learning.cancelled.is_set():
            self._say("Learning cancelled; nothing was written.")
        if self._learning is learning:
            self._learning = None
        learning.deleteLater()  # here, on the GUI thread
        self.bar.hide()
        self.cancel_button.hide()
        self.button.setEnabled(True)

    def _say(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet("color:#ff8a80;" if error else "")
