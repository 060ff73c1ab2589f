"""History: a table over the database, paged as it scrolls, with filters and a detail pane."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressDialog,
    QPushButton,
    QSplitter,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from inspector import escapes
from inspector.cameras.images import UnreadableImage, read_image
from inspector.domain import Outcome
from inspector.export.service import export_records
from inspector.store import InspectionFilter, InspectionRecord, Store
from inspector.store.audit.users import Identity
from inspector.ui.image_view import ImageView, Overlay
from inspector.ui.messages import show_error
from inspector.ui.new_records_bar import NewRecordsBar
from inspector.ui.workers import Task

PAGE = 200
FILTER_DEBOUNCE_MS = 300  # filters apply as they change, once the typing pauses
ROOT = QModelIndex()  # a table has one parent: the invalid index
COLUMNS = ("Id", "Time", "Outcome", "Recipe", "Part", "Lot", "Serial", "Judge ms")
OUTCOME_COLOURS = {
    Outcome.PASS: QColor(31, 143, 58),
    Outcome.FAIL: QColor(198, 40, 40),
    Outcome.UNSURE: QColor(224, 168, 0),
    Outcome.UNJUDGED: QColor(138, 143, 152),
}
# How an outcome reads in the table: a part never judged is "not inspected", not a verdict.
OUTCOME_TEXT = {Outcome.UNJUDGED: "NOT INSPECTED"}
OUTCOME_FILTERS = {
    "All outcomes": (),
    "PASS": (Outcome.PASS,),
    "FAIL": (Outcome.FAIL,),
    "UNSURE": (Outcome.UNSURE,),
    "FAIL or UNSURE": (Outcome.FAIL, Outcome.UNSURE),
    "Not inspected": (Outcome.UNJUDGED,),
}
EXPORT_FILTERS = {
    "CSV (*.csv)": "csv",
    "JSON Lines (*.jsonl)": "jsonl",
    "PDF report (*.pdf)": "pdf",
    "Evidence bundle (*.zip)": "bundle",
}
PERIODS = {
    "Any time": None,
    "Last hour": timedelta(hours=1),
    "Last 24 hours": timedelta(days=1),
    "Last 7 days": timedelta(days=7),
    "Last 30 days": timedelta(days=30),
}


def local_time(moment: datetime) -> str:
    """A recorded time (UTC) as the station's clock shows it."""
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def utc_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def visible(text: str) -> str:
    """`text` with every control and reordering character shown as an escape (line breaks and
    tabs kept), so a model's answer is read as it came, never obeyed (Qt-free)."""
    return escapes.visible(text, keep_line_breaks=True, keep_tabs=True)


def pretty_answer(raw: str) -> str:
    """A model's raw answer for a person: its JSON indented (also inside a ```json fence, or
    with words around it, which are kept), else as it came; either way every control character
    shown as an escape, never interpreted (Qt-free, tested on its own)."""
    start = raw.find("{")
    if start < 0:
        return visible(raw)
    try:
        value, end = json.JSONDecoder(strict=False).raw_decode(raw, start)
    except ValueError:
        return visible(raw)
    before = raw[:start].strip().removeprefix("```json").removeprefix("```").strip()
    after = raw[end:].strip().removeprefix("```").strip()
    indented = escapes.json_visible(value, indent=2)
    parts = [visible(before), indented, visible(after)]
    return "\n".join(part for part in parts if part)


def outcome_text(row: InspectionRecord) -> str:
    """The final outcome, marked where a person decided it: "PASS (was UNSURE)", "FAIL
    (confirmed)"; a part never judged reads "NOT INSPECTED" (Qt-free)."""
    final = OUTCOME_TEXT.get(row.final_outcome, row.final_outcome.value)
    if not row.decisions:
        return final
    if row.final_outcome is row.outcome:
        return f"{final} (confirmed)"
    return f"{final} (was {row.outcome.value})"


class HistoryModel(QAbstractTableModel):
    """Rows come from the database a page at a time, as the view scrolls (Qt's fetchMore)."""

    def __init__(self, store: Store, parent=None) -> None:
        super().__init__(parent)
        self.store = store
        self.filter = InspectionFilter()
        self.rows: list[InspectionRecord] = []
        self._exhausted = False
        self.total = 0

    def set_filter(self, f: InspectionFilter) -> None:
        self.beginResetModel()
        self.filter = f
        self.rows = []
        self._exhausted = False
        self.total = self.store.count(f)
        self.endResetModel()
        self.fetchMore(QModelIndex())

    def refresh(self) -> None:
        self.set_filter(self.filter)

    def rowCount(self, parent=ROOT) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=ROOT) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def canFetchMore(self, parent=ROOT) -> bool:
        return not parent.isValid() and not self._exhausted

    def fetchMore(self, parent=ROOT) -> None:
        if parent.isValid() or self._exhausted:
            return
        before = self.rows[-1].id if self.rows else None
        page = self.store.page(self.filter, PAGE, before_id=before)
        if len(page) < PAGE:
            self._exhausted = True
        if page:
            self.beginInsertRows(QModelIndex(), len(self.rows), len(self.rows) + len(page) - 1)
            self.rows.extend(page)
            self.endInsertRows()

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return (
                row.id,
                local_time(row.captured_at),
                outcome_text(row),
                f"{row.recipe} v{row.recipe_version}",
                row.part_id or "",
                row.lot or "",
                row.serial or "",
                f"{row.judge_ms:.0f}",
            )[column]
        if role == Qt.ItemDataRole.ForegroundRole and column == 2:
            return OUTCOME_COLOURS[row.final_outcome]
        if role == Qt.ItemDataRole.ToolTipRole and column == 1:
            return utc_time(row.captured_at)
        if role == Qt.ItemDataRole.ToolTipRole and column == 2 and row.decisions:
            said, decided = row.outcome.value, row.final_outcome.value
            return f"the model said {said}; a person decided {decided}"
        return None


class ExportCancelled(Exception):
    """Raised from the progress callback when a person presses Cancel."""


class HistoryView(QWidget):
    inspection_selected = Signal(int)

    def __init__(self, store: Store, identity: Callable[[], Identity | None] = lambda: None):
        super().__init__()
        self.store = store
        self.identity = identity
        self.export_task: Task | None = None
        self.export_progress: QProgressDialog | None = None
        self.model = HistoryModel(store, self)
        self._build()
        self.apply_filters()

    def _build(self) -> None:
        filters = QHBoxLayout()
        self.period = QComboBox()
        self.period.addItems(PERIODS)
        self.outcome = QComboBox()
        self.outcome.addItems(OUTCOME_FILTERS)
        self.recipe = QComboBox()
        self.judge_engine = QComboBox()
        self.judge_engine.addItems(
            ["All engines", "transformers", "openai-compatible", "openai", "anthropic", "gemini"]
        )
        self.lot = QLineEdit()
        self.lot.setPlaceholderText("Search: id, part, lot or serial (any part of it)")
        self.lot.setClearButtonEnabled(True)
        self.lot.setMinimumWidth(220)
        self.lot.returnPressed.connect(self.apply_filters)
        # Filters apply as they change; typing waits for a pause, so each key is not a query.
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(FILTER_DEBOUNCE_MS)
        self._debounce.timeout.connect(self.apply_filters)
        self.lot.textChanged.connect(lambda _: self._debounce.start())
        for box in (self.period, self.outcome, self.recipe, self.judge_engine):
            box.currentIndexChanged.connect(lambda _: self._debounce.start())
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("CSV, JSON Lines, PDF report or evidence bundle")
        self.export_button.clicked.connect(self._export_dialog)
        filters_shown = (self.period, self.outcome, self.recipe, self.judge_engine, self.lot)
        for widget in filters_shown:
            filters.addWidget(widget)
        filters.addWidget(self.export_button)
        self.count_label = QLabel("")
        filters.addWidget(self.count_label, 1)
        # Records that arrive while a person works on the table wait behind this bar.
        self.new_bar = NewRecordsBar()
        self.new_bar.clicked.connect(self.show_new)
        self._newest_seen: int | None = None  # the last inspection id when the table loaded
        # The last export's outcome: its own line, so the live refresh never overwrites it.
        self.export_message = QLabel("")
        self.export_message.setWordWrap(True)
        self.export_message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.export_message.hide()

        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().setVisible(False)
        self.table.setWordWrap(False)
        self.table.selectionModel().currentRowChanged.connect(self._row_changed)

        self.detail = InspectionDetailView(self.store)
        splitter = QSplitter()
        splitter.addWidget(self.table)
        splitter.addWidget(self.detail)
        splitter.setSizes([600, 600])
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.export_message)
        layout.addWidget(self.new_bar)
        layout.addWidget(splitter, 1)

    def current_filter(self) -> InspectionFilter:
        period = PERIODS[self.period.currentText()]
        recipe = self.recipe.currentText()
        engine = self.judge_engine.currentText()
        return InspectionFilter(
            since=datetime.now(UTC) - period if period else None,
            outcomes=OUTCOME_FILTERS[self.outcome.currentText()],
            recipe=None if recipe in ("", "All recipes") else recipe,
            contains=self.lot.text().strip() or None,
            engine=None if engine == "All engines" else engine,
        )

    def apply_filters(self) -> None:
        """Reload the table, keeping the selected inspection where it is still listed; where
        it is not (filtered out), the detail pane empties rather than show a row not listed."""
        self._debounce.stop()
        selected = self.detail.shown_id
        self._refresh_recipes()
        # Read before the rows, so a record that lands in between is counted as new, not lost.
        newest = self.store.as_of()[1].through[0]
        self.model.set_filter(self.current_filter())
        shown_newest = self.model.rows[0].id if self.model.rows else 0
        self._newest_seen = max(newest, shown_newest)
        self.new_bar.set_count(0)
        self.count_label.setText(f"{self.model.total} inspections")
        self.table.resizeColumnsToContents()
        model = self.model
        if selected is not None:  # pages are newest first: load down to the selected record
            while model.rows and model.canFetchMore() and model.rows[-1].id > selected:
                model.fetchMore()
        rows = [row.id for row in self.model.rows]
        if selected in rows:
            self.table.selectionModel().blockSignals(True)
            self.table.selectRow(rows.index(selected))
            self.table.selectionModel().blockSignals(False)
        elif selected is not None:
            self.detail.clear()

    # -- records arriving ------------------------------------------------------------------
    def working(self) -> bool:
        """A person is at work on the table: a row selected, or scrolled away from the top."""
        return self.detail.shown_id is not None or self.table.verticalScrollBar().value() > 0

    def records_arrived(self) -> None:
        """The live refresh: while a person works on the table it holds still and the bar
        counts what arrived ("12 new — show"); otherwise the new records simply appear."""
        if not self.working() or self._newest_seen is None:
            self.apply_filters()
            return
        since_load = replace(self.model.filter, after_id=self._newest_seen)
        self.new_bar.set_count(self.store.count(since_load))

    def show_new(self) -> None:
        """The bar's click: load what arrived, keep the selection, show the newest at the top."""
        self.apply_filters()
        self.table.scrollToTop()

    # -- export ----------------------------------------------------------------------------
    def export_filter(self) -> InspectionFilter:
        """The export's selection: the filters as set, applied to the table first, so the file
        holds exactly the rows the table shows (the same `InspectionFilter`, not a copy)."""
        self.apply_filters()
        return self.model.filter

    def _export_dialog(self) -> None:
        path, chosen = QFileDialog.getSaveFileName(self, "Export", "", ";;".join(EXPORT_FILTERS))
        if path:
            self.export(Path(path), EXPORT_FILTERS[chosen])

    def export(self, path: Path, fmt: str, start: bool = True) -> Task | None:
        """Export in the background with a progress dialog that can cancel it."""
        actor = self.identity()
        if actor is None:
            self._say_export(
                "Log in to export: each export is entered in the audit trail under the name "
                "of the person who made it.",
                error=True,
            )
            return None
        # Shown once the export has taken 300 ms: a short one does not flash a dialog.
        dialog = QProgressDialog(f"Exporting to {path.name}…", "Cancel", 0, 0, self)
        dialog.setWindowTitle("Export")
        dialog.setMinimumDuration(300)
        self.export_progress = dialog
        where = self.export_filter()

        def work(progress):
            def report(count: int, total: int | None) -> None:
                if task.cancelled:
                    raise ExportCancelled()
                progress(f"{count}/{total if total is not None else 0}")

            return export_records(self.store, actor, fmt, path, where, report)

        task = Task(work, self)
        dialog.canceled.connect(task.cancel)
        task.progress.connect(lambda text: self._export_progressed(dialog, text))
        task.finished.connect(lambda result: self._exported(dialog, result))
        task.failed.connect(lambda exc: self._export_failed(dialog, exc))
        self.export_task = task
        return task.start() if start else task

    def _export_progressed(self, dialog: QProgressDialog, text: str) -> None:
        count, total = (int(n) for n in text.split("/"))
        if total:  # a known total: a bar that fills, not a busy indicator
            dialog.setMaximum(total)
            dialog.setValue(min(count, total))
        dialog.setLabelText(f"Exported {count:,} of {total:,} records" if total else
                            f"Exported {count:,} records")  # fmt: skip

    def _exported(self, dialog, result) -> None:
        dialog.reset()
        self._say_export(
            f"Exported {result.records} records to {result.path} (audit entry #{result.audit_seq})."
        )

    def _say_export(self, text: str, error: bool = False) -> None:
        self.export_message.setText(text)
        self.export_message.setStyleSheet("color:#ff8a80;" if error else "color:#7bd88f;")
        self.export_message.show()

    def _export_failed(self, dialog, exc: BaseException) -> None:
        dialog.reset()
        show_error(self, "Export", exc)

    def _refresh_recipes(self) -> None:
        current = self.recipe.currentText()
        names = ["All recipes", *self.store.recipe_names()]
        if [self.recipe.itemText(i) for i in range(self.recipe.count())] != names:
            self.recipe.blockSignals(True)
            self.recipe.clear()
            self.recipe.addItems(names)
            if current in names:
                self.recipe.setCurrentText(current)
            self.recipe.blockSignals(False)

    def _row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            inspection_id = self.model.rows[current.row()].id
            self.detail.show_inspection(inspection_id)
            self.inspection_selected.emit(inspection_id)


class InspectionDetailView(QWidget):
    """One inspection whole: evidence with boxes, verdict, raw answer, every attempt."""

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store
        self.image = ImageView(placeholder="Select an inspection")
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.raw = QPlainTextEdit()
        self.raw.setReadOnly(True)
        self.raw.setPlaceholderText("The model's raw answer")
        self.attempts = QTableWidget(0, 6)
        self.attempts.setHorizontalHeaderLabels(
            ["Engine", "Model", "Outcome", "Latency ms", "Tokens in/out", "Error"]
        )
        self.attempts.horizontalHeader().setStretchLastSection(True)
        self.attempts.verticalHeader().setVisible(False)
        self.attempts.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        layout = QVBoxLayout(self)
        layout.addWidget(self.image, 3)
        layout.addWidget(self.summary)
        layout.addWidget(self.raw, 1)
        layout.addWidget(self.attempts, 1)
        self.shown_id: int | None = None

    def clear(self) -> None:
        """Nothing selected: the pane shows no record rather than a stale one."""
        self.shown_id = None
        self.image.set_image(None, Overlay(None, ()))
        self.image.set_placeholder("Select an inspection")
        self.summary.setText("")
        self.raw.setPlainText("")
        self.attempts.setRowCount(0)

    def show_inspection(self, inspection_id: int) -> None:
        detail = self.store.detail(inspection_id)
        if detail is None:
            return
        if inspection_id != self.shown_id:
            self.image.fit()  # another part: its whole picture first
        self.shown_id = inspection_id
        path = detail.evidence_path
        boxes = tuple((d.box, d.class_name) for d in detail.defects if d.box is not None)
        try:
            image = read_image(path)
            self.image.set_image(image, Overlay(detail.roi, boxes))
        except UnreadableImage as exc:
            self.image.set_image(None)
            self.image.set_placeholder(f"Evidence image {path.name}: {exc}")
        row = detail
        # Grouped with counts: "deviation (major) ×10", not the class ten times over.
        kinds = Counter(f"{d.class_name} ({d.severity or 'not in recipe'})" for d in detail.defects)
        defects = ", ".join(f"{k} ×{n}" if n > 1 else k for k, n in kinds.most_common())
        self.summary.setText(
            f"<b>#{row.id} {escape(outcome_text(row))}</b> — {escape(row.reason)}<br>"
            f"{local_time(row.captured_at)} (local; {utc_time(row.captured_at)}) · "
            f"{escape(row.recipe)} "
            f"v{row.recipe_version} · camera {escape(row.camera_id)} · "
            f"part {escape(row.part_id or '-')}<br>"
            f"Defects: {escape(defects) or 'none'}<br>Evidence SHA-256: {detail.evidence_sha256}"
        )
        decisions = detail.decisions
        if decisions:
            lines = "<br>".join(
                f"<b>{escape(d.user_name)} decided {d.outcome.value}</b> "
                f"({local_time(d.created_at)}): {escape(d.reason)}"
                for d in decisions
            )
            self.summary.setText(self.summary.text() + "<br>" + lines)
        self.raw.setPlainText(
            "\n\n".join(pretty_answer(a.raw_text or "") or (a.error or "") for a in detail.attempts)
        )
        self.attempts.setRowCount(len(detail.attempts))
        for i, a in enumerate(detail.attempts):
            tokens = f"{a.prompt_tokens or '-'}/{a.completion_tokens or '-'}"
            outcome = a.outcome or "-"
            if a.measured_confidence is not None:  # from the model's token probabilities
                outcome = f"{outcome} (p {a.measured_confidence:.2f})"
            values = (
                a.engine,
                a.model_id,
                outcome,
                f"{a.latency_ms:.0f}",
                tokens,
                a.error or "",
            )
            for column, value in enumerate(values):
                self.attempts.setItem(i, column, QTableWidgetItem(str(value)))
