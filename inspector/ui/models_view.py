"""Models: the station's model store in the window: what is installed (size, revision, verified),
which recipes use each model, the default model, and import and verify with a progress bar.

The store's own checks do the work (judges/model_store.py): an import hashes every file before
anything is installed, so a damaged bundle is refused here as on the command line. Copies and
hashes run on a worker thread; the page only shows their progress and result.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from inspector.config import DEMO_RECIPE, Settings, StationProfile
from inspector.judges.model_store import Installed, ModelStore, bundle_size
from inspector.station.models_in_use import local_models, recipe_files, recipes_using
from inspector.ui.workers import Task

COLUMNS = ("Model", "Size", "Revision", "Verified", "Used by recipes")


class _StoreTask(Task):
    """A store job on a thread, reporting the bytes it has read."""

    read = Signal(int)


def size_text(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n} B"


class ModelsView(QWidget):
    changed = Signal()  # the store's content changed (an import)

    def __init__(self, settings: Settings, profile: StationProfile) -> None:
        super().__init__()
        self.settings, self.profile = settings, profile
        self.task: _StoreTask | None = None
        self.where = QLabel()
        self.where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.default_label = QLabel()
        self.default_label.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(
            len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch
        )
        self.import_folder_button = QPushButton("Import folder…")
        self.import_folder_button.setToolTip(
            "a bundle folder made by `inspector models export`, or a model folder (config.json)"
        )
        self.import_folder_button.clicked.connect(self._choose_folder)
        self.import_file_button = QPushButton("Import bundle…")
        self.import_file_button.setToolTip("a .tar bundle made by `inspector models export`")
        self.import_file_button.clicked.connect(self._choose_file)
        self.verify_button = QPushButton("Verify")
        self.verify_button.setToolTip(
            "hash every file of the selected model (all, if none is selected) against its manifest"
        )
        self.verify_button.clicked.connect(self.verify)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        buttons = QHBoxLayout()
        for button in (
            self.import_folder_button,
            self.import_file_button,
            self.verify_button,
            self.refresh_button,
        ):
            buttons.addWidget(button)
        buttons.addStretch(1)
        self.progress = QProgressBar()
        self.progress.hide()
        self.result = QLabel()
        self.result.setWordWrap(True)
        self.result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        column = QVBoxLayout(self)
        column.addWidget(self.where)
        column.addWidget(self.default_label)
        column.addWidget(self.table, 1)
        column.addLayout(buttons)
        column.addWidget(self.progress)
        column.addWidget(self.result)
        self.entries: list[Installed] = []
        self.refresh()

    # -- what is installed -------------------------------------------------------------------
    def refresh(self) -> None:
        store = ModelStore()
        try:
            self.entries = store.entries()
        except Exception as exc:  # a damaged manifest: said, and the page stays usable
            self.entries = []
            self.result.setText(f"The model store {store.root} cannot be read: {exc}")
        self.where.setText(f"Model store: {store.root}  ({len(self.entries)} installed)")
        using = recipes_using(recipe_files(self.settings, self.profile))
        self.table.setRowCount(len(self.entries))
        for row, entry in enumerate(self.entries):
            manifest = entry.manifest
            recipes = using.get(entry.model_id, [])
            cells = (
                entry.model_id,
                size_text(manifest.size),
                manifest.digest[:19] + "…",
                f"yes ({entry.verified})" if entry.verified else "no",
                ", ".join(_recipe_name(p) for p in recipes) or "none",
            )
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if col == 2:
                    item.setToolTip(f"{manifest.digest}\nhub revision: {manifest.revision}")
                if col == 4 and recipes:
                    item.setToolTip("\n".join(map(str, recipes)))
                self.table.setItem(row, col, item)
        self.table.resizeColumnsToContents()
        self.default_label.setText(self.default_text())

    def default_text(self) -> str:
        """The model the station judges with when started as saved: its recipe's, else the
        demo's; and whether it is installed."""
        recipe = self.profile.recipe or str(DEMO_RECIPE)
        whose = "the station's recipe" if self.profile.recipe else "the demo"
        try:
            named = local_models(recipe)
        except Exception as exc:
            return f"Default model: {whose} ({recipe}) cannot be read: {exc}"
        if not named:
            return f"Default model: none ({whose} judges without a local model)"
        installed = {e.model_id for e in self.entries}
        model = named[0].model
        if model in installed or Path(model).expanduser().is_dir():
            state = "installed"
        else:
            state = (
                "not installed: import it here from a bundle made with `inspector models "
                f"export`, or `inspector models pull {model}` on a connected station"
            )
            if not self.profile.recipe:
                state += " (until then the demo judges model-free)"
        return f"Default model: {model}, named by {whose} ({_recipe_name(Path(recipe))}): {state}"

    def selected_id(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        return self.entries[rows[0].row()].model_id if rows else None

    # -- import and verify -------------------------------------------------------------------
    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Import a model bundle or model folder")
        if not folder:
            return
        model_id = None
        if not (Path(folder) / "manifest.json").is_file():
            model_id, ok = QInputDialog.getText(
                self, "Model id", "The id recipes name this model by (Org/Name):"
            )
            if not ok or not model_id.strip():
                return
            model_id = model_id.strip()
        self.import_from(Path(folder), model_id)

    def _choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Import a model bundle", "", "Model bundles (*.tar);;All files (*)"
        )
        if path:
            self.import_from(Path(path))

    def import_from(self, source: Path, model_id: str | None = None) -> None:
        """Install a bundle or model folder, every file checked, on a worker thread."""
        try:
            total = bundle_size(source)
        except Exception as exc:
            self.result.setText(f"Not imported: {exc}")
            return

        def work(_report):
            return ModelStore().import_bundle(source, model_id, progress=self.task.read.emit)

        self._run(work, total, f"Importing {source}…", self._imported)

    def verify(self) -> None:
        chosen = self.selected_id()
        entries = [e for e in self.entries if chosen in (None, e.model_id)]
        if not entries:
            self.result.setText("No model installed to verify.")
            return
        total = sum(e.manifest.size for e in entries)

        def work(_report):
            store = ModelStore()
            return {e.model_id: store.verify(e.model_id, self.task.read.emit) for e in entries}

        self._run(work, total, "Verifying…", self._verified)

    def _run(self, work, total: int, saying: str, done) -> None:
        if self.busy:
            return
        self.task = _StoreTask(work, self)
        # In kB: a QProgressBar counts in 32-bit ints, and a model is several GB.
        self._read_bytes = 0
        self.progress.setRange(0, max(total >> 10, 1))
        self.progress.setValue(0)
        self.progress.show()
        self.result.setText(saying)
        self._set_busy(True)
        self.task.read.connect(self._advance)
        self.task.finished.connect(done)
        self.task.failed.connect(self._failed)
        self.task.start()

    def _advance(self, n: int) -> None:
        self._read_bytes += n
        self.progress.setValue(min(self._read_bytes >> 10, self.progress.maximum()))

    @property
    def busy(self) -> bool:
        return self.task is not None

    def _set_busy(self, busy: bool) -> None:
        for button in (self.import_folder_button, self.import_file_button, self.verify_button):
            button.setEnabled(not busy)

    def _end(self) -> None:
        self.task = None
        self._set_busy(False)
        self.progress.setValue(self.progress.maximum())
        self.refresh()

    def _imported(self, installed: Installed) -> None:
        self._end()
        manifest = installed.manifest
        self.result.setText(
            f"Installed {installed.model_id}: {size_text(manifest.size)}, "
            f"{len(manifest.files)} files verified, revision {manifest.digest}"
        )
        self.changed.emit()

    def _verified(self, problems: dict[str, list[str]]) -> None:
        self._end()
        lines = []
        for model_id, found in problems.items():
            if found:
                lines.append(f"{model_id}: CHANGED: {'; '.join(found[:3])}")
                lines.append(
                    "  import the model again from a good bundle (it is not used until then)"
                )
            else:
                lines.append(f"{model_id}: OK, every file matches its manifest")
        self.result.setText("\n".join(lines))

    def _failed(self, exc: BaseException) -> None:
        self._end()
        self.result.setText(f"Failed: {exc}")


def _recipe_name(path: Path) -> str:
    return "demo" if path.resolve() == DEMO_RECIPE.resolve() else path.name
