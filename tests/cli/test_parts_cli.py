"""`inspector parts`: two cameras per part from the command line, on the reference judge."""

from __future__ import annotations

import json
import re
import signal
import sqlite3

from tests.support.command_line import inspector, start
from tests.support.paths import ROOT

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


def _parts_args(camera: str) -> list[str]:
    recipe = str(DEMO / "recipe-reference.yaml")
    return ["parts", "--view", "top", camera, recipe, "--view", "side", camera, recipe]


def test_max_parts_stops_after_n_parts_and_prints_one_line_each(tmp_path):
    data = tmp_path / "data"
    result = inspector(*_parts_args(f"folder:{DEMO / 'camera'}"), "--max-parts", "3", data_dir=data)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:3] == [
        "part 01_00041000_test  FAIL    top=FAIL  side=FAIL",
        "part 02_00041000_good  PASS    top=PASS  side=PASS",
        "part 03_00041001_test  FAIL    top=FAIL  side=FAIL",
    ]
    assert len(lines) < 12  # stopped before the folder ended
    # After the third: the part in flight is finished, the queued ones are recorded as not
    # inspected (UNJUDGED, no verdict; never UNSURE for a person to review). The
    # stop may fall between the two views' reads of a file: the view that never read its frame
    # says so ("no frame"), and only what was seen is recorded.
    recorded = 0
    for line in lines:
        _, _, outcome, *views = line.replace("=no frame", "=-").split()
        results = [view.split("=")[1] for view in views]
        assert outcome in ("PASS", "FAIL", "UNSURE", "UNJUDGED"), line
        if outcome in ("PASS", "FAIL"):  # a part judged whole: both views agree with it
            assert results == [outcome, outcome], line
        if outcome == "UNJUDGED":  # stopped before the judge reached it: no view judged
            assert set(results) <= {"UNJUDGED", "-"} and "UNJUDGED" in results, line
        recorded += sum(result != "-" for result in results)
    assert f"stopped: {len(lines)} parts, {recorded} views recorded" in result.stderr
    with sqlite3.connect(data / "inspector.db") as connection:
        rows = connection.execute("SELECT count(*) FROM inspections").fetchone()
    assert rows == (recorded,)


def test_ctrl_c_in_parts_stops_after_the_part_in_progress(tmp_path):
    data = tmp_path / "data"
    station = start(*_parts_args(f"folder:{DEMO / 'camera'}?loop=1&fps=5"), data_dir=data)
    first = station.stdout.readline()
    assert first == "part 01_00041000_test  FAIL    top=FAIL  side=FAIL\n"
    station.send_signal(signal.SIGINT)
    out, err = station.communicate(timeout=60)
    assert station.returncode == 0, err
    assert "stopping after the part in progress" in err
    assert "Traceback" not in err
    printed = 1 + len(out.splitlines())
    # A view whose camera had not yet sent the last part's frame when the stop came: that
    # part is UNSURE, its missing view counted, and every view that was seen is recorded.
    summary = re.search(r"stopped: (\d+) parts, (\d+) views recorded, (\d+) views without", err)
    parts, recorded, missing = map(int, summary.groups())
    assert parts == printed and recorded + missing == 2 * printed and missing <= 2
    with sqlite3.connect(data / "inspector.db") as connection:
        rows = connection.execute("SELECT count(*), count(DISTINCT part_id) FROM inspections")
        assert rows.fetchone() == (recorded, printed)
