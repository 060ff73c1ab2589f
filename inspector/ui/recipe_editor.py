"""The recipe editor: prompt, defect classes, ROI drawn on a frame, references, engines, pass rule.

The engine chain is a form (`engine_chain_form`); what the form does not show (defect examples,
privacy, tiles, zoom, the chain's other settings...) is kept from the recipe as opened, so a
recipe opened and saved unchanged is the same recipe. "Try on this frame" judges the shown
image with the recipe as edited, sharing the models the station holds loaded
(`station.trial`). "Save as new version" writes the next version beside the old ones and
records it with the reason asked; an old version is never changed; where the station runs an
older version of it, it offers to switch the station to the new one (between parts). A recipe
with a `texture` engine can be learnt from here (`learn_box`).

The saved file is the opened one with only the changed fields rewritten: the engineer's
comments and layout stay (`inspector.recipe_file`). "New recipe…" starts a new part's recipe
from a template (`recipe_versions.new_recipe_template`), asking first before unsaved edits are
dropped; its first save is version 1, in the folder chosen, and its later versions go beside it.
An engine that reports a class of its own (reference: "deviation", texture: "texture") gets
that class listed when it is added or its class is set; a class the recipe still lacks is said
above the defect table, with a button that adds it, and after a try that was not PASS.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import cv2
import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from inspector.domain import Severity
from inspector.errors import InputError
from inspector.judges import build_chain
from inspector.recipes import Recipe, load_recipe, parse_recipe
from inspector.station.learning import learns
from inspector.station.runner import StationRunner, read_image_or_explain
from inspector.station.trial import trial_chain
from inspector.store import Store
from inspector.store.audit.users import Permission
from inspector.ui.defect_class_notice import DefectClassNotice
from inspector.ui.engine_chain_form import EngineChainForm
from inspector.ui.image_view import ImageView, Overlay
from inspector.ui.learn_box import LearnBox
from inspector.ui.messages import plain, show_error
from inspector.ui.new_recipe_dialog import NewRecipeDialog
from inspector.ui.recipe_versions import (
    new_recipe_problem,
    new_recipe_template,
    save_new_version,
    shown_path,
)
from inspector.ui.station_switch import StationSwitch
from inspector.ui.workers import Task

SEVERITIES = [s.value for s in Severity]


class RecipeEditor(QWidget):
    saved = Signal(str)  # path of the new version
    station_switched = Signal(str)  # what the station now runs, once switched from here

    def __init__(
        self,
        store: Store,
        recipes_dir: Path,
        frame_source=None,
        identity=None,
        runner: StationRunner | None = None,
    ) -> None:
        super().__init__()
        self.store = store
        self.identity = identity or (lambda: None)  # who saves; None: the store's account
        self.recipes_dir = recipes_dir
        self.frame_source = frame_source  # a callable giving the latest live frame, or None
        # The station's runner: Try shares its loaded models (`loaded_judge`), a saved version
        # may be switched in (`select_recipe_file`). None: an editor on its own.
        self.runner = runner
        self.path: Path | None = None
        self.frame: np.ndarray | None = None
        self._task: Task | None = None
        self._base: Recipe | None = None  # as opened: what the form does not show is kept
        self._opened: dict | None = None  # the form as opened or saved: edits since are unsaved
        self._new_folder: Path | None = None  # a new recipe not saved yet: where it goes
        # Asked before unsaved edits are dropped (True: drop them), for a new version's reason
        # (None: cancelled), and whether to switch the station to it. Tests answer the way a
        # person would.
        self.confirm_discard = self._ask_discard
        self.ask_reason = self._ask_reason
        self.ask_new = self._ask_new  # (name, folder) of a new recipe, or None: cancelled
        self.switch = StationSwitch(runner, self)
        self.switch.said.connect(self._tell)
        self.switch.switched.connect(self.station_switched)
        self.confirm_switch = self.switch.ask
        self._build()

    # -- layout ----------------------------------------------------------------------------
    def _build(self) -> None:
        self.file_label = QLabel("No recipe open")
        self.file_label.setWordWrap(True)
        self.new_button = QPushButton("New recipe…")
        self.new_button.setToolTip("Start a new part's recipe from a template")
        self.new_button.clicked.connect(self.new_recipe)
        open_button = QPushButton("Open…")
        open_button.clicked.connect(self._open_dialog)
        top = QHBoxLayout()
        top.addWidget(self.file_label, 1)
        top.addWidget(self.new_button)
        top.addWidget(open_button)

        form = QFormLayout()
        self.name = QLineEdit()
        self.version = QLabel("-")
        self.product = QLineEdit()
        self.prompt = QPlainTextEdit()
        self.prompt.setMinimumHeight(90)
        form.addRow("Name", self.name)
        form.addRow("Version", self.version)
        form.addRow("Product", self.product)
        form.addRow("Prompt", self.prompt)

        self.defects = QTableWidget(0, 3)
        self.defects.setHorizontalHeaderLabels(["Defect class", "Severity", "Description"])
        self.defects.horizontalHeader().setStretchLastSection(True)
        add_defect = QPushButton("Add class")
        add_defect.clicked.connect(lambda: self._add_defect("", "major", ""))
        remove_defect = QPushButton("Remove class")
        remove_defect.clicked.connect(lambda: self.defects.removeRow(self.defects.currentRow()))
        defect_buttons = QHBoxLayout()
        defect_buttons.addWidget(add_defect)
        defect_buttons.addWidget(remove_defect)
        defect_box = QVBoxLayout()
        defect_box.addWidget(self.defects)
        defect_box.addLayout(defect_buttons)
        form.addRow("Defects", defect_box)

        self.roi = [QSpinBox() for _ in range(4)]
        roi_row = QHBoxLayout()
        for label, box in zip(("x", "y", "w", "h"), self.roi, strict=True):
            box.setRange(0, 100_000)
            roi_row.addWidget(QLabel(label))
            roi_row.addWidget(box)
            box.valueChanged.connect(self._update_overlay)
        clear_roi = QPushButton("Whole image")
        clear_roi.clicked.connect(lambda: [b.setValue(0) for b in self.roi])
        roi_row.addWidget(clear_roi)
        form.addRow("Region", roi_row)

        self.references = QListWidget()
        self.references.setMaximumHeight(80)
        add_ref = QPushButton("Add image…")
        add_ref.clicked.connect(self._add_reference_file)
        add_live = QPushButton("Add shown frame")
        add_live.setToolTip("Use the image shown on the right as a good part")
        add_live.clicked.connect(self._add_reference_frame)
        remove_ref = QPushButton("Remove")
        remove_ref.clicked.connect(lambda: self.references.takeItem(self.references.currentRow()))
        ref_buttons = QHBoxLayout()
        for b in (add_ref, add_live, remove_ref):
            ref_buttons.addWidget(b)
        ref_box = QVBoxLayout()
        ref_box.addWidget(self.references)
        ref_box.addLayout(ref_buttons)
        form.addRow("Good parts", ref_box)

        self.chain = EngineChainForm()
        self.chain.setToolTip("The judge chain: engines tried in order")
        self.chain.changed.connect(self._chain_changed)
        form.addRow("Engines", self.chain)
        self.learn = LearnBox(self._learn_target)
        self.learn.hide()  # shown for a chain with an engine that learns
        form.addRow("", self.learn)

        self.fail_checks = {s: QCheckBox(s) for s in SEVERITIES}
        fails = QHBoxLayout()
        for check in self.fail_checks.values():
            fails.addWidget(check)
        self.min_confidence = QDoubleSpinBox()
        self.min_confidence.setRange(0.0, 1.0)
        self.min_confidence.setSingleStep(0.05)
        self.min_confidence.setDecimals(3)
        self.unknown = QComboBox()
        self.unknown.addItems(["unsure", "fail"])
        form.addRow("Fail on", fails)
        form.addRow("Min confidence", self.min_confidence)
        form.addRow("Unknown class", self.unknown)
        # Above the defect table: a class an engine reports that the recipe does not list.
        self.class_notice = DefectClassNotice(
            self.defects, self.chain, self.unknown, self._add_defect
        )
        self.class_notice.said.connect(self._say)
        defect_box.insertWidget(0, self.class_notice)

        self.try_button = QPushButton("Try on this frame")
        self.try_button.clicked.connect(self.try_on_frame)
        self.save_button = QPushButton("Save as new version")
        self.save_button.clicked.connect(self.save)
        actions = QHBoxLayout()
        actions.addWidget(self.try_button)
        actions.addWidget(self.save_button)
        self.result = QLabel("")
        self.result.setWordWrap(True)

        left = QVBoxLayout()
        left.addLayout(top)
        left.addLayout(form)
        left.addLayout(actions)
        left.addWidget(self.result)
        left_widget = QWidget()
        left_widget.setLayout(left)
        # The form scrolls: the window fits a 1024 x 768 panel PC.
        left_scroll = QScrollArea()
        left_scroll.setWidgetResizable(True)
        left_scroll.setWidget(left_widget)
        left_scroll.setMinimumWidth(360)

        self.image = ImageView(placeholder="Load an image or take the live frame; drag to draw")
        self.image.enable_drawing(True)
        self.image.rectangle_drawn.connect(self._roi_drawn)
        live = QPushButton("Use live frame")
        live.clicked.connect(self.use_live_frame)
        load = QPushButton("Load image…")
        load.clicked.connect(self._load_image_dialog)
        image_buttons = QHBoxLayout()
        image_buttons.addWidget(live)
        image_buttons.addWidget(load)
        right = QVBoxLayout()
        right.addWidget(self.image, 1)
        right.addLayout(image_buttons)
        right_widget = QWidget()
        right_widget.setLayout(right)

        splitter = QSplitter()
        splitter.addWidget(left_scroll)
        splitter.addWidget(right_widget)
        splitter.setSizes([660, 540])  # the form is the job here; the image draws the ROI
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)

    # -- loading into the form -------------------------------------------------------------
    def open(self, path: str | Path) -> None:
        # Absolute from here on: the references resolve against the recipe's folder once,
        # whatever the working directory (`--recipe assets/demo/recipe.yaml` resolved them
        # twice: assets/demo/assets/demo/camera/...).
        path = Path(path).resolve()
        recipe = load_recipe(path)
        self.path = path
        self._new_folder = None
        self.file_label.setText(str(self.path))
        self._fill(recipe)

    def _fill(self, recipe: Recipe) -> None:
        """The form shows `recipe`; what it does not show is kept from it."""
        folder = self.path.parent if self.path is not None else None
        self.class_notice.forget()
        self.name.setText(recipe.name)
        self.version.setText(str(recipe.version))
        self.product.setText(recipe.product)
        self.prompt.setPlainText(recipe.prompt)
        self.defects.setRowCount(0)
        for d in recipe.defects:
            self._add_defect(d.name, d.severity.value, d.description)
        values = (
            (recipe.roi.x, recipe.roi.y, recipe.roi.width, recipe.roi.height)
            if recipe.roi
            else (0, 0, 0, 0)
        )
        for box, value in zip(self.roi, values, strict=True):
            box.setValue(value)
        self.references.clear()
        for ref in recipe.references:
            self.references.addItem(shown_path(ref, folder))
        self.chain.set_chain(recipe.engines, recipe.chain.screen)
        for severity, check in self.fail_checks.items():
            check.setChecked(Severity(severity) in recipe.pass_rule.fail_severities)
        self.min_confidence.setValue(recipe.pass_rule.min_confidence)
        self.unknown.setCurrentText(recipe.pass_rule.unknown_defect)
        self.result.setText("")
        self.result.setStyleSheet("")
        self._base = recipe
        self._opened = self.form_data()
        self._chain_changed()
        self.class_notice.refresh()

    def new_recipe(self) -> bool:
        """Start a new part's recipe: asks first before unsaved edits are dropped, then its
        name and folder; the form shows the template, unsaved, version 1. True if started."""
        if self.unsaved and not self.confirm_discard():
            return False
        answer = self.ask_new()
        if answer is None:
            return False
        name, folder = answer
        problem = new_recipe_problem(name, folder, self.store)
        if problem:  # the dialog says so before closing; said here for any other asker
            self.result.setText(problem)
            self.result.setStyleSheet("color:#ff8a80;")
            return False
        template = new_recipe_template(name.strip(), self._station_engines())
        self.path = None
        self._new_folder = folder
        self._fill(template)
        self._base = None  # nothing kept from a file: the form is the whole recipe
        self.file_label.setText(
            f"New recipe {template.name}, not saved yet: version 1 goes to "
            f"{folder / template.name / 'v1.yaml'}"
        )
        self.result.setStyleSheet("")
        self.result.setText(
            "Add images of good parts, check the defect classes and the prompt, try it on a "
            "frame, then save it (version 1)."
        )
        return True

    def _station_engines(self) -> list[dict] | None:
        """The running station's judge chain (a new part on the same line is judged alike,
        sharing its loaded model); None where no station runs."""
        station = self.runner.station if self.runner is not None else None
        if station is None or not station.views:
            return None
        return [dict(entry) for entry in station.views[0].recipe.engines]

    @property
    def unsaved(self) -> bool:
        """The form differs from the recipe as opened or last saved (or from a new recipe's
        template)."""
        return self._opened is not None and self.form_data() != self._opened

    def _add_defect(self, name: str, severity: str, description: str) -> None:
        row = self.defects.rowCount()
        self.defects.insertRow(row)
        self.defects.setItem(row, 0, QTableWidgetItem(name))
        combo = QComboBox()
        combo.addItems(SEVERITIES)
        combo.setCurrentText(severity)
        self.defects.setCellWidget(row, 1, combo)
        self.defects.setItem(row, 2, QTableWidgetItem(description))

    # -- reading the form ------------------------------------------------------------------
    def form_data(self) -> dict:
        """The form as it stands, unchecked (engines as their fields' text)."""
        defects = []
        for row in range(self.defects.rowCount()):
            cells = [self.defects.item(row, column) for column in (0, 2)]
            severity = self.defects.cellWidget(row, 1)
            defects.append(
                (
                    *(c.text() if c is not None else "" for c in cells),
                    severity.currentText() if severity is not None else "",
                )
            )
        return {
            "name": self.name.text(),
            "product": self.product.text(),
            "prompt": self.prompt.toPlainText(),
            "defects": defects,
            "roi": [b.value() for b in self.roi],
            "references": [self.references.item(i).text() for i in range(self.references.count())],
            "engines": self.chain.texts(),
            "fail": [s for s, c in self.fail_checks.items() if c.isChecked()],
            "min_confidence": self.min_confidence.value(),
            "unknown": self.unknown.currentText(),
        }

    def recipe_from_form(self) -> Recipe:
        """The recipe as edited; InputError names the field that is wrong."""
        problems = self.chain.validate()  # each shown beside its field
        if problems:
            raise InputError("recipe editor: " + "; ".join(problems))
        engines = self.chain.entries()
        base = self._base
        examples = {d.name.lower(): d.examples for d in base.defects} if base else {}
        defects = []
        for row in range(self.defects.rowCount()):
            name = (self.defects.item(row, 0) or QTableWidgetItem("")).text().strip()
            if not name:
                raise InputError(
                    f"recipe editor: field `defects.{row}.name`: give the class a name"
                )
            defect = {
                "name": name,
                "severity": self.defects.cellWidget(row, 1).currentText(),
                "description": (self.defects.item(row, 2) or QTableWidgetItem("")).text(),
            }
            if examples.get(name.lower()):  # not in the form: kept with the class's name
                defect["examples"] = examples[name.lower()]
            defects.append(defect)
        x, y, w, h = (b.value() for b in self.roi)
        # What the form does not show (privacy, camera, tiles, zoom, budget, the chain's other
        # settings...) is the recipe's as opened, as it was written.
        kept = base.model_dump(exclude_unset=True) if base is not None else {}
        chain = dict(kept.get("chain", {}))
        if self.chain.screen_mode() != (base.chain.screen if base else "veto"):
            chain["screen"] = self.chain.screen_mode()
        confidence = self.min_confidence.value()
        if base is not None and self._opened and confidence == self._opened["min_confidence"]:
            confidence = base.pass_rule.min_confidence  # untouched: not rounded by the box
        data = kept | {
            "name": self.name.text().strip(),
            "version": int(self.version.text()) if self.version.text().isdigit() else 1,
            "product": self._as_opened("product", self.product.text(), str.strip),
            "prompt": self._as_opened("prompt", self.prompt.toPlainText(), str.strip),
            "defects": defects,
            "roi": {"x": x, "y": y, "width": w, "height": h} if w and h else None,
            "references": [self.references.item(i).text() for i in range(self.references.count())],
            "engines": engines,
            "pass_rule": {
                "fail_severities": [s for s, c in self.fail_checks.items() if c.isChecked()],
                "min_confidence": confidence,
                "unknown_defect": self.unknown.currentText(),
            },
        }
        if chain:
            data["chain"] = chain
        folder = self.path.parent if self.path else None
        recipe = parse_recipe(data, "editor", base_dir=folder)
        build_chain(recipe, "editor")  # engine settings are checked by their engines
        return recipe

    def _as_opened(self, key: str, text: str, clean) -> str:
        """A text field's value: as the recipe had it while untouched (a prompt's last newline
        kept), else the text cleaned."""
        if self._base is not None and self._opened and text == self._opened[key]:
            return getattr(self._base, key)
        return clean(text)

    # -- actions ---------------------------------------------------------------------------
    def save(self) -> Path | None:
        try:
            recipe = self.recipe_from_form()
        except Exception as exc:
            self.result.setText(plain(exc))
            self.result.setStyleSheet("color:#ff8a80;")
            return None
        try:  # who may not save is told so before being asked why
            (self.identity() or self.store.actor).require(Permission.SAVE_RECIPE)
        except Exception as exc:
            self.result.setText(plain(exc))
            self.result.setStyleSheet("color:#ff8a80;")
            return None
        if self._new_folder is not None:  # renamed since: its new name must be free too
            problem = new_recipe_problem(recipe.name, self._new_folder, self.store)
            if problem:
                self.result.setText(problem)
                self.result.setStyleSheet("color:#ff8a80;")
                return None
        reason = self.ask_reason(recipe)
        if reason is None:
            self.result.setStyleSheet("")
            self.result.setText("Not saved: a new version needs a reason.")
            return None
        try:
            _, path = save_new_version(
                recipe,
                self._save_folder(),
                self.store,
                self.identity(),
                reason=reason,
                based_on=self._base.name if self._base is not None else None,
                source=self.path,
                first=self._new_folder is not None,
            )
        except Exception as exc:
            self.result.setText(plain(exc))
            self.result.setStyleSheet("color:#ff8a80;")
            return None
        self.open(path)
        self.result.setText(f"Saved as version {self.version.text()}: {path}")
        self.result.setStyleSheet("color:#7bd88f;")
        self.saved.emit(str(path))
        self.offer_switch(path)
        return path

    def _save_folder(self) -> Path:
        """Where a version's folder goes: a new recipe's chosen folder; beside the versions of
        the recipe opened where it is one (`FOLDER/NAME/vN.yaml`); else the recipes folder."""
        if self._new_folder is not None:
            return self._new_folder
        if (
            self.path is not None
            and self._base is not None
            and self.path.parent.name == self._base.name
            and self.path.stem[:1] == "v"
            and self.path.stem[1:].isdigit()
        ):
            return self.path.parent.parent
        return self.recipes_dir

    def _say(self, text: str) -> None:
        self.result.setStyleSheet("")
        self.result.setText(text)

    # -- the station -----------------------------------------------------------------------
    def offer_switch(self, path: Path) -> bool:
        """Where the station runs an older version of this recipe, ask whether to switch it to
        the version at `path` now; True if it switches (see `station_switch`)."""
        if self.runner is None or self._base is None:
            return False
        return self.switch.offer(self._base, path, self.confirm_switch)

    def _tell(self, text: str, error: bool) -> None:
        self.result.setText(f"{self.result.text()}\n{text}")
        if error:
            self.result.setStyleSheet("color:#ff8a80;")

    def _chain_changed(self) -> None:
        """The Learn button is there for a chain with an engine that learns."""
        self.learn.setVisible(learns([{"engine": name} for name in self.chain.engine_names()]))

    def _learn_target(self) -> tuple[Path | None, str]:
        """The recipe file Learn learns for, and why it cannot now ("" when it can)."""
        if self.path is None:
            if self._new_folder is not None:
                return None, "Save the new recipe first (version 1)."
            return None, "Open the recipe first."
        if self.unsaved:
            return self.path, (
                "Save the edits as a new version first: the learned model is kept for one "
                "saved version of the recipe."
            )
        return self.path, ""

    def try_on_frame(self) -> None:
        if self.frame is None:
            self.result.setText("Load an image or take the live frame first.")
            return
        try:
            recipe = self.recipe_from_form()
        except Exception as exc:
            self.result.setText(plain(exc))
            return
        frame = self.frame
        loaded = self.runner.loaded_judge if self.runner is not None else None
        self.try_button.setEnabled(False)
        self.result.setStyleSheet("")
        self.result.setText("Judging…")

        def work(progress):
            trial = trial_chain(recipe, "editor", loaded, progress)
            return trial, trial.chain.judge(frame)

        self._task = Task(work, self)
        self._task.progress.connect(self.result.setText)
        self._task.finished.connect(self._tried)
        self._task.failed.connect(self._try_failed)
        self._task.start()

    def _tried(self, tried) -> None:
        trial, verdict = tried
        self.try_button.setEnabled(True)
        defects = ", ".join(d.class_name for d in verdict.defects) or "none"
        how = []
        if trial.shared:
            how.append("the station's loaded " + ", ".join(trial.shared))
        if trial.loaded:
            how.append("loaded for this try (the station holds none): " + ", ".join(trial.loaded))
        why = ""
        unlisted = self.class_notice.messages()
        if unlisted and verdict.outcome.value != "PASS":  # the likely cause, said with its fix
            why = "\nWhy: " + "\n".join(unlisted)
        self.result.setText(
            f"{verdict.outcome.value}: {verdict.reason}\nDefects: {defects}\n"
            f"Judged with {'; '.join(how)}.{why}"
        )
        boxes = tuple(
            ((d.box.x0, d.box.y0, d.box.x1, d.box.y1), d.class_name)
            for d in verdict.defects
            if d.box is not None
        )
        self.image.set_overlay(Overlay(self._roi(), boxes))

    def _try_failed(self, exc: BaseException) -> None:
        self.try_button.setEnabled(True)
        self.result.setText(plain(exc))
        show_error(self, "Try on this frame", exc)

    def use_live_frame(self) -> None:
        frame = self.frame_source() if self.frame_source else None
        if frame is None:
            self.result.setText("No live frame: start the station first, or load an image.")
            return
        self.set_frame(frame)

    def set_frame(self, image: np.ndarray) -> None:
        self.frame = image
        self.image.set_image(image, Overlay(self._roi()))

    def _load_image_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Image", "", "Images (*.png *.jpg *.bmp)")
        if path:
            try:
                self.set_frame(read_image_or_explain(Path(path), "image"))
            except InputError as exc:
                self.result.setText(str(exc))

    def _ask_reason(self, recipe: Recipe) -> str | None:
        """Why this version: asked until given, or None when the person cancels."""
        what = "recipe" if self._new_folder is not None else "version of"
        prompt = f"Why a new {what} {recipe.name}? (recorded in the audit trail)"
        while True:
            text, ok = QInputDialog.getText(self, "Save as new version", prompt)
            if not ok:
                return None
            if text.strip():
                return text.strip()
            prompt = f"A reason is required. Why a new version of {recipe.name}?"

    def _ask_new(self) -> tuple[str, Path] | None:
        folder = self._new_folder or self.recipes_dir
        dialog = NewRecipeDialog(
            folder, lambda name, where: new_recipe_problem(name, where, self.store), self
        )
        accepted = dialog.exec() == NewRecipeDialog.DialogCode.Accepted
        answer = dialog.answer()
        dialog.deleteLater()  # on this, the GUI thread
        return answer if accepted else None

    def _ask_discard(self) -> bool:
        answer = QMessageBox.question(
            self,
            "Unsaved edits",
            f"The recipe {self.name.text() or ''} has edits that are not saved. Drop them?",
            QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Discard

    def open_other(self, path: str | Path) -> bool:
        """Open another recipe, first asking before unsaved edits are dropped."""
        if self.unsaved and not self.confirm_discard():
            return False
        try:
            self.open(path)
        except InputError as exc:
            self.result.setText(str(exc))
            return False
        return True

    def _open_dialog(self) -> None:
        if self.unsaved and not self.confirm_discard():
            return
        start = str(self.path.parent) if self.path else ""
        path, _ = QFileDialog.getOpenFileName(self, "Recipe", start, "Recipes (*.yaml *.yml)")
        if path:
            try:
                self.open(path)
            except InputError as exc:
                self.result.setText(str(exc))

    def _add_reference_file(self) -> None:
        start = str(self.path.parent) if self.path else ""
        path, _ = QFileDialog.getOpenFileName(
            self, "Good part", start, "Images (*.png *.jpg *.bmp)"
        )
        if path:
            self.references.addItem(shown_path(path, self.path.parent if self.path else None))

    def _add_reference_frame(self) -> None:
        if self.frame is None:
            self.result.setText("No frame shown to take as a good part.")
            return
        folder = self.recipes_dir / "captured"
        folder.mkdir(parents=True, exist_ok=True)
        _, data = cv2.imencode(".png", self.frame)
        path = folder / f"{hashlib.sha256(data.tobytes()).hexdigest()[:16]}.png"
        path.write_bytes(data.tobytes())
        self.references.addItem(shown_path(path, self.path.parent if self.path else None))

    def _roi(self) -> tuple[int, int, int, int] | None:
        x, y, w, h = (b.value() for b in self.roi)
        return (x, y, w, h) if w and h else None

    def _roi_drawn(self, x: int, y: int, w: int, h: int) -> None:
        for box, value in zip(self.roi, (x, y, w, h), strict=True):
            box.setValue(value)

    def _update_overlay(self) -> None:
        self.image.set_overlay(Overlay(self._roi()))
