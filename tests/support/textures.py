"""Textured surfaces made in the test: grayscale tiles of seeded noise or a woven pattern, good
or with a drawn defect (a scratch, a hole, a stain), written as files in the layouts the
evaluation reads (a CSV table; a folder per class).

They stand in for magnetic-tile images, which carry no licence to ship (only the benchmarks,
bench/reference_judge.py, read those, from outside the repository). Every image is a function of its
seed: the same call writes the same bytes. Invariants the tests rely on:
- every good tile of one `kind` has the same statistics (detail of about +-12 grey levels
  around mid-grey, plus a slow shading gradient that differs per tile);
- a drawn defect departs from the texture by at least 70 grey levels over at least 60 pixels,
  well outside the spread of good tiles, so a comparison with good tiles can find it;
- a defect's mask (PNG, 255 where drawn) covers exactly the pixels the defect changed.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

SIZE = (192, 192)  # height, width
DEFECTS = ("scratch", "hole", "stain")
KINDS = ("noise", "woven")


def surface(seed: int, kind: str = "noise", size: tuple[int, int] = SIZE) -> np.ndarray:
    """A good tile: fine texture around mid-grey, with a slow shading that varies per seed."""
    rng = np.random.default_rng(seed)
    height, width = size
    if kind == "noise":
        detail = cv2.GaussianBlur(rng.normal(0, 1, size).astype(np.float32), (0, 0), 1.5)
        detail *= 12 / max(float(detail.std()), 1e-6)
    elif kind == "woven":
        y, x = np.mgrid[0:height, 0:width].astype(np.float32)
        period = 12.0
        phase = rng.uniform(0, period, 2)
        warp = np.sin(2 * np.pi * (x + phase[0]) / period)
        weft = np.sin(2 * np.pi * (y + phase[1]) / period)
        detail = 10 * np.where((x // period + y // period) % 2 == 0, warp, weft)
        detail += rng.normal(0, 2, size).astype(np.float32)
    else:
        raise ValueError(f"unknown texture kind {kind!r}; one of {KINDS}")
    ramp = np.linspace(-1, 1, width, dtype=np.float32)[None, :] * rng.uniform(-15, 15)
    tilt = np.linspace(-1, 1, height, dtype=np.float32)[:, None] * rng.uniform(-15, 15)
    image = 128 + detail + ramp + tilt
    return np.clip(image, 0, 255).astype(np.uint8)


def draw_defect(image: np.ndarray, defect: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The tile with one defect drawn on it, and the defect's mask (255 where drawn)."""
    rng = np.random.default_rng(10_000 + seed)
    height, width = image.shape
    mask = np.zeros_like(image)
    margin = 30
    cx, cy = (int(rng.integers(margin, side - margin)) for side in (width, height))
    if defect == "scratch":  # a thin dark line, 50-80 px long, at any angle
        length = rng.uniform(50, 80)
        angle = rng.uniform(0, np.pi)
        dx, dy = np.cos(angle) * length / 2, np.sin(angle) * length / 2
        start = (int(np.clip(cx - dx, 2, width - 3)), int(np.clip(cy - dy, 2, height - 3)))
        end = (int(np.clip(cx + dx, 2, width - 3)), int(np.clip(cy + dy, 2, height - 3)))
        cv2.line(mask, start, end, 255, thickness=3)
        value = np.full_like(image, 25)
    elif defect == "hole":  # a dark round pit
        cv2.circle(mask, (cx, cy), int(rng.integers(6, 10)), 255, thickness=-1)
        value = np.full_like(image, 10)
    elif defect == "stain":  # a bright blotch
        axes = (int(rng.integers(9, 15)), int(rng.integers(6, 10)))
        cv2.ellipse(mask, (cx, cy), axes, float(rng.uniform(0, 180)), 0, 360, 255, -1)
        value = np.clip(image.astype(np.int16) + 90, 0, 255).astype(np.uint8)
    else:
        raise ValueError(f"unknown defect {defect!r}; one of {DEFECTS}")
    drawn = np.where(mask > 0, value, image)
    return drawn, mask


@dataclass(frozen=True)
class Tile:
    path: Path
    label: str  # "good" or the defect's name
    mask: Path | None = None


def _write(path: Path, image: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), image):
        raise OSError(f"could not write {path}")
    return path


def tiles(
    folder: Path, good: int, defective: int, kind: str = "noise", first_seed: int = 0
) -> list[Tile]:
    """`good` good tiles, then `defective` tiles with a defect each (scratch, hole, stain in
    turn), written as JPEG under `folder`: a folder per class, named "good" and after the
    defects, each defect with its PNG mask beside it."""
    made = []
    for index in range(good + defective):
        seed = first_seed + index
        image = surface(seed, kind)
        if index < good:
            made.append(Tile(_write(folder / "good" / f"{seed:04d}.jpg", image), "good"))
            continue
        defect = DEFECTS[(index - good) % len(DEFECTS)]
        image, mask = draw_defect(image, defect, seed)
        path = _write(folder / defect / f"{seed:04d}.jpg", image)
        made.append(Tile(path, defect, _write(path.with_suffix(".png"), mask)))
    return made


def references(folder: Path, count: int, kind: str = "noise", first_seed: int = 5000) -> list[Path]:
    """Good tiles to learn from, with seeds apart from the tested ones."""
    return [
        _write(folder / f"ref-{seed:04d}.jpg", surface(seed, kind))
        for seed in range(first_seed, first_seed + count)
    ]


def table(path: Path, made: list[Tile], label_column: str = "label") -> Path:
    """A CSV of the tiles: `image` (absolute path) and their label."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["image", label_column])
        writer.writerows([str(tile.path), tile.label] for tile in made)
    return path
