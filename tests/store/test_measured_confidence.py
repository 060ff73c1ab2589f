"""The confidence measured from a model's token probabilities is kept beside the self-reported
one, per attempt, in both databases and through the journal."""

from __future__ import annotations

import time

import numpy as np

from inspector.domain import Frame, JudgeAttempt, Outcome, Verdict, utc_now
from inspector.recipes import parse_recipe
from inspector.store import PendingRecord, Store, Timings
from inspector.store.inspection_records import export_dict
from tests.support.records_data import plain_query

RECIPE = {"name": "bracket", "version": 1, "prompt": "Inspect."}
TIMINGS = Timings(queue_ms=1.0, judge_ms=2.0, total_ms=3.0)


def _verdict(measured: float | None) -> Verdict:
    attempt = JudgeAttempt(
        engine="transformers",
        model_id="tiny",
        model_revision="local-abc",
        prompt_hash="f" * 64,
        started_at=utc_now(),
        latency_ms=12.5,
        raw_text='{"outcome": "PASS", "confidence": 0.95}',
        outcome=Outcome.PASS,
        measured_confidence=measured,
    )
    return Verdict(Outcome.PASS, "clean", (), 0.95, (attempt,), measured_confidence=measured)


def test_each_attempt_keeps_its_measured_confidence(settings):
    with Store.open(settings) as store:
        version_id = store.recipe_version_id(parse_recipe(RECIPE, "test"), [])
        for sequence, measured in ((1, 0.8125), (2, None)):
            image = np.full((32, 32, 3), sequence, np.uint8)
            frame = Frame(image, "cam-1", sequence, utc_now(), time.monotonic_ns())
            timings = Timings(queue_ms=1.0, judge_ms=2.0, total_ms=3.0)
            encoded = store.evidence.encode(image)
            store.record_inspection(frame, version_id, _verdict(measured), encoded, timings, None)
        newest, oldest = store.history(limit=5)
        assert oldest.attempts[0].measured_confidence == 0.8125
        assert newest.attempts[0].measured_confidence is None  # self-reported only
        assert oldest.confidence == 0.95
        # Exports (JSON Lines, bundles) carry it per attempt.
        assert export_dict(oldest)["attempts"][0]["measured_confidence"] == 0.8125
        assert export_dict(newest)["attempts"][0]["measured_confidence"] is None
    rows = plain_query(settings, "SELECT measured_confidence FROM judge_attempts ORDER BY id")
    assert [tuple(r) for r in rows] == [(0.8125,), (None,)]


def test_the_journal_keeps_it_and_reads_journals_from_before_it(sqlite_settings):
    import json

    with Store.open(sqlite_settings) as store:
        version_id = store.recipe_version_id(parse_recipe(RECIPE, "test"), [])
        image = np.full((32, 32, 3), 9, np.uint8)
        frame = Frame(image, "cam-1", 9, utc_now(), time.monotonic_ns())
        pending = PendingRecord.of(
            frame, version_id, _verdict(0.25), store.evidence.encode(image), TIMINGS, None
        )
        kept = store.keep_in_journal(pending)
        [entry] = store.journal_entries()
        assert entry.record.verdict.attempts[0].measured_confidence == 0.25
        # A journal written before the field existed reads as self-reported.
        data = json.loads(kept.read_bytes())
        del data["verdict"]["attempts"][0]["measured_confidence"]
        kept.write_text(json.dumps(data))
        [old] = store.journal_entries()
        assert old.record is not None, old
        assert old.record.verdict.attempts[0].measured_confidence is None
