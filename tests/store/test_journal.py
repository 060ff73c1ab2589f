"""The local journal (store/journal.py) and its replay, on real SQLite and PostgreSQL: a record
kept while the store refused it is written once when the fault clears, whole and unchanged."""

from __future__ import annotations

import json
import shutil
import time

import numpy as np
import pytest

from inspector.domain import (
    Box,
    Defect,
    Frame,
    JudgeAttempt,
    Outcome,
    Region,
    Severity,
    Verdict,
    utc_now,
)
from inspector.recipes import parse_recipe
from inspector.store import PendingRecord, Store, StoreError, Timings
from tests.support.store_faults import (
    HOSTILE,
    HOSTILE_STORED,
    accept_inspections,
    refuse_inspections,
)

RECIPE = {"name": "bracket", "version": 1, "prompt": "Inspect.", "defects": [{"name": "scratch"}]}


def _pending(store: Store, version_id: int, sequence: int) -> PendingRecord:
    image = np.full((24, 32, 3), sequence, np.uint8)
    frame = Frame(
        image, "cam-1", sequence, utc_now(), time.monotonic_ns(), part_id=f"P{sequence}", lot="L"
    )
    attempt = JudgeAttempt(
        "scripted", "script", None, "f" * 64, utc_now(), 4.0, raw_text=HOSTILE, outcome=Outcome.FAIL
    )
    defect = Defect("scratch", Severity.MAJOR, Box(1, 2, 3, 4), 0.75, "a note")
    verdict = Verdict(Outcome.FAIL, "a scratch", (defect,), 0.9, (attempt,))
    encoded = store.evidence.encode(image)
    return PendingRecord.of(
        frame, version_id, verdict, encoded, Timings(1.5, 2.5, 3.5), Region(0, 0, 32, 24)
    )


def test_a_refused_record_is_journaled_and_written_once_when_the_fault_clears(settings):
    with Store.open(settings) as store:
        version_id = store.recipe_version_id(parse_recipe(RECIPE, "t"), [])
        refuse_inspections(settings)
        records = [_pending(store, version_id, n) for n in (1, 2, 3)]
        with pytest.raises(Exception, match="refuses"):  # the driver's own error
            store.record(records[0])
        paths = [store.keep_in_journal(r) for r in records]
        assert [e.path for e in store.journal_entries()] == paths  # in the order seen
        assert store.count() == 0
        # The fault has not cleared: the replay stops at the first record, which stays.
        with pytest.raises(StoreError, match=r"part P1 .*still cannot be recorded.*refuses"):
            store.replay_journal()
        assert len(store.journal_entries()) == 3
        accept_inspections(settings)
        report = store.replay_journal()
        assert (report.written, report.already, report.unreadable) == (3, 0, [])
        assert store.journal_entries() == [] and not any(p.exists() for p in paths)
        again = store.replay_journal()
        assert (again.written, again.already) == (0, 0)
        stored = {r.uid: r for r in store.history(limit=10)}
        assert set(stored) == {r.uid for r in records}
        for record in records:
            found = stored[record.uid]
            assert (found.part_id, found.sequence, found.lot) == (
                record.part_id,
                record.sequence,
                "L",
            )
            assert found.captured_at == record.captured_at
            assert found.outcome is Outcome.FAIL and found.defect_names == ("scratch",)
            assert found.defects[0].box == (1, 2, 3, 4)
            assert found.attempts[0].raw_text == HOSTILE_STORED
            assert found.roi == (0, 0, 32, 24) and found.judge_ms == 2.5
            assert found.evidence_path.read_bytes() == record.image.data
        assert store.verify().ok


def test_a_replay_cut_between_commit_and_delete_does_not_record_twice(settings, tmp_path):
    with Store.open(settings) as store:
        version_id = store.recipe_version_id(parse_recipe(RECIPE, "t"), [])
        path = store.keep_in_journal(_pending(store, version_id, 7))
        kept = tmp_path / "copy.json"
        shutil.copy(path, kept)
        assert store.replay_journal().written == 1
        shutil.copy(kept, path)  # the file the crash left behind
        report = store.replay_journal()
        assert (report.written, report.already) == (0, 1)
        assert store.count() == 1 and store.journal_entries() == []


def test_an_unreadable_journal_file_is_named_and_left_for_a_person(sqlite_settings):
    with Store.open(sqlite_settings) as store:
        version_id = store.recipe_version_id(parse_recipe(RECIPE, "t"), [])
        good = store.keep_in_journal(_pending(store, version_id, 1))
        bad = good.with_name("00000000000000000001-broken.json")
        data = json.loads(good.read_text())
        data["image"]["data"] = data["image"]["data"][:-8] + "AAAAAAA="  # bytes changed
        bad.write_text(json.dumps(data))
        report = store.replay_journal()
        assert report.written == 1
        [problem] = report.unreadable
        assert str(bad) in problem and "SHA-256" in problem
        assert bad.exists() and store.count() == 1


def test_the_disk_check_names_the_path_and_the_free_bytes(sqlite_settings):
    with Store.open(sqlite_settings) as store:
        assert store.min_free_disk_mb == 500  # the default station setting
        assert store.disk_low() is None  # this machine has more
        store.min_free_disk_mb = 10**9  # a threshold above the real free space
        message = store.disk_low()
        free = shutil.disk_usage(sqlite_settings.data_dir).free
        assert str(sqlite_settings.data_dir) in message
        assert "bytes free" in message and "min_free_disk_mb" in message
        reported = int(message.split(" has ")[1].split(" bytes")[0])
        assert abs(reported - free) < 64 * 2**20
        store.min_free_disk_mb = 0
        assert store.disk_low() is None  # 0 turns the check off
