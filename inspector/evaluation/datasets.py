"""Labelled image sets: the MVTec AD layout, a folder per class, or a CSV of images and labels.

Every image gets a name relative to the set's root (the key a run records, resumes and compares
by), a label (its class) and whether that class is the good one.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from inspector.errors import InputError

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"})


@dataclass(frozen=True)
class Sample:
    path: Path
    name: str  # relative to the data set's root, with forward slashes
    label: str
    good: bool
    mask: Path | None = None  # pixel ground truth, where the set has it


@dataclass(frozen=True)
class Dataset:
    root: Path
    kind: str  # mvtec, folders, csv
    samples: tuple[Sample, ...]
    reader: dict = field(default_factory=dict)  # the options it was read with

    @property
    def labels(self) -> list[str]:
        return sorted({s.label for s in self.samples})


def read_dataset(
    path: str | Path,
    good_label: str = "good",
    image_column: str = "image",
    label_column: str = "label",
) -> Dataset:
    """Read a data set by its shape: a .csv file, a folder with `test/` (MVTec AD), or a folder
    with one folder per class."""
    path = Path(path).expanduser().resolve()
    if path.is_file() and path.suffix.lower() == ".csv":
        samples = _csv(path, good_label, image_column, label_column)
        reader = {"good": good_label, "image_column": image_column, "label_column": label_column}
        dataset = Dataset(path, "csv", samples, reader)
    elif path.is_dir() and (path / "test").is_dir():
        dataset = Dataset(path, "mvtec", _mvtec(path, good_label), {"good": good_label})
    elif path.is_dir():
        dataset = Dataset(path, "folders", _folders(path, good_label), {"good": good_label})
    else:
        raise InputError(
            f"data set {path}: not found; give a folder (MVTec AD layout or one folder per "
            "class) or a CSV file with image and label columns"
        )
    if not dataset.samples:
        raise InputError(f"data set {path}: no images found ({_describe(dataset.kind)})")
    names = [s.name for s in dataset.samples]
    twice = sorted({n for n in names if names.count(n) > 1}) if len(set(names)) < len(names) else []
    if twice:
        raise InputError(f"data set {path}: images listed twice: {', '.join(twice[:3])}")
    return dataset


def _mvtec(root: Path, good_label: str) -> tuple[Sample, ...]:
    samples = []
    for folder in sorted(p for p in (root / "test").iterdir() if p.is_dir()):
        for image in _images(folder):
            mask = root / "ground_truth" / folder.name / f"{image.stem}_mask.png"
            samples.append(
                Sample(
                    image,
                    _name(image, root),
                    folder.name,
                    folder.name == good_label,
                    mask if mask.is_file() else None,
                )
            )
    return tuple(samples)


def _folders(root: Path, good_label: str) -> tuple[Sample, ...]:
    samples = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        images = _images(folder)
        stems = {p.stem for p in images if p.suffix.lower() != ".png"}
        for image in images:
            # A PNG beside an image of the same name is that image's mask (magnetic-tile style).
            if image.suffix.lower() == ".png" and image.stem in stems:
                continue
            mask = image.with_suffix(".png")
            samples.append(
                Sample(
                    image,
                    _name(image, root),
                    folder.name,
                    folder.name == good_label,
                    mask if mask != image and mask.is_file() else None,
                )
            )
    return tuple(samples)


def _csv(path: Path, good_label: str, image_column: str, label_column: str) -> tuple[Sample, ...]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.DictReader(handle))
            columns = rows[0].keys() if rows else []
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"data set {path}: cannot read it as CSV ({exc})") from None
    missing = [c for c in (image_column, label_column) if c not in columns]
    if rows and missing:
        raise InputError(
            f"data set {path}: no column {', '.join(map(repr, missing))}; its columns are "
            f"{', '.join(columns)} (choose with --image-column / --label-column)"
        )
    root = path.parent
    samples = []
    for number, row in enumerate(rows, start=2):
        image = Path(row[image_column] or "")
        image = image if image.is_absolute() else root / image
        if not image.is_file():
            raise InputError(f"data set {path}: line {number}: no image at {image}")
        label = (row[label_column] or "").strip()
        if not label:
            raise InputError(f"data set {path}: line {number}: the label is empty")
        mask_value = (row.get("mask") or "").strip()
        mask = (root / mask_value) if mask_value else None
        samples.append(
            Sample(
                image,
                _name(image, root),
                label,
                label == good_label,
                mask if mask is not None and mask.is_file() else None,
            )
        )
    return tuple(samples)


def _images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def _name(image: Path, root: Path) -> str:
    try:
        return image.resolve().relative_to(root).as_posix()
    except ValueError:  # a CSV may name images outside its folder
        return image.resolve().as_posix()


def _describe(kind: str) -> str:
    return {
        "csv": "the CSV lists none",
        "mvtec": "expected test/<class>/ folders of images",
        "folders": "expected one folder of images per class",
    }[kind]
