"""Stop in the window: the part in flight is judged, the parts captured but not judged are
recorded as not inspected (no verdict: not UNSURE, not in Review, not in the yield), and the
banner keeps the last verdict instead of turning yellow. Offscreen, on the real station, store
and reference judge (issue 13: every Stop recorded an extra UNSURE part)."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from inspector.config import Settings
from inspector.domain import Outcome
from inspector.errors import InputError
from inspector.store import InspectionFilter, Store
from tests.support.paths import ROOT
from tests.support.records_data import PASSWORDS, make_users

DEMO = ROOT / "assets" / "demo"


@pytest.fixture
def station_view(qtbot, tmp_path):
    from inspector.station.runner import StationRunner
    from inspector.ui.app import application
    from inspector.ui.bridge import StationBridge
    from inspector.ui.station_view import StationView

    application()
    store = Store.open(Settings.from_env(data_dir=tmp_path / "data"))
    view = StationView(
        StationRunner(store),
        StationBridge(),
        f"folder:{DEMO / 'camera'}",
        str(DEMO / "recipe-reference.yaml"),
        "auto",
    )
    qtbot.addWidget(view)
    yield view, store
    view.runner.stop()
    store.close()


def test_stop_records_no_unsure_and_the_banner_keeps_the_last_verdict(station_view, qtbot):
    from inspector.ui.review_view import ReviewView

    view, store = station_view
    view.start()
    qtbot.waitUntil(lambda: view.counters.total >= 2, timeout=60_000)
    view.stop()
    qtbot.waitUntil(lambda: view.start_button.isEnabled(), timeout=30_000)
    qtbot.wait(200)  # any part event still queued for the window arrives

    records = store.history(limit=100)
    outcomes = [r.outcome for r in records]
    assert Outcome.UNSURE not in outcomes
    not_inspected = [r for r in records if r.outcome is Outcome.UNJUDGED]
    assert not_inspected, "the folder camera runs ahead of the judge: parts wait at Stop"
    assert view.counters.not_inspected == len(not_inspected)
    assert view.counters.total == len(records) - len(not_inspected)
    assert view.banner.text() in {"PASS", "FAIL"}  # the last verdict, not yellow
    assert "#e0a800" not in view.banner.styleSheet()
    assert f"{len(not_inspected)} not inspected" in view.status.text()

    judged = len(records) - len(not_inspected)
    assert sum(p.total for p in store.yield_series(InspectionFilter())) == judged
    people = make_users(store)
    review = ReviewView(store, lambda: people["olly"])
    qtbot.addWidget(review)
    review.refresh()
    queued = {row.id for row in review.rows}
    assert not queued & {r.id for r in not_inspected}
    assert len(queued) == sum(o is Outcome.FAIL for o in outcomes)
    # No one turns a part that was never judged into a PASS from its picture.
    with pytest.raises(InputError, match="not inspected"):
        store.override_verdict(
            people["olly"], PASSWORDS["olly"], not_inspected[0].id, "PASS", "looks fine", "approved"
        )
