"""The judge chain as a form: engines in order (add, remove, reorder), each with its settings as
typed fields made from the engine's own settings class, and the chain's screen mode.

Invariants: an engine entry the person did not touch comes out exactly as it went in (same keys,
same order, same values), so a recipe opened and saved unchanged is the same recipe; a field
left empty is left out of the entry (the engine's default). Every problem is shown next to its
field, as the engine's settings class words it, and named `engines.N.FIELD` in messages. An
engine this installation does not know is kept and edited as YAML, saying so.

An engine that names what it finds with a class of its own (`defect_class`: reference,
texture) says that class (`class_named`) when it is added, and when its class or its screen
setting is committed: the recipe editor lists the class if the recipe does not, so no flagged
part is UNSURE for want of it (issue 13).
"""

from __future__ import annotations

from typing import Any

import yaml
from pydantic import ValidationError
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from inspector.errors import InputError
from inspector.judges import ENGINES, engine_class
from inspector.judges.defect_classes import reported_class
from inspector.ui.settings_fields import FieldError, FieldSpec, fields_of, from_text, to_text

ERROR_STYLE = "color:#ff8a80;"
SCREEN_MODES = ("veto", "advisory")


class _Field:
    """One setting's widget, its error label, and the value it was opened with."""

    def __init__(self, spec: FieldSpec, entry: dict, on_change) -> None:
        self.spec = spec
        self.present = spec.name in entry
        self.original = entry.get(spec.name)
        value = self.original if self.present else (None if spec.required else spec.default)
        if spec.kind == "bool" and not spec.nullable:
            self.widget: QWidget = QCheckBox()
            self.widget.setChecked(bool(value))
            self.widget.toggled.connect(on_change)
        elif spec.kind in ("choice", "bool"):
            self.widget = QComboBox()
            choices = spec.choices if spec.kind == "choice" else ("true", "false")
            if spec.nullable or not spec.required:
                self.widget.addItem(f"({spec.default_text()})", "")
            for choice in choices:
                self.widget.addItem(choice, choice)
            shown = to_text(spec, value) if self.present else ""
            index = self.widget.findData(shown)
            if index < 0:  # a value the class does not offer: shown, and flagged on validation
                self.widget.addItem(shown, shown)
                index = self.widget.count() - 1
            self.widget.setCurrentIndex(index)
            self.widget.currentIndexChanged.connect(on_change)
        elif spec.kind == "lines":
            self.widget = QPlainTextEdit(to_text(spec, value) if self.present else "")
            self.widget.setPlaceholderText(f"one a line ({spec.default_text()})")
            self.widget.setMaximumHeight(64)
            self.widget.textChanged.connect(on_change)
        else:
            self.widget = QLineEdit(to_text(spec, value) if self.present else "")
            self.widget.setPlaceholderText(spec.default_text())
            self.widget.textChanged.connect(on_change)
        self.error = QLabel("")
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.setWordWrap(True)
        self.error.hide()
        self.opened_text = self.text()

    def text(self) -> str:
        w = self.widget
        if isinstance(w, QCheckBox):
            return "true" if w.isChecked() else "false"
        if isinstance(w, QComboBox):
            return w.currentData() or ""
        if isinstance(w, QPlainTextEdit):
            return w.toPlainText()
        return w.text()

    def set_text(self, text: str) -> None:
        w = self.widget
        if isinstance(w, QCheckBox):
            w.setChecked(text == "true")
        elif isinstance(w, QComboBox):
            w.setCurrentIndex(max(0, w.findData(text)))
        elif isinstance(w, QPlainTextEdit):
            w.setPlainText(text)
        else:
            w.setText(text)

    def value(self) -> Any:
        """The entry's value for this field; Ellipsis: left out. FieldError: not its type."""
        if self.text() == self.opened_text:  # untouched: exactly as it was read
            return self.original if self.present else ...
        return from_text(self.spec, self.text())

    def show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.setVisible(bool(message))


class EngineEditor(QWidget):
    """One engine entry: its settings as typed fields (or as YAML for an unknown engine)."""

    changed = Signal()
    class_committed = Signal()  # its `defect_class` or `screen` was set (not each keystroke)

    def __init__(self, entry: dict) -> None:
        super().__init__()
        self.engine = str(entry.get("engine", ""))
        self.order = list(entry)  # the entry's keys in the order it was written
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.problem = QLabel("")  # what belongs to no single field
        self.problem.setStyleSheet(ERROR_STYLE)
        self.problem.setWordWrap(True)
        self.problem.hide()
        layout.addWidget(self.problem)
        self.fields: dict[str, _Field] = {}
        self.raw: QPlainTextEdit | None = None
        try:
            self.settings_class = engine_class(self.engine)
        except KeyError:
            self.settings_class = None
        form = QFormLayout()
        if self.settings_class is None:
            known = ", ".join(ENGINES)
            note = QLabel(
                f"Engine {self.engine!r} is not installed here (known: {known}); "
                "its settings are kept as YAML."
            )
            note.setWordWrap(True)
            layout.addWidget(note)
            self.raw = QPlainTextEdit(yaml.safe_dump(dict(entry), sort_keys=False))
            self.raw.textChanged.connect(lambda: self.changed.emit())
            layout.addWidget(self.raw)
            return
        specs = fields_of(self.settings_class.Settings)
        for spec in specs:
            field = _Field(spec, entry, lambda *_: self.changed.emit())
            self.fields[spec.name] = field
            cell = QVBoxLayout()
            cell.setSpacing(0)
            cell.addWidget(field.widget)
            cell.addWidget(field.error)
            label = spec.name + (" *" if spec.required else "")
            form.addRow(label, cell)
        committed = self.fields.get("defect_class"), self.fields.get("screen")
        for field in (f for f in committed if f is not None):
            if isinstance(field.widget, QLineEdit):
                field.widget.editingFinished.connect(self.class_committed.emit)
            elif isinstance(field.widget, QCheckBox):
                field.widget.toggled.connect(lambda *_: self.class_committed.emit())
            elif isinstance(field.widget, QComboBox):
                field.widget.currentIndexChanged.connect(lambda *_: self.class_committed.emit())
        # Keys the settings class does not have: kept, shown, and refused on validation.
        self.unknown = {k: v for k, v in entry.items() if k != "engine" and k not in self.fields}
        self.other = QLineEdit(
            yaml.safe_dump(self.unknown, default_flow_style=True).strip() if self.unknown else ""
        )
        self.other.setPlaceholderText("none")
        self.other.setToolTip("Fields this engine does not have (check their spelling)")
        self._other_text = self.other.text()
        self.other.textChanged.connect(lambda *_: self.changed.emit())
        self.other_error = QLabel("")
        self.other_error.setStyleSheet(ERROR_STYLE)
        self.other_error.hide()
        if self.unknown:
            cell = QVBoxLayout()
            cell.addWidget(self.other)
            cell.addWidget(self.other_error)
            form.addRow("other fields", cell)
        layout.addLayout(form)

    def field(self, name: str) -> _Field:
        return self.fields[name]

    def reported_class(self) -> str | None:
        """The defect class this engine will report what it finds as, from its fields as they
        stand (None: it reports none of its own, or a field is not readable yet)."""
        if self.raw is not None:
            return None
        entry: dict[str, Any] = {"engine": self.engine}
        for name in ("defect_class", "screen"):
            field = self.fields.get(name)
            if field is not None and field.text():
                try:
                    entry[name] = from_text(field.spec, field.text())
                except FieldError:
                    return None
        return reported_class(entry)

    def texts(self) -> dict:
        """The form as it stands (for "unsaved edits")."""
        if self.raw is not None:
            return {"raw": self.raw.toPlainText()}
        return {name: f.text() for name, f in self.fields.items()} | {"": self.other.text()}

    def entry(self, index: int) -> dict:
        """The engine entry; InputError naming `engines.INDEX.FIELD` where a field's text is
        not of its type (also shown beside it)."""
        if self.raw is not None:
            try:
                data = yaml.safe_load(self.raw.toPlainText())
            except yaml.YAMLError:
                raise InputError(f"field `engines.{index}`: not valid YAML") from None
            if not isinstance(data, dict):
                raise InputError(
                    f"field `engines.{index}`: give the engine's settings as a mapping"
                )
            return data
        values: dict[str, Any] = {"engine": self.engine}
        problems = []
        for name, field in self.fields.items():
            try:
                value = field.value()
            except FieldError as exc:
                field.show_error(f"should be {exc}")
                problems.append(f"field `engines.{index}.{name}`: should be {exc}")
                continue
            if value is not ...:
                values[name] = value
        other = self.unknown
        if self.other.text() != self._other_text:
            try:
                other = yaml.safe_load(self.other.text()) or {}
            except yaml.YAMLError:
                other = None
            if not isinstance(other, dict):
                self.other_error.setText("give them as {name: value}, or leave it empty")
                self.other_error.show()
                problems.append(f"field `engines.{index}`: other fields are not a mapping")
                other = {}
        values.update(other)
        if problems:
            raise InputError("; ".join(problems))
        # The keys as the entry was written, new ones after: an untouched entry is unchanged.
        ordered = {k: values[k] for k in self.order if k in values}
        return ordered | {k: v for k, v in values.items() if k not in ordered}

    def validate(self, index: int) -> list[str]:
        """Check the entry with the engine's settings class; show each problem beside its
        field; the problems, named `engines.INDEX.FIELD`."""
        for field in self.fields.values():
            field.show_error("")
        self.problem.hide()
        if self.raw is None:
            self.other_error.hide()
        try:
            entry = self.entry(index)
        except InputError as exc:
            return [str(exc)]
        if self.settings_class is None:
            return [f"field `engines.{index}.engine`: unknown engine {self.engine!r}"]
        try:
            self.settings_class.Settings.model_validate(entry)
        except ValidationError as exc:
            problems, loose = [], []
            for error in exc.errors():
                where = error["loc"][0] if error["loc"] else ""
                message = error["msg"]
                if error["type"] == "extra_forbidden":
                    message = "unknown field; check its spelling"
                problems.append(f"field `engines.{index}.{where}`: {message}")
                if where in self.fields:
                    self.fields[where].show_error(message)
                elif where in entry:  # a key of "other fields"
                    self.other_error.setText(f"{where}: {message}")
                    self.other_error.show()
                else:
                    loose.append(message)
            if loose:
                self.problem.setText("; ".join(loose))
                self.problem.show()
            return problems
        return []


class EngineChainForm(QWidget):
    """The recipe's `engines` (tried in order) and `chain.screen`."""

    changed = Signal()
    class_named = Signal(str, str)  # an engine (added, or its class set) and the class it reports

    def __init__(self) -> None:
        super().__init__()
        self.editors: list[EngineEditor] = []
        self.list = QListWidget()
        self.list.setMaximumHeight(96)
        self.list.currentRowChanged.connect(self._show)
        self.kind = QComboBox()
        self.kind.addItems(list(ENGINES))
        self.kind.setToolTip("The engine to add")
        add = QPushButton("Add")
        add.clicked.connect(lambda: self.add_engine(self.kind.currentText()))
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(lambda: self.remove_engine(self.list.currentRow()))
        self.up_button = QPushButton("▲")
        self.up_button.setToolTip("Try this engine earlier")
        self.up_button.clicked.connect(lambda: self.move_engine(self.list.currentRow(), -1))
        self.down_button = QPushButton("▼")
        self.down_button.setToolTip("Try this engine later")
        self.down_button.clicked.connect(lambda: self.move_engine(self.list.currentRow(), 1))
        buttons = QHBoxLayout()
        for widget in (self.kind, add, self.remove_button, self.up_button, self.down_button):
            buttons.addWidget(widget)
        for arrow in (self.up_button, self.down_button):
            arrow.setMaximumWidth(36)
        self.stack = QStackedWidget()
        self.screen = QComboBox()
        self.screen.addItems(SCREEN_MODES)
        self.screen.setToolTip(
            "A screen (reference or texture with `screen: true`) that did not clear a part: "
            "veto, a later PASS goes to a person; advisory, the model's PASS stands"
        )
        self.screen.currentIndexChanged.connect(lambda *_: self.changed.emit())
        self.chain_problem = QLabel("")
        self.chain_problem.setStyleSheet(ERROR_STYLE)
        self.chain_problem.setWordWrap(True)
        self.chain_problem.hide()
        screen_row = QHBoxLayout()
        screen_row.addWidget(QLabel("Screen"))
        screen_row.addWidget(self.screen, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.list)
        layout.addLayout(buttons)
        layout.addLayout(screen_row)
        layout.addWidget(self.chain_problem)
        layout.addWidget(self.stack)
        self.changed.connect(self._relabel)

    # -- contents --------------------------------------------------------------------------
    def set_chain(self, engines: tuple[dict, ...] | list[dict], screen: str) -> None:
        while self.editors:
            self._drop(0)
        for entry in engines:
            self._append(EngineEditor(dict(entry)))
        self.screen.setCurrentText(screen)
        self.list.setCurrentRow(0 if self.editors else -1)
        self._relabel()

    def entries(self) -> list[dict]:
        """The engines as the recipe lists them; InputError naming the field that is wrong."""
        return [editor.entry(i) for i, editor in enumerate(self.editors)]

    def screen_mode(self) -> str:
        return self.screen.currentText()

    def texts(self) -> list:
        return [(e.engine, e.texts()) for e in self.editors] + [self.screen_mode()]

    def engine_names(self) -> list[str]:
        return [e.engine for e in self.editors]

    def validate(self) -> list[str]:
        """Every engine checked by its settings class, problems shown beside their fields and
        the engine marked in the list; the problems."""
        problems = []
        for i, editor in enumerate(self.editors):
            found = editor.validate(i)
            problems += found
            self.list.item(i).setText(self._label(i, editor, bool(found)))
        if not self.editors:
            problems.append("field `engines`: add at least one engine")
        self.chain_problem.setText("Add at least one engine." if not self.editors else "")
        self.chain_problem.setVisible(not self.editors)
        return problems

    # -- editing ---------------------------------------------------------------------------
    def add_engine(self, name: str) -> EngineEditor:
        editor = EngineEditor({"engine": name})
        self._append(editor)
        self.list.setCurrentRow(len(self.editors) - 1)
        self.changed.emit()
        self._name_class(editor)
        return editor

    def remove_engine(self, index: int) -> None:
        if 0 <= index < len(self.editors):
            self._drop(index)
            self.list.setCurrentRow(min(index, len(self.editors) - 1))
            self.changed.emit()

    def move_engine(self, index: int, delta: int) -> None:
        to = index + delta
        if not (0 <= index < len(self.editors) and 0 <= to < len(self.editors)):
            return
        self.editors.insert(to, self.editors.pop(index))
        self.list.insertItem(to, self.list.takeItem(index))
        self.list.setCurrentRow(to)
        self.changed.emit()

    def _append(self, editor: EngineEditor) -> None:
        self.editors.append(editor)
        self.stack.addWidget(editor)
        self.list.addItem("")
        editor.changed.connect(lambda: self.changed.emit())
        editor.class_committed.connect(lambda: self._name_class(editor))

    def _name_class(self, editor: EngineEditor) -> None:
        name = editor.reported_class()
        if name is not None:
            self.class_named.emit(editor.engine, name)

    def reported_classes(self) -> list[tuple[int, str, str]]:
        """(place from 0, engine, class) of each engine that reports a class of its own, from
        the fields as they stand."""
        found = []
        for index, editor in enumerate(self.editors):
            name = editor.reported_class()
            if name is not None:
                found.append((index, editor.engine, name))
        return found

    def _drop(self, index: int) -> None:
        editor = self.editors.pop(index)
        self.stack.removeWidget(editor)
        editor.deleteLater()  # on this, the GUI thread
        self.list.takeItem(index)

    def _show(self, row: int) -> None:
        if 0 <= row < len(self.editors):
            self.stack.setCurrentWidget(self.editors[row])

    def _relabel(self) -> None:
        for i, editor in enumerate(self.editors):
            item = self.list.item(i)
            if item is not None:
                item.setText(self._label(i, editor, item.text().startswith("⚠")))

    @staticmethod
    def _label(index: int, editor: EngineEditor, problem: bool) -> str:
        model = editor.fields.get("model")
        shown = ""
        if model is not None:
            shown = model.text() or ("" if model.spec.required else str(model.spec.default))
        text = f"{index + 1}. {editor.engine}" + (f" ({shown})" if shown else "")
        return f"⚠ {text}" if problem else text
