"""Camera sources against real peers: files, folders, and an HTTP MJPEG server on 127.0.0.1."""

from __future__ import annotations

import shutil
import threading
import time

import cv2
import numpy as np
import pytest

from inspector.cameras import SourceState, open_source
from inspector.cameras.base import Backoff
from inspector.cameras.capture import CaptureSource
from inspector.errors import InputError
from tests.support.mjpeg_camera import MjpegServer, pcb_jpegs
from tests.support.pcb_frames import make_video
from tests.support.peers import read_until_reconnected


@pytest.fixture
def mjpeg(test_data):
    server = MjpegServer(pcb_jpegs(test_data, 4))
    server.start()
    yield server
    server.stop()


def test_folder_gives_images_in_name_order_with_part_ids_and_a_corrupt_one_says_so(tmp_path):
    for name in ("b.png", "a.png", "c.png"):
        cv2.imwrite(str(tmp_path / name), np.full((10, 12, 3), ord(name[0]), np.uint8))
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    (tmp_path / "notes.txt").write_text("not an image")
    events = []
    source = open_source(f"folder:{tmp_path}", on_event=events.append)
    frames = []
    while (frame := source.read()) is not None:
        frames.append(frame)
    assert [f.part_id for f in frames] == ["a", "b", "broken", "c"]
    assert [f.sequence for f in frames] == [1, 2, 3, 4]
    readable = [f for f in frames if f.unreadable is None]
    assert [int(f.image[0, 0, 0]) for f in readable] == [ord("a"), ord("b"), ord("c")]
    assert frames[2].unreadable.startswith("broken.jpg: ")  # a part, recorded UNSURE
    assert [e.state for e in events] == [SourceState.ENDED]
    assert not source.live


def test_folder_loops_and_paces_when_asked(tmp_path):
    for i in range(2):
        cv2.imwrite(str(tmp_path / f"{i}.png"), np.zeros((4, 4), np.uint8))
    source = open_source(f"folder:{tmp_path}?loop=1&fps=20")
    start = time.monotonic()
    frames = [source.read() for _ in range(5)]
    elapsed = time.monotonic() - start
    assert [f.part_id for f in frames] == ["0", "1", "0", "1", "0"]
    assert elapsed >= 4 / 20 * 0.9  # five frames at 20 fps: four intervals
    source.close()
    assert source.read() is None


def test_a_video_file_is_read_to_its_end(test_data, tmp_path):
    video = make_video(test_data, tmp_path / "line.avi", count=6)
    events = []
    source = open_source(str(video), on_event=events.append)
    frames = []
    while (frame := source.read()) is not None:
        frames.append(frame)
    assert len(frames) == 6
    assert frames[0].image.shape == (240, 320, 3)
    assert events[-1].state is SourceState.ENDED


def test_a_video_file_loops_when_asked(test_data, tmp_path):
    video = make_video(test_data, tmp_path / "line.avi", count=3)
    source = open_source(f"file:{video}?loop=1")
    frames = [source.read() for _ in range(7)]
    assert all(f is not None for f in frames)
    assert [f.sequence for f in frames] == list(range(1, 8))
    source.close()


def test_http_mjpeg_stream_is_read(mjpeg):
    source = open_source(mjpeg.url)
    try:
        frames = [source.read() for _ in range(5)]
    finally:
        source.close()
    assert source.live
    assert all(f is not None and f.image.shape == (240, 320, 3) for f in frames)
    assert [f.sequence for f in frames] == [1, 2, 3, 4, 5]


def test_a_stream_that_dies_is_reconnected_and_reported(mjpeg):
    events = []
    source = CaptureSource(
        mjpeg.url,
        mjpeg.url,
        events.append,
        live=True,
        backoff=Backoff(first_s=0.2, cap_s=0.5, lost_after=2),
    )
    try:
        assert source.read() is not None
        mjpeg.stop()
        restart = threading.Timer(2.5, mjpeg.start)
        restart.start()
        frame = read_until_reconnected(source, events, seconds=30)
        restart.join()
    finally:
        source.close()
    states = [e.state for e in events]
    assert SourceState.RECONNECTING in states
    assert SourceState.LOST in states  # 2.5 s down with 0.2-0.5 s backoff: past lost_after
    assert states[-1] is SourceState.CONNECTED
    assert frame.image.shape == (240, 320, 3)


def test_close_interrupts_a_reconnecting_read(mjpeg):
    source = CaptureSource(mjpeg.url, mjpeg.url, lambda e: None, live=True)
    assert source.read() is not None
    mjpeg.stop()
    result = []
    reader = threading.Thread(target=lambda: result.append(_drain(source)))
    reader.start()
    time.sleep(1.0)
    started = time.monotonic()
    source.close()
    reader.join(10)
    assert not reader.is_alive()
    assert time.monotonic() - started < 6
    assert result == [None]


def _drain(source):
    while (frame := source.read()) is not None:
        del frame
    return None


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("nonsense://camera", "unknown kind of source"),
        ("usb:abc", "expected a device number"),
        ("usb:97", "no camera at device 97"),
        ("folder:/no/such/folder", "no folder at /no/such/folder"),
        ("file:/no/such/video.mp4", "no file at /no/such/video.mp4"),
        ("http://127.0.0.1:9/none.mjpg", "cannot open it"),
    ],
)
def test_sources_that_cannot_open_say_which_and_why(uri, message):
    with pytest.raises(InputError, match=message) as caught:
        open_source(uri)
    assert uri in str(caught.value)


def test_folder_options_are_checked(tmp_path):
    cv2.imwrite(str(tmp_path / "a.png"), np.zeros((4, 4), np.uint8))
    with pytest.raises(InputError, match="unknown option 'speed'"):
        open_source(f"folder:{tmp_path}?speed=2")
    with pytest.raises(InputError, match="fps=fast is not a number"):
        open_source(f"folder:{tmp_path}?fps=fast")
    empty = tmp_path / "empty"
    empty.mkdir()
    shutil.copy(__file__, empty / "not_an_image.py")
    with pytest.raises(InputError, match="no images in"):
        open_source(f"folder:{empty}")
