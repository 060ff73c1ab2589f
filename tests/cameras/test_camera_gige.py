"""GigE Vision cameras through Aravis, against fake cameras that speak GVCP/GVSP on 127.0.0.1:
Aravis's own `arv-fake-gv-camera-0.8`, and a GvFakeCamera streaming real PCB images."""

from __future__ import annotations

import json
import threading
import time

import numpy as np
import pytest

import tests.support.scripted_judge as scripted
from inspector.cameras import SourceState, open_source
from inspector.cameras.settings import configure
from inspector.errors import InputError
from inspector.judges import build_chain
from inspector.recipes import CameraSettings, load_recipe
from inspector.station import InspectionRecorded, Station, TriggerPolicy
from inspector.store import Store
from tests.support import command_line
from tests.support.peers import fake_gv_camera, gige_camera
from tests.support.recipes import recipe_file


@pytest.fixture
def fake_camera():
    peer = fake_gv_camera("GV01").start()
    yield peer
    peer.stop()


@pytest.fixture
def pcb_images(test_data):
    return sorted((test_data / "deeppcb" / "defect").glob("*.jpg"))[:3]


def _wait_for(condition, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_a_gige_camera_is_discovered_opened_and_its_features_changed(fake_camera, tmp_path):
    result = command_line.inspector("--data-dir", str(tmp_path), "cameras", "--json", timeout=60)
    assert result.returncode == 0, result.stderr
    gige = [c for c in json.loads(result.stdout)["cameras"] if c["family"] == "gige"]
    assert [c["uri"] for c in gige] == ["gige:127.0.0.1"]
    assert "id Aravis-Fake-GV01, serial GV01" in gige[0]["description"]

    source = open_source("gige:Aravis-Fake-GV01")  # by id: looked up, opened by its address
    try:
        first = [source.read() for _ in range(3)][-1]
        assert first.image.shape == (512, 512) and first.image.dtype == np.uint8
        assert first.device_timestamp_ns is not None
        applied = source.configure(CameraSettings(exposure_us=2500, frame_rate=12))
        assert applied.problems == []
        assert applied.values["ExposureTimeAbs"] == 2500
        assert applied.values["AcquisitionFrameRate"] == pytest.approx(12, rel=1e-3)  # its period
        darker = [source.read() for _ in range(3)][-1]
        # The fake sensor integrates light: a quarter of the exposure, a darker image.
        assert darker.image.mean() < 0.5 * first.image.mean()
        stamps = [source.read().device_timestamp_ns for _ in range(4)]
        periods = np.diff(stamps) / 1e9
        assert np.all(periods > 0.04)  # 12 fps by the camera's own clock, not the default 25
    finally:
        source.close()


def test_hardware_trigger_is_set_on_the_camera_and_no_frame_comes_without_one(fake_camera):
    source = open_source("gige:127.0.0.1?timeout=0.5")
    with pytest.raises(InputError, match=r"trigger.line Line7 \(the camera offers Line0, Software"):
        configure(source, CameraSettings(trigger={"mode": "hardware", "line": "Line7"}))
    source = open_source("gige:127.0.0.1?timeout=0.5")
    applied = source.configure(CameraSettings(trigger={"mode": "hardware", "line": "Line0"}))
    assert applied.problems == []
    assert applied.values["TriggerMode"] == "On"
    assert applied.values["TriggerSource"] == "Line0"
    assert applied.values["TriggerActivation"] == "RisingEdge"
    got = []
    reader = threading.Thread(target=lambda: got.append(source.read()))
    reader.start()
    time.sleep(1.5)  # three read timeouts: silence is normal for a triggered camera
    assert got == []
    started = time.monotonic()
    source.close()
    reader.join(10)
    assert got == [None] and time.monotonic() - started < 3


def test_software_trigger_fires_the_cameras_trigger_software(fake_camera):
    source = configure(open_source("gige:127.0.0.1"), CameraSettings(trigger={"mode": "software"}))
    try:
        assert type(source).__name__ == "GenICamSource"  # the camera's own trigger, no emulation
        got = []
        reader = threading.Thread(target=lambda: got.extend(source.read() for _ in range(2)))
        reader.start()
        time.sleep(0.5)
        assert got == []
        fired = time.monotonic_ns()
        source.trigger()
        time.sleep(0.3)
        source.trigger()
        reader.join(10)
        assert len(got) == 2 and got[0].captured_monotonic_ns > fired
        assert got[1].sequence == got[0].sequence + 1
    finally:
        source.close()


def test_a_camera_that_dies_mid_stream_is_reconnected_and_the_station_goes_on(
    pcb_images, tmp_path, sqlite_settings
):
    camera = gige_camera(pcb_images).start()
    path = recipe_file(tmp_path, [{"engine": "scripted", "answers": [scripted.PASS_ANSWER]}])
    recipe = load_recipe(path)
    store = Store.open(sqlite_settings)
    events = []
    source = configure(
        open_source("gige:127.0.0.1?timeout=1", events.append),
        CameraSettings(exposure_us=5000, pixel_format="mono8"),
        events.append,
    )
    station = Station.for_camera(
        source,
        build_chain(recipe, str(path)),
        recipe,
        store.recipe_version_id(recipe, []),
        store,
        TriggerPolicy.FREE_RUN,
    )
    station.subscribe(events.append)

    def recorded():
        return [e for e in events if isinstance(e, InspectionRecorded)]

    try:
        station.start()
        _wait_for(lambda: len(recorded()) >= 3, 20, "frames before the kill")
        before = recorded()[-1].frame
        camera.kill()  # power cut, mid-stream
        killed = len(recorded())
        time.sleep(2.0)
        camera.start()
        _wait_for(lambda: any(e.state is SourceState.CONNECTED for e in _states(events)), 40, "CON")
        _wait_for(lambda: len(recorded()) >= killed + 3, 20, "frames after the reconnect")
    finally:
        station.stop()
        assert station.wait(30)
        camera.stop()
    links = [e for e in _states(events) if e.state is not SourceState.SKIPPED]
    assert links[0].state is SourceState.RECONNECTING and "link lost" in links[0].message
    assert links[-1].state is SourceState.CONNECTED
    assert source.counters.reconnects == 1
    # The stream is read again at once: frames lost on loopback, if any, are a handful.
    assert source.counters.lost_frames < 10
    after = recorded()[-1].frame
    # The settings were applied again to the camera that came back: same size, same exposure.
    assert after.image.shape == before.image.shape == (512, 512)
    assert abs(float(after.image.mean()) - float(before.image.mean())) < 25
    stats = station.stats
    assert stats.captured == stats.judged + stats.dropped
    assert stats.recorded == store.count() == len(recorded())  # a record only for a real frame
    store.close()


def _states(events):
    return [e for e in events if hasattr(e, "state") and hasattr(e, "uri")]


def test_a_trigger_while_the_camera_is_away_gives_no_part(pcb_images, tmp_path, sqlite_settings):
    """Never a verdict for a frame that did not arrive: the missed trigger is counted instead."""
    camera = gige_camera(pcb_images).start()
    path = recipe_file(tmp_path, [{"engine": "scripted", "answers": [scripted.PASS_ANSWER]}])
    recipe = load_recipe(path)
    store = Store.open(sqlite_settings)
    events = []
    source = configure(
        open_source("gige:127.0.0.1?timeout=1", events.append),
        CameraSettings(trigger={"mode": "software"}),
        events.append,
    )
    station = Station.for_camera(
        source,
        build_chain(recipe, str(path)),
        recipe,
        store.recipe_version_id(recipe, []),
        store,
        TriggerPolicy.TRIGGERED,
    )
    station.subscribe(events.append)

    def count(kind):
        return len([e for e in events if isinstance(e, kind)])

    def seen(state):
        return any(e.state is state for e in _states(events))

    try:
        station.start()
        assert station.trigger()
        _wait_for(lambda: count(InspectionRecorded) == 1, 10, "the first part")
        camera.kill()
        _wait_for(lambda: seen(SourceState.RECONNECTING), 15, "the loss to be noticed")
        assert station.trigger()  # a part passes while the camera is away
        camera.start()
        _wait_for(lambda: seen(SourceState.CONNECTED), 40, "the reconnect")
        assert station.trigger()
        _wait_for(lambda: count(InspectionRecorded) == 2, 10, "the part after the reconnect")
        time.sleep(0.5)
    finally:
        station.stop()
        assert station.wait(30)
        camera.stop()
    assert source.counters.missed_triggers == 1
    missed = [e for e in _states(events) if e.state is SourceState.SKIPPED]
    assert len(missed) == 1 and "trigger not taken" in missed[0].message
    assert store.count() == 2 and station.stats.captured == 2
    store.close()
