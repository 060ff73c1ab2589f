"""`reference`: compare the part with golden images of good parts. No model weights, any CPU.

It aligns the part to the most alike golden image (ORB features and a homography, refined with
ECC), compares it with the variation model learnt from the good images (inspector.judges.golden)
and reports the regions that leave the tolerance band as boxes in source pixels. Its "answer" is
a JSON verdict like a model's, read by the same parser, and keeps the score and the alignment
for the record. Its heat map (`heat_map`, for the evaluation report's pictures) is that deviation
brought back onto the frame's pixels.

Three uses:
- alone, where golden samples exist: a frame scoring above `threshold` FAILs with a defect of
  class `defect_class` (list that class in the recipe, or the pass rule makes it UNSURE);
- as the demo's offline judge (assets/demo/recipe-reference.yaml);
- as a screen (`screen: true`) in front of a vision-language model: a frame scoring at most
  `threshold` is clean beyond doubt and PASSes without a model call; any other frame goes on to
  the next engine with the suspect regions outlined on its image (JudgeChain's `Screen`).

The golden images are the recipe's `references`, or the engine's own `references` (files,
folders or glob patterns, relative to the recipe file's folder, else the working directory),
e.g. many good images for the screen and two for the model's few-shot prompt.
"""

from __future__ import annotations

import hashlib
import json
import threading
from typing import Literal

import cv2
import numpy as np
from pydantic import Field

from inspector.domain import Verdict
from inspector.errors import InputError
from inspector.judges.answers import BoxConvention
from inspector.judges.golden import Comparison, GoldenSet, Options
from inspector.judges.good_images import read_good_images
from inspector.judges.judge import EngineSettings, Generation, Judge, Progress
from inspector.judges.prompt import Prompt, crop_to
from inspector.recipes import check_roi_fits

_MARK = (255, 0, 255)  # magenta: rare on parts, plain to a model
_MARK_PAD = 6  # the outline sits this far outside the region, not over it


class ReferenceSettings(EngineSettings):
    engine: Literal["reference"] = "reference"
    model: str = "golden-template"
    references: tuple[str, ...] = ()  # empty: the recipe's references
    screen: bool = False
    # Scores are in units of the good images' spread; a frame scores above `threshold` when a
    # region of `min_defect_area` pixels deviates more than that.
    threshold: float = Field(default=3.0, gt=0)
    min_defect_area: int = Field(default=20, ge=1)
    align: Literal["auto", "features", "ecc", "none"] = "auto"
    misalignment_px: float = Field(default=1.5, ge=0)  # alignment error the tolerance allows
    min_tolerance: float = Field(default=8.0, gt=0)  # grey levels: the least spread of a pixel
    blur: int = Field(default=3, ge=0)
    highpass_sigma: float = Field(default=0.0, ge=0)  # > 0: ignore shading (surfaces)
    defect_class: str = Field(default="deviation", min_length=1, max_length=64)
    max_defects: int = Field(default=20, ge=1)


class ReferenceJudge(Judge):
    engine = "reference"
    Settings = ReferenceSettings
    settings: ReferenceSettings
    judges_tiles = False  # it compares every pixel already

    def __init__(self, settings: ReferenceSettings, recipe) -> None:
        super().__init__(settings, recipe)
        self._lock = threading.Lock()
        self._golden: dict[tuple, GoldenSet] = {}
        self._seen = threading.local()  # this thread's last match, for `aligned_references`
        self._own = bool(settings.references)
        if self._own:  # read now: a wrong path stops the command before anything is recorded
            images = read_good_images(settings.references, "reference", "references", recipe.folder)
            super().set_references(images)
        self._revise()

    def set_references(self, images: list[np.ndarray]) -> None:
        if self._own:
            return
        super().set_references(images)
        with self._lock:
            self._golden.clear()
        self._revise()

    def for_recipe(self, recipe) -> ReferenceJudge:
        """The golden sets built so far are shared (keyed by their images), but the twin keeps
        its own table of them: its references never clear the station's."""
        twin = super().for_recipe(recipe)
        with self._lock:
            twin._golden = dict(self._golden)
        twin._lock = threading.Lock()
        if self._own:
            twin._references = self._references
        return twin

    def box_convention(self) -> BoxConvention:
        return BoxConvention.PIXELS

    def load(self, progress: Progress | None = None) -> None:
        references = self._references or []
        if not references:
            raise InputError(
                "the reference engine needs images of good parts: list them under the recipe's "
                "`references:` or the engine's own `references:`"
            )
        if progress:
            progress(f"reference: learning from {len(references)} images of good parts")
        # Built now for frames the size of the references (the usual case), so the first part
        # is judged at line speed; frames of another size build their own on first sight.
        self._references_golden()

    def _references_golden(self) -> GoldenSet:
        """The golden set of the references, cut to the recipe's ROI (the usual frame)."""
        references = self._references or []
        roi = self.recipe.roi.as_region() if self.recipe.roi else None
        shape = references[0].image.shape[:2]
        # A ROI off the good parts' image would leave nothing to learn: a recipe error, now.
        check_roi_fits(self.recipe, shape[1], shape[0], self.recipe.name, "the good parts")
        images = [
            crop_to(r.image, roi)[0] if r.image.shape[:2] == shape else r.image for r in references
        ]
        return self._golden_for([r.sha256 for r in references], images)

    def heat_map(self, image: np.ndarray) -> np.ndarray:
        """Per pixel of `image` (the ROI's crop of a frame), how far it lies outside the good
        parts' tolerance band, in the score's units (float32): the evaluation report's pictures.
        Pixels the alignment does not reach are 0; a part that cannot be aligned raises."""
        if not self._references:
            raise InputError("the reference engine has no images of good parts to compare with")
        heat = self._references_golden().heat(image, self.settings.threshold)
        # A deviation is pixel-exact, a scratch one pixel wide: spread each pixel's strength over
        # its neighbourhood (about 2% of the image) so a defect shows at a report's size.
        side = max(3, round(max(heat.shape[:2]) / 50)) | 1
        heat = cv2.dilate(heat, np.ones((side, side), np.uint8))
        return cv2.GaussianBlur(heat, (0, 0), side / 3)

    def _generate(self, prompt: Prompt, convention: BoxConvention) -> Generation:
        images = prompt.images
        part = images[-1].image
        refs = [p for p in images if p.role == "reference"]
        if not refs:
            raise RuntimeError("no images of good parts to compare with")
        golden = self._golden_for([p.sha256 for p in refs], [p.image for p in refs])
        comparison = golden.compare(part, self.settings.threshold)
        anchor = golden.models[comparison.model].anchor_index
        self._seen.last = (refs[anchor].image, comparison.alignment)
        answer = self._answer(golden, comparison)
        return Generation(
            text=json.dumps(answer), model_width=part.shape[1], model_height=part.shape[0]
        )

    @property
    def screening(self) -> bool:
        return self.settings.screen

    def hand_on(self, image: np.ndarray, verdict: Verdict) -> np.ndarray | None:
        """In screen mode, the frame for the next engine, the suspect regions outlined (the
        chain's `Screen`); None when judging alone: the verdict stands."""
        if not self.settings.screen:
            return None
        boxes = [d.box for d in verdict.defects if d.box is not None]
        if not boxes:
            return image
        marked = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR) if image.ndim == 2 else image.copy()
        thickness = max(2, round(max(marked.shape[:2]) / 400))
        for box in boxes:
            top_left = (box.x0 - _MARK_PAD, box.y0 - _MARK_PAD)
            bottom_right = (box.x1 - 1 + _MARK_PAD, box.y1 - 1 + _MARK_PAD)
            color = _MARK if marked.shape[2] == 3 else (*_MARK, 255)
            cv2.rectangle(marked, top_left, bottom_right, color, thickness)
        return marked

    def aligned_references(self, image: np.ndarray) -> tuple[np.ndarray, ...]:
        """The good part this thread's last comparison matched, warped onto `image`'s pixels
        (black outside the ROI): a zoomed crop of it shows the very place of the part's crop."""
        last = getattr(self._seen, "last", None)
        if last is None or not last[1].ok or last[1].homography is None:
            return ()
        good, alignment = last
        area = crop_to(image, self.recipe.roi.as_region() if self.recipe.roi else None)[1]
        # The homography maps the part's (ROI) pixels to the good image's: an inverse map.
        flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
        warped = cv2.warpPerspective(
            good, alignment.homography, (area.width, area.height), flags=flags
        )
        aligned = np.zeros(image.shape, image.dtype)
        aligned[area.y : area.y + area.height, area.x : area.x + area.width] = _channels_like(
            warped, image
        ).astype(image.dtype)
        return (aligned,)

    # ------------------------------------------------------------------------------------------
    def _answer(self, golden: GoldenSet, comparison: Comparison) -> dict:
        s = self.settings
        alignment = comparison.alignment
        answer: dict = {
            "score": None if not alignment.ok else round(comparison.score, 4),
            "threshold": s.threshold,
            "golden": comparison.model,
            "alignment": alignment.method,
            "inliers": alignment.inliers,
        }
        if not alignment.ok:
            why = f"could not align the part to a golden image ({alignment.note})"
            return {"outcome": "UNSURE", "defects": [], "reason": why, **answer}
        defects = [
            {
                "class": "suspect" if s.screen else s.defect_class,
                "box": [round(v) for v in golden.to_frame(region.box, alignment)],
                "strength": round(region.strength, 2),
            }
            for region in comparison.regions[: s.max_defects]
        ]
        score = comparison.score
        if score <= s.threshold:
            outcome = "PASS"
            reason = f"matches the golden image (score {score:.2f} <= {s.threshold:g})"
            if s.screen:
                reason = f"clean beyond doubt: {reason}"
        elif s.screen:
            outcome = "UNSURE"
            reason = f"suspect (score {score:.2f} > {s.threshold:g}): handed on to the next engine"
        else:
            outcome = "FAIL"
            count = len(comparison.regions)
            regions = "1 region deviates" if count == 1 else f"{count} regions deviate"
            reason = f"{regions} from the golden image (score {score:.2f} > {s.threshold:g})"
        return {"outcome": outcome, "defects": defects, "reason": reason, **answer}

    def _golden_for(self, hashes: list[str], images: list[np.ndarray]) -> GoldenSet:
        """The golden set of these references, cut as the prompt cut them (to the ROI or not)."""
        key = tuple((sha, image.shape) for sha, image in zip(hashes, images, strict=True))
        with self._lock:
            golden = self._golden.get(key)
            if golden is None:
                golden = GoldenSet(images, self._options())
                self._golden[key] = golden
            return golden

    def _options(self) -> Options:
        s = self.settings
        return Options(
            align=s.align,
            misalignment_px=s.misalignment_px,
            min_tolerance=s.min_tolerance,
            blur=s.blur if s.blur % 2 == 1 else s.blur + 1,
            highpass_sigma=s.highpass_sigma,
            min_area=s.min_defect_area,
        )

    def _revise(self) -> None:
        """The model revision on record: which golden images, compared how."""
        digest = hashlib.sha256(self.settings.model_dump_json().encode())
        for reference in self._references or []:
            digest.update(reference.sha256.encode())
        self.model_revision = digest.hexdigest()[:16]


def _channels_like(image: np.ndarray, like: np.ndarray) -> np.ndarray:
    """`image` with as many channels as `like` (grey, BGR or BGRA)."""
    want = 1 if like.ndim == 2 else like.shape[2]
    have = 1 if image.ndim == 2 else image.shape[2]
    if want == have:
        return image
    codes = {
        (1, 3): cv2.COLOR_GRAY2BGR,
        (1, 4): cv2.COLOR_GRAY2BGRA,
        (3, 1): cv2.COLOR_BGR2GRAY,
        (3, 4): cv2.COLOR_BGR2BGRA,
        (4, 1): cv2.COLOR_BGRA2GRAY,
        (4, 3): cv2.COLOR_BGRA2BGR,
    }
    return cv2.cvtColor(image, codes[(have, want)])
