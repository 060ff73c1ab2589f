"""The good-part images an engine learns or compares from, named in its settings as files,
folders or glob patterns. A relative name is read from the recipe file's folder, as the recipe's
own `references:` are, else from the working directory (where earlier releases read it only):
the same recipe then finds its images from a shell in any folder and from a service. One reader
for every engine (`reference`, `texture`), so they take the same names and scale 16-bit files
the same way.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from inspector.errors import InputError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"}


def read_good_images(
    entries: Sequence[str | Path], engine: str, field: str, folder: Path | None = None
) -> list[np.ndarray]:
    """Every image the entries name, in order; relative ones from `folder` (the recipe file's)
    first, else from the working directory. An entry that names none, or a file that is not an
    image, is an InputError naming the engine's setting (`field`)."""
    paths: list[Path] = []
    for entry in entries:
        path = Path(entry).expanduser()
        places = [folder, None] if folder is not None and not path.is_absolute() else [None]
        found = next((hits for hits in (_named(place, path) for place in places) if hits), [])
        if not found:
            where = f"the recipe's folder {folder} or " if len(places) > 1 else ""
            raise InputError(
                f"{engine} engine: `{field}` entry {str(entry)!r} names no image (give files, "
                f"folders or glob patterns of good parts, relative to {where}the working "
                "directory)"
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


def _named(folder: Path | None, path: Path) -> list[Path]:
    """The images a folder, a glob pattern or a file names (from `folder`, else from the working
    directory): sorted; none if it names none."""
    whole = path if folder is None else folder / path
    if whole.is_dir():
        return sorted(p for p in whole.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if any(c in str(path) for c in "*?["):  # the pattern is the entry's; the folder is literal
        prefix = "" if folder is None else glob.escape(str(folder)) + os.sep
        return sorted(Path(p) for p in glob.glob(prefix + str(path), recursive=True))
    return [whole] if whole.is_file() else []
