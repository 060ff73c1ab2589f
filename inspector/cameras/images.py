"""Reading image files, refusing damaged ones instead of judging half an image.

Judges take 8-bit pixels. A deeper image (16-bit PNG or TIFF) is brought to 8 bits by its bit
depth (the top 8 bits), never by its own brightest pixel: a per-image stretch would make a
nearly black frame look like a good one. Its own pixels are kept (`Picture.native`) so the
evidence shows what the camera saw, at its depth.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from inspector.cameras.pixels import to_8bit


class UnreadableImage(ValueError):
    """The file is missing, damaged or not an image; the message says which."""


@dataclass(frozen=True)
class Picture:
    """An image file's pixels: `view` for the judges (uint8), `native` at the file's own
    depth where that is deeper than 8 bits (uint16), else None."""

    view: np.ndarray
    native: np.ndarray | None = None


def read_image(path: Path) -> np.ndarray:
    """The image as BGR, mono or BGRA uint8 pixels, as a camera would deliver it."""
    return read_picture(path).view


def read_picture(path: Path) -> Picture:
    """The image for the judges, and at its own depth where deeper than 8 bits."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise UnreadableImage("no such file") from None
    except OSError as exc:
        raise UnreadableImage(f"cannot read it ({exc.strerror or exc})") from None
    if not data:
        raise UnreadableImage("the file is empty (0 bytes)")
    if _truncated(data):
        # A decoder fills the missing part with grey and only warns: a model would judge it.
        raise UnreadableImage("the file is cut short (an incomplete copy or transfer)")
    try:
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    except cv2.error:  # OpenCV raises on some damaged headers instead of returning None
        image = None
    if image is None or image.size == 0:
        raise UnreadableImage("not an image OpenCV can read (corrupt or unsupported)")
    if image.dtype == np.uint8:
        return Picture(image)
    if image.dtype == np.uint16:
        return Picture(to_8bit(image, 16), image)
    raise UnreadableImage(
        f"{image.dtype} pixels are not supported; save the image with 8 or 16 bits per channel"
    )


def display_name(path: Path | str) -> str:
    """A file name as text that is valid and the same every time, whatever its bytes: bytes
    that are not UTF-8 are shown as `\\xff` (four characters), as Python shows them."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def part_id_for(path: Path) -> str:
    """The part id a file stands for: its name without the suffix, as valid text."""
    return display_name(Path(path).stem)


def unreadable_placeholder() -> np.ndarray:
    """The evidence image of a part whose file could not be read: a grey card that says so.
    The same pixels every time, so it is stored once (evidence is named by its hash)."""
    return _placeholder().copy()


@lru_cache(maxsize=1)
def _placeholder() -> np.ndarray:
    card = np.full((120, 320), 128, np.uint8)
    cv2.rectangle(card, (2, 2), (317, 117), 64, 2)
    font = cv2.FONT_HERSHEY_SIMPLEX
    cv2.putText(card, "UNREADABLE IMAGE", (24, 58), font, 0.8, 255, 2, cv2.LINE_AA)
    cv2.putText(card, "see the record's reason", (52, 90), font, 0.55, 32, 1, cv2.LINE_AA)
    card.setflags(write=False)
    return card


def _truncated(data: bytes) -> bool:
    if data.startswith(b"\xff\xd8"):  # JPEG: must end with the end-of-image marker
        return not data.rstrip(b"\x00\r\n ").endswith(b"\xff\xd9")
    if data.startswith(b"\x89PNG\r\n\x1a\n"):  # PNG: must end with the IEND chunk
        return b"IEND" not in data[-12:]
    return False
