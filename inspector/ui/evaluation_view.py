"""The Evaluation tab: judge a labelled folder with a recipe before it goes live, from the window.

An engineer (or an administrator; anyone while the site has no accounts) chooses a labelled set
(a folder per class, MVTec AD, or a CSV) and a recipe, optionally a target miss rate, and runs
it. The run is the one `inspector eval` makes (`evaluation.evaluate`, recorded in the store, so
the command line can list, compare and resume it), judged on a worker thread: the window never
waits on a judge. Progress comes back as queued signals (n of N); Cancel stops between two
images and leaves the run interrupted, resumable. When done: accuracy, miss rate, overkill,
UNSURE, the confusion matrix, the threshold a target chose, the worst misses and overkills as
pictures, and buttons to open or save the report (PDF or HTML) and, with a target, to save the
recipe's next version with that threshold (the run's id its justification in the audit trail).

Qt objects live and die on the GUI thread: the worker handles numpy pictures and plain data
only; pixmaps are made in the slots. Each job is a child of the view, so it is destroyed with
the view, on the GUI thread, never by a worker dropping the last reference.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QImage, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from inspector.errors import InputError
from inspector.evaluation import metrics, report, target, worst
from inspector.evaluation.datasets import read_dataset
from inspector.evaluation.evaluate import Interrupted, Step, evaluate, load_judge
from inspector.evaluation.versions import write_version
from inspector.store import Store
from inspector.store.audit.users import Identity, Permission
from inspector.store.evaluations.runs import EvaluationRun
from inspector.ui.messages import plain

THUMB = 150  # pixels: the side of a worst-case picture in the window
CONFIDENCE = 0.95


class Job(QObject):
    """`work(job)` on a thread of its own; `stepped`, `done` and `failed` arrive queued on the
    GUI thread. Unlike `workers.Task` it reports after a cancel too: the run it stopped is a
    result the person must see (interrupted, resumable)."""

    stepped = Signal(int, int, str)  # done, total, what was judged last
    done = Signal(object)
    failed = Signal(object)

    def __init__(self, work: Callable[[Job], object], parent: QObject) -> None:
        super().__init__(parent)
        self._work = work
        self.cancelled = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ui-evaluation", daemon=True)

    def start(self) -> Job:
        self._thread.start()
        return self

    def running(self) -> bool:
        """Started and not yet ended (a job made but not started counts: it is about to)."""
        return self._thread.is_alive() or self._thread.ident is None

    def step(self, done: int, total: int, what: str) -> None:
        """Progress from the worker; once the view is gone (the window closed mid-run), the
        run stops at the next image, recorded as interrupted."""
        try:
            self.stepped.emit(done, total, what)
        except RuntimeError:  # the Qt object was deleted with its view
            self.cancelled.set()

    def _run(self) -> None:
        try:
            result = self._work(self)
        except BaseException as exc:  # shown to the person, in words
            self._report(self.failed, exc)
            return
        self._report(self.done, result)

    def _report(self, signal, value: object) -> None:
        with contextlib.suppress(RuntimeError):  # the view is gone: nobody to tell
            signal.emit(value)


@dataclass
class Finished:
    """What a run gives the window: plain data, made on the worker thread."""

    run: EvaluationRun
    recipe: Path
    figures: dict | None = None  # None: cancelled before the end
    point: dict | None = None  # the target's operating point
    target_problem: str = ""  # why no point could be chosen
    examples: list = field(default_factory=list)  # worst.Example, pictures as numpy arrays


class EvaluationView(QWidget):
    finished = Signal(object)  # Finished, once shown
    report_written = Signal(str)
    version_written = Signal(str)

    def __init__(
        self,
        store: Store,
        data_dir: Path,
        identity: Callable[[], Identity | None],
        recipe: str = "",
    ) -> None:
        super().__init__()
        self.store = store
        self.data_dir = Path(data_dir)
        self.identity = identity
        self.job: Job | None = None
        self.last: Finished | None = None
        self.dataset_edit = QLineEdit()
        self.dataset_edit.setPlaceholderText("a folder per class, MVTec AD layout, or a CSV")
        self.good_edit = QLineEdit("good")
        self.recipe_edit = QLineEdit(recipe)
        self.target_check = QCheckBox("choose the threshold for a miss rate of at most")
        self.target_spin = QDoubleSpinBox()
        self.target_spin.setRange(0.0, 50.0)
        self.target_spin.setDecimals(2)
        self.target_spin.setSuffix(" %")
        self.target_spin.setValue(1.0)
        self.run_button = QPushButton("Run evaluation")
        self.cancel_button = QPushButton("Cancel")
        self.progress = QProgressBar()
        self.progress.setFormat("%v/%m")
        self.progress.setValue(0)
        self.status = QLabel("Choose a labelled folder and a recipe, then Run.")
        self.status.setWordWrap(True)
        self.figure_labels = {key: QLabel("–") for key in _FIGURES}
        self.confusion = QTableWidget(2, 3)
        self.confusion.setHorizontalHeaderLabels(list(metrics.OUTCOMES))
        self.confusion.setVerticalHeaderLabels(["good", "defect"])
        self.confusion.setMaximumHeight(90)
        self.target_label = QLabel("")
        self.target_label.setWordWrap(True)
        self.open_button = QPushButton("Open report")
        self.save_report_button = QPushButton("Save report…")
        self.version_button = QPushButton("Save as new recipe version")
        self.pictures = QWidget()
        self._build()
        self.run_button.clicked.connect(lambda: self.run())
        self.cancel_button.clicked.connect(self.cancel)
        self.open_button.clicked.connect(self.open_report)
        self.save_report_button.clicked.connect(lambda: self.save_report())
        self.version_button.clicked.connect(lambda: self.save_version())
        self.target_check.toggled.connect(self.target_spin.setEnabled)
        self.target_spin.setEnabled(False)
        self._set_busy(False)

    def _build(self) -> None:
        form = QFormLayout()
        folder, table = self._chooser("Folder…", self._folder), self._chooser("CSV…", self._csv)
        form.addRow("Labelled images", _row(self.dataset_edit, folder, table))
        form.addRow("Good class", self.good_edit)
        form.addRow("Recipe", _row(self.recipe_edit, self._chooser("Choose…", self._recipe)))
        form.addRow("Target", _row(self.target_check, self.target_spin))
        controls = _row(self.run_button, self.cancel_button, self.progress)
        figures = QGridLayout()
        for column, (key, (name, _)) in enumerate(_FIGURES.items()):
            figures.addWidget(QLabel(name), 0, column)
            label = self.figure_labels[key]
            label.setStyleSheet("font-size: 18pt; font-weight: bold;")
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            figures.addWidget(label, 1, column)
        buttons = _row(self.open_button, self.save_report_button, self.version_button)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.pictures)
        QGridLayout(self.pictures)
        column = QVBoxLayout(self)
        column.addLayout(form)
        column.addWidget(controls)
        column.addWidget(self.status)
        column.addLayout(figures)
        column.addWidget(self.confusion)
        column.addWidget(self.target_label)
        column.addWidget(buttons)
        column.addWidget(scroll, 1)

    def _chooser(self, text: str, slot: Callable[[], None]) -> QPushButton:
        button = QPushButton(text)
        button.clicked.connect(slot)
        return button

    def _folder(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "Labelled images", self.dataset_edit.text())
        if chosen:
            self.dataset_edit.setText(chosen)

    def _csv(self) -> None:
        chosen, _ = QFileDialog.getOpenFileName(self, "Labelled images", "", "CSV (*.csv)")
        if chosen:
            self.dataset_edit.setText(chosen)

    def _recipe(self) -> None:
        chosen, _ = QFileDialog.getOpenFileName(self, "Recipe", "", "Recipes (*.yaml *.yml)")
        if chosen:
            self.recipe_edit.setText(chosen)

    # -- who may ---------------------------------------------------------------------------
    def allowed(self) -> str:
        """Why the person logged in may not run evaluations ("" when they may): it is an
        engineer's job (saving recipes), open to all while the site has no accounts."""
        who = self.identity()
        if who is None or who.can(Permission.SAVE_RECIPE):
            return ""
        return (
            f"Evaluation is for engineers and administrators; {who.name} is {who.role.value}. "
            "Log in as an engineer to run one."
        )

    def showEvent(self, event) -> None:
        self._set_busy(self.busy)
        super().showEvent(event)

    @property
    def busy(self) -> bool:
        return self.job is not None and self.job.running()

    def _set_busy(self, busy: bool) -> None:
        refused = self.allowed()
        self.run_button.setEnabled(not busy and not refused)
        self.run_button.setToolTip(refused)
        self.cancel_button.setEnabled(busy)
        finished = self.last is not None and self.last.figures is not None
        self.open_button.setEnabled(not busy and finished)
        self.save_report_button.setEnabled(not busy and finished)
        has_point = finished and self.last.point is not None
        self.version_button.setEnabled(not busy and has_point and not refused)

    # -- a run -----------------------------------------------------------------------------
    def run(self, start: bool = True) -> Job | None:
        """Judge the chosen set on a worker thread; returns its job (None: refused), started
        unless `start` is false (a caller that connects to it first starts it itself)."""
        refused = self.allowed()
        dataset, recipe = self.dataset_edit.text().strip(), self.recipe_edit.text().strip()
        if refused or not dataset or not recipe:
            self.status.setText(refused or "Choose a labelled folder (or CSV) and a recipe first.")
            return None
        good = self.good_edit.text().strip() or "good"
        target_miss = self.target_spin.value() / 100 if self.target_check.isChecked() else None
        store = self.store

        def work(job: Job) -> Finished:
            data = read_dataset(dataset, good)
            job.step(0, len(data.samples), f"loading {Path(recipe).name}")
            prepared = load_judge(recipe, lambda message: job.step(0, 0, message))

            def step(s: Step) -> None:
                job.step(s.done, s.total, f"{s.sample.name}: {s.result.outcome}")

            try:
                run = evaluate(store, data, recipe, progress=step, prepared=prepared,
                               cancelled=job.cancelled.is_set)  # fmt: skip
            except Interrupted as stop:
                return Finished(stop.run, Path(recipe))
            results = store.run_results(run.id)
            done = Finished(run, Path(recipe), metrics.compute(results))
            if target_miss is not None:
                try:
                    done.point = target.target_threshold(results, target_miss, CONFIDENCE)
                    done.point["run"] = run.short
                    done.figures["target"] = done.point
                except ValueError as exc:
                    done.target_problem = str(exc)
            done.examples = worst.pick(data, results, worst.COUNT, prepared.chain)
            return done

        self.last = None
        self._clear()
        self.progress.setRange(0, 0)  # busy until the set is read
        self.status.setText("Reading the labelled set…")
        self.job = Job(work, self)
        self.job.stepped.connect(self._stepped)
        self.job.done.connect(self._done)
        self.job.failed.connect(self._failed)
        self._set_busy(True)
        return self.job.start() if start else self.job

    def cancel(self) -> None:
        if self.job is not None and self.job.running():
            self.job.cancelled.set()
            self.status.setText("Cancelling after the image being judged…")
            self.cancel_button.setEnabled(False)

    def _stepped(self, done: int, total: int, what: str) -> None:
        if total:
            self.progress.setRange(0, total)
            self.progress.setValue(done)
            self.status.setText(f"Judged {done} of {total}: {what}" if done else what)
        else:
            self.status.setText(what)

    def _failed(self, exc: BaseException) -> None:
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.status.setText(f"The evaluation did not run: {plain(exc)}")
        self._set_busy(False)

    def _done(self, done: Finished) -> None:
        self.last = done
        run = done.run
        if done.figures is None:
            self.status.setText(
                f"Cancelled: run {run.short} stopped after {run.judged} of {run.image_count} "
                f"images, each recorded. Resume it with: inspector eval {run.dataset} --recipe "
                f"{done.recipe} --resume {run.short}"
            )
        else:
            self._show(done)
        self._set_busy(False)
        self.finished.emit(done)

    def _show(self, done: Finished) -> None:
        f = done.figures
        self.progress.setRange(0, max(1, f["images"]))
        self.progress.setValue(f["images"])
        self.status.setText(report.title(done.run))
        for key, (_, show) in _FIGURES.items():
            self.figure_labels[key].setText(show(f[key]))
        for row, expected in enumerate(("good", "defect")):
            for column, outcome in enumerate(metrics.OUTCOMES):
                item = QTableWidgetItem(str(f["confusion"][expected][outcome]))
                item.setFlags(Qt.ItemFlag.ItemIsEnabled)
                self.confusion.setItem(row, column, item)
        if done.point is not None:
            self.target_label.setText("\n".join(target.describe(done.point)))
        elif done.target_problem:
            self.target_label.setText(f"No threshold chosen: {done.target_problem}")
        self._show_pictures(done.examples)

    def _clear(self) -> None:
        for label in self.figure_labels.values():
            label.setText("–")
        self.confusion.clearContents()
        self.target_label.setText("")
        self._show_pictures([])

    def _show_pictures(self, examples: list) -> None:
        grid = self.pictures.layout()
        while grid.count():
            item = grid.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        for row, kind in enumerate(("miss", "overkill")):
            chosen = [e for e in examples if e.kind == kind]
            if not chosen:
                continue
            heading = QLabel("Worst misses" if kind == "miss" else "Worst overkills")
            heading.setStyleSheet("font-weight: bold;")
            grid.addWidget(heading, 2 * row, 0, 1, worst.COUNT)
            for column, example in enumerate(chosen):
                grid.addWidget(_picture(example), 2 * row + 1, column)

    # -- the report and the new version ----------------------------------------------------
    def save_report(self, path: str | Path | None = None) -> Job | None:
        """Write the report of the last run (PDF or HTML, by the suffix) on a worker thread;
        asks where when no path is given."""
        if self.last is None or self.last.figures is None:
            return None
        if path is None:
            name = f"evaluation-{self.last.run.short}.pdf"
            chosen, _ = QFileDialog.getSaveFileName(
                self, "Save the report", name, "PDF (*.pdf);;HTML (*.html)"
            )
            if not chosen:
                return None
            path = chosen
        done, target_path = self.last, Path(path)

        def work(job: Job) -> str:
            report.write(target_path, done.run, done.figures, done.examples)
            return str(target_path)

        return self._side_job(work, self._report_done, "Writing the report…")

    def open_report(self) -> Job | None:
        """The PDF report of the last run, written under the data folder, opened by the
        desktop's viewer."""
        if self.last is None:
            return None
        folder = self.data_dir / "reports"
        folder.mkdir(parents=True, exist_ok=True)
        job = self.save_report(folder / f"evaluation-{self.last.run.short}.pdf")
        if job is not None:
            job.done.connect(lambda path: QDesktopServices.openUrl(QUrl.fromLocalFile(path)))
        return job

    def _report_done(self, path: str) -> None:
        self.status.setText(f"Report written to {path}")
        self.report_written.emit(path)

    def save_version(self) -> Job | None:
        """The recipe's next version with the chosen threshold, justified by the run."""
        done = self.last
        if done is None or done.point is None or self.allowed():
            return None
        store, data_dir, actor = self.store, self.data_dir, self.identity()

        def work(job: Job) -> str:
            return str(write_version(store, done.recipe, done.point, data_dir, actor))

        return self._side_job(work, self._version_done, "Saving the new recipe version…")

    def _version_done(self, path: str) -> None:
        point = self.last.point if self.last else None
        threshold = f" with threshold {point['threshold']:.4g}" if point else ""
        self.status.setText(f"New recipe version saved{threshold}: {path}")
        self.version_written.emit(path)

    def _side_job(self, work, slot, message: str) -> Job:
        self.status.setText(message)
        self.job = Job(work, self)
        self.job.done.connect(slot)
        self.job.done.connect(lambda _: self._set_busy(False))
        self.job.failed.connect(self._side_failed)
        self._set_busy(True)
        self.cancel_button.setEnabled(False)  # a report or a version is written whole
        return self.job.start()

    def _side_failed(self, exc: BaseException) -> None:
        self.status.setText(plain(exc) if isinstance(exc, InputError) else f"Failed: {plain(exc)}")
        self._set_busy(False)


_FIGURES = {
    "accuracy": ("Accuracy", report.pct),
    "miss_rate": ("Miss rate", report.pct),
    "overkill": ("Overkill", report.pct),
    "unsure_rate": ("UNSURE", report.pct),
}


def _row(*widgets: QWidget) -> QWidget:
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    stretch = [isinstance(w, QLineEdit | QProgressBar) for w in widgets]
    for widget, grows in zip(widgets, stretch, strict=True):
        layout.addWidget(widget, 1 if grows else 0)
    if not any(stretch):
        layout.addStretch(1)
    return row


def _picture(example: worst.Example) -> QWidget:
    """One worst case: its picture (made here, on the GUI thread) and its caption."""
    cell = QWidget()
    layout = QVBoxLayout(cell)
    image = QLabel()
    if example.picture is not None:
        image.setPixmap(_pixmap(example.picture).scaled(
            THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        ))  # fmt: skip
    else:
        image.setText(f"(no picture: {example.note})")
    caption = QLabel(example.caption)
    caption.setWordWrap(True)
    caption.setMaximumWidth(THUMB + 30)
    layout.addWidget(image)
    layout.addWidget(caption)
    return cell


def _pixmap(picture: np.ndarray) -> QPixmap:
    rgb = np.ascontiguousarray(picture[..., ::-1])
    height, width = rgb.shape[:2]
    image = QImage(rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888)
    return QPixmap.fromImage(image.copy())  # the copy owns its pixels; the array may go
