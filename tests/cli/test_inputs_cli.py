"""`inspector judge` and `inspector run` on the files a line gives on a bad day, as a user runs
them (real processes, a real SQLite record, the model-free reference judge): a bad file is an
UNSURE line and record and the rest goes on; `judge` streams; a ROI off the image is a recipe
error before anything is recorded."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import time
from pathlib import Path

import cv2
import pytest

from tests.support.bad_images import (
    NON_UTF8_PART_ID,
    part_image,
    write_bad_files,
    write_non_utf8_named,
)
from tests.support.command_line import inspector, python, start
from tests.support.recipes import recipe_file

BAD = {"b-empty": "the file is empty", "c-cut": "cut short"}


def _rows(data_dir: Path, sql: str) -> list[tuple]:
    database = data_dir / "inspector.db"
    if not database.exists():
        return []
    with sqlite3.connect(database) as connection:
        return connection.execute(sql).fetchall()


def _reference_recipe(folder: Path, size: tuple[int, int] = (120, 160), **fields) -> Path:
    """A model-free recipe: the reference engine against one good part."""
    folder.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(folder / "good.png"), part_image(0, size))
    engines = [{"engine": "reference", "defect_class": "scratch"}]
    return recipe_file(folder, engines, references=["good.png"], **fields)


@pytest.fixture
def line_folder(tmp_path) -> Path:
    """A good part, a zero-byte file, a JPEG cut short, and a good part named in bytes that
    are not UTF-8."""
    folder = tmp_path / "frames"
    folder.mkdir()
    cv2.imwrite(str(folder / "a-good.png"), part_image(0))
    write_bad_files(folder)
    for name in ("d-cut.png", "e-text.png"):
        (folder / name).unlink()
    write_non_utf8_named(folder, part_image(0))
    return folder


def _files(folder: Path) -> list[str]:
    return [os.fsdecode(p) for p in sorted(os.listdir(os.fsencode(folder)))]


def test_judge_gives_one_line_per_image_and_a_bad_one_is_unsure(tmp_path, line_folder):
    recipe = _reference_recipe(tmp_path / "recipe")
    data = tmp_path / "data"
    paths = [str(line_folder / name) for name in _files(line_folder)]
    result = inspector("judge", *paths, "--recipe", str(recipe), data_dir=data)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 4
    shown = [line.split(": ", 1)[0] for line in lines]
    assert shown[3] == str(line_folder / f"{NON_UTF8_PART_ID}.png")  # printable, never a crash
    outcomes = [line.split(": ", 1)[1].split()[0] for line in lines]
    assert outcomes == ["PASS", "UNSURE", "UNSURE", "PASS"]
    assert "unreadable image: " in lines[1] and BAD["b-empty"] in lines[1]
    assert "unreadable image: " in lines[2] and BAD["c-cut"] in lines[2]

    rows = _rows(data, "SELECT part_id, outcome, reason FROM inspections ORDER BY id")
    assert [(part, outcome) for part, outcome, _ in rows] == [
        ("a-good", "PASS"),
        ("b-empty", "UNSURE"),
        ("c-cut", "UNSURE"),
        (NON_UTF8_PART_ID, "PASS"),
    ]
    assert (
        rows[1][2]
        == f"unreadable image: {line_folder / 'b-empty.png'}: the file is empty (0 bytes)"
    )

    again = inspector("judge", *paths, "--recipe", str(recipe), "--json", data_dir=data)
    assert again.returncode == 0, again.stderr
    verdicts = json.loads(again.stdout)  # one JSON array, streamed as it grew
    assert [v["part_id"] for v in verdicts] == ["a-good", "b-empty", "c-cut", NON_UTF8_PART_ID]
    assert [v["outcome"] for v in verdicts] == outcomes
    assert verdicts[3]["image"] == shown[3]
    # The same file gives the same part id every time.
    assert [r[0] for r in _rows(data, "SELECT part_id FROM inspections WHERE id > 4")] == [
        v["part_id"] for v in verdicts
    ]


def test_run_on_a_folder_records_every_file_and_goes_on_past_a_bad_one(tmp_path, line_folder):
    recipe = _reference_recipe(tmp_path / "recipe")
    data = tmp_path / "data"
    result = inspector(
        "run", "--source", f"folder:{line_folder}", "--recipe", str(recipe), data_dir=data
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stdout.strip().splitlines()
    assert [line.split()[2] for line in lines] == ["PASS", "UNSURE", "UNSURE", "PASS"]
    assert lines[3].endswith(f"part {NON_UTF8_PART_ID}")
    assert "2 judged, 2 unreadable (UNSURE, not judged), 4 recorded" in result.stderr
    rows = _rows(
        data, "SELECT part_id, outcome, reason, evidence_sha256 FROM inspections ORDER BY id"
    )
    assert [r[0] for r in rows] == ["a-good", "b-empty", "c-cut", NON_UTF8_PART_ID]
    assert rows[1][2] == "unreadable image: b-empty.png: the file is empty (0 bytes)"
    assert rows[2][2].startswith("unreadable image: c-cut.jpg: the file is cut short")
    # Both unreadable parts keep the same placeholder as evidence, stored once.
    assert rows[1][3] == rows[2][3] != rows[0][3]
    assert len(list((data / "evidence").rglob("*.jpg"))) == 2


def test_a_looping_folder_of_nothing_readable_backs_off_instead_of_spinning(tmp_path):
    folder = tmp_path / "bad"
    write_bad_files(folder)  # four unreadable files
    recipe = _reference_recipe(tmp_path / "recipe")
    process = start(
        "run",
        "--source",
        f"folder:{folder}?loop=1",
        "--recipe",
        str(recipe),
        data_dir=tmp_path / "data",
    )
    time.sleep(6)  # the station is up in a few seconds, then passes 0.25, 0.5, 1, 2, 4 s apart
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    waits = [line for line in stderr.splitlines() if "nothing readable" in line]
    verdicts = stdout.strip().splitlines()
    assert 1 <= len(waits) <= 6, stderr  # one line per back-off, not one per file
    assert 4 <= len(verdicts) <= 4 * (len(waits) + 1)  # four files a pass, a pass a wait
    assert all(line.split()[2] == "UNSURE" for line in verdicts)
    assert "looking again in 0.25 s" in waits[0]


@pytest.mark.parametrize("command", ["run", "judge"])
def test_a_roi_off_the_image_is_a_recipe_error_before_anything_is_recorded(tmp_path, command):
    roi = {"x": 500, "y": 500, "width": 10, "height": 10}
    recipe = _reference_recipe(tmp_path / "recipe", roi=roi)
    folder = tmp_path / "frames"
    folder.mkdir()
    cv2.imwrite(str(folder / "a.png"), part_image(0))
    data = tmp_path / "data"
    if command == "run":
        args = ["run", "--source", f"folder:{folder}"]
    else:
        args = ["judge", str(folder / "a.png")]
    result = inspector(*args, "--recipe", str(recipe), data_dir=data)
    assert result.returncode == 2  # the configuration error's code
    assert "Traceback" not in result.stderr
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith(
        f"inspector: recipe {recipe}: roi (500,500,10,10) lies outside the 160×120 image"
    )
    assert "give a roi within it" in error
    assert _rows(data, "SELECT id FROM inspections") == []


def test_a_roi_off_the_reference_engine_s_own_good_images_is_a_recipe_error(tmp_path):
    cv2.imwrite(str(tmp_path / "good.png"), part_image(0))  # 160x120
    engines = [{"engine": "reference", "references": [str(tmp_path / "good.png")]}]
    recipe = recipe_file(tmp_path, engines, roi={"x": 0, "y": 100, "width": 50, "height": 50})
    image = tmp_path / "part.png"
    cv2.imwrite(str(image), part_image(0))
    data = tmp_path / "data"
    result = inspector("judge", str(image), "--recipe", str(recipe), data_dir=data)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    error = result.stderr.strip().splitlines()[-1]
    assert "recipe test-recipe: roi (0,100,50,50) reaches past the edge of the 160×120" in error
    assert _rows(data, "SELECT id FROM inspections") == []


def test_a_roi_past_the_folder_s_first_image_stops_run_before_the_first_part(tmp_path):
    """No references to measure: the folder's first image gives the size."""
    folder = tmp_path / "frames"
    folder.mkdir()
    (folder / "a-empty.png").write_bytes(b"")  # unreadable: the next file is measured
    cv2.imwrite(str(folder / "b.png"), part_image(0))
    engines = [{"engine": "openai-compatible", "model": "m", "base_url": "http://127.0.0.1:9/v1"}]
    recipe = recipe_file(tmp_path, engines, roi={"x": 100, "y": 0, "width": 100, "height": 10})
    data = tmp_path / "data"
    result = inspector(
        "run", "--source", f"folder:{folder}", "--recipe", str(recipe), data_dir=data
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    error = result.stderr.strip().splitlines()[-1]
    assert "roi (100,0,100,10) reaches past the edge of the 160×120 image" in error
    assert f"b.png of folder:{folder}" in error
    assert _rows(data, "SELECT id FROM inspections") == []


MEASURE = """
import contextlib, glob, io, tracemalloc
import inspector.cli as cli
files = sorted(glob.glob(folder + "/*.png"))[:count]
tracemalloc.start()
with contextlib.redirect_stdout(io.StringIO()) as out:
    code = cli.main(["--data-dir", data, "judge", *files, "--recipe", recipe])
assert code == 0 and out.getvalue().count("PASS") == count, out.getvalue()[-500:]
print(tracemalloc.get_traced_memory()[1])
"""


def test_judge_streams_its_images_memory_flat_in_their_number(tmp_path):
    """Peak memory judging 1,000 images against 200: holding every decoded image (48 KiB
    each) would add about 39 MB; streaming adds next to nothing."""
    recipe = _reference_recipe(tmp_path / "recipe", size=(128, 128))
    folder = tmp_path / "many"
    folder.mkdir()
    encoded = cv2.imencode(".png", part_image(0, size=(128, 128)))[1].tobytes()
    for i in range(1000):
        (folder / f"{i:04d}.png").write_bytes(encoded)

    def peak(count: int) -> int:
        data = tmp_path / f"data-{count}"
        names = f"count, folder, recipe = {count}, {str(folder)!r}, {str(recipe)!r}\n"
        names += f"data = {str(data)!r}"
        result = python(names + MEASURE, timeout=300)
        assert result.returncode == 0, result.stderr
        return int(result.stdout.strip().splitlines()[-1])

    small, large = peak(200), peak(1000)
    decoded = 128 * 128 * 3
    assert large - small < 0.1 * 800 * decoded, (small, large)
