"""The operator's view: the live image, the latest verdict, the counters, start / stop / trigger."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from inspector.cameras import SourceEvent, SourceState
from inspector.domain import Outcome
from inspector.station import InspectionRecorded, StationStopped
from inspector.station.runner import StationRunner
from inspector.ui.bridge import StationBridge
from inspector.ui.image_view import ImageView, Overlay
from inspector.ui.messages import plain
from inspector.ui.workers import Task

BANNER_STYLES = {
    Outcome.PASS: "background:#1f8f3a; color:white;",
    Outcome.FAIL: "background:#c62828; color:white;",
    Outcome.UNSURE: "background:#e0a800; color:#202020;",
    None: "background:#3a3f47; color:#d0d0d0;",
}
LIVE_VIEW_MS = 33  # the live image is repainted at up to 30 frames per second


class Counters:
    """Counts of this session's verdicts (Qt-free, so it is tested on its own)."""

    def __init__(self) -> None:
        self.total = self.passed = self.failed = self.unsure = 0

    def add(self, outcome: Outcome) -> None:
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


class StationView(QWidget):
    settings_requested = Signal()
    running_changed = Signal(bool)

    def __init__(
        self, runner: StationRunner, bridge: StationBridge, source: str, recipe: str, trigger: str
    ) -> None:
        super().__init__()
        self.runner = runner
        self.bridge = bridge
        self.trigger_policy = trigger
        self.counters = Counters()
        self.last_verdict: InspectionRecorded | None = None
        self._task: Task | None = None
        self._roi: tuple[int, int, int, int] | None = None
        self._frames_shown = 0
        self.shown_frame = None  # the image on screen, for the recipe editor
        self._build(source, recipe)
        bridge.recorded.connect(self._on_recorded)
        bridge.source_changed.connect(self._on_source_event)
        bridge.stopped.connect(self._on_stopped)
        bridge.record_failed.connect(lambda e: self._set_status(e.message, error=True))
        bridge.dropped.connect(lambda n: self.dropped_label.setText(f"{n} frames skipped"))
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._show_latest_frame)
        self._timer.start(LIVE_VIEW_MS)

    # -- layout ----------------------------------------------------------------------------
    def _build(self, source: str, recipe: str) -> None:
        self.image = ImageView(placeholder="Camera stopped. Press Start.")
        side = QVBoxLayout()
        self.banner = QLabel("READY")
        self.banner.setAlignment(Qt.AlignmentFlag.AlignCenter)
        banner_font = QFont(self.font())
        banner_font.setPointSize(34)
        banner_font.setBold(True)
        self.banner.setFont(banner_font)
        self.banner.setMinimumHeight(96)
        self.banner.setStyleSheet(BANNER_STYLES[None] + "border-radius:8px;")
        side.addWidget(self.banner)
        self.reason = QLabel("")
        self.reason.setWordWrap(True)
        self.reason.setMinimumHeight(48)
        self.reason.setAlignment(Qt.AlignmentFlag.AlignTop)
        side.addWidget(self.reason)

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
            grid.addWidget(title, 0, column)
            grid.addWidget(value, 1, column)
            self.count_labels[name] = value
        counters = QFrame()
        counters.setFrameShape(QFrame.Shape.StyledPanel)
        counters.setLayout(grid)
        side.addWidget(counters)

        form = QFormLayout()
        self.engine_label = QLabel("-")
        self.engine_label.setWordWrap(True)
        self.latency_label = QLabel("-")
        self.camera_label = QLabel("stopped")
        self.dropped_label = QLabel("")
        form.addRow("Judged by", self.engine_label)
        form.addRow("Latency", self.latency_label)
        form.addRow("Camera", self.camera_label)
        form.addRow("", self.dropped_label)
        side.addLayout(form)

        self.source_edit = QLineEdit(source)
        self.source_edit.setToolTip("usb:0, rtsp://..., http(s)://..., a video file, folder:DIR")
        self.recipe_box = QComboBox()
        self.recipe_box.setEditable(True)
        self.recipe_box.addItem(recipe)
        self.recipe_box.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        browse = QPushButton("…")
        browse.setFixedWidth(32)
        browse.setToolTip("Choose a recipe file")
        browse.clicked.connect(self._browse_recipe)
        recipe_row = QHBoxLayout()
        recipe_row.addWidget(self.recipe_box)
        recipe_row.addWidget(browse)
        setup = QFormLayout()
        setup.addRow("Camera", self.source_edit)
        setup.addRow("Recipe", recipe_row)
        side.addLayout(setup)

        buttons = QHBoxLayout()
        self.start_button = QPushButton("Start")
        self.stop_button = QPushButton("Stop")
        self.trigger_button = QPushButton("Trigger (Space)")
        self.settings_button = QPushButton("Settings…")
        for button in (self.start_button, self.stop_button, self.trigger_button):
            button.setMinimumHeight(44)
        self.start_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.stop)
        self.trigger_button.clicked.connect(self.trigger)
        self.settings_button.clicked.connect(self.settings_requested)
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.stop_button)
        buttons.addWidget(self.trigger_button)
        side.addLayout(buttons)
        side.addWidget(self.settings_button)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        side.addWidget(self.status)
        side.addStretch(1)
        QShortcut(QKeySequence(Qt.Key.Key_Space), self, activated=self.trigger)

        panel = QWidget()
        panel.setLayout(side)
        panel.setFixedWidth(380)
        layout = QHBoxLayout(self)
        layout.addWidget(self.image, 1)
        layout.addWidget(panel)
        self._set_running(False)

    # -- actions ---------------------------------------------------------------------------
    @property
    def recipe_path(self) -> str:
        return self.recipe_box.currentText().strip()

    def start(self) -> None:
        if self._task is not None or self.runner.station is not None:
            return
        source, recipe = self.source_edit.text().strip(), self.recipe_path
        self._set_status("Preparing: recipe, camera, model…")
        self.start_button.setEnabled(False)
        self.stop_button.setEnabled(True)  # cancels a slow start

        def work(progress):
            return self.runner.start(
                recipe, source, self.bridge.listener, self.trigger_policy, progress
            )

        self._task = Task(work, self)
        self._task.progress.connect(self._set_status)
        self._task.finished.connect(self._started)
        self._task.failed.connect(self._start_failed)
        self._task.start()

    def _started(self, station) -> None:
        self._task = None
        self._roi = None
        recipe = station.recipe
        if recipe.roi is not None:
            self._roi = (recipe.roi.x, recipe.roi.y, recipe.roi.width, recipe.roi.height)
        self.engine_label.setText(station.chain.description)
        self.camera_label.setText(f"running: {station.source.uri}")
        self.camera_label.setStyleSheet("")
        self._set_status(f"Running {recipe.name} v{recipe.version} ({station.policy}).")
        self._set_running(True)

    def _start_failed(self, exc: BaseException) -> None:
        self._task = None
        self._set_running(False)
        self._show_banner(None, "NOT RUNNING")
        self.reason.setText(plain(exc))
        self._set_status(
            "Fix the camera, the recipe or the model in Settings, then Start.", error=True
        )

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
        if not station.trigger():
            self._set_status(
                "This camera runs free: a trigger needs `trigger: {mode: software}` in the "
                "recipe's camera section (files and folders give every part anyway)."
            )

    # -- station events --------------------------------------------------------------------
    def _on_recorded(self, event: InspectionRecorded) -> None:
        self.last_verdict = event
        verdict = event.verdict
        self.counters.add(verdict.outcome)
        self._show_banner(verdict.outcome, verdict.outcome.value)
        defects = ", ".join(d.class_name for d in verdict.defects)
        self.reason.setText(verdict.reason + (f"\nDefects: {defects}" if defects else ""))
        decided = verdict.decided_by
        if decided is not None:
            self.engine_label.setText(f"{decided.engine}: {decided.model_id}")
        self.latency_label.setText(f"{event.timings.judge_ms:.0f} ms")
        c = self.counters
        for name, value in (
            ("Total", c.total),
            ("Pass", c.passed),
            ("Fail", c.failed),
            ("Unsure", c.unsure),
        ):
            self.count_labels[name].setText(str(value))
        self.count_labels["Yield"].setText(f"{c.yield_percent:.1f} %")
        boxes = tuple(
            ((d.box.x0, d.box.y0, d.box.x1, d.box.y1), d.class_name)
            for d in verdict.defects
            if d.box is not None
        )
        self.shown_frame = event.frame.image
        self.image.set_image(event.frame.image, Overlay(self._roi, boxes))

    def _on_source_event(self, event: SourceEvent) -> None:
        self.camera_label.setText(f"{event.state}: {event.message}")
        bad = event.state in (SourceState.RECONNECTING, SourceState.LOST)
        self.camera_label.setStyleSheet("color:#e0a800;" if bad else "")

    def _on_stopped(self, event: StationStopped) -> None:
        self._set_running(False)
        stats = event.stats
        self._set_status(
            f"Stopped: {stats.captured} captured, {stats.judged} judged, "
            f"{stats.recorded} recorded, {stats.dropped} skipped."
        )
        self.camera_label.setText("stopped")

    def _show_latest_frame(self) -> None:
        frame = self.bridge.take_frame()
        if frame is None:
            return
        self._frames_shown += 1
        boxes = ()
        last = self.last_verdict
        if last is not None and time.monotonic_ns() - last.frame.captured_monotonic_ns < 3e9:
            boxes = tuple(
                ((d.box.x0, d.box.y0, d.box.x1, d.box.y1), d.class_name)
                for d in last.verdict.defects
                if d.box is not None
            )
        self.shown_frame = frame.image
        self.image.set_image(frame.image, Overlay(self._roi, boxes))

    # -- helpers ---------------------------------------------------------------------------
    def _show_banner(self, outcome: Outcome | None, text: str) -> None:
        self.banner.setText(text)
        self.banner.setStyleSheet(BANNER_STYLES[outcome] + "border-radius:8px;")

    def _set_status(self, message: str, error: bool = False) -> None:
        self.status.setText(message)
        self.status.setStyleSheet("color:#ff8a80;" if error else "color:#8a8f98;")

    def _set_running(self, running: bool) -> None:
        self.start_button.setEnabled(not running)
        self.stop_button.setEnabled(running)
        self.trigger_button.setEnabled(running)
        self.source_edit.setEnabled(not running)
        self.recipe_box.setEnabled(not running)
        self.running_changed.emit(running)

    def _browse_recipe(self) -> None:
        start = str(Path(self.recipe_path).parent) if self.recipe_path else ""
        path, _ = QFileDialog.getOpenFileName(self, "Recipe", start, "Recipes (*.yaml *.yml)")
        if path:
            self.recipe_box.setEditText(path)
