"""Tiles for small defects: where the part is cut, and how the tiles' answers become one verdict.

A line camera's 5-20 MP frame is shrunk to about 1 MP before a vision-language model sees it,
and a defect of a few pixels disappears. A recipe's `tiles` cuts the ROI into overlapping tiles
of about the model's native input size, each judged as its own prompt (the references cut the
same way), besides the whole. Each tile's boxes come back in camera pixels through the prompt's
geometry (the tile is its crop), so merging only has to:

- apply the pass rule across views: one FAIL fails the part, else one UNSURE (or a failed call)
  makes it UNSURE, else PASS;
- de-duplicate a defect seen by two overlapping tiles: boxes of one class whose IoU passes the
  recipe's `nms_iou` are one defect, the most confident kept (non-maximum suppression).

Engine-independent: the base judge (inspector.judges.judge) builds the prompts and asks the
engine for a batch of generations; engines that batch (transformers) do them in one call.
"""

from __future__ import annotations

from collections.abc import Sequence

from inspector.domain import Box, Defect, Outcome, Region, Verdict
from inspector.recipes import Tiles


def tile_regions(area: Region, tiles: Tiles) -> list[Region]:
    """The tiles over `area` (the ROI in camera pixels), row by row; empty when one tile would
    hold the whole area (the whole view is then all there is to judge)."""
    if area.width <= tiles.size and area.height <= tiles.size:
        return []
    width, height = min(tiles.size, area.width), min(tiles.size, area.height)
    return [
        Region(area.x + x, area.y + y, width, height)
        for y in tiles.starts(area.height)
        for x in tiles.starts(area.width)
    ]


def tile_count_problem(area: Region, tiles: Tiles) -> str | None:
    """Why this tiling would cost more calls than the recipe allows; None when it fits."""
    return tiles.count_problem(area.width, area.height)


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes (0 when they do not overlap)."""
    width = min(a.x1, b.x1) - max(a.x0, b.x0)
    height = min(a.y1, b.y1) - max(a.y0, b.y0)
    if width <= 0 or height <= 0:
        return 0.0
    inter = width * height
    union = a.width * a.height + b.width * b.height - inter
    return inter / union if union > 0 else 0.0


def suppress_duplicates(defects: Sequence[Defect], threshold: float) -> tuple[Defect, ...]:
    """One defect per place and class: of boxes of one class overlapping past `threshold`
    (IoU), the most confident is kept (ties: the first seen); one unboxed defect per class."""
    ranked = sorted(
        enumerate(defects),
        key=lambda item: (-(item[1].confidence if item[1].confidence is not None else -1.0),
                          item[0]),
    )  # fmt: skip
    kept: list[tuple[int, Defect]] = []
    for index, defect in ranked:
        name = defect.class_name.lower()
        duplicate = any(
            other.class_name.lower() == name
            and (
                (defect.box is None and other.box is None)
                or (
                    defect.box is not None
                    and other.box is not None
                    and iou(defect.box, other.box) > threshold
                )
            )
            for _, other in kept
        )
        if not duplicate:
            kept.append((index, defect))
    return tuple(defect for _, defect in sorted(kept, key=lambda item: item[0]))


def merge_views(views: Sequence[tuple[str, Verdict]], nms_iou: float) -> tuple[Verdict, Outcome]:
    """The part's verdict from its views (label, verdict): the whole and each tile. Returns the
    merged verdict (attempts: every view's, in order) and the outcome that decided it."""
    failing = [(label, v) for label, v in views if v.outcome is Outcome.FAIL]
    doubtful = [(label, v) for label, v in views if v.outcome is Outcome.UNSURE]
    if failing:
        outcome, deciding = Outcome.FAIL, failing
    elif doubtful:
        outcome, deciding = Outcome.UNSURE, doubtful
    else:
        outcome, deciding = Outcome.PASS, list(views)
    if outcome is Outcome.PASS:  # the first view's (the whole's) word, and how many agreed
        first = views[0][1].reason if views else ""
        reason = (
            f"{first} (all {len(views)} views pass)" if first else f"all {len(views)} views pass"
        )
    else:
        said = "; ".join(f"{label}: {v.reason or outcome.value}" for label, v in deciding)
        count = f"{len(deciding)} of {len(views)} views"
        reason = f"{outcome.value} in {count} ({said})"
    defects = suppress_duplicates([d for _, v in views for d in v.defects], nms_iou)
    merged = Verdict(
        outcome=outcome,
        reason=reason,
        defects=defects,
        # The least sure of the views that decided: a PASS is only as sure as its weakest tile.
        confidence=least([v.confidence for _, v in deciding]),
        attempts=tuple(a for _, v in views for a in v.attempts),
        measured_confidence=least([v.measured_confidence for _, v in deciding]),
    )
    return merged, outcome


def view_label(index: int, count: int, region: Region | None) -> str:
    """How a view is named in the prompt and the reason: the whole, or tile i of n and where."""
    if region is None:
        return "whole"
    x1, y1 = region.x + region.width, region.y + region.height
    return f"tile {index} of {count} of its image only (x {region.x}-{x1}, y {region.y}-{y1})"


def least(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return min(known) if known else None
