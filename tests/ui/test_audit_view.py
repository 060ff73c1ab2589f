"""The audit-trail page, offscreen, on a real SQLite store: filters applied as typed select the
entries the store's own query selects (an inspection's with its override), pages, the chain's
verification on a worker thread, and the CSV export of the filtered entries, itself audited,
with a result line nothing overwrites."""

from __future__ import annotations

import csv
import os
from datetime import timedelta

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from inspector.config import Settings
from inspector.domain import utc_now
from inspector.store import AuditFilter, Store
from tests.support.records_data import PASSWORDS, make_users, plain_sql, populate

WAIT_MS = 60_000  # a worker on a loaded CI machine


@pytest.fixture
def trail(tmp_path):
    """A station's records, people, a login and logout, and an override (a chain of ~25)."""
    settings = Settings.from_env(data_dir=tmp_path / "data", database_url=None)
    with Store.open(settings) as store:
        _, ids = populate(store, 8)
        people = make_users(store)
        olly = store.authenticate("olly", PASSWORDS["olly"])
        decided = store.override_verdict(
            olly, PASSWORDS["olly"], ids[3], "PASS", "dust, not a scratch", "reviewed"
        )
        store.log_out(olly)
        yield store, ids, people, decided, settings


@pytest.fixture
def view(trail, qtbot):
    from inspector.ui.app import application
    from inspector.ui.audit_view import AuditView

    application()
    store, _, people, _, _ = trail
    who = {"now": people["ada"]}
    shown = AuditView(store, lambda: who["now"])
    shown.who_box = who  # the test logs people in and out through it
    qtbot.addWidget(shown)
    shown.show()
    return shown


def _open(view, qtbot) -> None:
    """The page opened: it lists the trail and verifies the chain on a worker, waited for here
    (no worker outlives its test, nor reads a store that is closed)."""
    view.refresh()
    assert view.verifying
    qtbot.waitUntil(lambda: not view.verifying, timeout=WAIT_MS)


def _shown(view) -> list[tuple[int, str, str, str]]:
    table = view.table
    return [
        (
            int(table.item(row, 0).text()),
            table.item(row, 2).text(),
            table.item(row, 3).text(),
            table.item(row, 4).text(),
        )
        for row in range(table.rowCount())
    ]


def _expected(store, where: AuditFilter, limit: int = 1000) -> list[tuple[int, str, str, str]]:
    return [
        (e.seq, e.user_name, e.action, f"{e.entity_type}:{e.entity_id}")
        for e in store.audit_search(where, limit)
    ]


def _settle(view, qtbot) -> None:
    """Wait for the filters' typing pause to pass and the table to follow."""
    qtbot.waitUntil(lambda: not view._typing.isActive(), timeout=WAIT_MS)


def test_filters_applied_as_typed_show_what_the_store_selects(view, trail, qtbot):
    store = trail[0]
    _open(view, qtbot)
    assert _shown(view) == _expected(store, AuditFilter())
    assert view.table.item(0, 1).toolTip().endswith(" UTC")  # local time, UTC in the tooltip

    view.actor.setText("oll")  # typed: no Apply button
    _settle(view, qtbot)
    assert _shown(view) == _expected(store, AuditFilter(actor="oll"))
    assert {row[1] for row in _shown(view)} == {"olly"}

    view.action.setEditText("log")
    _settle(view, qtbot)
    assert [row[2] for row in _shown(view)] == ["user.logout", "user.login"]

    view.clear_filters()
    view.entity.setText("user:olly")
    _settle(view, qtbot)
    assert _shown(view) == _expected(store, AuditFilter.of_entity("user:olly"))

    from PySide6.QtCore import QDate

    tomorrow = (utc_now().astimezone() + timedelta(days=1)).date()
    view.since.setDate(QDate(tomorrow.year, tomorrow.month, tomorrow.day))
    assert _shown(view) == [] and view.page_label.text() == "No entries match"
    view.since.setDate(view.until.minimumDate())  # "any" again
    today = utc_now().astimezone().date()
    view.until.setDate(QDate(today.year, today.month, today.day))  # today included
    assert _shown(view) == _expected(store, AuditFilter.of_entity("user:olly"))


def test_the_entity_filter_finds_an_inspections_override(view, trail, qtbot):
    store, ids, _, decided, _ = trail
    _open(view, qtbot)
    view.entity.setText(f"inspection:{ids[3]}")
    _settle(view, qtbot)
    assert [row[2:] for row in _shown(view)] == [
        ("verdict.overridden", f"override:{decided.id}"),
        ("inspection.recorded", f"inspection:{ids[3]}"),
    ]
    assert "dust, not a scratch" in view.table.item(0, 5).text()
    assert _shown(view) == _expected(store, AuditFilter.of_entity(f"inspection:{ids[3]}"))


def test_pages_cover_the_filtered_trail_once(view, trail, monkeypatch, qtbot):
    from inspector.ui import audit_view

    monkeypatch.setattr(audit_view, "PAGE", 7)
    store = trail[0]
    _open(view, qtbot)
    seen = []
    while True:
        seen += _shown(view)
        if not view.next_button.isEnabled():
            break
        view.next_button.click()
    assert seen == _expected(store, AuditFilter())
    assert view.page_label.text().endswith(f"of {len(seen)} (newest first)")
    view.previous_button.click()
    assert view.offset == (len(seen) - 1) // 7 * 7 - 7


def test_verification_runs_on_a_worker_and_names_a_broken_chain(view, trail, qtbot):
    store, _, _, _, settings = trail
    _open(view, qtbot)  # the first look starts the verification
    head = store.audit_head().seq
    assert view.verify_status.text().startswith(f"Chain intact: {head} entries, head #{head}")
    assert view.verify_button.isEnabled()

    plain_sql(settings, "UPDATE audit_entries SET reason = 'hired' WHERE action = 'user.added'")
    assert view.verify() is not None
    assert view.verify() is None  # one at a time
    qtbot.waitUntil(lambda: not view.verifying, timeout=WAIT_MS)
    assert view.verify_status.text().startswith("Chain BROKEN: entry #")
    assert "was changed after it was written" in view.verify_status.text()


def test_export_writes_the_filtered_entries_and_its_message_stays(view, trail, qtbot, tmp_path):
    store = trail[0]
    _open(view, qtbot)
    view.actor.setText("olly")
    _settle(view, qtbot)
    expected = _expected(store, AuditFilter(actor="olly"))
    path = tmp_path / "olly.csv"
    assert view.export(path) is not None
    qtbot.waitUntil(lambda: not view.exporting, timeout=WAIT_MS)
    message = view.export_status.text()
    assert message.startswith(f"Exported {len(expected)} entries to {path}")

    with open(path, newline="", encoding="utf-8") as source:
        rows = list(csv.DictReader(source))
    assert [(int(r["seq"]), r["user"], r["action"]) for r in rows] == [e[:3] for e in expected]
    assert all(r["at_utc"].endswith("Z") and len(r["hash"]) == 64 for r in rows)
    [made] = store.audit_search(AuditFilter(action="export.made"), 5)
    assert (made.user_name, made.new["format"], made.new["records"]) == ("ada", "audit-csv", 3)
    assert made.new["filters"] == {"actor": "olly"}
    assert message.endswith(f"audit entry #{made.seq}).")

    # The table goes on being filtered and refreshed; the export's line stays as it was.
    view.actor.setText("ada")
    _settle(view, qtbot)
    view.refresh_button.click()
    assert view.export_status.text() == message


def test_nobody_and_operators_read_nothing(view, trail, qtbot):
    _open(view, qtbot)
    assert view.table.rowCount() > 0
    view.who_box["now"] = trail[2]["olly"]
    view.refresh()
    assert view.table.rowCount() == 0 and not view.verifying
    assert view.export(view.store.evidence.root / "x.csv") is None
    view.who_box["now"] = None
    view.show_page(0)
    assert view.table.rowCount() == 0
