"""The worst misses and the worst overkills of a run, as pictures a quality engineer can read.

Worst misses: the defective images judged PASS, lowest score first (the defects the judge was
surest were good); where a run has fewer than N, the defective images closest to passing follow
(UNSURE, then FAIL, lowest score first), each captioned with its own outcome, so the report
always shows how narrow the margin was. Worst overkills likewise: the good images judged FAIL,
highest score first, then UNSURE, then PASS. An image with no score ranks after the scored ones
of its outcome.

Each picture is the image as judged, with, where the judge gives one, its heat map overlaid (an
engine with a `heat_map(image)` method: `texture`, and `reference` where the part aligns), the
boxes the verdict carried (magenta: models report regions only as boxes), and the labelled
defect's mask
outlined (green) where the data set has masks. The heat map shows where an image stands out
from itself: blue is its typical score (the median), red its highest, or one threshold above
the median where the highest is less (so a clean image stays blue, and a defect that raises
every patch's score, as `texture`'s image-wide term does, is still shown where it lies).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from inspector.cameras.images import UnreadableImage, read_image
from inspector.evaluation.datasets import Dataset
from inspector.judges.prompt import crop_to
from inspector.store.evaluations.runs import EvaluationResult

COUNT = 4  # pictures of each kind in a report
MAX_SIDE = 480  # pixels: enough for a half-page picture, small enough for a light report
_BOX = (255, 0, 255)  # magenta, as the screen outlines suspects for a model
_MASK = (0, 200, 0)
_RANK_MISS = {"PASS": 0, "UNSURE": 1, "FAIL": 2}
_RANK_OVERKILL = {"FAIL": 0, "UNSURE": 1, "PASS": 2}

HeatMap = Callable[[np.ndarray], np.ndarray]  # image -> scores at the image's size, in units


@dataclass(frozen=True)
class Example:
    """One picture of the report: the result, and the image drawn for a person."""

    kind: str  # "miss" or "overkill"
    result: EvaluationResult
    picture: np.ndarray | None  # BGR uint8; None: the image could not be read (see note)
    heat: bool = False  # a heat map is overlaid
    note: str = ""

    @property
    def verdict(self) -> str:
        """The outcome, in the words of this list: a miss, an overkill, or how near it came."""
        outcome = self.result.outcome
        if self.kind == "miss":
            return {"PASS": "MISS (judged PASS)", "FAIL": "caught (FAIL)"}.get(
                outcome, f"{outcome}: to a person"
            )
        return {"FAIL": "OVERKILL (judged FAIL)", "PASS": "passed (PASS)"}.get(
            outcome, f"{outcome}: to a person"
        )

    @property
    def caption(self) -> str:
        r = self.result
        score = "no score" if r.score is None else f"score {r.score:.3g}"
        return f"{r.image}\n{r.label} · {score} · {self.verdict}"


def worst_misses(results: Sequence[EvaluationResult], count: int = COUNT) -> list:
    defective = [r for r in results if r.expected != "good"]
    return sorted(defective, key=lambda r: (_RANK_MISS.get(r.outcome, 1), *_ascending(r)))[:count]


def worst_overkills(results: Sequence[EvaluationResult], count: int = COUNT) -> list:
    good = [r for r in results if r.expected == "good"]
    return sorted(good, key=lambda r: (_RANK_OVERKILL.get(r.outcome, 1), *_descending(r)))[:count]


def _ascending(r: EvaluationResult) -> tuple[bool, float]:
    return r.score is None, r.score if r.score is not None else 0.0


def _descending(r: EvaluationResult) -> tuple[bool, float]:
    return r.score is None, -r.score if r.score is not None else 0.0


def heat_source(chain) -> tuple[HeatMap, float] | None:
    """The first judge of a loaded chain that draws a heat map, and its threshold (the unit the
    colours are scaled to); None where every engine reports boxes only."""
    for judge in getattr(chain, "judges", ()):
        heat_map = getattr(judge, "heat_map", None)
        if callable(heat_map):
            threshold = float(getattr(judge.settings, "threshold", 1.0) or 1.0)
            roi = judge.recipe.roi.as_region() if judge.recipe.roi else None
            return _in_roi(heat_map, roi), threshold
    return None


def _in_roi(heat_map: HeatMap, roi) -> HeatMap:
    """The judge scores the recipe's ROI only: its heat map, placed where the ROI lies."""
    if roi is None:
        return heat_map

    def placed(image: np.ndarray) -> np.ndarray:
        crop, area = crop_to(image, roi)
        heat = np.zeros(image.shape[:2], np.float32)
        heat[area.y : area.y + area.height, area.x : area.x + area.width] = heat_map(crop)
        return heat

    return placed


def pick(
    dataset: Dataset,
    results: Sequence[EvaluationResult],
    count: int = COUNT,
    chain=None,
) -> list[Example]:
    """The worst misses, then the worst overkills, drawn (heat maps from `chain` where one of
    its judges draws them; the chain must be loaded)."""
    samples = {s.name: s for s in dataset.samples}
    source = heat_source(chain) if chain is not None else None
    chosen = [("miss", r) for r in worst_misses(results, count)]
    chosen += [("overkill", r) for r in worst_overkills(results, count)]
    return [_example(kind, result, samples.get(result.image), source) for kind, result in chosen]


def _example(kind: str, result: EvaluationResult, sample, source) -> Example:
    if sample is None:
        return Example(kind, result, None, note="not in the data set as read now")
    try:
        image = read_image(sample.path)
    except UnreadableImage as exc:
        return Example(kind, result, None, note=f"cannot read the image: {exc}")
    heat = None
    note = ""
    if source is not None:
        heat_map, threshold = source
        try:
            heat = _levels(heat_map(image), threshold)
        except Exception as exc:  # a picture without heat, never a report that fails
            note = f"no heat map: {exc}"
    mask = _mask(sample.mask, image.shape[:2])
    picture = draw(image, result.boxes, heat, mask)
    return Example(kind, result, picture, heat=heat is not None, note=note)


def _levels(heat: np.ndarray, threshold: float) -> np.ndarray:
    """0 at the image's median score, 1 at its highest (or a threshold above the median)."""
    heat = np.nan_to_num(heat.astype(np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    typical = float(np.median(heat))
    span = max(float(heat.max()) - typical, threshold, 1e-6)
    return np.clip((heat - typical) / span, 0.0, 1.0)


def _mask(path: Path | None, shape: tuple[int, int]) -> np.ndarray | None:
    if path is None:
        return None
    mask = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if mask is None or mask.shape[:2] != shape:
        return None
    return mask


def draw(
    image: np.ndarray,
    boxes: Sequence[Sequence],
    heat: np.ndarray | None = None,
    mask: np.ndarray | None = None,
) -> np.ndarray:
    """The image (BGR) with the heat map blended in (levels 0 to 1: blue to red, more opaque
    the hotter), the mask's outline and the boxes, at most MAX_SIDE on its longer side."""
    if image.dtype != np.uint8:  # a deep camera's pixels: their 8-bit view, by bit depth
        image = (image.astype(np.float32) / max(1.0, float(image.max())) * 255).astype(np.uint8)
    picture = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR) if image.ndim == 2 else image[..., :3]
    picture = picture.astype(np.float32)
    if heat is not None and heat.shape[:2] == picture.shape[:2]:
        level = np.clip(np.nan_to_num(heat, nan=1.0), 0.0, 1.0)
        colours = cv2.applyColorMap((level * 255).astype(np.uint8), cv2.COLORMAP_JET)
        alpha = (0.1 + 0.5 * level)[..., None]
        picture = picture * (1 - alpha) + colours.astype(np.float32) * alpha
    picture = np.clip(picture, 0, 255).astype(np.uint8)
    height, width = picture.shape[:2]
    scale = min(1.0, MAX_SIDE / max(height, width))
    if scale < 1.0:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        picture = cv2.resize(picture, size, interpolation=cv2.INTER_AREA)
    else:
        picture = picture.copy()
    thickness = max(2, round(max(picture.shape[:2]) / 240))  # 1 px blurs away in a JPEG
    if mask is not None:
        small = cv2.resize(mask, picture.shape[1::-1], interpolation=cv2.INTER_NEAREST)
        # Outlined around the defect, not on it: a scratch is thinner than the line, which
        # would hide it and its heat.
        grow = np.ones((2 * thickness + 1, 2 * thickness + 1), np.uint8)
        around = cv2.dilate((small > 0).astype(np.uint8), grow)
        contours, _ = cv2.findContours(around, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        cv2.drawContours(picture, contours, -1, _MASK, thickness)
    for box in boxes:
        coords = [v for v in box[1:5] if isinstance(v, int | float) and math.isfinite(v)]
        if len(coords) != 4:
            continue
        x0, y0, x1, y1 = (round(v * scale) for v in coords)
        cv2.rectangle(picture, (x0, y0), (max(x0, x1 - 1), max(y0, y1 - 1)), _BOX, thickness)
    return picture


def jpeg(picture: np.ndarray, quality: int = 88) -> bytes:
    ok, encoded = cv2.imencode(".jpg", picture, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("could not encode the picture as JPEG")
    return encoded.tobytes()
