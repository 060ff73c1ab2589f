"""Text from outside printed on the console cannot steer the terminal: a model's class or reason,
or a part id from a file name, holding ESC, CR or a bidi override is shown, not obeyed."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from inspector.escapes import visible
from tests.support.recipes import recipe_file
from tests.support.scripted_judge import run_scripted

# What a hostile answer would write: erase the line, go back to its start, draw a green PASS.
REDRAW = "\x1b[2K\r\x1b[32m PASS"
HOSTILE_ANSWER = json.dumps(
    {
        "outcome": "FAIL",
        "defects": [{"class": f"scratch{REDRAW}", "confidence": 0.9}],
        "confidence": 0.9,
        "reason": f"a scratch{REDRAW}",
    }
)
STEERING = "\x1b\r\n\x08\x00\x07\x7f\x9b\u202e\u2066\u2069\u200f\u2028"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("\x1b[2K\r PASS", "\\x1b[2K\\r PASS"),
        ("FAIL\x08\x08\x08\x08PASS", "FAIL\\x08\\x08\\x08\\x08PASS"),
        ("\x9b2K", "\\x9b2K"),  # the one-byte CSI of C1
        ("\u202eLIAF", "\\u202eLIAF"),  # a right-to-left override would show FAIL reversed
        ("a\u2066b\u2069c", "a\\u2066b\\u2069c"),
        ("line\nPASS", "line\\nPASS"),
        ("\ud800", "\\ud800"),  # a lone surrogate, which a terminal cannot print at all
        ("Olly Ørsted, 部品 Иванов עברית", "Olly Ørsted, 部品 Иванов עברית"),  # left alone
    ],
)
def test_controls_escapes_and_reordering_are_made_visible(text, shown):
    assert visible(text) == shown


def test_every_steering_character_is_escaped_and_line_breaks_kept_only_when_asked():
    shown = visible(STEERING)
    assert all(ord(c) < 0x7F and c.isprintable() for c in shown), shown
    assert visible("one\ntwo\x1b", keep_line_breaks=True) == "one\ntwo\\x1b"


def _hostile_folder(tmp_path):
    folder = tmp_path / "parts"
    folder.mkdir()
    image = np.full((40, 60, 3), 90, np.uint8)
    for name in ("A-1", f"B-2{REDRAW}"):
        assert cv2.imwrite(str(folder / f"{name}.png"), image)
    return folder


def test_run_and_judge_print_a_hostile_answer_and_part_id_visibly(tmp_path):
    folder = _hostile_folder(tmp_path)
    recipe = recipe_file(tmp_path, [{"engine": "scripted", "answers": [HOSTILE_ANSWER]}])
    data = tmp_path / "data"

    source = f"folder:{folder}"
    run = run_scripted("run", "--source", source, "--recipe", str(recipe), data_dir=data)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert len(lines) == 2
    for line in lines:
        assert line.split()[2] == "UNSURE"  # a class the recipe does not list: for a person
        assert "scratch\\x1b[2K\\r\\x1b[32m PASS" in line  # the class, visibly
        assert "\x1b" not in line and "\r" not in line
    assert "part B-2\\x1b[2K\\r\\x1b[32m PASS" in lines[1]  # the part id from the file name
    assert "\x1b" not in run.stderr and "\r" not in run.stderr

    images = sorted(folder.iterdir())
    judged = run_scripted("judge", "--recipe", str(recipe), *map(str, images), data_dir=data)
    assert judged.returncode == 0, judged.stderr
    lines = judged.stdout.splitlines()
    assert len(lines) == 2
    for line in lines:
        assert ": UNSURE " in line and "(a scratch\\x1b[2K\\r\\x1b[32m PASS " in line  # reason
        assert "\x1b" not in line and "\r" not in line

    as_json = run_scripted(
        "judge", "--json", "--recipe", str(recipe), str(images[1]), data_dir=data
    )
    assert as_json.returncode == 0, as_json.stderr
    assert "\x1b" not in as_json.stdout  # JSON escapes it as \u001b
    [verdict] = json.loads(as_json.stdout)
    assert verdict["reason"].startswith(f"a scratch{REDRAW}")  # a program reads it exactly
