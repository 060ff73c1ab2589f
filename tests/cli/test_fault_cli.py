"""`inspector run` / `parts` / `journal` when a record cannot be written: the FAULT and its cause
on stderr, every part not recorded named with its journal file, exit status 4; the journal
written when the fault clears, once. Real processes, real SQLite / PostgreSQL, real faults."""

from __future__ import annotations

import os
import shutil

from inspector.cli.station_commands import NOT_RECORDED_EXIT
from inspector.config import Settings
from tests.support.command_line import inspector
from tests.support.paths import ROOT
from tests.support.records_data import plain_query
from tests.support.store_faults import (
    REFUSAL,
    accept_inspections,
    refuse_inspections,
    small_disk,
)

DEMO = ROOT / "assets" / "demo"
RECIPE = str(DEMO / "recipe-reference.yaml")  # the reference judge: no model, any CPU
CAMERA = f"folder:{DEMO / 'camera'}"


def _run(settings: Settings, *args: str, env: dict | None = None):
    return inspector(*args, data_dir=settings.data_dir, database_url=settings.database_url, env=env)


def test_run_stops_before_its_first_part_when_the_disk_is_below_the_threshold(tmp_path):
    settings = Settings.from_env(data_dir=tmp_path / "data")
    result = _run(
        settings,
        "run",
        "--source",
        CAMERA,
        "--recipe",
        RECIPE,
        env={"INSPECTOR_MIN_FREE_DISK_MB": str(10**9)},
    )
    assert result.returncode == NOT_RECORDED_EXIT == 4, result.stderr
    assert result.stdout == ""
    assert "FAULT: disk nearly full: " in result.stderr
    assert f"{settings.data_dir} has " in result.stderr and "bytes free" in result.stderr
    assert "Traceback" not in result.stderr
    assert plain_query(settings, "SELECT count(*) FROM inspections") == [(0,)]
    option = _run(
        settings, "--min-free-disk-mb", str(10**9), "parts", "--view", "a", CAMERA, RECIPE
    )
    assert option.returncode == 4 and "FAULT: disk nearly full: " in option.stderr


def test_a_bad_threshold_is_one_clear_line(tmp_path):
    result = inspector(
        "run", data_dir=tmp_path / "data", env={"INSPECTOR_MIN_FREE_DISK_MB": "lots"}
    )
    assert result.returncode == 2
    assert "min_free_disk_mb 'lots'" in result.stderr and "Traceback" not in result.stderr
    negative = inspector("--min-free-disk-mb", "-1", "run", data_dir=tmp_path / "data")
    assert negative.returncode == 2 and "min_free_disk_mb -1" in negative.stderr


def test_parts_a_database_that_refuses_exits_4_naming_every_part_and_replay_records_each_once(
    settings,
):
    assert _run(settings, "db", "upgrade").returncode == 0
    refuse_inspections(settings)
    views = ["--view", "top", CAMERA, RECIPE, "--view", "side", CAMERA, RECIPE]
    result = _run(settings, "parts", *views)
    assert result.returncode == 4, result.stderr
    assert "FAULT: could not record part 01_00041000_test, view top frame 1: " in result.stderr
    assert REFUSAL in result.stderr
    not_recorded = [
        line for line in result.stderr.splitlines() if line.startswith("inspector:   NOT RECORDED")
    ]
    assert not_recorded, result.stderr
    journal = settings.data_dir / "journal"
    for line in not_recorded:
        assert f"kept in the journal {journal}" in line
    first_part = next(line for line in result.stdout.splitlines())
    assert "top=FAIL NOT RECORDED" in first_part
    assert "start the station again or run `inspector journal replay`" in result.stderr
    assert plain_query(settings, "SELECT count(*) FROM inspections") == [(0,)]

    listing = _run(settings, "journal", "list")
    assert listing.returncode == 4
    assert f"{len(not_recorded)} records in the journal {journal}" in listing.stdout
    refused = _run(settings, "journal", "replay")
    assert refused.returncode == 4 and REFUSAL in refused.stderr

    accept_inspections(settings)  # the fault clears
    replay = _run(settings, "journal", "replay")
    assert replay.returncode == 0, replay.stderr
    assert f"journal: {len(not_recorded)} records written to the store" in replay.stderr
    rows = plain_query(settings, "SELECT part_id, count(*) FROM inspections GROUP BY part_id")
    assert sum(n for _, n in rows) == len(not_recorded)
    assert all(n <= 2 for _, n in rows)  # two views per part, never a record twice
    assert _run(settings, "journal", "list").returncode == 0
    again = _run(settings, "journal", "replay")
    assert "journal: 0 records written" in again.stderr
    assert _run(settings, "audit", "verify").returncode == 0


def test_the_next_start_replays_the_journal_first_and_says_so(tmp_path):
    settings = Settings.from_env(data_dir=tmp_path / "data")
    assert _run(settings, "db", "upgrade").returncode == 0
    refuse_inspections(settings)
    failed = _run(settings, "run", "--source", CAMERA, "--recipe", RECIPE, "--max-parts", "1")
    assert failed.returncode == 4
    kept = len(os.listdir(settings.data_dir / "journal"))
    assert kept >= 1
    accept_inspections(settings)
    result = _run(settings, "run", "--source", CAMERA, "--recipe", RECIPE)
    assert result.returncode == 0, result.stderr
    assert f"journal: writing {kept} records kept while the store failed" in result.stderr
    assert f"journal: {kept} records written to the store" in result.stderr
    [(count,)] = plain_query(settings, "SELECT count(*) FROM inspections")
    assert count == kept + 12
    assert os.listdir(settings.data_dir / "journal") == []


def test_a_file_name_that_is_not_utf8_is_inspected_and_recorded(tmp_path):
    folder = tmp_path / "frames"
    folder.mkdir()
    name = os.fsdecode(b"board-\xff\xfe.jpg")
    shutil.copy(DEMO / "camera" / "01_00041000_test.jpg", folder / name)
    settings = Settings.from_env(data_dir=tmp_path / "data")
    result = _run(settings, "run", "--source", f"folder:{folder}", "--recipe", RECIPE)
    assert result.returncode == 0, result.stderr
    # The cameras name the part by its bytes made visible (cameras/images.py: part_id_for).
    assert "part board-\\xff\\xfe" in result.stdout
    assert plain_query(settings, "SELECT part_id, outcome FROM inspections") == [
        ("board-\\xff\\xfe", "FAIL")
    ]


def test_a_disk_that_fills_for_real_ends_in_exit_4_naming_every_part(tmp_path):
    import cv2
    import numpy as np

    folder = tmp_path / "frames"
    folder.mkdir()
    random = np.random.default_rng(3)
    for i in range(30):  # incompressible images: ~700 KB of PNG evidence each
        cv2.imwrite(str(folder / f"{i:03d}.png"), random.integers(0, 256, (480, 480), np.uint8))
    with small_disk(tmp_path / "disk", 6) as disk:
        settings = Settings.from_env(data_dir=disk / "data")
        result = _run(
            settings,
            "run",
            "--source",
            f"folder:{folder}",
            "--recipe",
            RECIPE,
            "--evidence-format",
            "png",
            env={"INSPECTOR_MIN_FREE_DISK_MB": "0"},  # no reserve: the disk really fills
        )
        assert result.returncode == 4, result.stderr
        assert "FAULT: could not record part " in result.stderr
        named = [
            line
            for line in result.stderr.splitlines()
            if line.startswith(("inspector:   NOT RECORDED", "inspector:   LOST"))
        ]
        recorded = result.stdout.splitlines()
        assert named and recorded
        [(count,)] = plain_query(settings, "SELECT count(*) FROM inspections")
        assert count == len(recorded)
        # Every part read from the folder is on stdout (recorded) or named on stderr.
        summary = next(line for line in result.stderr.splitlines() if "frames captured" in line)
        captured = int(summary.split("stopped: ")[1].split(" frames")[0])
        assert len(recorded) + len(named) == captured


def test_judge_a_database_that_refuses_exits_4_keeping_the_part_in_the_journal(settings):
    assert _run(settings, "db", "upgrade").returncode == 0
    refuse_inspections(settings)
    images = sorted(str(p) for p in (DEMO / "camera").iterdir())[:3]
    result = _run(settings, "judge", "--recipe", RECIPE, *images)
    assert result.returncode == NOT_RECORDED_EXIT, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""  # no verdict line for a part that is not in the record
    first = os.path.basename(images[0]).rsplit(".", 1)[0]
    assert f"FAULT: could not record part {first} ({images[0]}): " in result.stderr
    assert REFUSAL in result.stderr
    journal = settings.data_dir / "journal"
    kept = [line for line in result.stderr.splitlines() if "NOT RECORDED part" in line]
    assert len(kept) == 2  # said when it happened, and again in the report at the end
    assert all(f"kept in the journal {journal}" in line for line in kept)
    assert f"2 images not judged (the first: {images[1]})" in result.stderr
    assert "run `inspector journal replay`" in result.stderr
    assert len(os.listdir(journal)) == 1
    assert plain_query(settings, "SELECT count(*) FROM inspections") == [(0,)]

    accept_inspections(settings)  # the fault clears: the next judge writes the journal first
    again = _run(settings, "judge", "--recipe", RECIPE, *images)
    assert again.returncode == 0, again.stderr
    assert "journal: 1 records written to the store" in again.stderr
    assert len(again.stdout.splitlines()) == 3
    rows = plain_query(settings, "SELECT part_id FROM inspections ORDER BY id")
    assert [part for (part,) in rows] == [first, *(os.path.basename(i)[:-4] for i in images)]
    assert os.listdir(journal) == []
