"""Golden-image comparison: align a frame to images of good parts and measure how far it strays.

The model behind the `reference` engine (engines/reference.py), the method of classic industrial
vision (a "variation model"): the good images, aligned to one another, give a mean image and a
spread per pixel; a frame aligned to them deviates where it leaves the band mean ± t·spread.
The spread has two sources: how the good parts differ from one another (their standard
deviation, with several images), and how much an edge moves when the alignment is off by a
pixel or so (the gradient, widened by that many pixels), which is what a single golden image
needs. Only numpy and OpenCV; no model weights.

Scores are in units of spread ("sigmas"): a frame's score is the highest level that at least
`min_area` pixels of one connected deviating region exceed, so thresholding the score at t is
the same as asking "is there a region of `min_area` pixels beyond t sigmas?".
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import cv2
import numpy as np

_ORB_FEATURES = 500
_RATIO = 0.8  # Lowe's ratio test on the two nearest descriptors
_THUMB = 32  # side of the thumbnails that pick the golden image a frame shows
_ASPECT_TOLERANCE = 1.1  # surfaces of one shape, when frames are resized, not aligned
_CANDIDATES = 3  # golden models a frame that stands out is compared with
_LIKENESS_MARGIN = 0.15  # ... when their thumbnails are about as alike as the best's
_EDGE_MARGIN = 4  # pixels of the frame's border never compared


@dataclass(frozen=True)
class Options:
    align: str = "auto"  # auto (features refined by ECC), features, ecc, none
    feature_scale: float = 0.5  # features are found on the image scaled by this much
    min_inliers: int = 15
    misalignment_px: float = 1.5
    min_tolerance: float = 8.0  # the least spread, in grey levels
    blur: int = 3  # Gaussian kernel before comparing (odd; 0 or 1: none)
    highpass_sigma: float = 0.0  # > 0: compare detail only, not slow shading
    base_level: float = 1.0  # regions are grown from pixels beyond this many sigmas
    min_area: int = 20
    group_similarity: float = 0.9  # correlation of two aligned images of one layout


@dataclass
class Alignment:
    ok: bool
    method: str
    homography: np.ndarray | None = None  # frame pixels -> model pixels
    inliers: int = 0
    note: str = ""


@dataclass
class Deviation:
    """A deviating region, in the model's pixels: its box beyond the threshold and its strength."""

    strength: float
    box: tuple[int, int, int, int]  # x0, y0, x1, y1, end exclusive


@dataclass
class Comparison:
    score: float
    regions: list[Deviation]
    alignment: Alignment
    model: int
    deviation: np.ndarray | None = field(default=None, repr=False)  # per model pixel, sigmas


@dataclass
class _Features:
    keypoints: np.ndarray  # (n, 2) in full-size pixels
    descriptors: np.ndarray | None


@dataclass
class GoldenModel:
    """One layout's golden images, aligned: mean, inverse tolerance, features to align to."""

    size: tuple[int, int]  # width, height
    mean: np.ndarray  # float32, preprocessed
    inv_spread: np.ndarray  # float32, 1 / max(min_tolerance, spread)
    thumb: np.ndarray
    features: _Features | None
    anchor: np.ndarray = field(repr=False)  # the first image, grey uint8, for ECC
    count: int = 1
    anchor_index: int = 0  # which of the images given is the anchor (its pixels, the model's)


class GoldenSet:
    """Golden models built from images of good parts; each frame is compared to the best one."""

    def __init__(self, images: list[np.ndarray], options: Options) -> None:
        if not images:
            raise ValueError("no images of good parts to compare with")
        self.options = options
        self._orb = cv2.ORB_create(nfeatures=_ORB_FEATURES)
        self._matcher = cv2.BFMatcher(cv2.NORM_HAMMING)
        self.models = self._build([_grey(i) for i in images])

    # -- building ----------------------------------------------------------------------------
    def _build(self, greys: list[np.ndarray]) -> list[GoldenModel]:
        opts = self.options
        groups: list[list[np.ndarray]] = []
        anchors: list[tuple[np.ndarray, np.ndarray, _Features | None]] = []  # grey, thumb, feats
        first: list[int] = []  # each group's anchor, as an index into `greys`
        for index, grey in enumerate(greys):
            thumb = _thumb(grey)
            placed = False
            for members, (anchor, anchor_thumb, feats) in zip(groups, anchors, strict=True):
                if not _same_shape(grey, anchor, exact=opts.align != "none"):
                    continue
                if float(thumb @ anchor_thumb) < opts.group_similarity:
                    continue
                if opts.align == "none":
                    # Parts that cannot be registered (surfaces): images of one shape, resized.
                    size = (anchor.shape[1], anchor.shape[0])
                    members.append(cv2.resize(grey, size, interpolation=cv2.INTER_AREA))
                    placed = True
                    break
                alignment = self._align(grey, anchor, feats)
                if not alignment.ok:
                    continue
                warped, valid = self._warp(grey, alignment.homography, anchor.shape)
                # Features match between different layouts too; only a close match is the same
                # part (the mean of two layouts would be neither).
                if _correlation(warped, anchor, valid) >= opts.group_similarity:
                    members.append(np.where(valid > 0, warped, anchor))
                    placed = True
                    break
            if not placed:
                first.append(index)
                groups.append([grey])
                feats = self._features(grey) if opts.align != "none" else None
                anchors.append((grey, thumb, feats))
        return [
            dataclasses.replace(self._model(members), anchor_index=index)
            for members, index in zip(groups, first, strict=True)
        ]

    def _model(self, members: list[np.ndarray]) -> GoldenModel:
        opts = self.options
        stack = np.stack([self._prepare(m) for m in members]).astype(np.float32)
        mean = stack.mean(axis=0)
        variance = stack.var(axis=0) if len(members) > 1 else np.zeros_like(mean)
        if opts.misalignment_px > 0:
            gx = cv2.Sobel(mean, cv2.CV_32F, 1, 0, ksize=3) / 8.0
            gy = cv2.Sobel(mean, cv2.CV_32F, 0, 1, ksize=3) / 8.0
            gradient = cv2.magnitude(gx, gy)
            reach = 2 * math.ceil(opts.misalignment_px) + 1
            kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (reach, reach))
            moved = cv2.dilate(gradient, kernel) * opts.misalignment_px
            variance = variance + moved * moved
        spread = np.maximum(np.sqrt(variance), opts.min_tolerance)
        anchor = members[0]
        return GoldenModel(
            size=(anchor.shape[1], anchor.shape[0]),
            mean=mean,
            inv_spread=(1.0 / spread).astype(np.float32),
            thumb=_thumb(anchor),
            features=self._features(anchor) if opts.align != "none" else None,
            anchor=anchor,
            count=len(members),
        )

    # -- per frame ---------------------------------------------------------------------------
    def compare(self, image: np.ndarray, level: float) -> Comparison:
        """Score a frame; regions whose strength exceeds `level` come back with boxes.

        The frame is compared with the most alike golden model; when it stands out there, with
        the next alike ones too (layouts can look alike in small), and the best match counts.
        """
        grey = _grey(image)
        best: Comparison | None = None
        for index in self._candidates(grey):
            comparison = self._compare_with(grey, index, level)
            if best is None or comparison.score < best.score:
                best = comparison
            if best.score <= level:
                break
        assert best is not None
        return best

    def _compare_with(self, grey: np.ndarray, index: int, level: float) -> Comparison:
        model = self.models[index]
        if self.options.align == "none":
            resized = cv2.resize(grey, model.size, interpolation=cv2.INTER_AREA)
            scale_x, scale_y = grey.shape[1] / model.size[0], grey.shape[0] / model.size[1]
            homography = np.diag([1.0 / scale_x, 1.0 / scale_y, 1.0])
            alignment = Alignment(True, "resize", homography)
            warped, valid = resized, None
        else:
            alignment = self._align(grey, model.anchor, model.features)
            if not alignment.ok:
                return Comparison(math.inf, [], alignment, index)
            warped, valid = self._warp(grey, alignment.homography, model.anchor.shape)
        deviation = cv2.absdiff(self._prepare(warped), model.mean)
        deviation = cv2.multiply(deviation, model.inv_spread)
        if valid is not None:
            deviation[valid == 0] = 0.0
        score, regions = _regions(deviation, self.options, level)
        return Comparison(score, regions, alignment, index, deviation)

    def heat(self, image: np.ndarray, level: float) -> np.ndarray:
        """How far each of the frame's pixels lies outside the tolerance band (in sigmas, as
        the score), on the frame's own pixels: the comparison's deviation map mapped back.
        A frame that cannot be aligned has none: ValueError, saying why."""
        comparison = self.compare(image, level)
        alignment = comparison.alignment
        if not alignment.ok or comparison.deviation is None:
            raise ValueError(f"could not align the part to a golden image ({alignment.note})")
        height, width = image.shape[:2]
        # The homography maps frame pixels to the model's: an inverse map brings them back.
        return cv2.warpPerspective(
            comparison.deviation,
            alignment.homography,
            (width, height),
            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        )

    def to_frame(self, box: tuple[int, int, int, int], alignment: Alignment) -> list[float]:
        """A box in model pixels mapped back to the frame's pixels (its bounding box)."""
        x0, y0, x1, y1 = box
        corners = np.array([[[x0, y0], [x1, y0], [x1, y1], [x0, y1]]], np.float32)
        inverse = np.linalg.inv(alignment.homography)
        mapped = cv2.perspectiveTransform(corners, inverse)[0]
        return [
            float(mapped[:, 0].min()),
            float(mapped[:, 1].min()),
            float(mapped[:, 0].max()),
            float(mapped[:, 1].max()),
        ]

    def _candidates(self, grey: np.ndarray) -> list[int]:
        """The golden models the frame may show, most alike first (of the right shape)."""
        if len(self.models) == 1:
            return [0]
        thumb = _thumb(grey)
        likeness = np.array([float(thumb @ m.thumb) for m in self.models])
        if self.options.align == "none":
            shaped = np.array([_same_shape(grey, m.anchor, exact=False) for m in self.models])
            if shaped.any():
                likeness[~shaped] -= 2.0  # below any correlation of the right shape
        order = np.argsort(-likeness)[:_CANDIDATES]
        return [int(i) for i in order if likeness[i] >= likeness[order[0]] - _LIKENESS_MARGIN]

    def _prepare(self, grey: np.ndarray) -> np.ndarray:
        image = grey.astype(np.float32)
        opts = self.options
        if opts.blur > 1:
            image = cv2.GaussianBlur(image, (opts.blur, opts.blur), 0)
        if opts.highpass_sigma > 0:
            image = image - cv2.GaussianBlur(image, (0, 0), opts.highpass_sigma)
        return image

    def _features(self, grey: np.ndarray) -> _Features:
        scale = self.options.feature_scale
        small = grey if scale == 1 else cv2.resize(grey, None, fx=scale, fy=scale)
        keypoints, descriptors = self._orb.detectAndCompute(small, None)
        points = np.array([k.pt for k in keypoints], np.float32).reshape(-1, 2) / scale
        return _Features(points, descriptors)

    def _align(self, grey: np.ndarray, anchor: np.ndarray, target: _Features | None) -> Alignment:
        method = self.options.align
        homography = np.eye(3)
        inliers = 0
        if method in ("features", "auto"):
            found = self._feature_homography(grey, target)
            if found.ok:
                homography, inliers = found.homography, found.inliers
            elif method == "features":
                return found
            # auto and too few features (plain or repetitive parts): ECC from where it lies.
        if method in ("ecc", "auto"):
            refined = _ecc(grey, anchor, homography)
            if refined is not None:
                homography = refined
            elif not inliers:  # nothing else to go by
                return Alignment(False, method, note="ECC did not converge")
        return Alignment(True, method, homography, inliers)

    def _feature_homography(self, grey: np.ndarray, target: _Features | None) -> Alignment:
        need = self.options.min_inliers
        frame = self._features(grey)
        if target is None or frame.descriptors is None or target.descriptors is None:
            return Alignment(False, "features", note="no features found")
        pairs = self._matcher.knnMatch(frame.descriptors, target.descriptors, k=2)
        good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < _RATIO * p[1].distance]
        if len(good) < need:
            return Alignment(False, "features", note=f"{len(good)} feature matches, need {need}")
        source = frame.keypoints[[m.queryIdx for m in good]]
        destination = target.keypoints[[m.trainIdx for m in good]]
        homography, mask = cv2.findHomography(source, destination, cv2.RANSAC, 3.0)
        inliers = int(mask.sum()) if mask is not None else 0
        if homography is None or inliers < need or not _plausible(homography):
            return Alignment(
                False,
                "features",
                inliers=inliers,
                note=f"{inliers} consistent matches, need {need}",
            )
        return Alignment(True, "features", homography, inliers)

    @staticmethod
    def _warp(
        grey: np.ndarray, homography: np.ndarray, shape: tuple[int, ...]
    ) -> tuple[np.ndarray, np.ndarray]:
        height, width = shape[:2]
        warped = cv2.warpPerspective(grey, homography, (width, height), flags=cv2.INTER_LINEAR)
        # Where the frame did not reach there is nothing to compare: those pixels are left out.
        # The frame's own edge is left out too: scanners and lenses blur the outermost pixels.
        h, w = grey.shape[:2]
        m = _EDGE_MARGIN
        corners = np.array([[[m, m], [w - 1 - m, m], [w - 1 - m, h - 1 - m], [m, h - 1 - m]]])
        corners = corners.astype(np.float32)
        mapped = cv2.perspectiveTransform(corners, homography)[0]
        valid = np.zeros((height, width), np.uint8)
        cv2.fillConvexPoly(valid, np.round(mapped).astype(np.int32), 255)
        return warped, valid


def _regions(deviation: np.ndarray, opts: Options, level: float) -> tuple[float, list[Deviation]]:
    """The frame's score, and the regions stronger than `level` with their boxes."""
    mask = deviation > opts.base_level
    flat = np.flatnonzero(mask)
    if flat.size < opts.min_area:
        return opts.base_level * flat.size / opts.min_area, []
    # Regions are found on a half-size mask (a pixel joins its 2x2 cell): four times cheaper
    # than at full size, and it bridges one-pixel gaps that a thin crack or track break shows.
    height, width = mask.shape
    cells = mask[: height - height % 2, : width - width % 2]
    cells = cells.reshape(height // 2, 2, width // 2, 2).any(axis=(1, 3)).astype(np.uint8)
    count, labels = cv2.connectedComponents(cells, connectivity=8)
    ys, xs = np.divmod(flat, width)
    inside = (ys < 2 * labels.shape[0]) & (xs < 2 * labels.shape[1])
    ys, xs = ys[inside], xs[inside]
    owner = labels[ys // 2, xs // 2]
    areas = np.bincount(owner, minlength=count)
    big = np.flatnonzero(areas >= opts.min_area)
    if big.size == 0:
        # No region is large enough: below the base level, the score tells how near the largest
        # region comes to the least area (a frame with nothing beyond the base level scores 0).
        return opts.base_level * int(areas.max()) / opts.min_area, []
    values = deviation[ys, xs]
    order = np.lexsort((-values, owner))
    owner, values, ys, xs = owner[order], values[order], ys[order], xs[order]
    starts = np.searchsorted(owner, big)
    ends = np.searchsorted(owner, big, side="right")
    # A region's strength: the value its min_area-th strongest pixel reaches.
    strengths = values[starts + opts.min_area - 1]
    regions = []
    for start, end, strength in zip(starts, ends, strengths, strict=True):
        if strength <= level:
            continue
        above = start + int(np.count_nonzero(values[start:end] > level))
        rx, ry = xs[start:above], ys[start:above]
        box = (int(rx.min()), int(ry.min()), int(rx.max()) + 1, int(ry.max()) + 1)
        regions.append(Deviation(float(strength), box))
    regions.sort(key=lambda r: -r.strength)
    return float(strengths.max()), regions


def _ecc(grey: np.ndarray, anchor: np.ndarray, homography: np.ndarray) -> np.ndarray | None:
    """Refine a homography with ECC on quarter-size images (Euclidean: shifts and a turn)."""
    scale = 0.25
    small = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    target = cv2.resize(anchor, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    down = np.diag([scale, scale, 1.0])
    start = down @ homography @ np.linalg.inv(down)
    warp = np.linalg.inv(start)[:2].astype(np.float32)  # ECC maps template -> input
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 30, 1e-3)
    try:
        _, warp = cv2.findTransformECC(target, small, warp, cv2.MOTION_AFFINE, criteria, None, 5)
    except cv2.error:
        return None
    full = np.vstack([warp, [0.0, 0.0, 1.0]])
    refined = np.linalg.inv(np.linalg.inv(down) @ full @ down)
    return refined if _plausible(refined) else None


def _plausible(homography: np.ndarray) -> bool:
    """Rejects warps no re-placed part shows: mirrored, squashed, or strongly in perspective."""
    linear = homography[:2, :2] / homography[2, 2]
    det = float(np.linalg.det(linear))
    return 0.5 < det < 2.0 and abs(homography[2, 0]) < 1e-3 and abs(homography[2, 1]) < 1e-3


def _same_shape(a: np.ndarray, b: np.ndarray, exact: bool) -> bool:
    """Same pixel size (images to align), or within 10% in aspect ratio (images to resize)."""
    if exact:
        return a.shape[:2] == b.shape[:2]
    ratio = (a.shape[1] / a.shape[0]) / (b.shape[1] / b.shape[0])
    return 1 / _ASPECT_TOLERANCE <= ratio <= _ASPECT_TOLERANCE


def _correlation(a: np.ndarray, b: np.ndarray, valid: np.ndarray) -> float:
    inside = valid > 0
    x = a[inside].astype(np.float32)
    y = b[inside].astype(np.float32)
    x -= x.mean()
    y -= y.mean()
    norm = float(np.linalg.norm(x) * np.linalg.norm(y))
    return float(x @ y) / norm if norm > 0 else 0.0


def _grey(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return image
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


def _thumb(grey: np.ndarray) -> np.ndarray:
    small = cv2.resize(grey, (_THUMB, _THUMB), interpolation=cv2.INTER_AREA).astype(np.float32)
    small = small.ravel() - small.mean()
    norm = float(np.linalg.norm(small))
    return small / norm if norm > 0 else small
