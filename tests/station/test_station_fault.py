"""Never a verdict without a record: a station whose store fails stops in FAULT, journals every
part it has seen, and the journal writes them when the fault clears. Real stores (SQLite and
PostgreSQL), real folders, the scripted judge through the registry; the faults are real too (a
database that refuses inserts, a threshold above the disk's real free space, a tmpfs that fills)."""

from __future__ import annotations

import cv2
import numpy as np

import tests.support.scripted_judge as scripted
from inspector.cameras import open_source
from inspector.domain import Outcome
from inspector.judges import build_chain
from inspector.recipes import load_recipe
from inspector.station import (
    InspectionRecorded,
    PartInspected,
    RecordFailed,
    Station,
    StationFaulted,
    StationStopped,
    TriggerPolicy,
    View,
)
from inspector.station.runner import StationRunner
from inspector.store import Store
from tests.support.recipes import recipe_file
from tests.support.store_faults import (
    HOSTILE,
    HOSTILE_STORED,
    REFUSAL,
    accept_inspections,
    grow,
    refuse_inspections,
    small_disk,
)


def _folder(tmp_path, count: int, noise: bool = False, shape=(120, 160, 3)):
    folder = tmp_path / "frames"
    folder.mkdir()
    random = np.random.default_rng(7)
    for i in range(count):
        if noise:  # incompressible: each PNG evidence file is as big as the image
            image = random.integers(0, 256, shape, np.uint8)
        else:
            image = np.full(shape, 40, np.uint8)
            cv2.putText(image, str(i), (50, 80), cv2.FONT_HERSHEY_SIMPLEX, 2, (255, 255, 255), 3)
        cv2.imwrite(str(folder / f"{i:03d}.png"), image)
    return folder


def _station(tmp_path, store, folder, answers=(scripted.PASS_ANSWER,), delay_s=0.0):
    path = recipe_file(
        tmp_path, [{"engine": "scripted", "answers": list(answers), "delay_s": delay_s}]
    )
    recipe = load_recipe(path)
    chain = build_chain(recipe, str(path))
    version = store.recipe_version_id(recipe, [])
    events = []
    source = open_source(f"folder:{folder}", on_event=events.append)
    view = View("camera", source, recipe, version, chain)
    station = Station([view], store, TriggerPolicy.TRIGGERED)
    station.subscribe(events.append)
    return station, events, chain.judges[0]


def _of(events, kind):
    return [e for e in events if isinstance(e, kind)]


def _seen_parts(events) -> list[str]:
    return [r.frame.part_id for e in _of(events, PartInspected) for r in e.views if r.frame]


def test_a_database_that_fails_mid_run_faults_and_every_seen_part_is_recorded_after(
    tmp_path, settings
):
    folder = _folder(tmp_path, 20)
    store = Store.open(settings)
    station, events, judge = _station(tmp_path, store, folder, delay_s=0.01)

    calls_at_fault = []

    def fail_after_three(event) -> None:
        if isinstance(event, InspectionRecorded) and event.frame.sequence == 3:
            refuse_inspections(settings)  # on the record thread: the next record meets it
        if isinstance(event, StationFaulted):
            calls_at_fault.append(judge.calls)

    station.subscribe(fail_after_three)
    station.start()
    assert station.wait(timeout=60)
    assert REFUSAL in station.fault and "part 003" in station.fault
    [faulted] = _of(events, StationFaulted)
    assert faulted.cause == station.fault
    assert isinstance(events[-1], StationStopped)
    # The fault comes before the first record that failed, and nothing is recorded after it.
    first_failed = next(i for i, e in enumerate(events) if isinstance(e, RecordFailed))
    assert events.index(faulted) < first_failed
    recorded = [e.frame.part_id for e in _of(events, InspectionRecorded)]
    assert recorded == ["000", "001", "002"]
    failed = _of(events, RecordFailed)
    stats = station.stats
    assert stats.record_failures == stats.journaled == len(failed) >= 1
    assert all("kept in the journal" in e.message and e.journal for e in failed)
    # It judged no more parts (but the one the model held): those still queued were journaled
    # not inspected (UNJUDGED).
    assert judge.calls <= calls_at_fault[0] + 1
    assert stats.not_judged >= 1 and stats.judged + stats.not_judged == stats.captured
    assert stats.captured < 20
    seen = _seen_parts(events)
    assert seen == [f"{i:03d}" for i in range(len(seen))]  # every part seen, in order
    assert store.count() == 3

    accept_inspections(settings)  # the fault clears
    report = store.replay_journal()
    assert report.written == len(failed)
    parts = sorted(r.part_id for r in store.history(limit=100))
    assert parts == seen  # each seen part recorded once
    assert store.replay_journal().written == 0
    assert store.verify().ok
    store.close()


def test_a_threshold_above_the_free_space_stops_the_station_before_its_first_part(
    tmp_path, sqlite_settings
):
    store = Store.open(sqlite_settings)
    store.min_free_disk_mb = 10**9  # more than any disk here has free
    station, events, judge = _station(tmp_path, store, _folder(tmp_path, 5))
    station.start()
    assert station.wait(timeout=30)
    assert station.fault.startswith("disk nearly full: ")
    assert str(sqlite_settings.data_dir) in station.fault and "bytes free" in station.fault
    assert [type(e) for e in events if not hasattr(e, "uri")][-2:] == [
        StationFaulted,
        StationStopped,
    ]
    assert judge.calls == 0 and store.count() == 0 and station.stats.record_failures == 0
    store.close()


def test_the_disk_check_while_running_faults_and_journals_the_part(tmp_path, sqlite_settings):
    store = Store.open(sqlite_settings)
    station, events, _ = _station(tmp_path, store, _folder(tmp_path, 12), delay_s=0.01)

    def disk_fills(event) -> None:
        if isinstance(event, InspectionRecorded) and event.frame.sequence == 2:
            store.min_free_disk_mb = 10**9

    station.subscribe(disk_fills)
    station.start()
    assert station.wait(timeout=30)
    assert "disk nearly full" in station.fault
    assert store.count() == 2
    journaled = store.journal_entries()
    assert len(journaled) == station.stats.journaled >= 1
    assert journaled[0].record.part_id == "002"
    store.min_free_disk_mb = 0
    runner = StationRunner(store)
    said = []
    runner.replay_journal(said.append)  # what every start does first
    assert store.count() == 2 + len(journaled) == len(_seen_parts(events))
    assert said[-1].startswith(f"journal: {len(journaled)} records written to the store")
    store.close()


def test_an_answer_with_nul_and_lone_surrogates_is_recorded_not_faulted(tmp_path, settings):
    answer = '{"outcome": "FAIL", "defects": [{"class": "scratch"}], "reason": "%s"}'
    raw = answer % HOSTILE.replace("\x00", "\\u0000")  # NUL inside JSON, surrogates raw
    store = Store.open(settings)
    station, _, _ = _station(tmp_path, store, _folder(tmp_path, 3), answers=[raw])
    station.start()
    assert station.wait(timeout=30)
    assert station.fault is None and station.stats.recorded == 3
    [record, *_] = store.history()
    assert record.outcome is Outcome.FAIL
    assert "\\ud800" in record.attempts[0].raw_text and "\\udcff" in record.attempts[0].raw_text
    assert HOSTILE_STORED in record.reason or "\\ud800" in record.reason
    assert store.verify().ok
    store.close()


def _disk_full_station(tmp_path, data, min_free_disk_mb):
    from inspector.config import Settings

    settings = Settings.from_env(data_dir=data, min_free_disk_mb=min_free_disk_mb)
    store = Store.open(settings, evidence_format="png")
    folder = _folder(tmp_path, 48, noise=True, shape=(300, 400, 3))  # ~360 KB per PNG
    station, events, _ = _station(tmp_path, store, folder)
    return store, station, events


def test_a_filling_disk_faults_before_it_is_full_and_nothing_is_lost(tmp_path):
    # At most about 14 parts are seen but not recorded when the fault comes (4 waiting at the
    # camera, 1 with the model, 8 judged, 1 at the store), ~0.5 MB each in the journal: a
    # reserve of 10 MB holds them.
    with small_disk(tmp_path / "disk", 20) as disk:
        store, station, events = _disk_full_station(tmp_path, disk / "data", 10)
        station.start()
        assert station.wait(timeout=60)
        assert "disk nearly full" in station.fault and str(disk / "data") in station.fault
        stats = station.stats
        assert 1 <= stats.recorded < 48
        assert stats.record_failures == stats.journaled >= 1  # the reserve held the journal
        grow(disk, 64)  # space is freed: the fault clears
        report = store.replay_journal()
        assert report.written == stats.journaled
        assert store.count() == len(_seen_parts(events)) == stats.captured
        store.close()


def test_a_disk_that_really_fills_faults_and_names_every_part_not_recorded(tmp_path):
    with small_disk(tmp_path / "disk", 8) as disk:
        store, station, events = _disk_full_station(tmp_path, disk / "data", 0)  # no check
        station.start()
        assert station.wait(timeout=60)
        assert station.fault is not None and "could not record" in station.fault
        assert "No space left" in station.fault or "full" in station.fault
        stats = station.stats
        failed = _of(events, RecordFailed)
        assert stats.record_failures == len(failed) >= 1
        # Every part seen is recorded, journaled, or named as lost: none goes silently.
        assert stats.recorded + stats.record_failures == stats.captured
        lost = [e for e in failed if e.journal is None]
        assert all(e.message.startswith("LOST ") for e in lost)
        assert len(lost) == stats.record_failures - stats.journaled
        store.close()
