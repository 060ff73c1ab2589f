"""Above the recipe editor's defect table: the classes the engines report that the recipe does
not list, said in amber with the engine, the class and the fix, and added by one click.

`reference` and `texture` name what they find with a class of their own ("deviation",
"texture", or their `defect_class`); a class the recipe lacks has no severity, so every part
such an engine flags is UNSURE (issue 13: "Try on this frame" said UNSURE, and nothing said
why). The class is listed as soon as such an engine is added or its class is committed
(`EngineChainForm.class_named`); the notice covers what is left (a class removed, a recipe
opened that way). Hidden when there is nothing to say.

A class listed here by itself goes again when no engine reports it any more (the engine removed,
made a screen, or its class renamed) while its row is as it was added: a screen's "deviation"
is not left in a model's prompt. A row the person touched, or one the recipe came with, stays.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QTableWidget, QWidget

from inspector.judges.defect_classes import UnlistedClass
from inspector.ui.engine_chain_form import EngineChainForm

WARNING_STYLE = "color:#ffd54f;"


class DefectClassNotice(QWidget):
    said = Signal(str)  # a line for the person: a class added, and why

    def __init__(
        self,
        defects: QTableWidget,
        chain: EngineChainForm,
        unknown: QComboBox,
        add_row: Callable[[str, str, str], None],
    ) -> None:
        super().__init__()
        self.defects = defects  # column 0: the class's name
        self.chain = chain
        self.unknown = unknown  # the pass rule's `unknown_defect`: what an unlisted class does
        self._add_row = add_row  # (name, severity, description)
        self._added: dict[str, tuple[str, str, str]] = {}  # listed here: name -> the row as added
        self.label = QLabel("")
        self.label.setWordWrap(True)
        self.label.setStyleSheet(WARNING_STYLE)
        self.button = QPushButton("Add the missing classes")
        self.button.clicked.connect(self.add_missing)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.label, 1)
        row.addWidget(self.button)
        self.hide()
        chain.class_named.connect(self.ensure)
        chain.changed.connect(self.refresh)
        defects.itemChanged.connect(lambda *_: self.refresh())
        defects.model().rowsRemoved.connect(lambda *_: self.refresh())
        unknown.currentIndexChanged.connect(lambda *_: self.refresh())

    def defect_names(self) -> list[str]:
        names = []
        for row in range(self.defects.rowCount()):
            item = self.defects.item(row, 0)
            names.append(item.text() if item is not None else "")
        return names

    def unlisted(self) -> list[UnlistedClass]:
        """The engines' own classes (from their fields as they stand) the table lacks."""
        listed = {n.strip().lower() for n in self.defect_names()}
        return [
            UnlistedClass(index, engine, name)
            for index, engine, name in self.chain.reported_classes()
            if name.strip().lower() not in listed
        ]

    def messages(self) -> list[str]:
        return [u.message(self.unknown.currentText()) for u in self.unlisted()]

    def ensure(self, engine: str, name: str) -> None:
        """List the class an engine reports, if the recipe does not: major, to be checked."""
        if name.strip().lower() in {n.strip().lower() for n in self.defect_names()}:
            return
        row = (name, "major", f"what the {engine} engine flags")
        self._add_row(*row)
        self._added[name.strip().lower()] = row
        self.defects.selectRow(self.defects.rowCount() - 1)
        self.said.emit(
            f"Added the defect class {name!r} (major): the {engine} engine reports what it "
            "finds as that class. Check its severity."
        )
        self.refresh()

    def add_missing(self) -> None:
        for unlisted in self.unlisted():
            self.ensure(unlisted.engine, unlisted.name)

    def forget(self) -> None:
        """Another recipe is shown: its rows are its own."""
        self._added.clear()

    def _rows(self) -> list[tuple[str, str, str]]:
        rows = []
        for r in range(self.defects.rowCount()):
            name, description = (self.defects.item(r, c) for c in (0, 2))
            severity = self.defects.cellWidget(r, 1)
            rows.append(
                (
                    name.text() if name is not None else "",
                    severity.currentText() if isinstance(severity, QComboBox) else "",
                    description.text() if description is not None else "",
                )
            )
        return rows

    def _drop_unreported(self) -> None:
        """Rows listed here that no engine reports now, untouched since: removed."""
        if not self._added:
            return
        reported = {name.strip().lower() for _, _, name in self.chain.reported_classes()}
        for key in [k for k in self._added if k not in reported]:
            row = self._added.pop(key)
            rows = self._rows()
            if row in rows:
                self.defects.removeRow(rows.index(row))  # refreshes again

    def refresh(self) -> None:
        self._drop_unreported()
        said = self.messages()
        self.label.setText("⚠ " + "\n⚠ ".join(said) if said else "")
        self.setVisible(bool(said))
