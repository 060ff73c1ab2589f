"""Image files the way a line delivers them: unreadable ones, 16-bit ones, names in any bytes;
and a looping folder with nothing readable, which waits instead of spinning."""

from __future__ import annotations

import threading
import time

import cv2
import numpy as np
import pytest

from inspector.cameras import SourceState, open_source
from inspector.cameras.images import (
    UnreadableImage,
    part_id_for,
    read_image,
    read_picture,
    unreadable_placeholder,
)
from inspector.cameras.pixels import to_frame_pixels
from tests.support.bad_images import (
    NON_UTF8_PART_ID,
    nearly_black_twins,
    part_image,
    write_bad_files,
    write_non_utf8_named,
)


def test_each_kind_of_unreadable_file_is_refused_with_its_reason(tmp_path):
    for name, words in write_bad_files(tmp_path).items():
        with pytest.raises(UnreadableImage, match=words):
            read_picture(tmp_path / name)
    with pytest.raises(UnreadableImage, match="no such file"):
        read_picture(tmp_path / "gone.png")
    with pytest.raises(UnreadableImage, match="cannot read it"):
        read_picture(tmp_path)  # a folder where a file was expected


@pytest.mark.parametrize("suffix", [".png", ".tif"])
@pytest.mark.parametrize("channels", [1, 3])
def test_16_bit_files_scale_by_their_depth_never_by_their_brightest_pixel(
    tmp_path, suffix, channels
):
    _, dark8, dark16 = nearly_black_twins()
    if channels == 1:
        dark8, dark16 = dark8[..., 0], dark16[..., 0]
    path = tmp_path / f"dark{suffix}"
    assert cv2.imwrite(str(path), dark16)
    picture = read_picture(path)
    assert picture.view.dtype == np.uint8
    assert np.array_equal(picture.view, dark8)  # as dark as its 8-bit twin: levels 0-9
    assert int(picture.view.max()) <= 9
    assert picture.native is not None and picture.native.dtype == np.uint16
    assert np.array_equal(picture.native, dark16)  # the file's own pixels, for the evidence
    assert np.array_equal(read_image(path), dark8)


def test_an_8_bit_file_has_no_separate_native_pixels(tmp_path):
    path = tmp_path / "part.png"
    cv2.imwrite(str(path), part_image())
    picture = read_picture(path)
    assert picture.native is None and np.array_equal(picture.view, part_image())


def test_floating_point_pixels_are_refused_not_guessed(tmp_path):
    path = tmp_path / "float.tif"
    assert cv2.imwrite(str(path), np.full((8, 8), 0.5, np.float32))
    with pytest.raises(UnreadableImage, match="float32 pixels are not supported"):
        read_picture(path)


def test_wide_camera_formats_keep_their_pixels_at_16_bits():
    twelve_bit = np.array([[0, 4095], [2048, 16]], dtype="<u2")
    view, native = to_frame_pixels(twelve_bit.tobytes(), "Mono12", 2, 2)
    assert view.tolist() == [[0, 255], [128, 1]]  # by depth: the top 8 of 12 bits
    # Left-aligned to 16 bits, as PNG keeps fewer significant bits: the 12 bits, exactly.
    assert native.dtype == np.uint16 and (native >> 4).tolist() == twelve_bit.tolist()
    dark = np.array([[3, 9]], dtype="<u2") * 256  # a nearly black 16-bit frame stays dark
    view, native = to_frame_pixels(dark.tobytes(), "Mono16", 2, 1)
    assert view.tolist() == [[3, 9]] and native.tolist() == dark.tolist()
    # Bits above the depth (noise on some cameras) are not the camera's measure: dropped.
    noisy = np.array([[0xF000 | 100]], dtype="<u2")
    assert to_frame_pixels(noisy.tobytes(), "Mono12", 1, 1)[1].tolist() == [[100 << 4]]
    view, native = to_frame_pixels(bytes(range(12)), "Mono8", 4, 3)
    assert native is None and view.shape == (3, 4)


def test_a_file_name_in_any_bytes_gives_the_same_valid_part_id(tmp_path):
    path = write_non_utf8_named(tmp_path, part_image())
    assert part_id_for(path) == NON_UTF8_PART_ID == part_id_for(path)
    part_id_for(path).encode("utf-8")  # valid text: no lone surrogate left
    assert part_id_for(tmp_path / "naïve-Ω.jpg") == "naïve-Ω"  # UTF-8 names stay as they are


def test_folder_makes_every_file_a_part_and_says_why_one_cannot_be_read(tmp_path):
    cv2.imwrite(str(tmp_path / "a-good.png"), part_image(0))
    reasons = write_bad_files(tmp_path)
    write_non_utf8_named(tmp_path, part_image(5))
    cv2.imwrite(str(tmp_path / "z-good.png"), part_image(9))
    events = []
    source = open_source(f"folder:{tmp_path}", on_event=events.append)
    frames = []
    while (frame := source.read()) is not None:
        frames.append(frame)
    expected = ["a-good", "b-empty", "c-cut", "d-cut", "e-text", NON_UTF8_PART_ID, "z-good"]
    assert [f.part_id for f in frames] == expected
    assert [f.sequence for f in frames] == list(range(1, 8))
    unreadable = {f.part_id: f.unreadable for f in frames if f.unreadable}
    assert set(unreadable) == {"b-empty", "c-cut", "d-cut", "e-text"}
    for name, words in reasons.items():
        reason = unreadable[name.rsplit(".", 1)[0]]
        assert reason.startswith(f"{name}: ") and words in reason
    placeholder = unreadable_placeholder()
    for frame in frames:
        if frame.unreadable:  # pixels that say so, never the part's
            assert np.array_equal(frame.image, placeholder)
        else:
            assert frame.image.shape == (120, 160, 3) and frame.native is None
    assert [e.state for e in events] == [SourceState.ENDED]  # one part each, no skip events


def test_a_looping_folder_of_nothing_readable_waits_and_backs_off(tmp_path):
    write_bad_files(tmp_path)
    events = []
    source = open_source(f"folder:{tmp_path}?loop=1", on_event=events.append)
    frames = []

    def read_all() -> None:
        while (frame := source.read()) is not None:
            frames.append(frame)

    reader = threading.Thread(target=read_all)
    reader.start()
    time.sleep(2.0)  # passes at 0, 0.25, 0.75 and 1.75 s, then a 4 s wait... at most 5
    source.close()
    closed_at = time.monotonic()
    reader.join(5)
    assert not reader.is_alive()
    assert time.monotonic() - closed_at < 1.0  # close cuts a back-off short
    passes = len(frames) / 4
    assert 3 <= passes <= 5, f"{len(frames)} frames in 2 s: the folder spins"
    assert all(f.unreadable for f in frames)
    waits = [e for e in events if e.state is SourceState.SKIPPED]
    assert len(waits) == passes - 1 or len(waits) == passes  # one event per back-off
    delays = [float(e.message.rsplit("again in ", 1)[1].split(" ")[0]) for e in waits]
    assert delays[:4] == [0.25, 0.5, 1.0, 2.0][: len(delays)]
    assert "nothing readable" in waits[0].message and "4 files" in waits[0].message


def test_a_readable_image_ends_the_back_off(tmp_path):
    write_bad_files(tmp_path)
    cv2.imwrite(str(tmp_path / "f-good.png"), part_image())
    source = open_source(f"folder:{tmp_path}?loop=1")
    start = time.monotonic()
    frames = [source.read() for _ in range(15)]  # three passes of five, with no wait
    assert time.monotonic() - start < 1.0
    assert [f.part_id for f in frames].count("f-good") == 3
    source.close()
