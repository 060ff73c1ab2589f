""" "New recipe…": the name of a new part's recipe and the folder its versions go to (the
window's recipes folder unless the engineer chooses another), with where version 1 will be
written shown as it is typed, and why a name cannot be used said in the dialog, which stays
open with what was typed until the name is fine or the engineer cancels."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

ERROR_STYLE = "color:#ff8a80;"


class NewRecipeDialog(QDialog):
    def __init__(
        self, folder: Path, problem: Callable[[str, Path], str], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("New recipe")
        self.setMinimumWidth(520)
        self._problem = problem  # (name, folder) -> why not, "" when fine
        self.name = QLineEdit()
        self.name.setPlaceholderText("the part's name, e.g. bracket-a")
        self.folder = QLineEdit(str(folder))
        choose = QPushButton("Choose…")
        choose.clicked.connect(self._choose)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(choose)
        self.where = QLabel("")
        self.where.setWordWrap(True)
        self.error = QLabel("")
        self.error.setWordWrap(True)
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.hide()
        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("Folder", folder_row)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.where)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.name.textChanged.connect(self._show_where)
        self.folder.textChanged.connect(self._show_where)
        self._show_where()

    def answer(self) -> tuple[str, Path]:
        return self.name.text().strip(), Path(self.folder.text().strip()).expanduser()

    def _show_where(self) -> None:
        name, folder = self.answer()
        self.where.setText(
            f"Version 1 will be saved as {folder / (name or 'NAME') / 'v1.yaml'}, from a "
            "template: the demo's prompt and defect classes, no good parts yet, the station's "
            "engine (or the model-free one)."
        )

    def _accept(self) -> None:
        problem = self._problem(*self.answer())
        if problem:
            self.error.setText(problem)
            self.error.show()
            return
        self.accept()

    def _choose(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "Folder for the recipe", self.folder.text())
        if chosen:
            self.folder.setText(chosen)
