"""`inspector run --max-parts N` stops after N parts: the parts captured but not yet judged are
recorded as not inspected (UNJUDGED), not UNSURE: on record, outside the review queue and the
yield. Issue 13: every Stop used to add UNSURE parts for a person to review."""

from __future__ import annotations

from inspector.config import Settings
from inspector.store import InspectionFilter, Store
from tests.support.command_line import inspector
from tests.support.paths import ROOT
from tests.support.records_data import plain_query

DEMO = ROOT / "assets" / "demo"


def test_max_parts_records_the_unjudged_parts_as_not_inspected(tmp_path):
    settings = Settings.from_env(data_dir=tmp_path / "data")
    result = inspector(
        "run",
        "--source",
        f"folder:{DEMO / 'camera'}",
        "--recipe",
        str(DEMO / "recipe-reference.yaml"),  # the reference judge: no model
        "--max-parts",
        "2",
        data_dir=settings.data_dir,
    )
    assert result.returncode == 0, result.stderr
    rows = dict(plain_query(settings, "SELECT outcome, count(*) FROM inspections GROUP BY outcome"))
    assert "UNSURE" not in rows  # the demo's judge is sure of every part it judged
    not_inspected = rows.get("UNJUDGED", 0)
    assert not_inspected >= 1  # the camera ran ahead of the judge: parts were waiting at stop
    assert f"{not_inspected} not inspected" in result.stderr
    judged = rows.get("PASS", 0) + rows.get("FAIL", 0)
    with Store.open(settings) as store:
        assert store.count() == judged + not_inspected  # still on record
        queue = store.review_queue()
        assert store.review_count() == len(queue) == rows.get("FAIL", 0)
        assert all(r.outcome.value == "FAIL" for r in queue)
        assert sum(p.total for p in store.yield_series(InspectionFilter())) == judged
