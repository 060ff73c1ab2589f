"""Every string that reaches the store is valid for SQLite and PostgreSQL: NUL and lone
surrogates escaped visibly, never dropped; the same tests on both databases."""

from __future__ import annotations

import os
import time

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from inspector.domain import Box, Defect, Frame, JudgeAttempt, Outcome, Severity, Verdict, utc_now
from inspector.recipes import parse_recipe
from inspector.store import Store, Timings
from inspector.store.text import fitted, storable
from tests.support.records_data import plain_query
from tests.support.store_faults import HOSTILE, HOSTILE_STORED

RECIPE = {"name": "bracket", "version": 1, "prompt": "Inspect.", "defects": [{"name": "scratch"}]}


def test_nul_and_lone_surrogates_are_escaped_visibly_and_nothing_else_changes():
    assert storable(HOSTILE) == HOSTILE_STORED
    assert storable("\x00") == "\\x00"
    assert storable("\ud83d\ude00") == "\\ud83d\\ude00"  # a pair split into code points
    assert (
        storable("😀 plain, Ä, \\ud800 already escaped") == "😀 plain, Ä, \\ud800 already escaped"
    )
    assert storable(None) is None


@given(st.text())
def test_any_text_becomes_utf8_without_nul_and_only_the_unstorable_characters_change(text):
    stored = storable(text)
    stored.encode("utf-8")  # raises on a lone surrogate
    assert "\x00" not in stored
    nuls = text.count("\x00")
    surrogates = sum(0xD800 <= ord(c) <= 0xDFFF for c in text)
    assert len(stored) == len(text) + 3 * nuls + 5 * surrogates  # each escaped, none dropped
    if not nuls and not surrogates:
        assert stored == text


@given(st.text(min_size=0, max_size=400), st.integers(min_value=16, max_value=200))
def test_a_value_too_long_for_its_column_is_shortened_visibly_and_stays_distinct(text, limit):
    result = fitted(text, limit)
    assert len(result) <= limit
    if len(storable(text)) <= limit:
        assert result == storable(text)
    else:
        assert "…#" in result and result.startswith(storable(text)[: limit - 14])
        assert fitted(text + "x", limit) != result


def _hostile_verdict() -> Verdict:
    attempt = JudgeAttempt(
        engine="openai-compatible",
        model_id="model\x00\ud800",
        model_revision=None,
        prompt_hash="a" * 64,
        started_at=utc_now(),
        latency_ms=3.0,
        raw_text='{"outcome": "FAIL", "reason": "' + HOSTILE + '"}',
        error="partial \udcff",
        outcome=Outcome.FAIL,
        endpoint="http://127.0.0.1/\x00",
    )
    defect = Defect("scr\ud800atch\x00", Severity.MAJOR, Box(1, 2, 3, 4), 0.5, HOSTILE)
    return Verdict(Outcome.FAIL, HOSTILE, (defect,), 0.9, (attempt,))


def test_hostile_strings_are_recorded_on_both_databases_and_the_chain_verifies(settings):
    part = os.fsdecode(b"part-\xff\xfe-\xc3")  # a file name that is not UTF-8
    long_part = os.fsdecode(b"\xff" * 255)  # the longest file name, every byte undecodable
    with Store.open(settings) as store:
        version_id = store.recipe_version_id(parse_recipe(RECIPE, "test"), [])
        image = np.zeros((16, 16, 3), np.uint8)
        ids = []
        for sequence, (part_id, camera) in enumerate(
            [(part, "folder:/line/\udcff"), (long_part, "cam\x00")], start=1
        ):
            frame = Frame(image, camera, sequence, utc_now(), time.monotonic_ns(), part_id=part_id)
            encoded = store.evidence.encode(image)
            timings = Timings(1.0, 2.0, 3.0)
            ids.append(
                store.record_inspection(frame, version_id, _hostile_verdict(), encoded, timings)
            )
        records = {r.id: r for r in store.history(limit=5)}
        first, second = records[ids[0]], records[ids[1]]
        assert first.part_id == "part-\\udcff\\udcfe-\\udcc3"
        assert first.camera_id == "folder:/line/\\udcff"
        assert first.reason == HOSTILE_STORED
        assert first.defects[0].class_name == "scr\\ud800atch\\x00"
        assert first.defects[0].note == HOSTILE_STORED
        assert (
            first.attempts[0].raw_text == '{"outcome": "FAIL", "reason": "' + HOSTILE_STORED + '"}'
        )
        assert first.attempts[0].error == "partial \\udcff"
        assert first.attempts[0].model_id == "model\\x00\\ud800"
        # 255 undecodable bytes are 1530 characters escaped: fitted to the 200 of the column,
        # with the whole value's digest, and still read back as what was stored.
        assert len(second.part_id) == 200 and second.part_id.startswith("\\udcff" * 30)
        assert "…#" in second.part_id
        assert second.camera_id == "cam\\x00"
        assert store.verify().ok
    [(stored,)] = plain_query(settings, f"SELECT reason FROM inspections WHERE id = {ids[0]}")
    assert stored == HOSTILE_STORED


def test_the_other_writers_store_hostile_text_too(settings):
    from inspector.store.audit import users

    with Store.open(settings) as store:
        admin = store.add_user(None, "ada", "admin", "admin password 1", full_name="Ada \ud800")
        store.add_user(admin, "olly", "operator", "operator password", reason="new\x00hire")
        recipe = parse_recipe(RECIPE, "t")  # recipe names and prompts are checked at load
        version_id = store.recipe_version_id(recipe, [], actor=admin)
        image = np.zeros((8, 8, 3), np.uint8)
        frame = Frame(image, "cam", 1, utc_now(), time.monotonic_ns())
        inspection_id = store.record_inspection(
            frame, version_id, _hostile_verdict(), store.evidence.encode(image), Timings(1, 1, 1)
        )
        store.override_verdict(
            admin, "admin password 1", inspection_id, "PASS", "checked \x00 by eye", "reviewed"
        )
        assert isinstance(admin, users.Identity)
        [record] = store.history()
        assert record.decisions[0].reason == "checked \\x00 by eye"
        assert store.verify().ok
    names = {tuple(r) for r in plain_query(settings, "SELECT name, full_name FROM users")}
    assert ("ada", "Ada \\ud800") in names
