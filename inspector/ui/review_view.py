"""The review queue: FAIL and UNSURE parts waiting for a person to confirm or override.

A decision is a new signed record linked to the inspection (`Store.override_verdict`); the
model's verdict stays as it was recorded, and both show in the history and every export.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from inspector.store import InspectionRecord, Store
from inspector.store.audit.users import Identity
from inspector.ui.history_view import InspectionDetailView
from inspector.ui.login_dialog import LoginDialog, SignatureDialog
from inspector.ui.new_records_bar import NewRecordsBar

PAGE = 200  # parts listed at a time; "Show more" lists the next page


def waiting_text(shown: int, waiting: int) -> str:
    """The queue's count, never capped silently: "200 of 2,414 waiting" (Qt-free)."""
    if shown >= waiting:
        return f"{waiting:,} parts waiting for review"
    return f"{shown:,} of {waiting:,} parts waiting for review (oldest first)"


def login_hint(has_people: bool) -> str:
    """Why the decision buttons are disabled, and what makes them work (Qt-free)."""
    if has_people:
        return "Log in to review: a decision is signed by a person (Log in…, above)."
    return (
        "Reviewing needs a person's account, and this site has none yet. Create the first "
        "administrator on the station's command line: inspector user add NAME --role admin "
        "(it asks for the password), then press Log in…"
    )


def _item_text(row: InspectionRecord) -> str:
    return (
        f"#{row.id}  {row.outcome.value:<6}  {row.captured_at:%Y-%m-%d %H:%M:%S}  "
        f"{row.part_id or ''}"
    )


class ReviewView(QWidget):
    changed = Signal()  # a person decided: the queue's count changed

    def __init__(self, store: Store, identity: Callable[[], Identity | None]) -> None:
        super().__init__()
        self.store = store
        self.identity = identity
        self.items = QListWidget()
        self.items.currentRowChanged.connect(self._selected)
        self.detail = InspectionDetailView(store)
        self.confirm_button = QPushButton("Confirm FAIL")
        self.confirm_button.setToolTip("The part is bad: confirm the failure, signed")
        self.pass_button = QPushButton("Override to PASS")
        self.pass_button.setToolTip("The part is good: overrule the model, signed, with a reason")
        self.confirm_button.clicked.connect(lambda: self.decide("FAIL"))
        self.pass_button.clicked.connect(lambda: self.decide("PASS"))
        self.message = QLabel("")
        self.message.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.confirm_button)
        buttons.addWidget(self.pass_button)
        right = QVBoxLayout()
        right.addWidget(self.detail, 1)
        right.addLayout(buttons)
        right.addWidget(self.message)
        right_widget = QWidget()
        right_widget.setLayout(right)
        self.count = QLabel("")
        self.login_button = QPushButton("Log in…")
        self.login_button.setToolTip("Log in with your account to sign review decisions")
        self.login_button.clicked.connect(self._log_in)
        top = QHBoxLayout()
        top.addWidget(self.count, 1)
        top.addWidget(self.login_button)
        # Parts that arrive while the person works wait behind this bar, never move the list.
        self.new_bar = NewRecordsBar()
        self.new_bar.clicked.connect(self.show_new)
        self.more_button = QPushButton("Show more")
        self.more_button.setToolTip("List the next parts of the queue (oldest first)")
        self.more_button.clicked.connect(self.show_more)
        self.more_button.hide()
        left = QVBoxLayout()
        left.addLayout(top)
        left.addWidget(self.new_bar)
        left.addWidget(self.items, 1)
        left.addWidget(self.more_button)
        left_widget = QWidget()
        left_widget.setLayout(left)
        splitter = QSplitter()
        splitter.addWidget(left_widget)
        splitter.addWidget(right_widget)
        splitter.setSizes([380, 820])
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)
        self.rows: list[InspectionRecord] = []
        self._newest_seen: int | None = None  # the last inspection id when the queue loaded
        self._waiting_at_load = 0  # the queue's length then, to notice parts decided elsewhere
        self.dialog_factory = SignatureDialog  # tests fill the dialog the way a person would
        self.login_factory = LoginDialog
        # Where a login made here goes (the main window keeps who is logged in).
        self.logged_in: Callable[[Identity], None] | None = None

    def refresh(self) -> None:
        """Reload the queue, keeping the person's selection: a new record never moves it.

        The selection is kept by inspection id, not by row; where the selected part has left
        the queue (decided elsewhere), nothing is selected, so no decision can land on a part
        the person did not choose.
        """
        self._reload(self.selected_id())

    def records_arrived(self) -> None:
        """The live refresh: the list holds still and the bar counts the parts that arrived
        ("12 new — show"). Only a part leaving the queue (decided elsewhere) reloads it, so
        no one can sign a part already decided; the selection is kept by id even then."""
        if not self.rows or self._newest_seen is None:
            self.refresh()
            return
        waiting = self.store.review_count()
        new = self.store.review_count(after_id=self._newest_seen)
        if waiting - new != self._waiting_at_load:
            self.refresh()
            return
        self.count.setText(waiting_text(len(self.rows), waiting))
        # A queue listed in part ("Show more") gets the new parts at its far end, past the
        # pages not listed yet: the count says how many wait, the bar would list nothing.
        self.new_bar.set_count(0 if self.more_button.isVisible() else new)

    def show_new(self) -> None:
        """The bar's click: list what arrived (at the end: the queue is oldest first), keeping
        the selection, and show the first of them."""
        before = len(self.rows)
        self.refresh()
        if self.more_button.isHidden() and len(self.rows) > before:
            self.items.scrollToItem(self.items.item(before))

    def show_more(self) -> None:
        """The next page of the queue, below the parts listed: nothing listed moves."""
        if not self.rows:
            return
        page = self.store.review_queue(limit=PAGE, after_id=self.rows[-1].id)
        page = [row for row in page if row.id <= self._newest_seen]  # newer: the bar's
        self.rows.extend(page)
        for row in page:
            self.items.addItem(QListWidgetItem(_item_text(row)))
        self.more_button.setVisible(len(page) == PAGE)
        self.count.setText(waiting_text(len(self.rows), self.store.review_count()))

    def _reload(self, selected: int | None, fallback_row: int = 0) -> None:
        first_fill = not self.rows
        shown = max(PAGE, len(self.rows))  # a reload lists as many as were listed
        # Read before the rows, so a part that lands in between is counted as new, not lost.
        newest = self.store.as_of()[1].through[0]
        self.rows = self.store.review_queue(limit=shown)
        self._newest_seen = max(newest, self.rows[-1].id if self.rows else 0)
        waiting = self.store.review_count()
        self._waiting_at_load = waiting - self.store.review_count(after_id=self._newest_seen)
        self.new_bar.set_count(0)
        self.more_button.setVisible(len(self.rows) == shown)
        scroll = self.items.verticalScrollBar().value()
        self.items.blockSignals(True)
        self.items.clear()
        for row in self.rows:
            self.items.addItem(QListWidgetItem(_item_text(row)))
        row_of = {row.id: index for index, row in enumerate(self.rows)}
        if selected in row_of:
            current = row_of[selected]
        elif selected is None and first_fill and self.rows:
            current = min(fallback_row, len(self.rows) - 1)  # the queue opens on its oldest
        else:
            current = -1  # the selected part left the queue: the person chooses the next
        self.items.setCurrentRow(current)
        self.items.verticalScrollBar().setValue(scroll)  # the list stays where the person was
        self.items.blockSignals(False)
        self.count.setText(waiting_text(len(self.rows), waiting))
        if current >= 0 and self.detail.shown_id != self.rows[current].id:
            self.detail.show_inspection(self.rows[current].id)
        elif current < 0:
            self.detail.clear()
        self._update_buttons()

    def selected_id(self) -> int | None:
        """The inspection the person selected (and sees in the detail pane), or None."""
        index = self.items.currentRow()
        return self.rows[index].id if 0 <= index < len(self.rows) else None

    def _selected(self, index: int) -> None:
        if 0 <= index < len(self.rows):
            self.detail.show_inspection(self.rows[index].id)
        self._update_buttons()

    def _update_buttons(self) -> None:
        who = self.identity()
        has_item = 0 <= self.items.currentRow() < len(self.rows)
        for button in (self.confirm_button, self.pass_button):
            button.setEnabled(has_item and who is not None)
            if who is None:
                button.setToolTip("Disabled: log in to sign a decision")
            elif not has_item:
                button.setToolTip("Disabled: select a part in the queue")
        if who is not None:
            self.confirm_button.setToolTip("The part is bad: confirm the failure, signed")
            self.pass_button.setToolTip(
                "The part is good: overrule the model, signed, with a reason"
            )
        self.login_button.setVisible(who is None)
        if who is None:
            self.message.setStyleSheet("color:#e0a800;")
            self.message.setText(login_hint(self.store.has_people()))

    def _log_in(self) -> None:
        dialog = self.login_factory(self.store, self)
        if dialog.exec() != QDialog.DialogCode.Accepted or dialog.identity is None:
            return
        if self.logged_in is not None:
            self.logged_in(dialog.identity)
        self.message.setText("")
        self._update_buttons()

    def decide(self, outcome: str) -> bool:
        who = self.identity()
        inspection_id = self.selected_id()
        # The part signed is the part shown: never a row that moved under the person's click.
        if who is None or inspection_id is None or inspection_id != self.detail.shown_id:
            return False
        record = self.store.detail(inspection_id)
        if record is None:
            return False

        def sign(decided: str, meaning: str, reason: str, password: str):
            # Bound to this inspection: the dialog cannot sign for another part.
            return self.store.override_verdict(
                who, password, inspection_id, decided, reason, meaning
            )

        dialog = self.dialog_factory(who, inspection_id, outcome, self, record=record, sign=sign)
        accepted = dialog.exec() == QDialog.DialogCode.Accepted
        dialog.password.clear()
        if not accepted or dialog.signed is None:
            return False
        done = dialog.signed
        self.message.setStyleSheet("color:#7bd88f;")
        self.message.setText(
            f"Inspection {inspection_id}: {done.outcome.value} ({dialog.meaning_value()}), "
            f"signed by {who.name}."
        )
        # The person's own decision: on to the part that took its place in the queue.
        row = self.items.currentRow()
        self.rows = []
        self._reload(None, fallback_row=row)
        self.changed.emit()
        return True
