"""Statistics: yield over time against the line's target, and a Pareto of defect classes by
parts (a part with seven regions of one class counts once), for a time range and recipe.

The yield target is a site setting (the database, audited: `inspector setting set yield_target
98.5`, or an admin on the Settings page), the same for every station; an older station.yaml's
`yield_target` is used only while the site has none (`yield_target_in_use`). The window hands it
here, so this page only draws it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from inspector.store import InspectionFilter, Store
from inspector.store.queries import YieldPoint

RANGES = {
    "Last 24 hours": (timedelta(days=1), timedelta(hours=1)),
    "Last 7 days": (timedelta(days=7), timedelta(hours=6)),
    "Last 30 days": (timedelta(days=30), timedelta(days=1)),
    "Last year": (timedelta(days=365), timedelta(days=7)),
}


TARGET_COLOUR = "#4fc3f7"


def parse_yield_target(text: str) -> float | None:
    """The target from the settings' text: None when empty; ValueError saying what to give
    (Qt-free, tested on its own)."""
    text = text.strip().removesuffix("%").strip()
    if not text:
        return None
    try:
        target = float(text)
    except ValueError:
        target = -1.0
    if not 0.0 < target <= 100.0:
        raise ValueError(
            f"Yield target {text!r}: give a percentage above 0 and at most 100, for example "
            "98.5 (or leave it empty for none)"
        )
    return target


def yield_target_in_use(site_target: float | None, profile) -> tuple[float | None, str]:
    """The target the Statistics and Station views draw, and where it comes from (Qt-free): the
    site's (the database), else a StationProfile's older `yield_target` from station.yaml, said
    so; a garbled one is not used, and said so too (never dropped silently)."""
    if site_target is not None:
        return site_target, "the site's target, the same for every station"
    legacy = profile.yield_target.strip()
    if not legacy:
        return None, ""
    try:
        target = parse_yield_target(legacy)
    except ValueError:
        return None, (
            f"station.yaml holds an older yield_target {legacy!r}, which is no percentage: "
            "not used. An admin sets the site's target here."
        )
    return target, (
        f"from this station's station.yaml (an older setting, {legacy}): used while the site "
        "has no target. An admin saving a target here makes it the site's, for every station, "
        "and removes it from the file."
    )


def against_target(yield_percent: float | None, target: float | None) -> tuple[str, bool]:
    """The yield said against the target, and whether it meets it (Qt-free)."""
    if target is None:
        return "", True
    if yield_percent is None:
        return f"target {target:g} %", True
    gap = yield_percent - target
    if gap >= 0:
        return f"target {target:g} %: met (+{gap:.1f} points)", True
    return f"target {target:g} %: {-gap:.1f} points below", False


def pareto(counts: list[tuple[str, int]]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Names, counts and cumulative percentages, most frequent first (Qt-free)."""
    names = [name for name, _ in counts]
    values = np.array([n for _, n in counts], dtype=float)
    cumulative = 100.0 * np.cumsum(values) / values.sum() if values.size else values
    return names, values, cumulative


class StatsView(QWidget):
    def __init__(self, store: Store, yield_target: float | None = None) -> None:
        super().__init__()
        self.store = store
        self.yield_target = yield_target
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
        self.pareto_plot = pg.PlotWidget(
            title="Defect classes of failed parts (Pareto: a part counts once per class)"
        )
        self.pareto_plot.showGrid(y=True, alpha=0.2)
        self.pareto_plot.setLabel("left", "parts")
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.yield_plot, 1)
        layout.addWidget(self.pareto_plot, 1)
        self.points: list[YieldPoint] = []
        self.defects: list[tuple[str, int]] = []

    def set_yield_target(self, target: float | None) -> None:
        self.yield_target = target
        self._draw()

    def target_line(self):
        """The target's line on the yield plot (None: no target)."""
        lines = [i for i in self.yield_plot.items() if isinstance(i, pg.InfiniteLine)]
        return lines[0] if lines else None

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
        said, met = against_target(100.0 * passed / total if total else None, self.yield_target)
        self.summary.setText(
            f"{total} inspections, yield {overall}" + (f" · {said}" if said else "")
        )
        self.summary.setStyleSheet("" if met else "color:#ff5252; font-weight:bold;")
        if self.yield_target is not None:
            self.yield_plot.addItem(
                pg.InfiniteLine(
                    pos=self.yield_target,
                    angle=0,
                    pen=pg.mkPen(TARGET_COLOUR, width=2, style=Qt.PenStyle.DashLine),
                    label=f"target {self.yield_target:g} %",
                    labelOpts={"position": 0.05, "color": TARGET_COLOUR},
                )
            )

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
