"""GenTL cameras through Harvesters, against the simulated producer of the genicam wheel (viky.cti:
three virtual 400x400 cameras), loaded exactly as a vendor's producer is."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import tests.support.scripted_judge as scripted
from inspector.cameras import SourceState, open_source
from inspector.cameras.settings import configure
from inspector.domain import Outcome
from inspector.errors import InputError
from inspector.judges import build_chain
from inspector.recipes import CameraSettings, load_recipe
from inspector.station import InspectionRecorded, Station, TriggerPolicy
from inspector.station.runner import StationRunner
from inspector.store import Store
from tests.support import command_line
from tests.support.peers import need
from tests.support.recipes import recipe_file


@pytest.fixture(scope="module")
def producer_dir():
    """GENICAM_GENTL64_PATH pointing at the simulated producer, as a vendor's installer sets it."""
    try:
        import genicam
    except ImportError:
        need(False, "no Harvesters/genicam: pip install '.[cameras]'")
    folder = Path(genicam.__file__).parent
    need((folder / "viky.cti").is_file(), f"no viky.cti in {folder}")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GENICAM_GENTL64_PATH", str(folder))
        yield folder


def _cli(*args: str, code: str | None = None):
    return command_line.python(code) if code else command_line.inspector(*args, timeout=120)


def test_inspector_cameras_lists_every_gentl_device_with_a_uri_that_opens(producer_dir, tmp_path):
    result = _cli("--data-dir", str(tmp_path), "cameras", "--json")
    assert result.returncode == 0, result.stderr
    listing = json.loads(result.stdout)
    gentl = [c for c in listing["cameras"] if c["family"] == "gentl"]
    assert [c["uri"] for c in gentl] == [
        "gentl:VikyTL_DEV_red",
        "gentl:VikyTL_DEV_green",
        "gentl:VikyTL_DEV_blue",
    ]
    assert all("Viky" in c["description"] and "viky.cti" in c["description"] for c in gentl)
    for camera in gentl:
        source = open_source(camera["uri"])
        try:
            frame = source.read()
        finally:
            source.close()
        assert frame.image.shape == (400, 400, 3) and frame.image.dtype == np.uint8
        assert frame.camera_id == camera["uri"]

    text = _cli("--data-dir", str(tmp_path), "cameras")
    assert "gentl:VikyTL_DEV_green" in text.stdout and "serial 1" in text.stdout


def test_a_missing_camera_library_is_a_line_saying_what_to_install(producer_dir, tmp_path):
    # Harvesters and PyGObject made unimportable in this process: as on a station without them.
    code = (
        "import sys\nsys.modules['harvesters'] = None\nsys.modules['gi'] = None\n"
        "from inspector.cli import main\n"
        f"raise SystemExit(main(['--data-dir', {str(tmp_path)!r}, 'cameras']))"
    )
    result = _cli(code=code)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert any("(gentl: " in line and "pip install 'inspector[cameras]'" in line for line in lines)
    assert any("(gige: " in line and "apt install gir1.2-aravis-0.8" in line for line in lines)


def test_a_device_that_is_not_there_is_named(producer_dir):
    with pytest.raises(InputError, match="no GenTL device VikyTL_DEV_purple among VikyTL_DEV_red"):
        open_source("gentl:VikyTL_DEV_purple")
    with pytest.raises(InputError, match="3 GenTL devices found; name one: gentl:VikyTL_DEV_red"):
        open_source("gentl:")
    with pytest.raises(InputError, match=r"no GenTL producer at /no/such\.cti"):
        open_source("gentl:#0?producer=/no/such.cti")


def test_settings_the_camera_lacks_are_named_and_stop_the_start(producer_dir):
    source = open_source("gentl:VikyTL_DEV_green")
    wanted = CameraSettings(
        exposure_us=800, gain_db=6, roi={"x": 16, "y": 0, "width": 200, "height": 100}
    )
    with pytest.raises(InputError) as caught:
        configure(source, wanted)
    message = str(caught.value)
    assert message.startswith("camera gentl:VikyTL_DEV_green: cannot apply")
    assert "exposure_us (the camera has no ExposureTime or ExposureTimeAbs)" in message
    assert "gain_db (the camera has no Gain or GainAbs)" in message
    assert "roi.x (the camera has no OffsetX)" in message
    assert source.read() is None  # closed: nothing is inspected with settings not taken
    hardware = CameraSettings(trigger={"mode": "hardware", "line": "Line0"})
    with pytest.raises(InputError, match=r"trigger.mode hardware \(the camera has no TriggerMode"):
        configure(open_source("gentl:VikyTL_DEV_green"), hardware)


def test_pixel_format_roi_and_frame_rate_are_applied(producer_dir):
    source = open_source("gentl:#1")
    try:
        applied = source.configure(
            CameraSettings(
                pixel_format="mono8",
                frame_rate=40,
                roi={"x": 0, "y": 0, "width": 200, "height": 120},
            )
        )
        assert applied.problems == []
        assert applied.values["PixelFormat"] == "Mono8"
        assert applied.values["AcquisitionFrameRate"] == pytest.approx(40.0)
        assert (applied.values["Width"], applied.values["Height"]) == (200, 120)
        frames = [source.read() for _ in range(4)]
        assert all(f.image.shape == (120, 200) and f.image.dtype == np.uint8 for f in frames)
        assert [f.sequence for f in frames] == [1, 2, 3, 4]
        assert source.counters.lost_frames == 0  # frame ids came without gaps

        applied = source.configure(CameraSettings(pixel_format="color"))
        assert applied.values["PixelFormat"] == "RGBa8"  # the camera's colour format, as BGR
        assert source.read().image.shape == (120, 200, 3)
    finally:
        source.close()


def test_software_trigger_takes_the_next_frame_after_it(producer_dir):
    events = []
    source = configure(
        open_source("gentl:VikyTL_DEV_blue", events.append),
        CameraSettings(trigger={"mode": "software"}),
        events.append,
    )
    got = []
    reader = threading.Thread(target=lambda: got.extend(source.read() for _ in range(3)))
    try:
        assert source.triggered
        reader.start()
        time.sleep(0.6)
        assert got == []  # the camera runs, but no trigger: no part
        fired = []
        for _ in range(3):
            fired.append(time.monotonic_ns())
            source.trigger()
            time.sleep(0.2)
        reader.join(10)
        assert len(got) == 3
        for trigger_ns, frame in zip(fired, got, strict=True):
            assert frame.captured_monotonic_ns >= trigger_ns
        assert len({f.sequence for f in got}) == 3
    finally:
        source.close()
    assert not any(e.state is SourceState.SKIPPED for e in events)


def test_station_judges_one_part_per_software_trigger(producer_dir, tmp_path, sqlite_settings):
    path = recipe_file(
        tmp_path, [{"engine": "scripted", "answers": [scripted.PASS_ANSWER, scripted.FAIL_ANSWER]}]
    )
    recipe = load_recipe(path)
    store = Store.open(sqlite_settings)
    events = []
    source = configure(
        open_source("gentl:VikyTL_DEV_red", events.append),
        CameraSettings(pixel_format="mono8", trigger={"mode": "software"}),
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
    station.start()
    for _ in range(3):
        assert station.trigger()
        time.sleep(0.3)
    deadline = time.monotonic() + 20
    while len([e for e in events if isinstance(e, InspectionRecorded)]) < 3:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.5)  # a camera running free would add parts here; a triggered one must not
    station.stop()
    assert station.wait(30)
    recorded = [e for e in events if isinstance(e, InspectionRecorded)]
    assert [e.verdict.outcome for e in recorded] == [Outcome.PASS, Outcome.FAIL, Outcome.PASS]
    assert station.stats.captured == 3 and store.count() == 3
    assert all(e.frame.image.shape == (400, 400) for e in recorded)
    store.close()


def test_frames_of_a_gentl_camera_are_judged_by_a_tiny_model(
    producer_dir, tiny_models, tmp_path, sqlite_settings
):
    """End to end as the CLI and the window run it: recipe with a camera section, runner."""
    model = {"engine": "transformers", "model": str(tiny_models["qwen2_5_vl"]), "max_new_tokens": 8}
    camera = {"pixel_format": "color", "frame_rate": 10, "trigger": {"mode": "software"}}
    path = recipe_file(tmp_path, [model], camera=camera)
    store = Store.open(sqlite_settings)
    runner = StationRunner(store)
    events = []
    station = runner.start(path, "gentl:VikyTL_DEV_green", events.append)
    try:
        assert station.policy is TriggerPolicy.TRIGGERED  # a triggered camera gives parts
        for _ in range(2):
            assert station.trigger()
            time.sleep(0.3)
        deadline = time.monotonic() + 120
        while len([e for e in events if isinstance(e, InspectionRecorded)]) < 2:
            assert time.monotonic() < deadline
            time.sleep(0.1)
    finally:
        runner.stop()
    recorded = [e for e in events if isinstance(e, InspectionRecorded)]
    assert len(recorded) == 2
    for event in recorded:
        attempt = event.verdict.attempts[0]
        assert attempt.engine == "transformers" and attempt.error is None
        assert attempt.prompt_tokens > 100  # the camera image reached the model as image tokens
        assert event.verdict.outcome is Outcome.UNSURE  # random weights never pass a part
        assert event.frame.camera_id == "gentl:VikyTL_DEV_green"
    history = store.history(limit=10)
    assert {r.camera_id for r in history} == {"gentl:VikyTL_DEV_green"}
    assert all(r.evidence_path.is_file() for r in history)
    store.close()
