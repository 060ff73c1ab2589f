"""The station with the real store, real sources and the scripted judge (through the registry)."""

from __future__ import annotations

import itertools
import threading
import time

import cv2
import numpy as np
import pytest

import tests.support.scripted_judge as scripted
from inspector.cameras import open_source
from inspector.domain import Outcome
from inspector.judges import build_chain
from inspector.recipes import load_recipe
from inspector.station import (
    FrameDropped,
    InspectionRecorded,
    PartInspected,
    Station,
    StationStopped,
    TriggerPolicy,
    View,
)
from inspector.store import InspectionFilter, Store
from tests.support.recipes import recipe_file
from tests.support.records_data import plain_query


def _folder(tmp_path, count: int):
    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(count):
        image = np.full((120, 160, 3), 40, np.uint8)
        cv2.putText(image, str(i), (50, 80), cv2.FONT_HERSHEY_SIMPLEX, 2, (255, 255, 255), 3)
        cv2.imwrite(str(folder / f"{i:03d}.png"), image)
    return folder


def _station(tmp_path, settings, uri, policy, recipe_fields=None, **engine):
    path = recipe_file(tmp_path, [{"engine": "scripted", **engine}], **(recipe_fields or {}))
    recipe = load_recipe(path)
    chain = build_chain(recipe, str(path))
    store = Store.open(settings)
    version = store.recipe_version_id(recipe, [])
    events = []
    source = open_source(uri, on_event=events.append)
    station = Station([View("camera", source, recipe, version, chain)], store, policy)
    station.subscribe(events.append)
    return station, store, events, chain.judges[0]


def _recorded(events):
    return [e for e in events if isinstance(e, InspectionRecorded)]


def test_triggered_judges_every_part_in_order_and_records_it(tmp_path, settings):
    folder = _folder(tmp_path, 12)
    answers = (scripted.PASS_ANSWER, scripted.FAIL_ANSWER)
    station, store, events, _ = _station(
        tmp_path,
        settings,
        f"folder:{folder}",
        TriggerPolicy.TRIGGERED,
        answers=answers,
        delay_s=0.02,
    )
    station.start()
    assert station.wait(timeout=60)
    recorded = _recorded(events)
    assert [e.frame.part_id for e in recorded] == [f"{i:03d}" for i in range(12)]
    assert [e.verdict.outcome for e in recorded] == [Outcome.PASS, Outcome.FAIL] * 6
    assert station.stats.dropped == 0
    assert station.stats.captured == station.stats.judged == station.stats.recorded == 12
    assert station.stats.backpressure_waits > 0  # the folder is faster than a 20 ms judge
    assert isinstance(events[-1], StationStopped)
    outcomes = plain_query(settings, "SELECT outcome FROM inspections ORDER BY id")
    assert [o for (o,) in outcomes] == ["PASS", "FAIL"] * 6
    assert plain_query(settings, "SELECT count(*) FROM judge_attempts")[0][0] == 12
    boxes = plain_query(settings, "SELECT x0, y0, x1, y1 FROM defects")
    # 0-1000 box [100, 100, 200, 200] on a 160x120 image: x 16..32, y 12..24.
    assert set(boxes) == {(16, 12, 32, 24)}
    for record in store.history(limit=100):
        assert record.evidence_path.is_file()
    store.close()


def test_free_run_judges_the_newest_frame_and_counts_every_drop(tmp_path, sqlite_settings):
    folder = _folder(tmp_path, 3)
    station, store, events, _ = _station(
        tmp_path,
        sqlite_settings,
        f"folder:{folder}?loop=1&fps=100",
        TriggerPolicy.FREE_RUN,
        delay_s=0.1,
    )
    station.start()
    time.sleep(1.0)
    station.stop()
    assert station.wait(timeout=30)
    stats = station.stats
    drops = [e for e in events if isinstance(e, FrameDropped)]
    assert stats.dropped > 0 and len(drops) == stats.dropped
    assert stats.captured == stats.judged + stats.dropped  # every frame judged or counted
    assert stats.recorded == stats.judged == store.count()
    sequences = [e.frame.sequence for e in _recorded(events)]
    assert sequences == sorted(sequences)
    assert max(b - a for a, b in itertools.pairwise(sequences)) > 1
    store.close()


def test_stop_records_the_part_in_flight_and_every_queued_part(tmp_path, sqlite_settings):
    folder = _folder(tmp_path, 10)
    station, store, events, judge = _station(
        tmp_path, sqlite_settings, f"folder:{folder}", TriggerPolicy.TRIGGERED
    )
    judge.gate = threading.Event()  # hold the model inside its first call
    station.start()
    deadline = time.monotonic() + 10
    # The judge holds part 1, parts 2-5 fill the queue (4 places), and the camera waits with
    # part 6: it can read no further until the judge takes a part.
    while (judge.calls == 0 or station.stats.captured < 6) and time.monotonic() < deadline:
        time.sleep(0.01)
    station.stop()
    judge.gate.set()
    assert station.wait(timeout=30)
    stats = station.stats
    assert (stats.captured, stats.judged, stats.not_judged, stats.recorded) == (6, 1, 5, 6)
    assert stats.backpressure_waits >= 1 and stats.dropped == 0
    outcomes = [e.verdict.outcome for e in _recorded(events)]
    assert outcomes[0] is Outcome.PASS
    assert set(outcomes[1:]) == {Outcome.UNJUDGED}  # not inspected: no verdict, not UNSURE
    reasons = {e.verdict.reason for e in _recorded(events)[1:]}
    assert reasons == {"station stopped before this part was judged"}
    assert store.count() == 6  # every part seen is on record
    assert store.review_queue() == [] and store.review_count() == 0
    assert [p.total for p in store.yield_series(InspectionFilter())] == [1]
    store.close()


def test_a_model_crash_becomes_an_unsure_record_and_the_station_goes_on(tmp_path, sqlite_settings):
    folder = _folder(tmp_path, 4)
    station, store, events, _ = _station(
        tmp_path, sqlite_settings, f"folder:{folder}", TriggerPolicy.TRIGGERED, fail_every=2
    )
    station.start()
    assert station.wait(timeout=30)
    recorded = _recorded(events)
    assert [e.verdict.outcome for e in recorded] == [Outcome.PASS, Outcome.UNSURE] * 2
    crashed = recorded[1].verdict
    assert crashed.attempts[0].error == "RuntimeError: scripted model crash"
    assert "could not judge" in crashed.reason
    errors = plain_query(
        sqlite_settings, "SELECT error FROM judge_attempts WHERE error IS NOT NULL"
    )
    assert [e for (e,) in errors] == ["RuntimeError: scripted model crash"] * 2
    store.close()


def test_a_broken_listener_does_not_stop_inspection(tmp_path, sqlite_settings):
    folder = _folder(tmp_path, 3)
    station, store, _, _ = _station(
        tmp_path, sqlite_settings, f"folder:{folder}", TriggerPolicy.TRIGGERED
    )

    def broken(event):
        raise ValueError("observer bug")

    station.subscribe(broken)
    station.start()
    assert station.wait(timeout=30)
    assert station.stats.recorded == 3
    store.close()


@pytest.mark.parametrize("policy", list(TriggerPolicy))
def test_roi_outside_the_image_is_recorded_unsure_not_pass(tmp_path, sqlite_settings, policy):
    folder = _folder(tmp_path, 3)  # 160x120 frames: a region at (500, 500) is off the image
    station, store, events, _ = _station(
        tmp_path,
        sqlite_settings,
        f"folder:{folder}",
        policy,
        recipe_fields={"roi": {"x": 500, "y": 500, "width": 10, "height": 10}},
        answers=[scripted.PASS_ANSWER],  # the model would pass it: the region never reaches it
    )
    station.start()
    assert station.wait(timeout=30)
    recorded = _recorded(events)
    assert recorded, "no part was judged"
    assert {e.verdict.outcome for e in recorded} == {Outcome.UNSURE}
    assert all("outside" in e.verdict.reason for e in recorded)
    stats = station.stats
    if policy is TriggerPolicy.TRIGGERED:
        assert stats.captured == stats.recorded == 3
    else:
        assert stats.captured == 3 and stats.recorded == stats.judged == 3 - stats.dropped
    assert [r.outcome for r in store.history(limit=10)] == [Outcome.UNSURE] * stats.recorded
    store.close()


def test_a_single_view_part_is_its_frame_with_the_frame_s_own_part_id(tmp_path, sqlite_settings):
    folder = _folder(tmp_path, 2)
    answers = (scripted.FAIL_ANSWER, scripted.PASS_ANSWER)
    station, store, events, _ = _station(
        tmp_path, sqlite_settings, f"folder:{folder}", TriggerPolicy.TRIGGERED, answers=answers
    )
    station.start()
    assert station.wait(timeout=30)
    parts = [e for e in events if isinstance(e, PartInspected)]
    assert [(p.part_id, p.outcome) for p in parts] == [("000", Outcome.FAIL), ("001", Outcome.PASS)]
    assert [p.reason for p in parts] == ["FAIL (camera: FAIL)", "PASS (camera: PASS)"]
    recorded = _recorded(events)
    assert [p.views[0].inspection_id for p in parts] == [e.inspection_id for e in recorded]
    # Each part follows its view's record: the window shows the part only once it is stored.
    kinds = [type(e).__name__ for e in events if isinstance(e, InspectionRecorded | PartInspected)]
    assert kinds == ["InspectionRecorded", "PartInspected"] * 2
    assert station.stats.parts == 2
    store.close()


def test_views_need_distinct_names(tmp_path, sqlite_settings):
    path = recipe_file(tmp_path, [{"engine": "scripted"}])
    recipe = load_recipe(path)
    chain = build_chain(recipe, str(path))
    store = Store.open(sqlite_settings)
    folder = _folder(tmp_path, 1)
    view = View("top", open_source(f"folder:{folder}"), recipe, 1, chain)
    with pytest.raises(ValueError, match=r"distinct names, got \['top', 'top'\]"):
        Station([view, view], store)
    with pytest.raises(ValueError, match="distinct names"):
        Station([], store)
    store.close()


@pytest.mark.parametrize("unsure", ["reject", "divert"])
def test_a_part_not_inspected_is_never_a_pass_on_the_line(unsure):
    from inspector.outputs.handshake import ResultCode
    from inspector.recipes import LineSettings
    from inspector.station.events import PartInspected, ViewResult, combine
    from inspector.station.line import result_code

    line = LineSettings(unsure=unsure)
    code = result_code(Outcome.UNJUDGED, line)
    assert code is not ResultCode.PASS
    assert code is result_code(Outcome.UNSURE, line)  # the line treats it as a part to check
    assert combine([Outcome.UNJUDGED, Outcome.UNJUDGED]) is Outcome.UNJUDGED
    assert combine([Outcome.PASS, Outcome.UNJUDGED]) is Outcome.UNSURE  # half seen: not a PASS
    assert combine([Outcome.FAIL, Outcome.UNJUDGED]) is Outcome.FAIL
    assert combine([Outcome.UNJUDGED, None]) is Outcome.UNJUDGED  # one view gave no frame
    assert PartInspected("p", (ViewResult("camera", None, None, None),)).outcome is Outcome.UNSURE
