"""The part a person selected stays selected while the station records more (issue 13's safety
defect: a new record reset Review to its oldest item, and the signature went to the wrong part)."""

from __future__ import annotations

from typing import ClassVar

import pytest

from inspector.config import Settings
from inspector.store import Store
from tests.support.records_data import PASSWORDS, make_users, populate, record

pytest.importorskip("PySide6")


@pytest.fixture
def store(tmp_path):
    with Store.open(Settings.from_env(data_dir=tmp_path / "data")) as store:
        yield store


class _Signing:
    """What a person types into the signature dialog, then OK; remembers which part it was for."""

    signed_for: ClassVar[list[int]] = []

    def __init__(self, who, inspection_id, outcome, parent):
        from inspector.ui.login_dialog import SignatureDialog

        self.dialog = SignatureDialog(who, inspection_id, outcome, parent)
        self.signed_for.append(inspection_id)
        self.dialog.reason.setText("checked under the lamp")
        self.dialog.password.setText(PASSWORDS["olly"])

    def __getattr__(self, name):
        return getattr(self.dialog, name)

    def exec(self):
        from PySide6.QtWidgets import QDialog

        return QDialog.DialogCode.Accepted


def test_review_keeps_the_selected_part_while_records_arrive(store, qtbot):
    from inspector.ui.review_view import ReviewView

    people = make_users(store)
    version_id, _ = populate(store, 9)  # FAIL, PASS, UNSURE in turn: 6 wait for review
    review = ReviewView(store, lambda: people["olly"])
    qtbot.addWidget(review)
    review.refresh()
    queue = [row.id for row in review.rows]
    assert review.selected_id() == queue[0]  # the queue opens on its oldest part
    review.items.setCurrentRow(3)
    chosen = queue[3]
    assert review.detail.shown_id == chosen

    for number in range(10, 16):  # the line goes on: more FAILs and UNSUREs are recorded
        record(store, version_id, number)
        review.refresh()
        assert review.selected_id() == chosen
        assert review.detail.shown_id == chosen

    _Signing.signed_for = []
    review.dialog_factory = _Signing
    assert review.decide("FAIL")
    assert _Signing.signed_for == [chosen]  # the dialog was for the part the person chose
    assert [d.user_name for d in store.detail(chosen).decisions] == ["olly"]
    assert all(not store.detail(i).decisions for i in queue if i != chosen)
    # Then on to the part that took its place, shown as it is selected.
    assert review.selected_id() == queue[4] == review.detail.shown_id


def test_a_part_decided_elsewhere_leaves_nothing_selected(store, qtbot):
    from inspector.ui.review_view import ReviewView

    people = make_users(store)
    populate(store, 6)
    review = ReviewView(store, lambda: people["olly"])
    qtbot.addWidget(review)
    review.refresh()
    review.items.setCurrentRow(1)
    chosen = review.selected_id()
    store.override_verdict(people["erin"], PASSWORDS["erin"], chosen, "PASS", "good", "reviewed")
    review.refresh()
    assert chosen not in [row.id for row in review.rows]
    assert review.selected_id() is None and review.detail.shown_id is None
    assert not review.confirm_button.isEnabled() and not review.pass_button.isEnabled()
    _Signing.signed_for = []
    review.dialog_factory = _Signing
    assert not review.decide("FAIL")  # nothing selected: no dialog, no signature
    assert _Signing.signed_for == []


def test_history_keeps_its_selection_and_empties_the_pane_when_filtered_out(store, qtbot):
    from inspector.ui.history_view import HistoryView

    version_id, ids = populate(store, 6, lot="L-1")
    history = HistoryView(store)
    qtbot.addWidget(history)
    history.apply_filters()
    shown = [row.id for row in history.model.rows]
    history.table.selectRow(shown.index(ids[2]))
    assert history.detail.shown_id == ids[2]

    for number in range(7, 10):
        record(store, version_id, number, lot="L-1")
        history.apply_filters()  # what the window does on each new record
        current = history.table.currentIndex().row()
        assert history.model.rows[current].id == ids[2]
        assert history.detail.shown_id == ids[2]

    history.lot.setText("no-such-lot")
    history.apply_filters()
    assert history.model.rowCount() == 0
    assert history.detail.shown_id is None and history.detail.summary.text() == ""
