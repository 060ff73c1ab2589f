"""Lists that hold still (issue 13): while a person works on Review or History, 100 records
arriving do not move the list; a bar says how many arrived ("100 new — show") and a click lists
them with the selection kept. Review pages a long queue and always says the true count."""

from __future__ import annotations

import pytest

from inspector.config import Settings
from inspector.domain import Outcome
from inspector.store import Store
from tests.support.records_data import PASSWORDS, make_users, populate, record

pytest.importorskip("PySide6")

ARRIVING = range(31, 131)  # 100 records: FAIL, PASS, UNSURE in turn (number % 3 == 0, 1, 2)


@pytest.fixture
def store(tmp_path):
    with Store.open(Settings.from_env(data_dir=tmp_path / "data")) as store:
        yield store


def _listed(history) -> list[int]:
    return [row.id for row in history.model.rows]


def test_history_holds_still_and_counts_what_arrived(store, qtbot):
    from inspector.ui.history_view import HistoryView

    version_id, ids = populate(store, 30)
    history = HistoryView(store)
    qtbot.addWidget(history)
    history.resize(900, 400)
    history.show()
    chosen = ids[5]
    history.table.selectRow(_listed(history).index(chosen))
    assert history.detail.shown_id == chosen
    history.table.verticalScrollBar().setValue(3)
    before, scroll = _listed(history), history.table.verticalScrollBar().value()
    assert scroll == 3

    arrived = [record(store, version_id, n) for n in ARRIVING]
    for _ in arrived:  # the window's live refresh, once a record
        history.records_arrived()
    assert _listed(history) == before  # held still: no row moved
    assert history.table.verticalScrollBar().value() == scroll
    assert history.detail.shown_id == chosen
    assert history.new_bar.isVisible() and history.new_bar.text() == "100 new — show"
    assert history.count_label.text() == "30 inspections"

    history.new_bar.click()
    assert _listed(history) == sorted(arrived + ids, reverse=True)
    assert not history.new_bar.isVisible()
    assert history.count_label.text() == "130 inspections"
    current = history.table.selectionModel().currentIndex().row()
    assert history.model.rows[current].id == chosen == history.detail.shown_id


def test_history_counts_only_what_its_filter_would_list(store, qtbot):
    from inspector.ui.history_view import HistoryView

    version_id, _ = populate(store, 30)
    history = HistoryView(store)
    qtbot.addWidget(history)
    history.outcome.setCurrentText("FAIL")
    history.apply_filters()  # (the filter would apply itself after a pause in typing)
    history.table.selectRow(0)
    for n in ARRIVING:
        record(store, version_id, n)
    history.records_arrived()
    fails = sum(1 for n in ARRIVING if n % 3 == 0)
    assert history.new_bar.text() == f"{fails} new — show"
    history.new_bar.click()
    assert len(_listed(history)) == 10 + fails
    assert {row.final_outcome for row in history.model.rows} == {Outcome.FAIL}


def test_history_nobody_working_on_it_shows_new_records_at_once(store, qtbot):
    from inspector.ui.history_view import HistoryView

    version_id, _ = populate(store, 3)
    history = HistoryView(store)
    qtbot.addWidget(history)
    newest = record(store, version_id, 4)
    history.records_arrived()  # nothing selected, at the top: nothing to disturb
    assert _listed(history)[0] == newest and history.new_bar.isHidden()


def test_review_holds_still_and_counts_what_arrived(store, qtbot):
    from inspector.ui.review_view import ReviewView, waiting_text

    people = make_users(store)
    version_id, _ = populate(store, 30)  # 20 wait for review
    review = ReviewView(store, lambda: people["olly"])
    qtbot.addWidget(review)
    review.resize(900, 300)
    review.show()
    review.refresh()
    before = [row.id for row in review.rows]
    assert len(before) == 20
    review.items.setCurrentRow(7)
    chosen = before[7]
    review.items.verticalScrollBar().setValue(2)
    scroll = review.items.verticalScrollBar().value()

    waiting_new = sum(1 for n in ARRIVING if n % 3 != 1)  # FAILs and UNSUREs
    arrived = []
    for n in ARRIVING:
        inspection_id = record(store, version_id, n)
        if n % 3 != 1:
            arrived.append(inspection_id)
        review.records_arrived()
    assert [row.id for row in review.rows] == before and review.items.count() == 20
    assert review.items.verticalScrollBar().value() == scroll
    assert review.selected_id() == chosen == review.detail.shown_id
    assert review.new_bar.isVisible() and review.new_bar.text() == f"{waiting_new} new — show"
    assert review.count.text() == waiting_text(20, 20 + waiting_new)  # the true count, now

    review.new_bar.click()
    assert [row.id for row in review.rows] == before + arrived
    assert review.selected_id() == chosen == review.detail.shown_id
    assert review.new_bar.isHidden()


def test_review_reloads_when_a_listed_part_is_decided_elsewhere(store, qtbot):
    from inspector.ui.review_view import ReviewView

    people = make_users(store)
    version_id, _ = populate(store, 9)
    review = ReviewView(store, lambda: people["olly"])
    qtbot.addWidget(review)
    review.refresh()
    queue = [row.id for row in review.rows]
    review.items.setCurrentRow(3)
    record(store, version_id, 11)  # an UNSURE
    review.records_arrived()
    assert review.new_bar.text() == "1 new — show"
    # Another station's reviewer decides a part listed here: it leaves the list at once.
    store.override_verdict(people["erin"], PASSWORDS["erin"], queue[1], "PASS", "ok", "reviewed")
    review.records_arrived()
    assert queue[1] not in [row.id for row in review.rows]
    assert review.selected_id() == queue[3] == review.detail.shown_id


def test_a_long_queue_pages_and_says_its_true_length(store, qtbot, monkeypatch):
    from inspector.ui import review_view
    from inspector.ui.review_view import ReviewView

    monkeypatch.setattr(review_view, "PAGE", 4)
    people = make_users(store)
    populate(store, 15)  # 10 wait
    review = ReviewView(store, lambda: people["olly"])
    qtbot.addWidget(review)
    review.refresh()
    assert len(review.rows) == 4 and review.count.text().startswith("4 of 10 parts waiting")
    assert not review.more_button.isHidden()
    first_page = [row.id for row in review.rows]
    review.items.setCurrentRow(1)
    review.more_button.click()
    assert [row.id for row in review.rows][:4] == first_page and len(review.rows) == 8
    assert review.selected_id() == first_page[1]
    review.more_button.click()
    assert len(review.rows) == 10 and review.count.text() == "10 parts waiting for review"
    assert review.more_button.isHidden()
    assert [row.id for row in review.rows] == [row.id for row in store.review_queue()]
