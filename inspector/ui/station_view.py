"""The operator's view: the live images, the latest part's verdict, the counters, start / stop /
trigger, for one camera or several views of a part.

It observes the one station through the bridge: the banner and the counters follow parts
(`PartInspected`: with several views, the part's outcome), the live images follow each view's
frames. Several views come from `set_views` (`inspector window --view ...`) or from the Views
table (Add view); with no view listed, the Camera and Recipe fields make the one view.

The side panel grows with the window and the verdict takes its spare height; every row below
the verdict has a fixed height (the reason scrolls, one-line rows end in "…"), so what a verdict
says never moves the buttons. The strip of the last failed parts opens one in History
(`failed_strip.opened`, connected by the main window). Reset counters zeroes what this screen
counts, after asking; the record is never touched from here.
"""

from __future__ import annotations

import html
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFont, QFontMetrics, QKeySequence, QPainter, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from inspector.cameras import SourceEvent, SourceState
from inspector.domain import Outcome
from inspector.station import PartInspected, RecipeSwapped, StationStopped, ViewResult
from inspector.station.inspection import SINGLE_VIEW
from inspector.station.publishing import OutputReport
from inspector.station.runner import StationRunner, ViewPlan
from inspector.ui.bridge import StationBridge
from inspector.ui.failed_strip import FailedStrip, failed_part
from inspector.ui.image_view import ImageView, Overlay
from inspector.ui.live_views import LiveViews
from inspector.ui.messages import plain
from inspector.ui.workers import Task

BANNER_STYLES = {
    Outcome.PASS: "background:#1f8f3a; color:white;",
    Outcome.FAIL: "background:#c62828; color:white;",
    Outcome.UNSURE: "background:#e0a800; color:#202020;",
    None: "background:#3a3f47; color:#d0d0d0;",
}
FAULT_STYLE = "background:#6a1b9a; color:white;"  # unlike any verdict: no part was judged
LIVE_VIEW_MS = 33  # the live image is repainted at up to 30 frames per second
PANEL_MIN_WIDTH = 372
PANEL_MAX_WIDTH = 760
OUTPUTS_MS = 500  # the line outputs' strip is refreshed twice a second
OUTPUT_KINDS = {"mqtt": "MQTT", "http": "Webhook", "https": "Webhook"}
OUTPUT_KINDS |= {"opcua": "OPC UA", "modbus": "Modbus"}
REASON_PT = 13  # the reason is read at arm's length: never below 12 pt
REASON_LINES = 3  # the reason's box holds this many lines and scrolls past them
VIEW_ROWS_SHOWN = 2  # the Views table's height in rows (it scrolls past them): fits 1024 x 768


class Counters:
    """Counts of this session's parts (Qt-free, so it is tested on its own)."""

    def __init__(self) -> None:
        self.total = self.passed = self.failed = self.unsure = 0
        self.not_inspected = 0  # seen but never judged (a stop): no verdict, not in the yield

    def add(self, outcome: Outcome) -> None:
        if outcome is Outcome.UNJUDGED:
            self.not_inspected += 1
            return
        self.total += 1
        if outcome is Outcome.PASS:
            self.passed += 1
        elif outcome is Outcome.FAIL:
            self.failed += 1
        else:
            self.unsure += 1

    @property
    def yield_percent(self) -> float | None:
        return 100.0 * self.passed / self.total if self.total else None


def takes_trigger(station) -> bool:
    """Some view's camera waits for a software trigger (Qt-free)."""
    return any(
        getattr(v.source, "triggered", False) and getattr(v.source, "trigger", None) is not None
        for v in station.views
    )


def grouped_defects(defects) -> str:
    """Defect classes with counts, most frequent first: "deviation ×10, scratch" (Qt-free)."""
    counts = Counter(d.class_name for d in defects)
    return ", ".join(f"{name} ×{n}" if n > 1 else name for name, n in counts.most_common())


def _local_time(event: PartInspected) -> str:
    """When the part's first view was captured, on the station's clock."""
    recorded = [r for r in event.views if r.frame is not None]
    return recorded[0].frame.captured_at.astimezone().strftime("%H:%M:%S") if recorded else ""


def last_part_text(event: PartInspected) -> str:
    """The part the banner is about: local time, id, record number(s) (Qt-free). The time comes
    first: a narrow panel cuts the end of the line, and a long part id must not hide when."""
    recorded = [r for r in event.views if r.frame is not None]
    when = _local_time(event)
    ids = ", ".join(f"#{r.inspection_id}" for r in recorded if r.inspection_id is not None)
    part = f"Part {event.part_id}" if event.part_id else "Part (no id)"
    return " · ".join(bit for bit in (when, part, ids) if bit)


def output_line(report: OutputReport) -> tuple[str, bool]:
    """One output on the strip, and whether it is listening (Qt-free, tested on its own)."""
    status = report.status
    scheme, _, rest = status.name.partition("://")
    host = rest.split("/", 1)[0].rsplit("@", 1)[-1]  # no user name on the operator's screen
    kind = f"{OUTPUT_KINDS.get(scheme.lower(), scheme)} {host}"
    if status.clients is not None:  # a PLC server: red while no PLC is connected to it
        return _server_line(kind, status)
    counts = f"{status.sent} sent, {status.failed} failed"
    if report.pending:
        counts += f", {report.pending} waiting"
    if status.connected and not status.last_error:
        return f"{kind}: connected · {counts}", True
    state = "not connected" if not status.connected else status.last_error
    return f"{kind}: {state} · {counts}", False


def _server_line(kind: str, status) -> tuple[str, bool]:
    counts = f"{status.triggers or 0} triggers, {status.sent} results, {status.failed} errors"
    if not status.connected:
        state = f"not serving ({status.last_error})" if status.last_error else "closed"
        return f"{kind}: {state} · {counts}", False
    if not status.clients:
        return f"{kind}: listening, no PLC connected · {counts}", False
    clients = "a client" if status.clients == 1 else f"{status.clients} clients"
    return f"{kind}: {clients} connected · {counts}", True


class StationView(QWidget):
    settings_requested = Signal()
    models_requested = Signal()  # the notice clicked: set up the missing model
    running_changed = Signal(bool)
    state_changed = Signal()  # starting, started, or a start that failed: the header follows

    def __init__(
        self, runner: StationRunner, bridge: StationBridge, source: str, recipe: str, trigger: str
    ) -> None:
        super().__init__()
        self.runner = runner
        self.bridge = bridge
        self.trigger_policy = trigger
        self.outputs: tuple[str, ...] = ()  # line output URLs (station.yaml `outputs:`)
        self.counters = Counters()
        self.yield_target: float | None = None  # percent; the Yield counter turns red below it
        # Asked before the counters are reset; a test answers it (True: reset).
        self.confirm_reset = self._ask_reset
        self.last_part: PartInspected | None = None
        self.last_verdict: ViewResult | None = None  # the last part's first judged view
        self.fault: str | None = None  # the station's FAULT cause, shown until the next start
        self._last_results: dict[str, ViewResult] = {}  # per view, for the live overlay
        self._task: Task | None = None
        self._rois: dict[str, tuple[int, int, int, int] | None] = {}
        self._frames_shown = 0
        self.shown_frame = None  # the image on screen, for the recipe editor
        self._build(source, recipe)
        bridge.part.connect(self._on_part)
        bridge.source_changed.connect(self._on_source_event)
        bridge.stopped.connect(self._on_stopped)
        bridge.record_failed.connect(self._on_record_failed)
        bridge.faulted.connect(self._on_fault)
        bridge.dropped.connect(lambda n: _say(self.dropped_label, f"{n} frames skipped"))
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._show_latest_frame)
        self._timer.start(LIVE_VIEW_MS)
        self._outputs_timer = QTimer(self)
        self._outputs_timer.timeout.connect(self._show_outputs)
        self._outputs_timer.start(OUTPUTS_MS)

    # -- layout ----------------------------------------------------------------------------
    def _build(self, source: str, recipe: str) -> None:
        self.live = LiveViews(placeholder="Camera stopped. Press Start.")
        self.live.set_views([SINGLE_VIEW])
        # Top to bottom: the verdict (it takes every pixel left over, so it grows with the
        # window), then rows of fixed height. Nothing below the banner changes height with
        # what it says, so the buttons never move under an operator's finger.
        side = QVBoxLayout()
        side.setSpacing(4)
        self.banner = Banner("READY")
        self.banner.setAlignment(Qt.AlignmentFlag.AlignCenter)
        banner_font = QFont(self.font())
        banner_font.setPointSize(34)
        banner_font.setBold(True)
        self.banner.setFont(banner_font)
        self.banner.setMinimumHeight(76)
        self.banner.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.banner.setStyleSheet(BANNER_STYLES[None] + "border-radius:8px;")
        side.addWidget(self.banner, 1)
        # Which part the banner is about: its id, its time, its record.
        self.last_part_label = OneLine("No part inspected yet")
        self.last_part_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        part_font = QFont(self.font())
        part_font.setPointSize(13)
        part_font.setBold(True)
        self.last_part_label.setFont(part_font)
        side.addWidget(self.last_part_label)
        self.reason = QLabel("")
        self.reason.setWordWrap(True)
        reason_font = QFont(self.font())
        reason_font.setPointSize(REASON_PT)
        self.reason.setFont(reason_font)
        self.reason.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.reason.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.reason_box = QScrollArea()
        self.reason_box.setWidget(self.reason)
        self.reason_box.setWidgetResizable(True)
        self.reason_box.setFrameShape(QFrame.Shape.NoFrame)
        self.reason_box.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        lines = self.reason.fontMetrics().lineSpacing() * REASON_LINES
        self.reason_box.setFixedHeight(lines + 6)
        side.addWidget(self.reason_box)
        self.failed_strip = FailedStrip()
        side.addWidget(self.failed_strip)

        grid = QGridLayout()
        self.count_labels: dict[str, QLabel] = {}
        for column, name in enumerate(("Total", "Pass", "Fail", "Unsure", "Yield")):
            title = QLabel(name)
            title.setAlignment(Qt.AlignmentFlag.AlignCenter)
            title.setStyleSheet("color:#8a8f98;")
            value = QLabel("0" if name != "Yield" else "-")
            value.setAlignment(Qt.AlignmentFlag.AlignCenter)
            value_font = QFont(self.font())
            value_font.setPointSize(18)
            value_font.setBold(True)
            value.setFont(value_font)
            # Equal columns, whatever the numbers say: the counts never shift sideways.
            value.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            widest = "100.0 %" if name == "Yield" else "000"
            value.setMinimumWidth(value.fontMetrics().horizontalAdvance(widest))
            grid.setColumnStretch(column, 4 if name == "Yield" else 2)
            grid.addWidget(title, 0, column)
            grid.addWidget(value, 1, column)
            self.count_labels[name] = value
        self.counted_since = QLabel("")
        self.counted_since.setStyleSheet("color:#8a8f98;")
        self.reset_button = QPushButton("Reset counters…")
        self.reset_button.setToolTip(
            "Start the on-screen counts from zero (a new shift or lot); the records are kept"
        )
        self.reset_button.clicked.connect(self.reset_counters)
        grid.addWidget(self.counted_since, 2, 0, 1, 3)
        grid.addWidget(self.reset_button, 2, 3, 1, 2)
        grid.setContentsMargins(6, 4, 6, 4)
        grid.setVerticalSpacing(2)
        counters = QFrame()
        counters.setFrameShape(QFrame.Shape.StyledPanel)
        counters.setLayout(grid)
        side.addWidget(counters)

        form = QFormLayout()
        self.engine_label = OneLine("-")
        self.latency_label = OneLine("-")
        self.camera_label = OneLine("stopped")
        self.dropped_label = OneLine("")
        latency_row = QHBoxLayout()
        latency_row.addWidget(self.latency_label, 1)
        latency_row.addWidget(self.dropped_label, 1)
        form.addRow("Judged by", self.engine_label)
        form.addRow("Latency", latency_row)
        form.addRow("Camera state", self.camera_label)
        side.addLayout(form)
        # The line's outputs: red at once when one is not listening (a PLC, MQTT, a webhook).
        self.outputs_label = QLabel("")
        self.outputs_label.setWordWrap(True)
        self.outputs_label.setTextFormat(Qt.TextFormat.RichText)
        self.outputs_label.setVisible(False)
        side.addWidget(self.outputs_label)

        self.source_edit = QLineEdit(source)
        self.source_edit.setToolTip("usb:0, rtsp://..., http(s)://..., a video file, folder:DIR")
        self.recipe_box = QComboBox()
        self.recipe_box.setEditable(True)
        self.recipe_box.addItem(recipe)
        self.recipe_box.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.recipe_box.setMinimumContentsLength(12)
        self.recipe_box.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        browse = QPushButton("…")
        browse.setFixedWidth(32)
        browse.setToolTip("Choose a recipe file")
        browse.clicked.connect(self._browse_recipe)
        recipe_row = QHBoxLayout()
        recipe_row.addWidget(self.recipe_box)
        recipe_row.addWidget(browse)
        # The one camera's fields; hidden while the Views table lists several (they are unused
        # then, and the table takes their height, so the panel still fits 1024 x 768).
        self.setup = QFormLayout()
        self.setup.addRow("Camera source", self.source_edit)
        self.setup.addRow("Recipe", recipe_row)
        side.addLayout(self.setup)
        self.settings_button = QPushButton("Settings…")
        self.settings_button.clicked.connect(self.settings_requested)
        self._build_views_table(side)

        buttons = QHBoxLayout()
        self.start_button = QPushButton("Start")
        self.stop_button = QPushButton("Stop")
        self.trigger_button = QPushButton("Trigger (Space)")
        for button in (self.start_button, self.stop_button, self.trigger_button):
            button.setMinimumHeight(44)
        self.start_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.stop)
        self.trigger_button.clicked.connect(self.trigger)
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.stop_button)
        buttons.addWidget(self.trigger_button)
        side.addLayout(buttons)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.status.setFixedHeight(self.status.fontMetrics().lineSpacing() * 2 + 4)
        side.addWidget(self.status)
        # A standing notice (not an error): e.g. the demo judges model-free, and why.
        # One line (whole in its tooltip, and in the reason box until the first verdict), so
        # the panel still fits a 768-pixel screen.
        self.notice = OneLine("")
        self.notice.setStyleSheet("color:#9ecbff; border:1px solid #3b5b7a; padding:2px 4px;")
        self.notice.setCursor(Qt.CursorShape.PointingHandCursor)
        self.notice.clicked = self.models_requested.emit
        self.notice.hide()
        side.addWidget(self.notice)
        QShortcut(QKeySequence(Qt.Key.Key_Space), self, activated=self.trigger)

        # The panel grows with the window (a quarter to a third of it), and the banner's letters
        # with the panel; at its narrowest the window still fits a 1024 x 768 panel PC.
        self.panel = QWidget()
        self.panel.setLayout(side)
        self.panel.setMinimumWidth(PANEL_MIN_WIDTH)
        self.panel.setMaximumWidth(PANEL_MAX_WIDTH)
        layout = QHBoxLayout(self)
        layout.addWidget(self.live, 2)
        layout.addWidget(self.panel, 1)
        self._set_running(False)
        self._counted_from_now()

    def _build_views_table(self, side: QVBoxLayout) -> None:
        """Several cameras per part: a row per view (name, camera, recipe). It fits the panel at
        its narrowest (1024 x 768): the name column is as wide as the names, camera and recipe
        share the rest, a long address or path is cut in its middle ("folder:/data/…/top") and
        whole in its tooltip and editor, never a sideways scroll; past VIEW_ROWS_SHOWN rows the
        table scrolls."""
        table = self.views_table = QTableWidget(0, 3)
        table.setHorizontalHeaderLabels(["View", "Camera", "Recipe"])
        header = table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        header.setMinimumSectionSize(40)
        table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        table.setWordWrap(False)
        table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        table.setSizeAdjustPolicy(QAbstractItemView.SizeAdjustPolicy.AdjustIgnored)
        row_px = table.fontMetrics().height() + 8
        table.verticalHeader().setDefaultSectionSize(row_px)
        table.verticalHeader().setVisible(False)
        visible = header.sizeHint().height() + 2 * table.frameWidth()
        table.setFixedHeight(visible + VIEW_ROWS_SHOWN * row_px)
        table.itemChanged.connect(_whole_in_tooltip)
        self.views_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.views_table.setToolTip(
            "Several cameras per part: the part FAILs if any view fails, is UNSURE if any is "
            "unsure or gave no frame, and PASSes only if all pass."
        )
        side.addWidget(self.views_table)
        row = QHBoxLayout()
        self.add_view_button = QPushButton("Add view")
        self.add_view_button.setToolTip("Inspect each part with several cameras")
        self.remove_view_button = QPushButton("Remove view")
        self.add_view_button.clicked.connect(self.add_view)
        self.remove_view_button.clicked.connect(self.remove_view)
        row.addWidget(self.add_view_button)
        row.addWidget(self.remove_view_button)
        row.addStretch(1)
        row.addWidget(self.settings_button)
        side.addLayout(row)
        self._views_changed()

    @property
    def image(self) -> ImageView:
        """The live image (with several views: the first view's)."""
        return self.live.first

    # -- views -----------------------------------------------------------------------------
    def set_views(self, plans: list[ViewPlan]) -> None:
        """List the views the next Start runs (none: the Camera and Recipe fields)."""
        self.views_table.setRowCount(0)
        for plan in plans:
            self._append_view(plan.name, plan.source, str(plan.recipe))
        self._views_changed()

    def view_plans(self) -> list[ViewPlan]:
        plans = []
        for row in range(self.views_table.rowCount()):
            cells = [self.views_table.item(row, column) for column in range(3)]
            name, source, recipe = (c.text().strip() if c is not None else "" for c in cells)
            if name or source or recipe:
                plans.append(ViewPlan(name, source, recipe))
        return plans

    def add_view(self) -> None:
        count = self.views_table.rowCount()
        if count == 0:  # the one camera becomes the first view
            self._append_view("view1", self.source_edit.text().strip(), self.recipe_path)
            count = 1
        self._append_view(f"view{count + 1}", "", self.recipe_path)
        self._views_changed()

    def remove_view(self) -> None:
        rows = sorted({i.row() for i in self.views_table.selectedIndexes()}, reverse=True)
        for row in rows or [self.views_table.rowCount() - 1]:
            if row >= 0:
                self.views_table.removeRow(row)
        self._views_changed()

    def _append_view(self, name: str, source: str, recipe: str) -> None:
        row = self.views_table.rowCount()
        self.views_table.insertRow(row)
        for column, text in enumerate((name, source, recipe)):
            item = QTableWidgetItem(text)
            item.setToolTip(text)
            self.views_table.setItem(row, column, item)

    def _views_changed(self) -> None:
        several = self.views_table.rowCount() > 0
        # The fields go before the table comes: the panel never needs both heights at once
        # (the window would grow past a 768-pixel screen).
        for row in range(self.setup.rowCount()):
            self.setup.setRowVisible(row, not several)
        self.views_table.setVisible(several)
        self.remove_view_button.setVisible(several)
        running = self.runner.station is not None or self._task is not None
        self.source_edit.setEnabled(not several and not running)
        self.recipe_box.setEnabled(not several and not running)

    # -- actions ---------------------------------------------------------------------------
    @property
    def starting(self) -> bool:
        """A start is loading (recipe, camera, model)."""
        return self._task is not None and self.runner.station is None

    @property
    def recipe_path(self) -> str:
        return self.recipe_box.currentText().strip()

    def start(self) -> None:
        if self._task is not None or self.runner.station is not None:
            return
        source, recipe = self.source_edit.text().strip(), self.recipe_path
        plans = self.view_plans()
        trigger, listener, outputs = self.trigger_policy, self.bridge.listener, self.outputs
        self.fault = None
        self._set_status("Preparing: recipe, camera, model…")
        self.start_button.setEnabled(False)
        self.stop_button.setEnabled(True)  # cancels a slow start

        def work(progress):
            if plans:
                return self.runner.start_views(plans, listener, trigger, progress, outputs=outputs)
            return self.runner.start(recipe, source, listener, trigger, progress, outputs)

        self._task = Task(work, self)
        self._task.progress.connect(self._set_status)
        self._task.finished.connect(self._started)
        self._task.failed.connect(self._start_failed)
        self._task.start()
        self.state_changed.emit()

    def _started(self, station) -> None:
        self._task = None
        views = station.views
        self._rois = {
            v.name: (v.recipe.roi.x, v.recipe.roi.y, v.recipe.roi.width, v.recipe.roi.height)
            if v.recipe.roi is not None
            else None
            for v in views
        }
        self._last_results = {}
        self.live.set_views([v.name for v in views])
        self.camera_label.setStyleSheet("")
        if len(views) == 1:
            [view] = views
            recipe = view.recipe
            _say(self.engine_label, view.chain.description)
            _say(self.camera_label, f"running: {view.source.uri}")
            self._set_status(f"Running {recipe.name} v{recipe.version} ({station.policy}).")
        else:
            _say(self.engine_label, "; ".join(f"{v.name}: {v.chain.description}" for v in views))
            _say(
                self.camera_label,
                "running: " + ", ".join(f"{v.name} {v.source.uri}" for v in views),
            )
            recipes = ", ".join(f"{v.name} {v.recipe.name} v{v.recipe.version}" for v in views)
            self._set_status(f"Running {len(views)} views: {recipes} ({station.policy}).")
        if station.fault is not None:  # it stopped at once (the disk check at start)
            _say(self.camera_label, "stopped")
            self._on_fault(station.fault)
            self.state_changed.emit()
            return
        self._set_running(True)
        # A camera that runs free (and a file or folder) gives every part by itself: Trigger
        # is disabled there, saying so, instead of answering a press with configuration text.
        takes = takes_trigger(station)
        self.trigger_button.setEnabled(takes)
        self.trigger_button.setToolTip(
            "Take the next part (Space)"
            if takes
            else "Not needed: this camera gives every part by itself (it runs free)"
        )
        self.state_changed.emit()

    def follow_recipe(self, event: RecipeSwapped) -> None:
        """A view runs another recipe (from the line, or a version saved in the editor): its
        ROI, engines, recipe box and status follow."""
        recipe = event.recipe
        roi = recipe.roi
        self._rois[event.view] = (roi.x, roi.y, roi.width, roi.height) if roi else None
        station = self.runner.station
        views = station.views if station is not None else ()
        if len(views) == 1:
            self.engine_label.setText(views[0].chain.description)
            if event.source:
                self.recipe_box.setEditText(event.source)
        self._set_status(f"Running {recipe.name} v{recipe.version} (switched: {event.view}).")

    def _start_failed(self, exc: BaseException) -> None:
        self._task = None
        self._set_running(False)
        self._show_banner(None, "NOT RUNNING")
        self.reason.setText(plain(exc))
        self._set_status(
            "Fix the camera, the recipe or the model in Settings, then Start.", error=True
        )
        self.state_changed.emit()

    def stop(self) -> None:
        if self._task is not None:  # a start still loading: give up on it
            self._task.cancel()
            self._task = None
            self._set_status("Start cancelled.")
            self._set_running(False)
            return
        if self.runner.station is not None:
            self._set_status("Stopping after the part in progress…")
            self.stop_button.setEnabled(False)
            Task(lambda progress: self.runner.stop(), self).start()

    def trigger(self) -> None:
        station = self.runner.station
        if station is None:
            return
        if not self.trigger_button.isEnabled():
            return  # the Space key on a camera that runs free: nothing to trigger
        if not station.trigger():
            self._set_status("This camera gives every part by itself: no trigger is needed.")

    # -- station events --------------------------------------------------------------------
    def _on_part(self, event: PartInspected) -> None:
        if self.fault is not None:
            return  # in FAULT: parts are journaled, not recorded; the banner keeps the FAULT
        if event.outcome is Outcome.UNJUDGED:
            # Seen but never judged (the station stopped first): on record, no verdict; the
            # banner keeps the last verdict, and the Stopped line says how many there were.
            self.counters.add(event.outcome)
            return
        self.last_part = event
        judged = [r for r in event.views if r.verdict is not None]
        if judged:
            self.last_verdict = judged[0]
        self.counters.add(event.outcome)
        self._show_banner(event.outcome, event.outcome.value)
        _say(self.last_part_label, last_part_text(event))
        self._show_reason(event, judged)
        failed = failed_part(event, _local_time(event))
        if failed is not None:
            self.failed_strip.add(failed)
        latencies = [(r.view, r.timings.judge_ms) for r in judged if r.timings is not None]
        if len(latencies) == 1:
            _say(self.latency_label, f"{latencies[0][1]:.0f} ms")
        elif latencies:
            _say(self.latency_label, "  ".join(f"{v} {ms:.0f} ms" for v, ms in latencies))
        self._show_counts()
        for result in event.views:
            if result.frame is None:
                self.live.set_outcome(result.view, None, "no frame")
                continue
            self._last_results[result.view] = result
            if result.verdict is not None:
                outcome = result.verdict.outcome
                self.live.set_outcome(result.view, outcome, outcome.value)
            self._show(result.view, result.frame.image, _boxes(result))

    def _show_reason(self, event: PartInspected, judged: list[ViewResult]) -> None:
        """One view: its verdict's reason and who decided; several: the part's, then each's."""
        self.reason_box.verticalScrollBar().setValue(0)  # a new part is read from its start
        if len(event.views) == 1 and judged:
            verdict = judged[0].verdict
            defects = grouped_defects(verdict.defects)
            self.reason.setText(verdict.reason + (f"\nDefects: {defects}" if defects else ""))
            decided = verdict.decided_by
            if decided is not None:
                _say(self.engine_label, f"{decided.engine}: {decided.model_id}")
            return
        lines = [f"Part {event.part_id}: {event.reason}"]
        for result in judged:
            defects = grouped_defects(result.verdict.defects)
            lines.append(
                f"{result.view}: {result.verdict.reason}" + (f" ({defects})" if defects else "")
            )
        self.reason.setText("\n".join(lines))

    def _show_counts(self) -> None:
        c = self.counters
        for name, value in (
            ("Total", c.total),
            ("Pass", c.passed),
            ("Fail", c.failed),
            ("Unsure", c.unsure),
        ):
            self.count_labels[name].setText(str(value))
        yield_label = self.count_labels["Yield"]
        if c.yield_percent is None:
            yield_label.setText("-")
            yield_label.setStyleSheet("")
            return
        yield_label.setText(f"{c.yield_percent:.1f} %")
        below = self.yield_target is not None and c.yield_percent < self.yield_target
        yield_label.setStyleSheet("color:#ff5252;" if below else "")
        target = f"target {self.yield_target:g} %" if self.yield_target is not None else ""
        yield_label.setToolTip(target)

    def set_yield_target(self, target: float | None) -> None:
        self.yield_target = target
        self._show_counts()

    # -- counters ----------------------------------------------------------------------------
    def reset_counters(self) -> bool:
        """Zero the on-screen counts (a new shift, a new lot) after asking; the records, the
        review queue and the statistics are untouched."""
        if not self.confirm_reset():
            return False
        self.counters = Counters()
        self._show_counts()
        self._counted_from_now()
        return True

    def _counted_from_now(self) -> None:
        self.counted_since.setText(f"Counted since {time.strftime('%H:%M')}")

    def _ask_reset(self) -> bool:
        answer = QMessageBox.question(
            self,
            "Reset counters",
            "Start the counts on this screen from zero?\n\nOnly the numbers shown here are "
            "reset: every inspection stays on record, in History, Review and Statistics.",
            QMessageBox.StandardButton.Reset | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Reset

    def _on_fault(self, cause: str) -> None:
        """The station stopped judging: no verdict on screen may pass for a current one."""
        self.fault = cause
        self.banner.setText("FAULT")
        self.banner.setStyleSheet(FAULT_STYLE + "border-radius:8px;")
        self.reason.setText(f"The station stopped: {cause}")
        self._set_status(
            "Parts seen are kept in the journal; fix the cause, then Start writes them to the "
            "record first.",
            error=True,
        )

    def _on_record_failed(self, event) -> None:
        self.reason.setText(f"The station stopped: {self.fault}\n{event.message}")

    def _on_source_event(self, event: SourceEvent) -> None:
        _say(self.camera_label, f"{event.state}: {event.message}")
        bad = event.state in (SourceState.RECONNECTING, SourceState.LOST)
        self.camera_label.setStyleSheet("color:#e0a800;" if bad else "")

    def _on_stopped(self, event: StationStopped) -> None:
        self._set_running(False)
        _say(self.camera_label, "stopped")
        stats = event.stats
        if self.fault is not None:
            return  # the FAULT stays on screen, with its cause
        parts = f"{stats.parts} parts, " if len(self._rois) > 1 else ""
        unjudged = (
            f", {stats.not_judged} not inspected (recorded, not for review)"
            if stats.not_judged
            else ""
        )
        self._set_status(
            f"Stopped: {parts}{stats.captured} captured, {stats.judged} judged, "
            f"{stats.recorded} recorded, {stats.dropped} skipped{unjudged}."
        )

    def _show_latest_frame(self) -> None:
        frames = self.bridge.take_frames()
        if not frames:
            return
        self._frames_shown += 1
        now = time.monotonic_ns()
        for view, frame in frames.items():
            last = self._last_results.get(view)
            recent = last is not None and now - last.frame.captured_monotonic_ns < 3e9
            self._show(view, frame.image, _boxes(last) if recent else ())

    def _show_outputs(self) -> None:
        station = self.runner.station
        publishing = station.publishing if station is not None else None
        if publishing is None:
            return  # the last state stays on screen after a stop
        lines = [output_line(report) for report in publishing.reports()]
        self.outputs_label.setVisible(bool(lines))
        self.outputs_label.setText(
            "<br>".join(
                f'<span style="color:{"#7bd88f" if ok else "#ff5252"};'
                f'{"" if ok else "font-weight:bold;"}">{html.escape(text)}</span>'
                for text, ok in lines
            )
        )

    def _show(self, view: str, image, boxes) -> None:
        if view == next(iter(self.live.images), None):
            self.shown_frame = image  # the first view's, for the recipe editor
        self.live.show_image(view, image, Overlay(self._rois.get(view), boxes))

    # -- helpers ---------------------------------------------------------------------------
    def _show_banner(self, outcome: Outcome | None, text: str) -> None:
        self.banner.setText(text)
        self.banner.setStyleSheet(BANNER_STYLES[outcome] + "border-radius:8px;")

    def show_notice(self, text: str) -> None:
        """A standing notice; clicking it opens the Models page, where a model is set up."""
        _say(self.notice, text)
        self.notice.setToolTip(f"{text}\nClick to open the Models page.")
        self.notice.show()
        if self.last_part is None and not self.reason.text():
            self.reason.setText(text)

    def _set_status(self, message: str, error: bool = False) -> None:
        self.status.setText(message)
        self.status.setStyleSheet("color:#ff8a80;" if error else "color:#8a8f98;")

    def _set_running(self, running: bool) -> None:
        self.start_button.setEnabled(not running)
        self.stop_button.setEnabled(running)
        self.trigger_button.setEnabled(running)
        several = self.views_table.rowCount() > 0
        self.source_edit.setEnabled(not running and not several)
        self.recipe_box.setEnabled(not running and not several)
        self.views_table.setEnabled(not running)
        self.add_view_button.setEnabled(not running)
        self.remove_view_button.setEnabled(not running)
        self.running_changed.emit(running)

    def _browse_recipe(self) -> None:
        start = str(Path(self.recipe_path).parent) if self.recipe_path else ""
        path, _ = QFileDialog.getOpenFileName(self, "Recipe", start, "Recipes (*.yaml *.yml)")
        if path:
            self.recipe_box.setEditText(path)


class Banner(QLabel):
    """The verdict, in the largest letters its box holds: the box takes the panel's spare height
    and width, so a large screen shows a verdict readable from across the room. The letters
    follow the box, never the other way round (the window's minimum size stays put)."""

    MIN_PT, MAX_PT = 28, 120

    def setText(self, text: str) -> None:
        super().setText(text)
        self._fit()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        font = QFont(self.font())
        font.setPointSize(100)
        metrics = QFontMetrics(font)
        wide = max(1, metrics.horizontalAdvance(self.text() or "M"))
        size = min(100 * 0.85 * self.width() / wide, 100 * 0.6 * self.height() / metrics.height())
        size = int(max(self.MIN_PT, min(self.MAX_PT, size)))
        if size != self.font().pointSize():
            font.setPointSize(size)
            self.setFont(font)


class OneLine(QLabel):
    """A label that never wraps nor widens the panel: a text too long for it ends in "…" and is
    whole in the tooltip, so the panel keeps its width and the rows below keep their place."""

    def __init__(self, text: str = "") -> None:
        super().__init__(text)
        self.setWordWrap(False)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.setMinimumWidth(1)
        self.clicked: Callable[[], None] | None = None  # what a click does, where it does any

    def mouseReleaseEvent(self, event) -> None:
        if self.clicked is not None and event.button() == Qt.MouseButton.LeftButton:
            self.clicked()
        super().mouseReleaseEvent(event)

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        area = self.contentsRect()
        shown = self.fontMetrics().elidedText(
            self.text(), Qt.TextElideMode.ElideRight, area.width()
        )
        painter.setPen(self.palette().color(self.foregroundRole()))
        painter.drawText(area, int(self.alignment() | Qt.AlignmentFlag.AlignVCenter), shown)


def _say(label: QLabel, text: str) -> None:
    """A one-line label's text, whole in its tooltip where the panel cuts it."""
    label.setText(text)
    label.setToolTip(text)


def _whole_in_tooltip(item: QTableWidgetItem) -> None:
    """A cell cut in its middle by the narrow panel is whole in its tooltip, after an edit too."""
    if item.toolTip() != item.text():
        item.setToolTip(item.text())


def _boxes(result: ViewResult | None) -> tuple:
    """A view's defect boxes, as the overlay draws them."""
    if result is None or result.verdict is None:
        return ()
    return tuple(
        ((d.box.x0, d.box.y0, d.box.x1, d.box.y1), d.class_name)
        for d in result.verdict.defects
        if d.box is not None
    )
