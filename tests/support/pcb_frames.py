"""DeepPCB frames for tests and benchmarks: template/tested pairs with their boxes, good frames
made by re-capturing a template, and a line camera's recording of tested boards (`make_video`).

DeepPCB has one image of each good board region (the template) and the tested image of the same
region with defects drawn in; there is no second capture of a good board. A good frame here is
the template as a camera would see it again: moved by up to 3 px, turned by up to half a degree,
scaled by up to 2% (the range the tested images show against their templates), cropped 12 px
inside so that every pixel is real, and JPEG-encoded.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

CROP = 12


@dataclass(frozen=True)
class Pair:
    id: str
    template: Path
    tested: Path
    boxes: tuple[tuple[int, int, int, int], ...]  # x0, y0, x1, y1 in the tested image
    types: tuple[int, ...]


def pairs(data: Path, every: int = 1) -> list[Pair]:
    root = data / "deeppcb"
    with (root / "index.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    found = []
    for row in rows[::every]:
        lines = (root / row["boxes"]).read_text().split("\n")
        values = [tuple(int(v) for v in line.split()) for line in lines if line.strip()]
        found.append(
            Pair(
                row["id"],
                root / row["template"],
                root / row["tested"],
                tuple(v[:4] for v in values),
                tuple(v[4] for v in values),
            )
        )
    return found


def recaptured(template: np.ndarray, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    height, width = template.shape[:2]
    centre = (width / 2 + rng.uniform(-20, 20), height / 2 + rng.uniform(-20, 20))
    matrix = cv2.getRotationMatrix2D(centre, rng.uniform(-0.5, 0.5), rng.uniform(0.98, 1.02))
    matrix[:, 2] += rng.uniform(-3, 3, 2)
    moved = cv2.warpAffine(template, matrix, (width, height), flags=cv2.INTER_LINEAR)
    frame = moved[CROP : height - CROP, CROP : width - CROP]
    encoded = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 90])[1]
    return cv2.imdecode(encoded, cv2.IMREAD_UNCHANGED)


def overlaps(a: tuple, b: tuple) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def pcb_images(test_data: Path, count: int) -> list[Path]:
    """The first `count` tested (defective) DeepPCB boards, in name order."""
    return sorted((test_data / "deeppcb" / "defect").glob("*.jpg"))[:count]


def make_video(test_data: Path, path: Path, count: int = 6, size=(320, 240)) -> Path:
    """An MJPEG AVI made of real PCB images, as a line camera's recording would be."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, size)
    assert writer.isOpened()
    for image_path in pcb_images(test_data, count):
        writer.write(cv2.resize(cv2.imread(str(image_path)), size))
    writer.release()
    return path
