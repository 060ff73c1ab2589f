"""Camera settings in the recipe, pixel formats to what judges take, and the multi-view rule."""

from __future__ import annotations

import itertools

import cv2
import numpy as np
import pytest

from inspector.cameras.pixels import UnsupportedPixelFormat, to_judge_image
from inspector.domain import Outcome
from inspector.errors import InputError
from inspector.recipes import load_recipe
from inspector.station import combine
from tests.support.recipes import recipe_file


def _bgr(height=6, width=8) -> np.ndarray:
    rng = np.random.default_rng(7)
    return rng.integers(0, 256, (height, width, 3), dtype=np.uint8)


def test_colour_formats_become_bgr():
    bgr = _bgr()
    rgb = bgr[:, :, ::-1].copy()
    assert np.array_equal(to_judge_image(rgb.tobytes(), "RGB8", 8, 6), bgr)
    assert np.array_equal(to_judge_image(bgr.tobytes(), "BGR8", 8, 6), bgr)
    rgba = np.dstack([rgb, np.full((6, 8), 255, np.uint8)])
    assert np.array_equal(to_judge_image(rgba.tobytes(), "RGBa8", 8, 6), bgr)
    # YUYV packs two pixels in Y0 U Y1 V: a flat orange must come back orange.
    orange = np.array([[[0, 128, 255]]], np.uint8)
    y, u, v = (int(c) for c in cv2.cvtColor(orange, cv2.COLOR_BGR2YUV)[0, 0])
    yuyv = np.tile(np.array([y, u, y, v], np.uint8), 6 * 4)
    back = to_judge_image(yuyv.tobytes(), "YUV422_8", 8, 6)
    assert back.shape == (6, 8, 3)
    # (OpenCV encodes full-range YUV and decodes camera video range: a few levels apart)
    assert np.abs(back.astype(int) - orange.astype(int)).max() <= 20


@pytest.mark.parametrize(
    ("pfnc", "red_at"),
    [("BayerRG8", (0, 0)), ("BayerGR8", (0, 1)), ("BayerGB8", (1, 0)), ("BayerBG8", (1, 1))],
)
def test_bayer_names_follow_the_sensor_not_opencv(pfnc, red_at):
    """PFNC names the first two pixels of the first row; a red scene must come out red."""
    mosaic = np.zeros((8, 8), np.uint8)
    mosaic[red_at[0] :: 2, red_at[1] :: 2] = 200  # only the red sites see light
    image = to_judge_image(mosaic.tobytes(), pfnc, 8, 8)
    blue, green, red = (int(c) for c in image[4, 4])
    assert red > 150 and green < 50 and blue < 50


def test_wide_mono_keeps_the_significant_bits():
    twelve_bit = np.array([[0, 4095], [2048, 16]], dtype="<u2")
    assert to_judge_image(twelve_bit.tobytes(), "Mono12", 2, 2).tolist() == [[0, 255], [128, 1]]
    mono = np.arange(12, dtype=np.uint8).reshape(3, 4)
    out = to_judge_image(mono.tobytes(), "Mono8", 4, 3)
    assert out.dtype == np.uint8 and np.array_equal(out, mono)


def test_unknown_or_short_buffers_are_refused_by_name():
    with pytest.raises(UnsupportedPixelFormat, match="Mono12p cannot be converted"):
        to_judge_image(b"\0" * 10, "Mono12p", 2, 2)
    with pytest.raises(UnsupportedPixelFormat, match="too small"):
        to_judge_image(b"\0" * 3, "RGB8", 2, 2)


def test_recipe_camera_section_is_validated_with_its_field(tmp_path):
    camera = {
        "exposure_us": 800,
        "pixel_format": "mono8",
        "roi": {"x": 0, "y": 0, "width": 320, "height": 240},
        "trigger": {"mode": "hardware", "line": "Line1", "edge": "falling"},
    }
    recipe = load_recipe(recipe_file(tmp_path, [{"engine": "scripted"}], camera=camera))
    assert recipe.camera is not None
    assert recipe.camera.trigger.line == "Line1"
    assert "camera:" in recipe.to_yaml()
    bad = {**camera, "pixel_format": "rgb48", "exposure": 3}
    with pytest.raises(InputError) as caught:
        load_recipe(recipe_file(tmp_path, [{"engine": "scripted"}], camera=bad))
    message = str(caught.value)
    assert "field `camera.pixel_format`" in message and "'mono8' or 'color'" in message
    assert "field `camera.exposure`: unknown field" in message


def test_a_recipe_without_camera_section_keeps_its_recorded_content(tmp_path):
    recipe = load_recipe(recipe_file(tmp_path, [{"engine": "scripted"}]))
    assert recipe.camera is None
    assert "camera" not in recipe.to_yaml()  # so its recorded version does not change


@pytest.mark.parametrize("outcomes", list(itertools.product([*Outcome, None], repeat=3)))
def test_a_part_fails_if_any_view_fails_and_passes_only_if_all_pass(outcomes):
    result = combine(outcomes)
    if Outcome.FAIL in outcomes:
        assert result is Outcome.FAIL
    elif all(o is Outcome.PASS for o in outcomes):
        assert result is Outcome.PASS
    elif (seen := [o for o in outcomes if o is not None]) and all(
        o is Outcome.UNJUDGED for o in seen
    ):  # every view seen was stopped before judging: no verdict, never a PASS
        assert result is Outcome.UNJUDGED
    else:  # an unsure view, or a view without a frame, and no failure
        assert result is Outcome.UNSURE


def test_a_part_with_no_views_is_not_passed():
    assert combine([]) is Outcome.UNSURE
