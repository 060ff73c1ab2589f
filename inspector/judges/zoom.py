"""Zoom on suspect regions: full-resolution crops of what a screen flagged, for the model.

A screen (the `reference` engine with `screen: true`) that does not clear a part hands it on
with its suspect regions outlined; the model sees the whole part shrunk to its input size, where
a flaw of a few pixels is lost. With a recipe's `zoom` (on by default), the model is also shown
each flagged region cut from the camera's own image (not the outlined one) at full resolution,
with some context around it, beside the same cut of each reference image: one labelled view per
region, asked about on its own. A view's crop is its prompt's geometry, so its boxes come back
in camera pixels; the views merge with the whole by the pass rule (inspector.judges.tiles).

Budget: at most `max_crops` regions (the screen lists the strongest first), each at least
`min_size` pixels a side (a model's input is a few hundred pixels: a smaller crop would be
enlarged, not sharpened), a region already inside an earlier crop adding none. Where the recipe
leaves them unset, they are the model family's (inspector.judges.families).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from inspector.domain import Box, Region
from inspector.judges.families import GENERIC, Family
from inspector.recipes import Zoom


@dataclass(frozen=True)
class Suspects:
    """What a screen handed on: the camera's image before it outlined anything, the boxes it
    flagged (camera pixels), and its good parts aligned to that image (none where it does not
    align), so that a crop of them shows the same place."""

    image: np.ndarray = field(repr=False)
    boxes: tuple[Box, ...]
    references: tuple[np.ndarray, ...] = field(default=(), repr=False)


def zoom_budget(zoom: Zoom, family: Family = GENERIC) -> tuple[int, int]:
    """How many crops at most, and a crop's least side: the recipe's, else the family's."""
    crops = zoom.max_crops if zoom.max_crops is not None else family.zoom_crops
    side = zoom.min_size if zoom.min_size is not None else family.native_side
    return crops, side


def zoom_regions(
    boxes: Sequence[Box], area: Region, zoom: Zoom, family: Family = GENERIC
) -> list[Region]:
    """The crops to show for the flagged boxes, within `area` (the ROI, or the whole image: no
    pixel outside the ROI is shown, nor leaves the site under `roi_only`) and the budget."""
    max_crops, min_size = zoom_budget(zoom, family)
    crops: list[Region] = []
    for box in boxes:
        if len(crops) >= max_crops:
            break
        if any(_inside(box, crop) for crop in crops):
            continue  # already seen in full in an earlier crop
        crop_w = _side(box.width, zoom.context, min_size, area.width)
        crop_h = _side(box.height, zoom.context, min_size, area.height)
        x = area.x + _place((box.x0 + box.x1) / 2 - area.x, crop_w, area.width)
        y = area.y + _place((box.y0 + box.y1) / 2 - area.y, crop_h, area.height)
        crops.append(Region(x, y, crop_w, crop_h))
    return crops


def zoom_label(index: int, count: int, region: Region) -> str:
    x1, y1 = region.x + region.width, region.y + region.height
    return (
        f"zoom {index} of {count}: a region the inspection system flagged, at full resolution "
        f"(x {region.x}-{x1}, y {region.y}-{y1} of its image)"
    )


def _side(extent: int, context: float, min_size: int, limit: int) -> int:
    wanted = max(round(extent * (1 + 2 * context)), min_size)
    return max(1, min(wanted, limit))


def _place(center: float, side: int, limit: int) -> int:
    """The crop's start: centred on the region, moved inside the image."""
    return int(min(max(round(center - side / 2), 0), limit - side))


def _inside(box: Box, crop: Region) -> bool:
    return (
        crop.x <= box.x0
        and crop.y <= box.y0
        and box.x1 <= crop.x + crop.width
        and box.y1 <= crop.y + crop.height
    )
