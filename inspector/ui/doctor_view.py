"""Doctor: what this station needs, checked, with how to fix each miss: the checks of
`inspector doctor` (station/doctor.py, one implementation for both), run on a worker thread when
the page is first shown and again on request (they open the database and probe the ports)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from inspector.config import Settings, StationProfile
from inspector.station.doctor import FAIL, OK, WARN, Check, run_checks
from inspector.ui.workers import Task

COLUMNS = ("", "Check", "Found", "How to fix")
COLOURS = {OK: "#2e7d32", WARN: "#b26a00", FAIL: "#c62828"}


class DoctorView(QWidget):
    def __init__(self, settings: Settings, profile: StationProfile) -> None:
        super().__init__()
        self.settings, self.profile = settings, profile
        self.task: Task | None = None
        self.results: list[Check] = []
        self.summary = QLabel("Not checked yet.")
        self.summary.setWordWrap(True)
        self.check_button = QPushButton("Check again")
        self.check_button.clicked.connect(self.run)
        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(self.check_button)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(True)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        column = QVBoxLayout(self)
        column.addLayout(top)
        column.addWidget(self.table, 1)
        column.addWidget(QLabel("The same checks for IT, as JSON: inspector doctor --json"))
        self._checked = False

    def showEvent(self, event) -> None:  # checked once the page is looked at, not at start
        super().showEvent(event)
        if not self._checked:
            self.run()

    def run(self) -> None:
        if self.task is not None:
            return
        self._checked = True
        platform = QGuiApplication.platformName()
        self.task = Task(lambda _: run_checks(self.settings, self.profile, platform), self)
        self.task.finished.connect(self._show)
        self.task.failed.connect(self._failed)
        self.check_button.setEnabled(False)
        self.summary.setText("Checking…")
        self.task.start()

    @property
    def busy(self) -> bool:
        return self.task is not None

    def _show(self, results: list[Check]) -> None:
        self.task = None
        self.check_button.setEnabled(True)
        self.results = results
        self.table.setRowCount(len(results))
        for row, check in enumerate(results):
            status = QTableWidgetItem(check.status)
            status.setForeground(QColor("#ffffff"))
            status.setBackground(QColor(COLOURS.get(check.status, "#555555")))
            status.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
            self.table.setItem(row, 0, status)
            for col, text in enumerate((check.name, check.found, check.fix), start=1):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.table.setItem(row, col, item)
        self.table.resizeColumnToContents(0)
        self.table.resizeColumnToContents(1)
        self.table.resizeRowsToContents()
        counts = {s: sum(c.status == s for c in results) for s in (OK, WARN, FAIL)}
        if counts[FAIL]:
            verdict = "This station cannot work as set up: fix each FAIL."
        elif counts[WARN]:
            verdict = "This station works; each WARN is something it works without."
        else:
            verdict = "Everything this station needs is here."
        self.summary.setText(
            f"{verdict}  ({counts[OK]} OK, {counts[WARN]} WARN, {counts[FAIL]} FAIL)"
        )

    def _failed(self, exc: BaseException) -> None:
        self.task = None
        self.check_button.setEnabled(True)
        self.summary.setText(f"The checks could not run: {exc}")
