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

    def __init__(self, who, inspection_id, outcome, parent, **bound):
        from inspector.ui.login_dialog import SignatureDialog

        self.dialog = SignatureDialog(who, inspection_id, outcome, parent, **bound)
        self.signed_for.append(inspection_id)
        self.dialog.reason.setText("checked under the lamp")
        self.dialog.password.setText(PASSWORDS["olly"])

    def __getattr__(self, name):
        return getattr(self.dialog, name)

    def exec(self):
        from PySide6.QtWidgets import QDialog

        signed = self.dialog.try_sign()  # OK: the dialog records the decision, then closes
        return QDialog.DialogCode.Accepted if signed else QDialog.DialogCode.Rejected


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


def test_the_sign_dialog_shows_the_selected_part_and_stays_open_until_it_is_signed(store, qtbot):
    from PySide6.QtWidgets import QDialog

    from inspector.ui.login_dialog import SignatureDialog
    from inspector.ui.review_view import ReviewView

    people = make_users(store)
    populate(store, 9)
    review = ReviewView(store, lambda: people["olly"])
    qtbot.addWidget(review)
    review.refresh()
    review.items.setCurrentRow(2)
    chosen = review.selected_id()
    seen: list[SignatureDialog] = []

    class Person(SignatureDialog):
        """Presses Sign with nothing typed, then a wrong password, then the right one."""

        def exec(self):
            seen.append(self)
            qtbot.addWidget(self)
            assert not self.try_sign()  # empty reason: refused inline, still open
            assert "reason is required" in self.error.text()
            self.reason.setText("solder bridge under the lens")
            self.password.setText("not my password")
            assert not self.try_sign()
            assert "wrong password" in self.error.text()
            assert self.reason.text() == "solder bridge under the lens"  # kept
            assert self.password.text() == ""  # never kept
            self.password.setText(PASSWORDS["olly"])
            return QDialog.DialogCode.Accepted if self.try_sign() else QDialog.DialogCode.Rejected

    review.dialog_factory = Person
    assert review.decide("PASS")
    [dialog] = seen
    assert dialog.inspection_id == chosen == dialog.record.id
    assert f"Inspection #{chosen}" in dialog.part.text() and "(local)" in dialog.part.text()
    assert "UTC" in dialog.part.toolTip()
    assert dialog.windowTitle() == f"Sign: inspection #{chosen}"
    assert dialog.evidence.image_size is not None  # the evidence, shown large
    assert dialog.evidence.minimumWidth() >= 560
    # A PASS is approved or reviewed, never "rejected"; a FAIL is rejected or reviewed.
    assert [dialog.meaning.itemData(i) for i in range(dialog.meaning.count())] == [
        "approved",
        "reviewed",
    ]
    dialog.outcome.setCurrentText("FAIL")
    assert [dialog.meaning.itemData(i) for i in range(dialog.meaning.count())] == [
        "rejected",
        "reviewed",
    ]
    labels = dialog.findChildren(type(dialog.part))
    assert labels and not any("--" in label.text() for label in labels)  # no command-line flags
    [decision] = store.detail(chosen).decisions
    assert (decision.user_name, decision.outcome.value) == ("olly", "PASS")
    assert decision.reason == "solder bridge under the lens"


def test_without_an_account_review_buttons_are_disabled_with_a_hint_that_works(tmp_path, qtbot):
    from inspector.ui.login_dialog import LoginDialog
    from inspector.ui.review_view import ReviewView
    from tests.support.command_line import inspector

    settings = Settings.from_env(data_dir=tmp_path / "data")
    with Store.open(settings) as store:
        populate(store, 6)
        logged: list = []
        review = ReviewView(store, lambda: logged[-1] if logged else None)
        review.logged_in = logged.append
        qtbot.addWidget(review)
        review.refresh()
        assert review.selected_id() is not None
        assert not review.confirm_button.isEnabled() and not review.pass_button.isEnabled()
        assert "log in" in review.confirm_button.toolTip().lower()
        hint = review.message.text()
        assert "inspector user add NAME --role admin" in hint
        # The hint works as written, on a site with no accounts (no admin to ask).
        command = hint.split("line: ", 1)[1].split(" (", 1)[0].replace("NAME", "ada").split()
        password = "a-Long-admin-password-7"
        result = inspector(
            *command[1:], "--password-stdin", data_dir=settings.data_dir, input=password + "\n"
        )
        assert result.returncode == 0, result.stderr

        class TypesAndLogsIn(LoginDialog):
            def exec(self):
                self.name.setText("ada")
                self.password.setText(password)
                return self.DialogCode.Accepted if self.try_login() else self.DialogCode.Rejected

        review.login_factory = TypesAndLogsIn
        review.login_button.click()
        assert [who.name for who in logged] == ["ada"]
        assert review.confirm_button.isEnabled() and review.pass_button.isEnabled()
        assert review.login_button.isHidden()
