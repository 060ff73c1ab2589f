"""Reading image files, refusing damaged ones instead of judging half an image."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np


class UnreadableImage(ValueError):
    """The file is missing, damaged or not an image; the message says which."""


def read_image(path: Path) -> np.ndarray:
    """The image as BGR, mono or BGRA uint8 pixels, as a camera would deliver it."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise UnreadableImage("no such file") from None
    except OSError as exc:
        raise UnreadableImage(f"cannot read it ({exc.strerror})") from None
    if _truncated(data):
        # A decoder fills the missing part with grey and only warns: a model would judge it.
        raise UnreadableImage("the file is cut short (an incomplete copy or transfer)")
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None or image.size == 0:
        raise UnreadableImage("not an image OpenCV can read (corrupt or unsupported)")
    if image.dtype != np.uint8:
        # 16-bit camera images: keep the significant bits, as judges take 8-bit images.
        image = cv2.convertScaleAbs(image, alpha=255.0 / max(1, int(image.max())))
    return image


def _truncated(data: bytes) -> bool:
    if data.startswith(b"\xff\xd8"):  # JPEG: must end with the end-of-image marker
        return not data.rstrip(b"\x00\r\n ").endswith(b"\xff\xd9")
    if data.startswith(b"\x89PNG\r\n\x1a\n"):  # PNG: must end with the IEND chunk
        return b"IEND" not in data[-12:]
    return False
