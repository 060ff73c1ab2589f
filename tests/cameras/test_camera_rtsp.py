"""RTSP cameras through OpenCV/FFmpeg, against a gst-rtsp-server on 127.0.0.1 that loops real
PCB images as H.264, as an IP camera does; killed and started again mid-stream."""

from __future__ import annotations

import threading
import time

import cv2
import numpy as np
import pytest

from inspector.cameras import SourceState, open_source
from inspector.cameras.base import Backoff
from inspector.cameras.capture import CaptureSource, rtsp_settings
from inspector.cameras.settings import configure
from inspector.errors import InputError
from inspector.recipes import CameraSettings
from tests.support.peers import free_port, read_until_reconnected, rtsp_server


@pytest.fixture
def images(test_data):
    return sorted((test_data / "deeppcb" / "defect").glob("*.jpg"))[:3]


@pytest.fixture
def server(images):
    peer = rtsp_server(images, free_port(), 10, "--tcp-only").start()
    yield peer
    peer.stop()


def _url(peer) -> str:
    return f"rtsp://127.0.0.1:{peer.args[peer.args.index('--port') + 1]}/line"


def _looks_like_one_of(image: np.ndarray, images) -> bool:
    """H.264 changes pixels a little; a frame must still be one of the served images."""
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32)
    for path in images:
        served = cv2.resize(cv2.imread(str(path), cv2.IMREAD_GRAYSCALE), (640, 480))
        if np.abs(gray - served.astype(np.float32)).mean() < 12:
            return True
    return False


def test_rtsp_is_read_over_tcp_and_the_password_stays_out_of_the_record(server, images):
    url = _url(server).replace("rtsp://", "rtsp://operator:s3cret@")
    events = []
    source = open_source(url, events.append)
    try:
        frames = [source.read() for _ in range(5)]
    finally:
        source.close()
    assert source.live
    assert all(f.image.shape == (480, 640, 3) for f in frames)
    assert [f.sequence for f in frames] == [1, 2, 3, 4, 5]
    assert all(_looks_like_one_of(f.image, images) for f in frames)
    assert "s3cret" not in source.uri and "s3cret" not in frames[0].camera_id
    assert frames[0].camera_id.startswith("rtsp://operator:***@127.0.0.1:")


def test_the_transport_option_is_what_reaches_the_camera(server):
    """The server takes RTP over TCP only: asking for UDP must fail, so the option is real."""
    with pytest.raises(InputError, match="cannot open it"):
        open_source(_url(server) + "?transport=udp&open_timeout=4")
    with pytest.raises(InputError, match="transport=quic must be tcp or udp"):
        open_source(_url(server) + "?transport=quic")
    url, options, timeout_ms = rtsp_settings(_url(server) + "?channel=2&open_timeout=3")
    assert url == _url(server) + "?channel=2"  # the camera's own query is passed on
    assert "rtsp_transport;tcp" in options and timeout_ms == 3000


def test_a_fresh_stream_gives_fresh_frames_not_a_backlog(images):
    """Frames queued while the stream opened are seconds old: never judged as the part now."""
    peer = rtsp_server(images, port := free_port(), 10, "--stamp").start()
    try:
        from tests.support.peers.rtsp_server import read_stamp

        source = open_source(f"rtsp://127.0.0.1:{port}/line")
        try:
            frames = [source.read() for _ in range(5)]
        finally:
            source.close()
    finally:
        peer.stop()
    ages_ms = [(time.time_ns() - read_stamp(f.image)) / 1e6 for f in frames]
    # Unbuffered, a frame is a few frame periods old at most; buffered, the first were ~3 s old.
    assert max(ages_ms) < 1500, ages_ms


def test_rtsp_reconnects_after_the_server_dies_and_comes_back(server):
    url, options, timeout_ms = rtsp_settings(_url(server))
    events = []
    source = CaptureSource(
        url,
        url,
        events.append,
        live=True,
        backoff=Backoff(first_s=0.2, cap_s=1.0, lost_after=2),
        ffmpeg_options=options,
        open_timeout_ms=timeout_ms,
    )
    try:
        assert source.read() is not None
        server.kill()
        restart = threading.Timer(2.0, server.start)
        restart.start()
        frame = read_until_reconnected(source, events, seconds=40)
        restart.join()
    finally:
        source.close()
    states = [e.state for e in events]
    assert SourceState.RECONNECTING in states
    assert states[-1] is SourceState.CONNECTED
    assert source.counters.reconnects == 1
    assert frame.image.shape == (480, 640, 3)


def test_a_software_trigger_takes_the_next_rtsp_frame(server):
    events = []
    source = configure(
        open_source(_url(server), events.append),
        CameraSettings(trigger={"mode": "software"}),
        events.append,
    )
    try:
        assert source.triggered
        got = []
        reader = threading.Thread(target=lambda: got.append(source.read()))
        reader.start()
        time.sleep(0.5)
        assert got == []
        fired = time.monotonic_ns()
        source.trigger()
        reader.join(10)
        assert got[0].captured_monotonic_ns >= fired
    finally:
        source.close()
    with pytest.raises(InputError, match="exposure_us \\(this source has no camera controls\\)"):
        configure(open_source(_url(server)), CameraSettings(exposure_us=100))
