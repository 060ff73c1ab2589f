"""History as a person uses it: the search finds any piece of a part id, lot or serial, filters
apply as they change (no Apply), times read in local time (UTC in the tooltip), the raw answer
is indented JSON, and an export's message stays while records arrive. Offscreen, real store."""

from __future__ import annotations

import json
import threading
import time

import pytest

from inspector.config import Settings
from inspector.domain import Outcome
from inspector.store import InspectionFilter, Store
from tests.support.records_data import PASSWORDS, make_users, populate, record

pytest.importorskip("PySide6")


@pytest.fixture
def store(tmp_path):
    with Store.open(Settings.from_env(data_dir=tmp_path / "data")) as store:
        yield store


@pytest.fixture
def tokyo(monkeypatch):
    """The station's clock nine hours from UTC, so local and UTC times cannot agree by chance."""
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def _shown(history) -> list[int]:
    return [history.model.rows[i].id for i in range(history.model.rowCount())]


def test_search_and_filters_apply_as_they_change(store, qtbot):
    from inspector.ui.history_view import HistoryView

    version_id, ids = populate(store, 3, lot="Lot-7A")
    ids += [record(store, version_id, n, lot="LOT-8b") for n in range(4, 7)]
    history = HistoryView(store)
    qtbot.addWidget(history)
    assert len(_shown(history)) == 6

    history.lot.setText("8B")  # a piece of the lot, another case: no Apply, no Enter
    qtbot.waitUntil(lambda: len(_shown(history)) == 3, timeout=3_000)
    assert set(_shown(history)) == set(ids[3:])
    history.lot.setText("p-000")  # a piece of the part id (P-0001 ...)
    qtbot.waitUntil(lambda: len(_shown(history)) == 6, timeout=3_000)
    history.lot.setText(f"#{ids[1]}")  # an inspection by its id
    qtbot.waitUntil(lambda: _shown(history) == [ids[1]], timeout=3_000)
    history.lot.setText("")
    history.outcome.setCurrentText("FAIL")  # a filter applies as it is chosen
    qtbot.waitUntil(lambda: len(_shown(history)) == 2, timeout=3_000)
    assert all(history.model.rows[i].final_outcome is Outcome.FAIL for i in range(2))
    assert store.count(InspectionFilter(contains="%")) == 0  # a typed % is not a wildcard


def test_times_are_local_with_utc_in_the_tooltip(store, qtbot, tokyo):
    from PySide6.QtCore import Qt

    from inspector.ui.history_view import HistoryView

    populate(store, 1)
    history = HistoryView(store)
    qtbot.addWidget(history)
    row = history.model.rows[0]
    shown = history.model.index(0, 1).data()
    tip = history.model.index(0, 1).data(Qt.ItemDataRole.ToolTipRole)
    assert shown == row.captured_at.astimezone().strftime("%Y-%m-%d %H:%M:%S")
    assert tip == row.captured_at.strftime("%Y-%m-%d %H:%M:%S UTC")
    assert shown[11:13] != tip[11:13]  # nine hours apart
    assert history.model.headerData(1, Qt.Orientation.Horizontal) == "Time"


def test_the_raw_answer_is_indented_json(store, qtbot):
    from inspector.ui.history_view import HistoryView, pretty_answer

    assert pretty_answer('```json\n{"outcome":"PASS","defects":[]}\n```') == json.dumps(
        {"outcome": "PASS", "defects": []}, indent=2
    )
    assert pretty_answer("the copper looks fine") == "the copper looks fine"
    assert pretty_answer('{"outcome": "FAIL"} — fin') == '{\n  "outcome": "FAIL"\n}\n— fin'
    _, ids = populate(store, 2)
    history = HistoryView(store)
    qtbot.addWidget(history)
    history.detail.show_inspection(ids[0])  # a PASS: its answer is plain JSON
    raw = history.detail.raw.toPlainText()
    assert raw.startswith('{\n  "outcome": "PASS"') and json.loads(raw)["confidence"] == 0.97


def test_an_export_message_outlives_the_live_refresh(store, qtbot, tmp_path):
    from inspector.ui.history_view import HistoryView

    people = make_users(store)
    version_id, _ = populate(store, 3)
    history = HistoryView(store, lambda: people["olly"])
    qtbot.addWidget(history)
    out = tmp_path / "shift.csv"
    history.export(out, "csv")
    qtbot.waitUntil(lambda: "Exported 3 records" in history.export_message.text(), timeout=30_000)
    for number in range(4, 9):  # the line goes on; the window refreshes History each time
        record(store, version_id, number)
        history.apply_filters()
    assert f"Exported 3 records to {out}" in history.export_message.text()
    assert history.count_label.text() == "8 inspections"


def test_the_table_shows_the_final_outcome_marked_where_a_person_decided(store, qtbot):
    from PySide6.QtCore import Qt

    from inspector.ui.history_view import HistoryView

    people = make_users(store)
    _, ids = populate(store, 3)  # PASS, UNSURE, FAIL
    passed, unsure, failed = ids
    store.override_verdict(people["olly"], PASSWORDS["olly"], unsure, "PASS", "film", "approved")
    store.override_verdict(people["olly"], PASSWORDS["olly"], failed, "FAIL", "dent", "rejected")
    history = HistoryView(store)
    qtbot.addWidget(history)
    row_of = {row.id: i for i, row in enumerate(history.model.rows)}

    def cell(inspection_id, role=Qt.ItemDataRole.DisplayRole):
        return history.model.index(row_of[inspection_id], 2).data(role)

    assert cell(unsure) == "PASS (was UNSURE)"
    assert cell(failed) == "FAIL (confirmed)"
    assert cell(passed) == "PASS"
    tip = cell(unsure, Qt.ItemDataRole.ToolTipRole)
    assert tip == "the model said UNSURE; a person decided PASS"
    history.outcome.setCurrentText("PASS")  # the filter is on the final outcome too
    qtbot.waitUntil(lambda: set(_shown(history)) == {passed, unsure}, timeout=3_000)
    history.table.selectRow(_shown(history).index(unsure))
    assert "PASS (was UNSURE)" in history.detail.summary.text()


def test_the_raw_answer_shows_control_characters_and_never_obeys_them():
    from inspector.ui.history_view import pretty_answer

    assert pretty_answer("FAIL\x1b[2K\rPASS") == "FAIL\\x1b[2K\\rPASS"
    assert pretty_answer("scratch \u202eSSAP") == "scratch \\u202eSSAP"
    shown = pretty_answer('{"reason": "ok\u202e\x1b[2K"}')
    assert shown == '{\n  "reason": "ok\\u202e\\u001b[2K"\n}'
    assert json.loads(shown) == {"reason": "ok\u202e\x1b[2K"}  # still the same JSON
    assert pretty_answer("two\nlines\tand a tab") == "two\nlines\tand a tab"


def test_an_export_runs_off_the_window_with_a_progress_bar_and_its_message_stays(
    store, qtbot, tmp_path
):
    from inspector.ui.history_view import HistoryView

    people = make_users(store)
    version_id, _ = populate(store, 12)
    history = HistoryView(store, lambda: people["olly"])
    qtbot.addWidget(history)
    history.export(tmp_path / "shift.jsonl", "jsonl", start=False)
    task = history.export_task
    task.start()
    qtbot.waitUntil(lambda: "Exported 12 records" in history.export_message.text(), timeout=30_000)
    dialog = history.export_progress
    assert dialog.maximum() == 12 and "of 12 records" in dialog.labelText()
    assert task._thread is not threading.main_thread()  # written off the window's thread
    qtbot.waitUntil(lambda: not task._thread.is_alive(), timeout=10_000)
    for number in range(13, 16):
        record(store, version_id, number)
        history.records_arrived()  # the window's live refresh
        history.apply_filters()
    assert "Exported 12 records" in history.export_message.text()
