"""The store on a real SQLite file and a real PostgreSQL schema: the same tests for both."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

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
from inspector.errors import InputError
from inspector.recipes import parse_recipe
from inspector.store import Store, StoreError, Timings
from tests.support.migrations import migration_heads
from tests.support.records_data import plain_query

RECIPE = {"name": "bracket", "version": 1, "prompt": "Inspect.", "defects": [{"name": "scratch"}]}


def _frame(sequence: int = 1) -> Frame:
    image = np.zeros((48, 64, 3), np.uint8)
    image[10:20, 10:30] = (0, 0, 255)
    image[0, 0, 0] = sequence % 256  # a different image, so a different evidence file
    return Frame(image, "cam-1", sequence, utc_now(), time.monotonic_ns(), part_id=f"p{sequence}")


def _verdict() -> Verdict:
    attempt = JudgeAttempt(
        engine="transformers",
        model_id="tiny",
        model_revision="local-abc",
        prompt_hash="f" * 64,
        started_at=utc_now(),
        latency_ms=12.5,
        raw_text='{"outcome": "FAIL"}',
        prompt_tokens=120,
        completion_tokens=14,
        outcome=Outcome.FAIL,
    )
    defect = Defect("scratch", Severity.MAJOR, Box(1, 2, 30, 40), 0.875, "")
    return Verdict(Outcome.FAIL, "a scratch", (defect,), 0.9, (attempt,))


def test_a_blank_database_upgrades_to_exactly_the_schema_of_the_code(settings):
    with Store.open(settings) as store:
        assert store.revisions() == migration_heads()
        assert store.schema_differences() == []
        tables = store.table_names()
        assert {"inspections", "defects", "judge_attempts", "recipe_versions"} <= tables
    with Store.open(settings) as again:  # a second start applies nothing and keeps the data
        assert again.revisions() == migration_heads()


def test_an_inspection_is_recorded_whole_with_its_evidence(settings):
    with Store.open(settings) as store:
        recipe = parse_recipe(RECIPE, "test")
        version_id = store.recipe_version_id(recipe, [])
        frame = _frame()
        encoded = store.evidence.encode(frame.image)
        timings = Timings(queue_ms=1.0, judge_ms=12.5, total_ms=15.0)
        inspection_id = store.record_inspection(
            frame, version_id, _verdict(), encoded, timings, Region(0, 0, 64, 48)
        )
        [record] = store.history(limit=5)
        assert record.id == inspection_id
        assert record.outcome is Outcome.FAIL
        assert record.defect_names == ("scratch",)
        assert (record.recipe, record.recipe_version) == ("bracket", 1)
        assert (record.engine, record.model_id) == ("transformers", "tiny")
        assert record.captured_at == frame.captured_at  # UTC in, the same UTC out
        assert record.part_id == "p1"
        data = record.evidence_path.read_bytes()
        assert hashlib.sha256(data).hexdigest() == record.evidence_path.stem == encoded.sha256
        [box] = plain_query(settings, "SELECT x0, y0, x1, y1, confidence FROM defects")
        [attempt] = plain_query(
            settings, "SELECT engine, model_revision, prompt_tokens, raw_text FROM judge_attempts"
        )
        assert tuple(box) == (1, 2, 30, 40, 0.875)
        assert tuple(attempt) == ("transformers", "local-abc", 120, '{"outcome": "FAIL"}')


def test_a_recipe_version_is_one_row_and_a_silent_edit_is_refused(settings):
    with Store.open(settings) as store:
        recipe = parse_recipe(RECIPE, "test")
        reference = np.full((8, 8), 200, np.uint8)
        first = store.recipe_version_id(recipe, [reference])
        assert store.recipe_version_id(recipe, [reference]) == first
        edited = parse_recipe({**RECIPE, "prompt": "Inspect harder."}, "test")
        with pytest.raises(
            InputError, match="version 1 is already recorded with different content"
        ):
            store.recipe_version_id(edited, [reference])
        bumped = parse_recipe({**RECIPE, "prompt": "Inspect harder.", "version": 2}, "test")
        assert store.recipe_version_id(bumped, [reference]) != first
        refs = plain_query(settings, "SELECT reference_sha256 FROM recipe_versions")
        for sha in {r for (r,) in refs}:
            assert store.evidence.verify(sha, "jpeg")


def test_history_lists_newest_first_and_respects_the_limit(settings):
    with Store.open(settings) as store:
        version_id = store.recipe_version_id(parse_recipe(RECIPE, "test"), [])
        for sequence in range(1, 6):
            frame = _frame(sequence)
            encoded = store.evidence.encode(frame.image)
            store.record_inspection(frame, version_id, _verdict(), encoded, Timings(0, 1, 2))
        records = store.history(limit=3)
        assert [r.sequence for r in records] == [5, 4, 3]
        assert store.count() == 5


def test_sqlite_runs_in_wal_mode_with_foreign_keys(sqlite_settings):
    with Store.open(sqlite_settings) as store:
        pragmas = store.connection_pragmas()
    assert pragmas["journal_mode"] == "wal"
    assert pragmas["foreign_keys"] == 1


def test_a_database_that_cannot_be_opened_is_named_without_its_password(tmp_path):
    from inspector.config import Settings

    url = "postgresql+psycopg://inspector:s3cret@127.0.0.1:1/nowhere"
    with pytest.raises(StoreError) as caught:
        Store.open(Settings(data_dir=tmp_path, database_url=url))
    assert "127.0.0.1:1/nowhere" in str(caught.value)
    assert "s3cret" not in str(caught.value)


def test_nothing_outside_the_store_touches_sqlalchemy():
    """`Store` is the one way into the record: no other package imports SQLAlchemy."""
    package = Path(__file__).resolve().parents[2] / "inspector"
    offenders = [
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if path.relative_to(package).parts[0] != "store" and "sqlalchemy" in path.read_text()
    ]
    assert offenders == []
