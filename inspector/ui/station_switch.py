"""After "Save as new version": where the station runs an older version of the recipe, offer to
switch it to the new one. Yes loads the new version on a worker thread
(`StationRunner.select_recipe_file`) and the station swaps it in between two parts; the window
learns of it from the station's own `RecipeSwapped`, as of a switch from the line. No leaves the
station as it is, saying so."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from inspector.recipes import Recipe
from inspector.station.runner import StationRunner
from inspector.ui.messages import plain
from inspector.ui.workers import Task

# (recipe name, the versions running, the new version) -> switch now?
Confirm = Callable[[str, str, int], bool]


class StationSwitch(QObject):
    said = Signal(str, bool)  # a line for the person; True: an error
    switched = Signal(str)  # what the station now runs

    def __init__(self, runner: StationRunner | None, parent: QWidget) -> None:
        super().__init__(parent)
        self.runner = runner
        self._parent = parent
        self._task: Task | None = None

    def offer(self, recipe: Recipe, path: Path, confirm: Confirm) -> bool:
        """Ask, where a view runs an older version of `recipe` (its file at `path`); True when
        the switch has started."""
        station = self.runner.station if self.runner is not None else None
        if station is None:
            return False
        older = [
            v
            for v in station.views
            if v.recipe.name == recipe.name and v.recipe.version < recipe.version
        ]
        if not older:
            return False
        running = ", ".join(sorted({f"v{v.recipe.version}" for v in older}))
        if not confirm(recipe.name, running, recipe.version):
            self.said.emit(f"The station keeps running {recipe.name} {running}.", False)
            return False
        runner, views = self.runner, [v.name for v in older]

        def work(progress):
            return [runner.select_recipe_file(path, view, progress) for view in views]

        self.said.emit(f"Switching the station to v{recipe.version}…", False)
        self._task = Task(work, self)
        self._task.finished.connect(self._done)
        self._task.failed.connect(self._failed)
        self._task.start()
        return True

    def ask(self, name: str, running: str, version: int) -> bool:
        answer = QMessageBox.question(
            self._parent,
            "Switch the station",
            f"The station runs {name} {running}. Switch the station to v{version} now? "
            "(It changes between two parts.)",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    def _done(self, said: list[str]) -> None:
        self._task = None
        text = "; ".join(said)
        self.said.emit(f"The station runs it from the next part: {text}", False)
        self.switched.emit(text)

    def _failed(self, exc: BaseException) -> None:
        self._task = None
        self.said.emit(f"The station was not switched: {plain(exc)}", True)
