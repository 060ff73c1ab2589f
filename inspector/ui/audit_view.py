"""The audit trail in the window: every entry, filtered as one types, a page at a time, the
chain's verification, and the filtered entries exported as CSV.

The filter is the store's `AuditFilter`, the one `inspector audit log` uses, so the table, the
command line and the exported file list the same entries (an inspection's include the overrides
decided on it). Verifying the chain (`inspector audit verify`) and exporting run on a worker
thread; their results come back as queued signals and are shown in lines of their own, which
nothing else writes, so a result stays until the next run of the same job.

Who sees it: `inspector audit log` asks for no login (whoever can read the database can read the
trail); in the window the trail is shown to administrators and to engineers, who approve recipes
(the site's quality role), not to operators.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, time
from pathlib import Path

from PySide6.QtCore import QDate, Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from inspector.export.audit_csv import AuditExport, export_audit
from inspector.store import AuditFilter, Store
from inspector.store.audit.trail import AuditEntry
from inspector.store.audit.users import Identity, Role
from inspector.ui.workers import Task

AUDIT_ROLES = (Role.ADMIN, Role.ENGINEER)
PAGE = 200
TYPING_MS = 250  # filters apply this long after the last keystroke
COLUMNS = ("#", "Time", "User", "Action", "Entity", "Details")
NO_DATE = QDate(2000, 1, 1)  # a date edit at its minimum shows "any"
OK_STYLE = "color:#7bd88f;"
ERROR_STYLE = "color:#ff8a80; font-weight:bold;"


def allowed(identity: Identity | None) -> bool:
    """Whether the page is shown to this person."""
    return identity is not None and identity.role in AUDIT_ROLES


def details_text(entry: AuditEntry, width: int = 160) -> str:
    """An entry's reason and values on one line, cut to `width` (Qt-free)."""
    parts = []
    if entry.reason:
        parts.append(entry.reason)
    for label, value in (("was", entry.old), ("now", entry.new)):
        if value is not None:
            parts.append(f"{label} {json.dumps(value, ensure_ascii=False, sort_keys=True)}")
    if entry.signature_id is not None:
        parts.append(f"signature {entry.signature_id}")
    text = " · ".join(parts)
    return text if len(text) <= width else text[: width - 1] + "…"


def page_text(offset: int, shown: int, total: int) -> str:
    """Where the page is in the filtered trail (Qt-free)."""
    if total == 0:
        return "No entries match"
    return f"Entries {offset + 1:,}–{offset + shown:,} of {total:,} (newest first)"


def _local_midnight(day: QDate) -> datetime:
    return datetime.combine(day.toPython(), time()).astimezone()


class AuditView(QWidget):
    def __init__(self, store: Store, who: Callable[[], Identity | None]) -> None:
        super().__init__()
        self.store = store
        self.who = who
        self.offset = 0
        self.total = 0
        self.entries: list[AuditEntry] = []
        # The last task of each job, kept (not dropped when it ends) so that the worker thread
        # never holds the last reference to a Qt object; the next run deletes it on this thread.
        self.verify_task: Task | None = None
        self.export_task: Task | None = None
        self.verifying = self.exporting = False
        self._verified_once = False
        # Filters, applied as typed (after a pause) or chosen.
        self.actor = QLineEdit()
        self.actor.setPlaceholderText("user")
        self.action = QComboBox()
        self.action.setEditable(True)
        self.action.lineEdit().setPlaceholderText("action (any)")
        self.entity = QLineEdit()
        self.entity.setPlaceholderText("entity: inspection:12, user:olly, recipe_version")
        self.entity.setToolTip("TYPE or TYPE:ID; an inspection's entries include its overrides")
        self.since = self._date_edit("From (local date); any: no lower bound")
        self.until = self._date_edit("To, this day included (local date); any: no upper bound")
        self._typing = QTimer(self)
        self._typing.setSingleShot(True)
        self._typing.setInterval(TYPING_MS)
        self._typing.timeout.connect(self.apply_filters)
        self.actor.textChanged.connect(self._typed)
        self.action.currentTextChanged.connect(self._typed)
        self.entity.textChanged.connect(self._typed)
        self.since.dateChanged.connect(lambda _: self.apply_filters())
        self.until.dateChanged.connect(lambda _: self.apply_filters())
        clear = QPushButton("Clear filters")
        clear.clicked.connect(self.clear_filters)
        filters = QHBoxLayout()
        for label, widget, stretch in (
            ("User", self.actor, 1),
            ("Action", self.action, 1),
            ("Entity", self.entity, 2),
            ("From", self.since, 0),
            ("To", self.until, 0),
        ):
            filters.addWidget(QLabel(label))
            filters.addWidget(widget, stretch)
        filters.addWidget(clear)
        # The table and its pages.
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.setWordWrap(False)  # one line an entry; the whole of it in the tooltip
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.page_label = QLabel("")
        self.previous_button = QPushButton("◀ Newer")
        self.next_button = QPushButton("Older ▶")
        self.refresh_button = QPushButton("Refresh")
        self.previous_button.clicked.connect(lambda: self.show_page(self.offset - PAGE))
        self.next_button.clicked.connect(lambda: self.show_page(self.offset + PAGE))
        self.refresh_button.clicked.connect(lambda: self.show_page(self.offset))
        paging = QHBoxLayout()
        paging.addWidget(self.page_label, 1)
        paging.addWidget(self.refresh_button)
        paging.addWidget(self.previous_button)
        paging.addWidget(self.next_button)
        # The chain's verification and the export: a line each, written only by their job.
        self.verify_button = QPushButton("Verify chain")
        self.verify_button.setToolTip("Check every entry's hash and the records it covers")
        self.verify_button.clicked.connect(lambda: self.verify())
        self.with_evidence = QCheckBox("and evidence files")
        self.with_evidence.setToolTip("Also hash every evidence file against its record (slow)")
        self.verify_status = QLabel("Chain not verified yet")
        self.verify_status.setWordWrap(True)
        self.export_button = QPushButton("Export CSV…")
        self.export_button.setToolTip("The entries the filters select, as of now, to a CSV file")
        self.export_button.clicked.connect(self._export_dialog)
        self.export_status = QLabel("")
        self.export_status.setWordWrap(True)
        self.export_status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        jobs = QHBoxLayout()
        jobs.addWidget(self.verify_button)
        jobs.addWidget(self.with_evidence)
        jobs.addWidget(self.verify_status, 1)
        jobs.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        layout.addLayout(paging)
        layout.addLayout(jobs)
        layout.addWidget(self.export_status)

    def _date_edit(self, tip: str) -> QDateEdit:
        edit = QDateEdit()
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("yyyy-MM-dd")
        edit.setMinimumDate(NO_DATE)
        edit.setSpecialValueText("any")
        edit.setDate(NO_DATE)
        edit.setToolTip(tip)
        return edit

    # -- filters ---------------------------------------------------------------------------
    def _typed(self, *_) -> None:
        self._typing.start()

    def current_filter(self) -> AuditFilter:
        """The filter as the person set it (the table's and the export's)."""
        since = self.since.date()
        until = self.until.date()
        return AuditFilter.of_entity(
            self.entity.text(),
            actor=self.actor.text().strip(),
            action=self.action.currentText().strip(),
            since=None if since == NO_DATE else _local_midnight(since),
            until=None if until == NO_DATE else _local_midnight(until.addDays(1)),
        )

    def clear_filters(self) -> None:
        for widget in (self.actor, self.action, self.entity, self.since, self.until):
            widget.blockSignals(True)
        self.actor.clear()
        self.action.setEditText("")
        self.entity.clear()
        self.since.setDate(NO_DATE)
        self.until.setDate(NO_DATE)
        for widget in (self.actor, self.action, self.entity, self.since, self.until):
            widget.blockSignals(False)
        self.apply_filters()

    def apply_filters(self) -> None:
        self._typing.stop()
        self.show_page(0)

    # -- the table -------------------------------------------------------------------------
    def refresh(self) -> None:
        """Reload the page shown (the tab opened, a person logged in); the first time, the
        chain's verification starts too."""
        if not allowed(self.who()):
            self._clear()
            return
        self._load_actions()
        self.show_page(self.offset)
        if not self._verified_once:
            self._verified_once = True
            self.verify()

    def _load_actions(self) -> None:
        typed = self.action.currentText()
        self.action.blockSignals(True)
        self.action.clear()
        self.action.addItems(["", *self.store.audit_actions()])
        self.action.setEditText(typed)
        self.action.blockSignals(False)

    def _clear(self) -> None:
        self.entries = []
        self.total = self.offset = 0
        self.table.setRowCount(0)
        self.page_label.setText("")
        self.export_status.setText("")

    def show_page(self, offset: int) -> None:
        if not allowed(self.who()):
            self._clear()
            return
        where = self.current_filter()
        self.total = self.store.audit_count(where)
        last_page = max(0, (self.total - 1) // PAGE * PAGE)
        self.offset = min(max(0, offset), last_page)
        self.entries = self.store.audit_search(where, PAGE, self.offset)
        self.table.setRowCount(len(self.entries))
        for row, entry in enumerate(self.entries):
            local = entry.at.astimezone()
            cells = (
                (str(entry.seq), ""),
                (f"{local:%Y-%m-%d %H:%M:%S}", f"{entry.at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"),
                (entry.user_name, ""),
                (entry.action, ""),
                (f"{entry.entity_type}:{entry.entity_id}", ""),
                (details_text(entry), self._full_details(entry)),
            )
            for column, (text, tip) in enumerate(cells):
                item = QTableWidgetItem(text)
                if tip:
                    item.setToolTip(tip)
                self.table.setItem(row, column, item)
        self.page_label.setText(page_text(self.offset, len(self.entries), self.total))
        self.previous_button.setEnabled(self.offset > 0)
        self.next_button.setEnabled(self.offset + len(self.entries) < self.total)

    @staticmethod
    def _full_details(entry: AuditEntry) -> str:
        lines = [f"reason: {entry.reason}"] if entry.reason else []
        for label, value in (("old", entry.old), ("new", entry.new)):
            if value is not None:
                shown = json.dumps(value, ensure_ascii=False, sort_keys=True, indent=2)
                lines.append(f"{label}: {shown}")
        lines.append(f"hash: {entry.hash}")
        return "\n".join(lines)

    # -- verification ----------------------------------------------------------------------
    def verify(self, start: bool = True) -> Task | None:
        """Check the chain (`inspector audit verify`) on a worker thread."""
        if self.verifying or not allowed(self.who()):
            return None
        store, evidence = self.store, self.with_evidence.isChecked()

        def work(progress):
            return store.verify(
                evidence=evidence, progress=lambda count: progress(f"{count:,} entries")
            )

        task = Task(work, self)
        task.progress.connect(lambda text: self.verify_status.setText(f"Verifying… {text}"))
        task.finished.connect(self._verified)
        task.failed.connect(self._verify_failed)
        if self.verify_task is not None:
            self.verify_task.deleteLater()
        self.verify_task, self.verifying = task, True
        self.verify_button.setEnabled(False)
        self.verify_status.setStyleSheet("")
        self.verify_status.setText("Verifying the chain…")
        return task.start() if start else task

    def _verified(self, report) -> None:
        self.verifying = False
        self.verify_button.setEnabled(True)
        when = datetime.now().astimezone()
        files = (
            f"; {report.evidence_files:,} evidence files match"
            if report.evidence_files is not None
            else ""
        )
        if report.ok:
            self.verify_status.setStyleSheet(OK_STYLE)
            self.verify_status.setText(
                f"Chain intact: {report.entries:,} entries, head #{report.head.seq}{files} "
                f"(checked {when:%H:%M:%S})"
            )
            return
        more = report.problem_count - 1
        also = f" (and {more} more problem{'s' if more != 1 else ''})" if more else ""
        self.verify_status.setStyleSheet(ERROR_STYLE)
        self.verify_status.setText(
            f"Chain BROKEN: {report.first.message}{also} (checked {when:%H:%M:%S})"
        )
        self.verify_status.setToolTip("\n".join(p.message for p in report.problems[:20]))

    def _verify_failed(self, exc: BaseException) -> None:
        self.verifying = False
        self.verify_button.setEnabled(True)
        self.verify_status.setStyleSheet(ERROR_STYLE)
        self.verify_status.setText(f"Verification could not run: {exc}")

    # -- export ----------------------------------------------------------------------------
    def _export_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export audit entries", "", "CSV (*.csv)")
        if path:
            self.export(Path(path))

    def export(self, path: Path, start: bool = True) -> Task | None:
        """Write the entries the filters select, as of now, to `path` on a worker thread."""
        actor = self.who()
        if not allowed(actor) or self.exporting:
            return None
        self.apply_filters()  # the file holds what the table shows
        store, where = self.store, self.current_filter()

        def work(progress):
            def report(count: int, total: int | None) -> None:
                progress(f"{count:,} of {total:,}" if total is not None else f"{count:,}")

            return export_audit(store, actor, path, where, report)

        task = Task(work, self)
        task.progress.connect(
            lambda text: self.export_status.setText(f"Exporting to {path.name}: {text} entries…")
        )
        task.finished.connect(self._exported)
        task.failed.connect(self._export_failed)
        if self.export_task is not None:
            self.export_task.deleteLater()
        self.export_task, self.exporting = task, True
        self.export_button.setEnabled(False)
        self.export_status.setStyleSheet("")
        self.export_status.setText(f"Exporting to {path.name}…")
        return task.start() if start else task

    def _exported(self, result: AuditExport) -> None:
        self.exporting = False
        self.export_button.setEnabled(True)
        self.export_status.setStyleSheet(OK_STYLE)
        self.export_status.setText(
            f"Exported {result.entries:,} entries to {result.path} "
            f"(sha256 {result.sha256[:12]}…, audit entry #{result.audit_seq})."
        )
        self.show_page(self.offset)  # the export's own entry

    def _export_failed(self, exc: BaseException) -> None:
        self.exporting = False
        self.export_button.setEnabled(True)
        self.export_status.setStyleSheet(ERROR_STYLE)
        self.export_status.setText(f"Export failed: {exc}")
