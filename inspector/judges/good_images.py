"""The good-part images an engine learns or compares from, named in its settings as files,
folders or glob patterns (relative to the working directory). One reader for every engine
(`reference`, `texture`), so they take the same names and scale 16-bit files the same way.
"""

from __future__ import annotations

import glob
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from inspector.errors import InputError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"}


def read_good_images(entries: Sequence[str | Path], engine: str, field: str) -> list[np.ndarray]:
    """Every image the entries name, in order; an entry that names none, or a file that is not
    an image, is an InputError naming the engine's setting (`field`)."""
    paths: list[Path] = []
    for entry in entries:
        path = Path(entry).expanduser()
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        elif any(c in str(entry) for c in "*?["):
            found = sorted(Path(p) for p in glob.glob(str(path), recursive=True))
        else:
            found = [path] if path.is_file() else []
        if not found:
            raise InputError(
                f"{engine} engine: `{field}` entry {str(entry)!r} names no image (give files, "
                "folders or glob patterns of good parts, relative to the working directory)"
            )
        paths.extend(found)
    images = []
    for path in paths:
        image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        if image is None:
            raise InputError(f"{engine} engine: cannot read {path} as an image")
        if image.dtype == np.uint16:  # by bit depth, as frames are (cameras/images.py)
            image = (image >> 8).astype(np.uint8)
        images.append(image)
    return images
