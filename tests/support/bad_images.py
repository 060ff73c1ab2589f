"""Image files as a line delivers them on a bad day, made in the test's folder: empty, cut
short, not an image at all, named with bytes that are not UTF-8; and 16-bit images."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

# A file name with a byte that is not UTF-8 (Latin-1 "ÿ"), as a Windows share or an old
# camera writes it; Linux keeps any bytes.
NON_UTF8_NAME = b"part-\xff.png"
NON_UTF8_PART_ID = "part-\\xff"  # as the station shows it: the byte spelt out, four characters


def part_image(seed: int = 0, size: tuple[int, int] = (120, 160)) -> np.ndarray:
    """A small BGR picture of a part: a filled rectangle with a number on it."""
    image = np.full((*size, 3), 40, np.uint8)
    cv2.rectangle(image, (20, 20), (size[1] - 20, size[0] - 20), (200, 180, 90), -1)
    cv2.putText(image, str(seed), (50, 80), cv2.FONT_HERSHEY_SIMPLEX, 1.5, (255, 255, 255), 3)
    return image


def write_bad_files(folder: Path) -> dict[str, str]:
    """Unreadable files in `folder`; file name to the words the reason must hold."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "b-empty.png").write_bytes(b"")
    jpeg = cv2.imencode(".jpg", part_image(1))[1].tobytes()
    (folder / "c-cut.jpg").write_bytes(jpeg[: len(jpeg) // 2])
    png = cv2.imencode(".png", part_image(2))[1].tobytes()
    (folder / "d-cut.png").write_bytes(png[: len(png) // 2])
    (folder / "e-text.png").write_bytes(b"this is not an image at all\n" * 4)
    return {
        "b-empty.png": "empty",
        "c-cut.jpg": "cut short",
        "d-cut.png": "cut short",
        "e-text.png": "not an image",
    }


def write_non_utf8_named(folder: Path, image: np.ndarray) -> Path:
    """A readable image whose file name is not valid UTF-8; its path as Python holds it."""
    folder.mkdir(parents=True, exist_ok=True)
    raw = os.path.join(os.fsencode(folder), NON_UTF8_NAME)
    with open(raw, "wb") as out:
        out.write(cv2.imencode(".png", image)[1].tobytes())
    return Path(os.fsdecode(raw))


def nearly_black_twins(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A good part (grey levels up to 255), and the same part nearly black: in 16 bits each
    level v as v * 10 plus sensor noise (at most 2559 of 65535), and its 8-bit twin (the top 8
    bits: levels 0-9). Stretched by its own brightest pixel, the 16-bit frame would look
    like the good part; scaled by its depth, it is as dark as its twin."""
    good = part_image(seed)
    rng = np.random.default_rng(seed)
    noise = rng.integers(0, 10, good.shape, dtype=np.uint16)
    dark16 = good.astype(np.uint16) * 10 + noise
    dark8 = (dark16 >> 8).astype(np.uint8)
    return good, dark8, dark16
