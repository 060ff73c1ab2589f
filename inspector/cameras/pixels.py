"""Machine-vision pixel formats (GenICam PFNC names) to what the judges take: BGR or mono uint8.

Cameras deliver raw buffers in their own layout: Bayer mosaics, RGB instead of OpenCV's BGR,
10-16 bit mono, packed YUV. Every frame is converted here, once, before the station sees it.
Deeper than 8 bits, a frame is brought to 8 bits by its bit depth (its top 8 bits), never by
its own brightest pixel, so a dark frame stays dark; its own pixels are kept for the evidence,
scaled to 16 bits as PNG keeps fewer significant bits (left-aligned, value << (16 - bits)).
"""

from __future__ import annotations

import cv2
import numpy as np

# PFNC names of each sensor's first two pixels, to OpenCV's codes (which name the pattern the
# same way since OpenCV 4: BayerRGGB is the PFNC BayerRG).
_BAYER = {
    "BayerRG8": cv2.COLOR_BayerRGGB2BGR,
    "BayerBG8": cv2.COLOR_BayerBGGR2BGR,
    "BayerGR8": cv2.COLOR_BayerGRBG2BGR,
    "BayerGB8": cv2.COLOR_BayerGBRG2BGR,
}
_COLOUR_3 = {"RGB8": cv2.COLOR_RGB2BGR, "BGR8": None}
_COLOUR_4 = {"RGBa8": cv2.COLOR_RGBA2BGR, "BGRa8": cv2.COLOR_BGRA2BGR}
_YUV = {
    "YUV422_8": cv2.COLOR_YUV2BGR_YUYV,
    "YCbCr422_8": cv2.COLOR_YUV2BGR_YUYV,
    "YUV422_8_UYVY": cv2.COLOR_YUV2BGR_UYVY,
}
# Unpacked high bit depths (one little-endian 16-bit word per pixel), with their bits.
_MONO_WIDE = {"Mono10": 10, "Mono12": 12, "Mono14": 14, "Mono16": 16}

MONO_FORMATS = ("Mono8", *_MONO_WIDE)
# What `pixel_format: color` asks a camera for, in order: formats the camera debayers itself
# first, then raw Bayer (a third of the bandwidth), then the rest.
COLOUR_FORMATS = ("BGR8", "RGB8", *_BAYER, *_COLOUR_4, *_YUV)
CONVERTIBLE = frozenset((*MONO_FORMATS, *COLOUR_FORMATS))


class UnsupportedPixelFormat(ValueError):
    """A format this module cannot convert; the message names it."""


def to_8bit(image: np.ndarray, bits: int) -> np.ndarray:
    """Pixels of `bits` significant bits (low-aligned in uint16) as uint8: their top 8 bits.
    The same for every image of that depth, whatever its content."""
    return (image >> (bits - 8)).astype(np.uint8)


def to_frame_pixels(
    data: np.ndarray | bytes, pixel_format: str, width: int, height: int
) -> tuple[np.ndarray, np.ndarray | None]:
    """The frame for the judges (as `to_judge_image`), and, for formats deeper than 8 bits,
    the camera's own pixels as uint16, scaled to 16 bits; None for 8-bit formats."""
    if pixel_format not in _MONO_WIDE:
        return to_judge_image(data, pixel_format, width, height), None
    bits = _MONO_WIDE[pixel_format]
    wide = _wide(data, pixel_format, width, height)
    return to_8bit(wide, bits), wide << (16 - bits)


def to_judge_image(data: np.ndarray | bytes, pixel_format: str, width: int, height: int):
    """The frame as BGR (H, W, 3) or mono (H, W) uint8, copied out of the camera's buffer."""
    raw = np.frombuffer(data, np.uint8) if isinstance(data, bytes | bytearray) else data
    raw = raw.reshape(-1).view(np.uint8)
    pixels = width * height
    if pixel_format == "Mono8":
        return _take(raw, pixels, pixel_format).reshape(height, width).copy()
    if pixel_format in _MONO_WIDE:
        return to_8bit(_wide(raw, pixel_format, width, height), _MONO_WIDE[pixel_format])
    if pixel_format in _BAYER:
        mosaic = _take(raw, pixels, pixel_format).reshape(height, width)
        return cv2.cvtColor(mosaic, _BAYER[pixel_format])
    if pixel_format in _COLOUR_3:
        image = _take(raw, 3 * pixels, pixel_format).reshape(height, width, 3)
        code = _COLOUR_3[pixel_format]
        return image.copy() if code is None else cv2.cvtColor(image, code)
    if pixel_format in _COLOUR_4:
        image = _take(raw, 4 * pixels, pixel_format).reshape(height, width, 4)
        return cv2.cvtColor(image, _COLOUR_4[pixel_format])
    if pixel_format in _YUV:
        packed = _take(raw, 2 * pixels, pixel_format).reshape(height, width, 2)
        return cv2.cvtColor(packed, _YUV[pixel_format])
    known = ", ".join(sorted(CONVERTIBLE))
    raise UnsupportedPixelFormat(
        f"pixel format {pixel_format} cannot be converted (known: {known})"
    )


def _wide(data: np.ndarray | bytes, pixel_format: str, width: int, height: int) -> np.ndarray:
    """A mono buffer of one little-endian 16-bit word per pixel, as native uint16 (a copy)."""
    raw = np.frombuffer(data, np.uint8) if isinstance(data, bytes | bytearray) else data
    raw = raw.reshape(-1).view(np.uint8)
    words = _take(raw, 2 * width * height, pixel_format).view("<u2").reshape(height, width)
    # Bits above the depth are noise on some cameras: masked, so the evidence holds no more
    # than the camera measured and the shift to 16 bits cannot overflow.
    return words.astype(np.uint16) & np.uint16((1 << _MONO_WIDE[pixel_format]) - 1)


def _take(raw: np.ndarray, size: int, pixel_format: str) -> np.ndarray:
    if raw.size < size:
        raise UnsupportedPixelFormat(
            f"a {pixel_format} buffer of {raw.size} bytes is too small for the image ({size})"
        )
    return raw[:size]
