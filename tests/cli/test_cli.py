"""The `inspector` command as a user runs it: real processes, real files, tiny real models."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from tests.support.command_line import inspector, python, start
from tests.support.paths import ROOT
from tests.support.pcb_frames import make_video
from tests.support.recipes import recipe_file
from tests.support.tiny_models import FAMILIES


def _rows(data_dir: Path, sql: str) -> list[tuple]:
    database = data_dir / "inspector.db"
    if not database.exists():
        return []
    with sqlite3.connect(database) as connection:
        return connection.execute(sql).fetchall()


def _one_line_error(result, *fragments: str) -> None:
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_help_answers_without_importing_torch_or_transformers():
    code = (
        "import sys, inspector.cli as cli\n"
        "try:\n    cli.main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('torch', 'transformers', 'cv2', 'sqlalchemy') "
        "if m in sys.modules))"
    )
    result = python(code)
    assert "usage: inspector" in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize("family", FAMILIES)
def test_run_inspects_a_video_end_to_end_with_each_family(family, tiny_models, test_data, tmp_path):
    video = make_video(test_data, tmp_path / "line.avi", count=4, size=(320, 240))
    model = {"engine": "transformers", "model": str(tiny_models[family]), "max_new_tokens": 8}
    recipe = recipe_file(tmp_path, [model])
    data = tmp_path / "data"
    result = inspector("run", "--source", str(video), "--recipe", str(recipe), data_dir=data)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 4
    assert all(" UNSURE " in line for line in lines)  # random weights never pass a part
    assert "4 frames captured, 4 judged, 4 recorded" in result.stderr

    inspections = _rows(data, "SELECT outcome, evidence_sha256 FROM inspections")
    assert len(inspections) == 4
    for outcome, sha in inspections:
        assert outcome == "UNSURE"
        assert (data / "evidence" / sha[:2] / f"{sha}.jpg").is_file()
    attempts = _rows(
        data, "SELECT engine, model_id, prompt_tokens, completion_tokens, error FROM judge_attempts"
    )
    assert len(attempts) == 4
    for engine, model_id, prompt_tokens, completion_tokens, error in attempts:
        assert (engine, model_id, error) == ("transformers", str(tiny_models[family]), None)
        assert prompt_tokens > 0 and 0 < completion_tokens <= 8

    history = inspector("history", "--json", "--limit", "10", data_dir=data)
    records = json.loads(history.stdout)
    assert [r["sequence"] for r in records] == [4, 3, 2, 1]
    assert all(r["recipe"] == "test-recipe" and r["engine"] == "transformers" for r in records)


def test_judge_still_images_as_json(tiny_models, test_data, tmp_path):
    model = {"engine": "transformers", "model": str(tiny_models["qwen2_5_vl"]), "max_new_tokens": 8}
    recipe = recipe_file(tmp_path, [model])
    images = sorted((test_data / "deeppcb" / "defect").glob("*.jpg"))[:2]
    data = tmp_path / "data"
    result = inspector("judge", *map(str, images), "--recipe", str(recipe), "--json", data_dir=data)
    assert result.returncode == 0, result.stderr
    verdicts = json.loads(result.stdout)
    assert [v["image"] for v in verdicts] == [str(p) for p in images]
    assert [v["part_id"] for v in verdicts] == [p.stem for p in images]
    assert all(v["outcome"] == "UNSURE" and v["engine"] == "transformers" for v in verdicts)
    assert len(_rows(data, "SELECT id FROM inspections")) == 2


def test_bad_inputs_get_one_line_each_and_nothing_is_written(tiny_models, tmp_path):
    data = tmp_path / "data"
    good_model = {"engine": "transformers", "model": str(tiny_models["gemma3"])}
    recipe = recipe_file(tmp_path, [good_model])
    # An unreadable image is no bad input but a part: an UNSURE record (test_inputs_cli.py).
    result = inspector("run", "--source", "camera-7", "--recipe", str(recipe), data_dir=data)
    _one_line_error(result, "camera-7", "unknown kind of source")

    wrong = tmp_path / "wrong"
    wrong.mkdir()
    bad_recipe = recipe_file(wrong, [good_model], version="two")
    image = ROOT / "assets" / "demo" / "camera" / "01_00041000_test.jpg"
    result = inspector("judge", str(image), "--recipe", str(bad_recipe), data_dir=data)
    _one_line_error(result, str(bad_recipe), "field `version`")

    not_a_model = tmp_path / "not-a-model"
    not_a_model.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    model_recipe = recipe_file(elsewhere, [{"engine": "transformers", "model": str(not_a_model)}])
    result = inspector("judge", str(image), "--recipe", str(model_recipe), data_dir=data)
    _one_line_error(result, str(not_a_model), "not a model")

    assert _rows(data, "SELECT id FROM inspections") == []
    assert _rows(data, "SELECT id FROM recipe_versions") == []
    assert not (data / "evidence").exists() or not list((data / "evidence").rglob("*.*"))


def test_kill_9_mid_run_loses_no_printed_verdict(tiny_models, test_data, tmp_path):
    """Every verdict the station printed survives a kill -9, and the database stays whole."""
    model = {"engine": "transformers", "model": str(tiny_models["internvl"]), "max_new_tokens": 8}
    recipe = recipe_file(tmp_path, [model])
    data = tmp_path / "data"
    frames = test_data / "deeppcb" / "defect"
    station = start(
        "run", "--json", "--recipe", str(recipe), "--source", f"folder:{frames}?loop=1",
        data_dir=data, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    printed = []
    deadline = time.monotonic() + 120
    try:
        while len(printed) < 8 and time.monotonic() < deadline:
            line = station.stdout.readline()
            if not line:
                break
            printed.append(json.loads(line)["inspection_id"])
    finally:
        station.send_signal(signal.SIGKILL)
        station.wait(30)
    assert len(printed) == 8

    with sqlite3.connect(data / "inspector.db") as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        stored = {row[0] for row in connection.execute("SELECT id FROM inspections")}
        evidence = connection.execute(
            "SELECT evidence_sha256, evidence_format FROM inspections"
        ).fetchall()
        orphans = connection.execute(
            "SELECT count(*) FROM judge_attempts WHERE inspection_id NOT IN "
            "(SELECT id FROM inspections)"
        ).fetchone()[0]
    assert set(printed) <= stored
    assert orphans == 0
    for sha, fmt in evidence:
        suffix = ".jpg" if fmt == "jpeg" else ".png"
        assert (data / "evidence" / sha[:2] / f"{sha}{suffix}").is_file()


def test_ctrl_c_stops_cleanly_and_reports(tiny_models, tmp_path):
    model = {"engine": "transformers", "model": str(tiny_models["gemma3"]), "max_new_tokens": 4}
    recipe = recipe_file(tmp_path, [model])
    data = tmp_path / "data"
    camera = ROOT / "assets" / "demo" / "camera"
    station = start(
        "run", "--recipe", str(recipe), "--source", f"folder:{camera}?loop=1&fps=20",
        "--trigger", "free-run", data_dir=data,
    )  # fmt: skip
    first = station.stdout.readline()
    assert "UNSURE" in first
    station.send_signal(signal.SIGINT)
    out, err = station.communicate(timeout=60)
    assert station.returncode == 0, err
    assert "stopping after the part in progress" in err
    assert "inspector: stopped:" in err
    assert "Traceback" not in err
    printed = 1 + len(out.strip().splitlines())
    assert len(_rows(data, "SELECT id FROM inspections")) == printed
