"""Several views per part with real cameras: a GigE Vision camera (real PCB images, its own
TriggerSoftware) on top, a GenTL camera (viky.cti, trigger emulated) on the side."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import tests.support.scripted_judge as scripted
from inspector.cameras import open_source
from inspector.cameras.settings import configure
from inspector.domain import Outcome
from inspector.judges import build_chain
from inspector.recipes import CameraSettings, load_recipe
from inspector.station import (
    InspectionRecorded,
    PartInspected,
    Station,
    StationStopped,
    TriggerPolicy,
    View,
)
from inspector.store import Store
from tests.support.peers import gige_camera, need
from tests.support.recipes import recipe_file
from tests.support.records_data import plain_query

NOT_JSON = "the copper looks fine to me"  # an answer the parser cannot read: UNSURE


@pytest.fixture
def viky(monkeypatch):
    try:
        import genicam
    except ImportError:
        need(False, "no Harvesters/genicam: pip install '.[cameras]'")
    monkeypatch.setenv("GENICAM_GENTL64_PATH", str(Path(genicam.__file__).parent))


def _view(name, folder, uri, store, answers, events, **recipe_fields):
    folder.mkdir()
    engines = [{"engine": "scripted", "answers": answers}]
    path = recipe_file(folder, engines, name=f"pcb-{name}", **recipe_fields)
    recipe = load_recipe(path)
    source = configure(
        open_source(uri, events.append), CameraSettings(trigger={"mode": "software"}), events.append
    )
    version = store.recipe_version_id(recipe, [])
    return View(name, source, recipe, version, build_chain(recipe, str(path)))


def _wait_for(condition, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline
        time.sleep(0.05)


@pytest.fixture
def top_camera(test_data):
    peer = gige_camera(sorted((test_data / "deeppcb" / "defect").glob("*.jpg"))[:2]).start()
    yield peer
    peer.stop()


def test_two_cameras_give_one_verdict_per_part_and_each_view_its_record(
    top_camera, viky, tmp_path, settings
):
    store = Store.open(settings)
    events = []
    top = _view(
        "top",
        tmp_path / "top",
        "gige:127.0.0.1",
        store,
        [scripted.PASS_ANSWER],
        events,
        prompt="Inspect the top face for open circuits.",
    )
    side = _view(
        "side",
        tmp_path / "side",
        "gentl:VikyTL_DEV_red",
        store,
        [scripted.PASS_ANSWER, scripted.FAIL_ANSWER, NOT_JSON],
        events,
        prompt="Inspect the side for solder bridges.",
        roi={"x": 0, "y": 0, "width": 200, "height": 200},
    )
    station = Station([top, side], store, TriggerPolicy.TRIGGERED, sync_window_s=0.5)
    station.subscribe(events.append)

    def parts():
        return [e for e in events if isinstance(e, PartInspected)]

    try:
        station.start()
        for count in (1, 2, 3):
            assert station.trigger()  # both cameras at once, as a part reaches the station
            _wait_for(lambda count=count: len(parts()) == count, 15)
        top.source.trigger()  # the side camera misses this part
        _wait_for(lambda: len(parts()) == 4, 15)
    finally:
        station.stop()
        assert station.wait(30)

    assert [p.outcome for p in parts()] == [
        Outcome.PASS,  # both pass
        Outcome.FAIL,  # the side fails
        Outcome.UNSURE,  # the side's answer cannot be read
        Outcome.UNSURE,  # the side gave no frame: not judged, not passed
    ]
    assert parts()[3].reason == "UNSURE (top: PASS, side: no frame)"
    assert len({p.part_id for p in parts()}) == 4
    for part in parts():
        ids = [v.frame.part_id for v in part.views if v.frame is not None]
        assert ids == [part.part_id] * len(ids)  # one part id ties the views
    recorded = [e for e in events if isinstance(e, InspectionRecorded)]
    assert len(recorded) == 7  # 3 parts x 2 views + the top view of the last part
    assert {e.frame.camera_id for e in recorded} == {"gige:127.0.0.1", "gentl:VikyTL_DEV_red"}
    top_frame = parts()[0].views[0].frame
    side_frame = parts()[0].views[1].frame
    assert top_frame.image.shape == (512, 512) and side_frame.image.shape == (400, 400, 3)
    # Each view judged with its own prompt.
    hashes = {v.view: v.verdict.attempts[0].prompt_hash for v in parts()[0].views}
    assert hashes["top"] != hashes["side"]
    assert isinstance(events[-1], StationStopped) and events[-1].stats.missing_views == 1

    rows = plain_query(
        settings, "SELECT part_id, camera_id, outcome, evidence_sha256 FROM inspections"
    )
    assert len(rows) == 7
    by_part: dict[str, list] = {}
    for part_id, camera_id, outcome, sha in rows:
        by_part.setdefault(part_id, []).append((camera_id, outcome))
        assert sha and (store.evidence.root / sha[:2]).is_dir()
    assert sorted(len(v) for v in by_part.values()) == [1, 2, 2, 2]
    assert sorted(o for views in by_part.values() for _, o in views).count("FAIL") == 1
    store.close()


def test_folders_pair_their_nth_images_into_parts(tmp_path, sqlite_settings):
    import cv2
    import numpy as np

    store = Store.open(sqlite_settings)
    views = []
    for name, answers in (("top", [scripted.PASS_ANSWER]), ("side", [scripted.FAIL_ANSWER])):
        folder = tmp_path / name / "frames"
        folder.mkdir(parents=True)
        for i in range(3):
            cv2.imwrite(str(folder / f"part{i}.png"), np.full((40, 60, 3), i * 40, np.uint8))
        engines = [{"engine": "scripted", "answers": answers}]
        path = recipe_file(tmp_path / name, engines, name=f"pcb-{name}")
        recipe = load_recipe(path)
        source = open_source(f"folder:{folder}")
        views.append(
            View(name, source, recipe, store.recipe_version_id(recipe, []), build_chain(recipe, ""))
        )
    events = []
    station = Station(views, store, TriggerPolicy.TRIGGERED)
    station.subscribe(events.append)
    station.start()
    assert station.wait(30)
    parts = [e for e in events if isinstance(e, PartInspected)]
    assert [p.part_id for p in parts] == ["part0", "part1", "part2"]
    assert {p.outcome for p in parts} == {Outcome.FAIL}
    assert store.count() == 6
    store.close()


def test_stop_finishes_the_part_in_flight_and_records_queued_parts_not_inspected(
    tmp_path, sqlite_settings
):
    import threading

    import cv2
    import numpy as np

    store = Store.open(sqlite_settings)
    views = []
    for name in ("top", "side"):
        folder = tmp_path / name / "frames"
        folder.mkdir(parents=True)
        for i in range(10):
            cv2.imwrite(str(folder / f"part{i}.png"), np.full((40, 60, 3), i * 20, np.uint8))
        path = recipe_file(tmp_path / name, [{"engine": "scripted"}], name=f"pcb-{name}")
        recipe = load_recipe(path)
        views.append(
            View(
                name,
                open_source(f"folder:{folder}"),
                recipe,
                store.recipe_version_id(recipe, []),
                build_chain(recipe, ""),
            )
        )
    top_judge = views[0].chain.judges[0]
    top_judge.gate = threading.Event()  # the model holds the first part's top view
    events = []
    station = Station(views, store, TriggerPolicy.TRIGGERED)
    station.subscribe(events.append)
    station.start()
    # Part 1 is being judged, parts 2-5 fill each view's queue (4 places), and each camera
    # waits with part 6.
    _wait_for(lambda: top_judge.calls == 1 and station.stats.captured == 12, 10)
    station.stop()
    top_judge.gate.set()
    assert station.wait(30)

    parts = [e for e in events if isinstance(e, PartInspected)]
    assert [p.part_id for p in parts] == [f"part{i}" for i in range(6)]
    assert parts[0].outcome is Outcome.PASS  # both views of the part in flight were judged
    assert [p.outcome for p in parts[1:]] == [Outcome.UNJUDGED] * 5  # not inspected, not UNSURE
    for part in parts[1:]:
        assert {r.verdict.reason for r in part.views} == {
            "station stopped before this part was judged"
        }
        assert all(r.inspection_id is not None for r in part.views)
    stats = station.stats
    assert (stats.captured, stats.judged, stats.not_judged, stats.recorded, stats.parts) == (
        12,
        2,
        10,
        12,
        6,
    )
    assert stats.backpressure_waits >= 2 and stats.missing_views == 0
    assert store.count() == 12
    assert store.review_count() == 0  # no verdict: nothing for a person to review
    store.close()
