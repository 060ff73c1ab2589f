"""Statistics: yield over time and a Pareto of defect classes, for a time range and recipe."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from inspector.store import InspectionFilter, Store
from inspector.store.queries import YieldPoint

RANGES = {
    "Last 24 hours": (timedelta(days=1), timedelta(hours=1)),
    "Last 7 days": (timedelta(days=7), timedelta(hours=6)),
    "Last 30 days": (timedelta(days=30), timedelta(days=1)),
    "Last year": (timedelta(days=365), timedelta(days=7)),
}


def pareto(counts: list[tuple[str, int]]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Names, counts and cumulative percentages, most frequent first (Qt-free)."""
    names = [name for name, _ in counts]
    values = np.array([n for _, n in counts], dtype=float)
    cumulative = 100.0 * np.cumsum(values) / values.sum() if values.size else values
    return names, values, cumulative


class StatsView(QWidget):
    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store
        pg.setConfigOptions(antialias=True, background="#1e2126", foreground="#d0d0d0")
        self.range = QComboBox()
        self.range.addItems(RANGES)
        self.recipe = QComboBox()
        refresh = QPushButton("Refresh")
        refresh.clicked.connect(self.refresh)
        self.range.currentTextChanged.connect(lambda _: self.refresh())
        self.summary = QLabel("")
        controls = QHBoxLayout()
        controls.addWidget(QLabel("Range"))
        controls.addWidget(self.range)
        controls.addWidget(QLabel("Recipe"))
        controls.addWidget(self.recipe)
        controls.addWidget(refresh)
        controls.addWidget(self.summary, 1)

        self.yield_plot = pg.PlotWidget(title="Yield (% PASS) over time")
        self.yield_plot.setAxisItems({"bottom": pg.DateAxisItem()})
        self.yield_plot.setYRange(0, 100)
        self.yield_plot.showGrid(x=True, y=True, alpha=0.2)
        self.pareto_plot = pg.PlotWidget(title="Defect classes (Pareto)")
        self.pareto_plot.showGrid(y=True, alpha=0.2)
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.yield_plot, 1)
        layout.addWidget(self.pareto_plot, 1)
        self.points: list[YieldPoint] = []
        self.defects: list[tuple[str, int]] = []

    def current_filter(self) -> tuple[InspectionFilter, timedelta]:
        span, bucket = RANGES[self.range.currentText()]
        recipe = self.recipe.currentText()
        f = InspectionFilter(
            since=datetime.now(UTC) - span,
            recipe=None if recipe in ("", "All recipes") else recipe,
        )
        return f, bucket

    def refresh(self) -> None:
        names = ["All recipes", *self.store.recipe_names()]
        if [self.recipe.itemText(i) for i in range(self.recipe.count())] != names:
            current = self.recipe.currentText()
            self.recipe.clear()
            self.recipe.addItems(names)
            if current in names:
                self.recipe.setCurrentText(current)
        f, bucket = self.current_filter()
        self.points = self.store.yield_series(f, bucket)
        self.defects = self.store.defect_pareto(f)
        self._draw()

    def _draw(self) -> None:
        self.yield_plot.clear()
        if self.points:
            x = np.array([p.start.timestamp() for p in self.points])
            y = np.array([p.yield_percent for p in self.points])
            width = (x[1] - x[0]) * 0.8 if len(x) > 1 else 3600 * 0.8
            self.yield_plot.addItem(
                pg.BarGraphItem(x=x, height=y, width=width, brush="#1f8f3a", pen=None)
            )
            self.yield_plot.plot(x, y, pen=pg.mkPen("#7bd88f", width=2), symbol="o", symbolSize=5)
        total = sum(p.total for p in self.points)
        passed = sum(p.passed for p in self.points)
        overall = f"{100.0 * passed / total:.1f} %" if total else "-"
        self.summary.setText(f"{total} inspections, yield {overall}")

        self.pareto_plot.clear()
        names, values, cumulative = pareto(self.defects)
        if names:
            x = np.arange(len(names))
            self.pareto_plot.addItem(
                pg.BarGraphItem(x=x, height=values, width=0.7, brush="#c62828", pen=None)
            )
            scale = values.max() / 100.0
            self.pareto_plot.plot(
                x, cumulative * scale, pen=pg.mkPen("#e0a800", width=2), symbol="o", symbolSize=6
            )
            axis = self.pareto_plot.getAxis("bottom")
            axis.setTicks([list(enumerate(names))])
