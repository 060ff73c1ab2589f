"""`inspector parts`: two cameras per part from the command line, on the reference judge."""

from __future__ import annotations

import json
import sqlite3

from tests.conftest import ROOT
from tests.support.command_line import inspector

DEMO = ROOT / "assets" / "demo"


def test_two_views_give_one_verdict_per_part(tmp_path):
    data = tmp_path / "data"
    recipe = str(DEMO / "recipe-reference.yaml")
    camera = f"folder:{DEMO / 'camera'}"
    result = inspector(
        "parts",
        "--view",
        "top",
        camera,
        recipe,
        "--view",
        "side",
        camera,
        recipe,
        "--json",
        data_dir=data,
    )
    assert result.returncode == 0, result.stderr
    parts = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(parts) == 12
    for part in parts:
        assert [v["view"] for v in part["views"]] == ["top", "side"]
        view_outcomes = {v["outcome"] for v in part["views"]}
        assert len(view_outcomes) == 1  # both cameras saw the same board
        assert part["outcome"] == view_outcomes.pop()
    # The demo camera alternates a tested (defective) board and its good template.
    assert [p["outcome"] for p in parts] == ["FAIL", "PASS"] * 6
    assert "12 parts, 24 views recorded" in result.stderr
    with sqlite3.connect(data / "inspector.db") as connection:
        rows = connection.execute("SELECT count(*), count(DISTINCT part_id) FROM inspections")
        assert rows.fetchone() == (24, 12)


def test_a_view_with_a_bad_source_is_named_and_nothing_is_recorded(tmp_path):
    data = tmp_path / "data"
    recipe = str(DEMO / "recipe-reference.yaml")
    result = inspector(
        "parts",
        "--view",
        "top",
        f"folder:{DEMO / 'camera'}",
        recipe,
        "--view",
        "side",
        "nowhere:cam",
        recipe,
        data_dir=data,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("inspector: source nowhere:cam")
    with sqlite3.connect(data / "inspector.db") as connection:
        assert connection.execute("SELECT count(*) FROM inspections").fetchone() == (0,)
        assert connection.execute("SELECT count(*) FROM recipe_versions").fetchone() == (0,)
