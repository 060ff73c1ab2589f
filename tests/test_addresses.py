"""A camera's address as shown and recorded: the one masker, and the sources that use it."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from inspector.addresses import shown_address
from inspector.cameras import open_source
from inspector.cameras.capture import CaptureSource, rtsp_settings
from inspector.errors import InputError
from tests.support.mjpeg_camera import MjpegServer, pcb_jpegs


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        (
            "rtsp://admin:s3cret@cam.example.com:554/live",
            "rtsp://admin:***@cam.example.com:554/live",
        ),
        ("rtsp://admin:s3@cr:et@cam.example.com/x", "rtsp://admin:***@cam.example.com/x"),
        ("rtsp://cam.example.com/live?pwd=s3cret", "rtsp://cam.example.com/live?pwd=***"),
        (
            "http://cam.example.com/video.cgi?user=admin&password=s3cret&channel=1",
            "http://cam.example.com/video.cgi?user=admin&password=***&channel=1",
        ),
        ("https://cam.example.com/a?PassWd=s3cret", "https://cam.example.com/a?PassWd=***"),
        (
            "https://cam.example.com/a?access_token=s3cret&api_key=s3cret&Secret=s3cret",
            "https://cam.example.com/a?access_token=***&api_key=***&Secret=***",
        ),
        ("http://cam.example.com/a?X-Auth=s3cret#top", "http://cam.example.com/a?X-Auth=***#top"),
        ("http://cam.example.com/a?pass%77ord=s3cret", "http://cam.example.com/a?pass%77ord=***"),
        ("http://cam.example.com/a?u=me;pwd=s3cret", "http://cam.example.com/a?u=me;pwd=***"),
        (
            "rtsp://u:s3cret@[::1]:8554/x?token=s3cret&transport=udp",
            "rtsp://u:***@[::1]:8554/x?token=***&transport=udp",
        ),
        ("http://[::1/x?key=s3cret", "http://[::1/x?key=***"),  # malformed, masked all the same
        ("folder:/line/top?loop=1&secret=s3cret", "folder:/line/top?loop=1&secret=***"),
        ("/videos/line.mp4?auth=s3cret", "/videos/line.mp4?auth=***"),
        # Nothing secret: left byte for byte.
        ("usb:0", "usb:0"),
        ("rtsp://cam.example.com:554/live?channel=1&subtype=0", None),
        ("rtsp://viewer@cam.example.com/live", None),
        ("folder:/line/top?loop=1&fps=2.5", None),
        ("gentl:0?producer=/opt/x.cti", None),
    ],
)
def test_secrets_in_an_address_are_masked_and_the_rest_kept(given, shown):
    assert shown_address(given) == (given if shown is None else shown)
    assert shown_address(shown_address(given)) == shown_address(given)  # masking twice is once


def test_a_folder_address_with_a_password_is_refused_without_showing_it(tmp_path):
    cv2.imwrite(str(tmp_path / "a.png"), np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(InputError) as refused:
        open_source(f"folder:{tmp_path}?password=s3cret")
    assert "unknown option" in str(refused.value) and "password=***" in str(refused.value)
    assert "s3cret" not in str(refused.value)
    with pytest.raises(InputError) as refused:
        open_source(f"{tmp_path}/missing.avi?token=s3cret")
    assert "token=***" in str(refused.value) and "s3cret" not in str(refused.value)


def test_an_rtsp_camera_that_cannot_be_reached_is_named_without_its_password():
    uri = "rtsp://admin:s3cret@127.0.0.1:9/live?password=s3cret&open_timeout=1"
    with pytest.raises(InputError) as refused:
        open_source(uri)
    message = str(refused.value)
    assert "cannot open it" in message and "rtsp://admin:***@127.0.0.1:9/live" in message
    assert "s3cret" not in message
    with pytest.raises(InputError) as refused:
        rtsp_settings("rtsp://u:s3cret@127.0.0.1/x?transport=sctp")
    assert "transport=sctp" in str(refused.value) and "s3cret" not in str(refused.value)


def test_a_stream_is_reached_at_its_real_address_and_named_by_its_masked_one(test_data):
    server = MjpegServer(pcb_jpegs(test_data, 2))
    server.start()
    try:
        uri = server.url.replace("://", "://cam:s3cret@") + "?password=s3cret&token=abc"
        source = open_source(uri)
        try:
            frame = source.read()
        finally:
            source.close()
        assert frame is not None and frame.image.shape == (240, 320, 3)  # it connected
        assert source.uri == source.camera_id == frame.camera_id
        assert frame.camera_id == shown_address(uri)
        assert "s3cret" not in frame.camera_id and "abc" not in frame.camera_id
        direct = CaptureSource(uri, uri, lambda event: None, live=True)  # a caller that forgot
        direct.close()
        assert direct.uri == shown_address(uri)
    finally:
        server.stop()
