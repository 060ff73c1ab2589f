"""What of a part's images may leave the site: the recipe's privacy rule, applied to a prompt.

Applied by the base judge to every engine whose calls leave the plant, just before the call, so
no engine and no chain setting can send more than the recipe allows. The default is nothing.
"""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np

from inspector.errors import InspectorError
from inspector.judges.prompt import ImagePart, Part, Prompt
from inspector.recipes import Privacy


class ImagesStayOnSite(InspectorError):
    """The recipe does not let this engine's request (it carries images) leave the site."""


def refusal(privacy: Privacy) -> str | None:
    """Why no image may leave under this rule; None when some may."""
    if not privacy.images_may_leave:
        return "the recipe keeps images on site (privacy.images_may_leave is false)"
    return None


def outbound(prompt: Prompt, privacy: Privacy) -> Prompt:
    """The prompt as it may leave the site: references dropped and images downscaled as told."""
    reason = refusal(privacy)
    if reason is not None:
        raise ImagesStayOnSite(reason)
    part = _part(prompt.parts)  # cropped to the ROI by build_prompt
    kept: list[Part] = []
    for i, item in enumerate(prompt.parts):
        following = prompt.parts[i + 1] if i + 1 < len(prompt.parts) else None
        # Defect examples are images of the plant's parts too: they leave as references do.
        if isinstance(item, ImagePart) and item.role in ("reference", "example"):
            if not _reference_may_leave(item, part, privacy):
                continue
        elif _introduces_dropped_reference(item, following, part, privacy):
            continue
        kept.append(item)
    geometry = prompt.geometry
    if privacy.max_side is not None:
        kept = [_downscaled(p, privacy.max_side) if isinstance(p, ImagePart) else p for p in kept]
        height, width = _part(kept).image.shape[:2]
        if (width, height) != part.image.shape[1::-1] and geometry.model_width is None:
            # Boxes in pixels are pixels of the image the model saw: the downscaled one.
            geometry = dataclasses.replace(geometry, model_width=width, model_height=height)
    return dataclasses.replace(prompt, parts=tuple(kept), geometry=geometry)


def _reference_may_leave(reference: ImagePart, part: ImagePart, privacy: Privacy) -> bool:
    if not privacy.references_may_leave:
        return False
    # Under roi_only a reference leaves only as the same crop as the part (same camera).
    return not privacy.roi_only or reference.image.shape[:2] == part.image.shape[:2]


def _introduces_dropped_reference(
    item: Part, following: Part | None, part: ImagePart, privacy: Privacy
) -> bool:
    return (
        not isinstance(item, ImagePart)
        and isinstance(following, ImagePart)
        and following.role in ("reference", "example")
        and not _reference_may_leave(following, part, privacy)
    )


def _downscaled(item: ImagePart, max_side: int) -> ImagePart:
    height, width = item.image.shape[:2]
    scale = max_side / max(height, width)
    if scale >= 1.0:
        return item
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    image = np.ascontiguousarray(cv2.resize(item.image, size, interpolation=cv2.INTER_AREA))
    return dataclasses.replace(item, image=image)


def _part(parts) -> ImagePart:
    return next(p for p in parts if isinstance(p, ImagePart) and p.role == "part")
