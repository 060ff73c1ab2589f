"""Text that reached the record from outside cannot steer the terminal when a command prints it
again: a part id, a reason, a user's full name, a recipe's or a data set's name, a bundle's
member name holding ESC, CR and a right-to-left override is shown as escapes, in every command
family that prints stored text (real processes on a real SQLite record). JSON shapes keep every
script readable and parse back to exactly what was stored."""

from __future__ import annotations

import json
import zipfile

import cv2
import pytest

from inspector.domain import Frame, Outcome, Verdict, utc_now
from inspector.recipes import parse_recipe
from inspector.store import PendingRecord, Store, Timings
from inspector.store.journal import Journal
from tests.support.bad_images import part_image
from tests.support.recipes import recipe_file
from tests.support.records_data import PASSWORDS, inspector

# Erase the line, go back to its start, and reverse what follows: "SSAP" would read "PASS".
EVIL = "\x1b[2K\r\u202eSSAP"
SHOWN = "\\x1b[2K\\r\\u202eSSAP"
PART = f"P-1{EVIL}"
NAME = f"Ada Лавлейс 検査{EVIL}"  # a full name in three scripts, and the attack
NAME_SHOWN = f"Ada Лавлейс 検査{SHOWN}"
REASON = f"hired for line 2, участок 検査{EVIL}"


def _clean(text: str) -> None:
    """Nothing in the printed text that a terminal would obey."""
    for raw in ("\x1b", "\r", "\u202e"):
        assert raw not in text, repr(text)


def _ok(result) -> str:
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    _clean(result.stdout + result.stderr)
    return result.stdout


@pytest.fixture
def hostile(sqlite_settings):
    """A record whose part id and reason, and an admin and an operator whose full names,
    carry EVIL (a recipe's name is held to a plain pattern at load: its signers' names are not)."""
    with Store.open(sqlite_settings) as store:
        ada = store.add_user(None, "ada", "admin", PASSWORDS["ada"], NAME)
        store.add_user(ada, "olly", "operator", PASSWORDS["olly"], f"Olly{EVIL}", REASON)
        recipe = parse_recipe(
            {"name": "bracket", "version": 1, "prompt": "Inspect.", "defects": []}, "test"
        )
        version = store.recipe_version_id(recipe, [])
        frame = Frame(part_image(0), "cam-1", 1, utc_now(), 0, part_id=PART)
        verdict = Verdict(Outcome.FAIL, f"a scratch{EVIL}", (), 0.9, ())
        encoded = store.evidence.encode(frame.image)
        timings = Timings(queue_ms=1, judge_ms=2, total_ms=3)
        store.record_inspection(frame, version, verdict, encoded, timings, None)
        pending = PendingRecord.of(frame, version, verdict, encoded, timings)
    Journal(sqlite_settings.journal_dir).keep(pending)
    return sqlite_settings


def test_history_user_recipe_journal_and_override_print_stored_text_visibly(hostile):
    history = _ok(inspector(hostile, "history"))
    assert f"P-1{SHOWN}" in history

    users = _ok(inspector(hostile, "user", "list"))
    assert NAME_SHOWN in users and f"Olly{SHOWN}" in users

    approved = _ok(inspector(hostile, "recipe", "approve", "bracket", "1", user="ada"))
    assert f"approved by {NAME_SHOWN} (ada)" in approved
    recipes = _ok(inspector(hostile, "recipe", "list"))
    assert f"{NAME_SHOWN} (ada), approved" in recipes

    journal = inspector(hostile, "journal", "list")
    assert journal.returncode == 4  # a record waits in the journal
    _clean(journal.stdout + journal.stderr)
    assert f"P-1{SHOWN}" in journal.stdout

    reason = f"dust{EVIL}"
    override = _ok(
        inspector(
            hostile, "override", "1", "--outcome", "PASS", "--reason", reason,
            "--meaning", "reviewed", user="olly",
        )
    )  # fmt: skip
    assert f"signed (reviewed) by Olly{SHOWN} (olly)" in override


def test_audit_log_prints_visibly_and_its_json_parses_back_to_the_stored_text(hostile):
    text = _ok(inspector(hostile, "audit", "log"))
    assert "user.added" in text and f"(hired for line 2, участок 検査{SHOWN})" in text
    raw = _ok(inspector(hostile, "audit", "log", "--json"))
    assert "участок 検査" in raw  # every script readable: no ensure_ascii
    assert "\\u001b[2K\\r\\u202eSSAP" in raw  # the attack, as JSON escapes
    entries = json.loads(raw)
    assert REASON in [e["reason"] for e in entries]  # exact, parsed back


def test_export_verify_prints_a_bundles_member_names_visibly(hostile, tmp_path):
    bundle = tmp_path / "forged.zip"
    with zipfile.ZipFile(bundle, "w") as archive:
        archive.writestr("manifest.json", json.dumps({"format": 1, "files": {f"a{EVIL}": {}}}))
        archive.writestr(f"b{EVIL}", b"added")
    result = inspector(hostile, "export", "verify", str(bundle))
    assert result.returncode == 1, result.stderr
    _clean(result.stdout + result.stderr)
    assert f"a{SHOWN}: in the manifest but not in the bundle" in result.stdout
    assert f"b{SHOWN}: in the bundle but not in the manifest" in result.stdout


def test_eval_prints_a_data_sets_name_and_classes_visibly(hostile, tmp_path):
    folder = tmp_path / f"set{EVIL}"
    for label, value in (("good", 0), (f"dent{EVIL}", 9)):
        (folder / label).mkdir(parents=True)
        assert cv2.imwrite(str(folder / label / "1.png"), part_image(value))
    recipe_dir = tmp_path / "recipe"
    recipe_dir.mkdir()
    cv2.imwrite(str(recipe_dir / "good.png"), part_image(0))
    recipe = recipe_file(recipe_dir, [{"engine": "reference"}], references=["good.png"])
    summary = _ok(inspector(hostile, "eval", str(folder), "--recipe", str(recipe)))
    assert f"set{SHOWN}" in summary and f"dent{SHOWN}" in summary
    listed = _ok(inspector(hostile, "eval", "--list"))
    assert f"set{SHOWN}" in listed


def test_json_visible_keeps_scripts_and_escapes_what_a_terminal_obeys():
    from inspector.escapes import json_visible

    data = {"name": f"Иванов 部品 {EVIL} \x9b2K \u2066x\u2069 \ud800"}
    text = json_visible(data)
    _clean(text)
    assert "\x9b" not in text and "\u2066" not in text and "\ud800" not in text
    assert "Иванов 部品" in text
    assert json.loads(text) == data
