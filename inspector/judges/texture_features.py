"""The patch descriptors of the `texture` engine: a fixed filter bank (no learned weights),
pooled over square patches on a grid. Pooling is done once per `stride`-sided block (mean,
highest, lowest), then over k x k blocks, so the cost is one pass over the pixels plus work on
the small block grid; that is what makes 640x480 frames cheap on one core.

A patch's descriptor, per pooling size (`patch`, and `patch` with one block more on every side,
so a patch also knows its surroundings): local brightness, local contrast, the
brightest and darkest detail, at three scales the oriented gradient energy, its coherence,
and the brightest and darkest blob (extremes of a scale-normalised Laplacian), and the strongest
long straight step, bright line and dark line along each of the image's axes (elongated
Gaussian derivatives, the edge and bar filters of the Leung-Malik bank); then, once, each class
of local binary pattern's share of the outer pool (micro-texture) and each direction's share of
its strong edges (a histogram of oriented gradients). The coarsest scale and
the steps are taken from the image at half size, the background from a quarter: the same sizes,
a fraction of the work.
"""

from __future__ import annotations

import functools

import cv2
import numpy as np

FEATURES_PER_POOL = 4 + 3 * 5 + 6
SIGMAS = (1.0, 2.0, 4.0)
# Elongated filters, (sigma along, sigma across) in pixels at scale. A long straight step (the
# border of an uneven region) or line (a crack) is a defect even where each patch of it alone
# looks like good texture, and the isotropic filters above spread it among the rest. Chosen on
# magnetic-tile's validation splits (16 random splits of the learning half): AUROC 0.839
# without, 0.859 with them and the texture engine's edge-band weights learning from 60 tiles
# (0.868 -> 0.882 from 90); Uneven tiles 0.73 -> 0.80. Steps from the half-sized image, lines
# from the image halved along them: the same AUROC, a fraction of the work (lines from the
# half-sized image too: 0.854 against 0.859).
STEP = (8.0, 2.0)
LINE = (8.0, 1.5)
COARSE_FROM = 4.0  # sigmas from this up are taken from the half-sized image (2.0: judging
# 15% faster, validation AUROC 0.823 against 0.827 on magnetic-tile)


# Local binary patterns (Ojala, Pietikainen and Maenpaa 2002): each pixel's 8 neighbours at
# radius 1, in circular order, compared with it; each pattern's share of the outer pool, by its
# rotation-invariant uniform class (LBP riu2: 0-8 neighbours brighter in one arc, or 9: not an
# arc). They tell apart micro-texture that the smooth filters above average away: a surface
# ground differently (magnetic-tile's "Uneven") has the same brightness and gradient energy but
# other patterns. Chosen on magnetic-tile's validation splits (16 random splits of the learning
# half, even defects): AUROC 0.862 -> 0.874 learning from 90 tiles (better on 14 of 16 splits;
# Uneven 0.80 -> 0.85), 0.847 -> 0.855 from 60 (12 of 16). Not kept (from 90): the inner pool's
# shares too (0.867; 0.872 with 20 components, and on DeepPCB one odd held-out board then set
# the unit and boxes strayed), radius 2 or the half-sized image's patterns as well (0.869,
# 0.869); with the inner pool's shares and 20 components: arcs told apart by direction (30
# classes: 0.858), no smoothing first (0.864), a threshold of 0 or 3 grey levels (0.871, 0.867).
PATTERN_CLASSES = 10
_NEIGHBOURS = ((0, 1), (-1, 1), (-1, 0), (-1, -1), (0, -1), (1, -1), (1, 0), (1, 1))
_PATTERN_SMOOTH = 0.7  # pixels: the Gaussian before comparing (sensor noise flips bits)
_PATTERN_STEP = 1.0  # grey levels (at median 128) a neighbour must exceed the pixel by


def _pattern_classes() -> np.ndarray:
    """Each 8-bit pattern's riu2 class: its number of set bits when they form one arc (at most
    two changes around the circle), else 9."""
    table = np.empty(256, np.uint8)
    for code in range(256):
        bits = [(code >> k) & 1 for k in range(8)]
        changes = sum(bits[k] != bits[k - 1] for k in range(8))
        table[code] = sum(bits) if changes <= 2 else PATTERN_CLASSES - 1
    return table


_CLASS_OF = _pattern_classes()

# Histograms of oriented gradients (Dalal and Triggs 2005): the share of each of 12 orientations
# (15 degrees each, direction modulo 180) in the outer pool's gradients at the finest scale,
# each pixel shared between its two nearest bins. The structure tensor (describe) keeps one
# dominant orientation per patch; a histogram tells apart a patch of crossing or bent edges (a
# crack leaving the grinding streaks, an uneven region's border) from one of parallel ones. Weighted
# by the gradient magnitude cubed, so the strong edges decide it, not the sensor noise. Chosen
# on magnetic-tile's validation splits (16 random splits of the learning half, even defects):
# AUROC 0.877 -> 0.887 learning from 90 tiles (better on 11 of 16 splits), 0.859 -> 0.872
# from 60 (16 of 16). Not kept: the magnitude to the power 1, 2, 4, 6 (0.883, 0.885, 0.886,
# 0.885 from 90; power 2 from 60: 0.869), every second pixel only (0.882: too few per block),
# each pixel in one bin only (0.887, as good, but a texture along a bin's border, such as
# grinding streaks along an axis, then flickers between two bins). With power 1: the
# half-sized image (0.881), the inner pool's histogram for the outer's (0.875), one at sigma 2
# too (0.882), 8 or 16 bins (0.882, 0.881), the orientations as circular harmonics (0.882), and
# with the histogram a grid of stride 6 (+0.000).
DIRECTION_BINS = 12
_BIN_OF = (np.arange(256) % DIRECTION_BINS).astype(np.uint8)
_NEXT_BIN_OF = ((np.arange(256) + 1) % DIRECTION_BINS).astype(np.uint8)


def local_patterns(g: np.ndarray) -> np.ndarray:
    """Each pixel's local binary pattern class (uint8, 0-9) of a float32 grey image."""
    smooth = cv2.GaussianBlur(g, (0, 0), _PATTERN_SMOOTH)
    height, width = smooth.shape
    padded = cv2.copyMakeBorder(smooth, 1, 1, 1, 1, cv2.BORDER_REFLECT_101)
    level = smooth + _PATTERN_STEP
    code = np.zeros((height, width), np.uint8)
    for bit, (dy, dx) in enumerate(_NEIGHBOURS):
        neighbour = padded[1 + dy : 1 + dy + height, 1 + dx : 1 + dx + width]
        # OpenCV's compare (255 where true) and lookup: 1.7x faster than numpy's
        code |= cv2.compare(neighbour, level, cv2.CMP_GE) & np.uint8(1 << bit)
    return cv2.LUT(code, _CLASS_OF)


@functools.lru_cache(maxsize=4)
def _block_labels(rows: int, cols: int, stride: int, classes: int) -> np.ndarray:
    """Each pixel's block number times `classes`, for a count of `classes` per block; cached per
    frame size (a station's frames all have one)."""
    block = np.arange(rows * cols, dtype=np.int32).reshape(rows, 1, cols, 1) * classes
    labels = np.broadcast_to(block, (rows, stride, cols, stride)).reshape(-1).copy()
    labels.flags.writeable = False
    return labels


def class_shares(classes: np.ndarray, stride: int) -> np.ndarray:
    """(rows, cols, PATTERN_CLASSES): each class's share of each `stride`-sided block, by one
    count over the pixels (the sides are multiples of `stride`)."""
    rows, cols = classes.shape[0] // stride, classes.shape[1] // stride
    labels = _block_labels(rows, cols, stride, PATTERN_CLASSES) + classes.reshape(-1)
    counts = np.bincount(labels, minlength=rows * cols * PATTERN_CLASSES)
    return counts.reshape(rows, cols, PATTERN_CLASSES).astype(np.float32) / (stride * stride)


def direction_weights(
    gx: np.ndarray, gy: np.ndarray, energy: np.ndarray, stride: int
) -> np.ndarray:
    """(rows, cols, DIRECTION_BINS): per `stride`-sided block, the weight of its gradients in
    each orientation bin (gradients `gx`, `gy`; `energy` is gx^2 + gy^2), by two counts over
    the pixels."""
    weight = cv2.magnitude(gx, gy)
    weight *= energy  # the magnitude cubed: the strong edges decide (see DIRECTION_BINS)
    # The direction in bins (0-24 around the circle); modulo 12 below: orientation.
    position = cv2.phase(gx, gy) * np.float32(DIRECTION_BINS / np.pi)
    whole = position.astype(np.uint8)  # the floor, as it is not negative
    upper = weight * (position - whole)  # the share of the next bin
    weight -= upper
    rows, cols = gx.shape[0] // stride, gx.shape[1] // stride
    blocks = _block_labels(rows, cols, stride, DIRECTION_BINS)
    size = rows * cols * DIRECTION_BINS
    # Pixels in raster order, as the labels are: a block's pixels share its label.
    counts = np.bincount(blocks + cv2.LUT(whole, _BIN_OF).reshape(-1), weight.reshape(-1), size)
    counts += np.bincount(
        blocks + cv2.LUT(whole, _NEXT_BIN_OF).reshape(-1), upper.reshape(-1), size
    )
    return counts.reshape(rows, cols, DIRECTION_BINS).astype(np.float32)


def grey(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return image
    code = cv2.COLOR_BGRA2GRAY if image.shape[2] == 4 else cv2.COLOR_BGR2GRAY
    return cv2.cvtColor(image, code)


def scaled_size(shape: tuple[int, ...], scale: float) -> tuple[int, int]:
    """(width, height) of an image of this shape as described, at `scale`."""
    height, width = shape[:2]
    return max(1, int(width * scale + 0.5)), max(1, int(height * scale + 0.5))


def grid_start(side: int, margin: int) -> int:
    """Where the grid's first cell centre lies from an edge of `side` pixels (at scale): `margin`
    in, or less on an image too narrow for it, so every image has patches."""
    return max(0, min(margin, (side - 1) // 2))


def pool_blocks(patch: int, stride: int) -> tuple[int, int]:
    """The two pooling sizes in blocks (odd, so a patch is centred on its cell): the patch, and
    the patch with a block of its surroundings on every side."""
    inner = max(1, round(patch / stride)) | 1
    return inner, inner + 2


def grid_cells(side: int, margin: int, stride: int) -> tuple[int, int]:
    """(first cell centre, number of cells) along an edge of `side` pixels at scale."""
    start = grid_start(side, margin)
    count = max(1, (side - 1 - 2 * start) // stride + 1)
    return start, count


def _elongated(
    image: np.ndarray, sigmas: tuple[float, float], across: str, order: int
) -> np.ndarray:
    """The `order`-th Gaussian derivative `across` the image's "x" or "y" axis, its Gaussian
    long along the other: horizontal structures respond to derivatives across "y"."""
    along, narrow = sigmas
    sx, sy = (along, narrow) if across == "y" else (narrow, along)
    # Kernels to 3 sigmas (OpenCV's default for float images is 4): a third less work.
    size = (2 * int(np.ceil(3 * sx)) + 1, 2 * int(np.ceil(3 * sy)) + 1)
    smooth = cv2.GaussianBlur(image, size, sigmaX=sx, sigmaY=sy)
    dx, dy = (0, order) if across == "y" else (order, 0)
    return cv2.Sobel(smooth, cv2.CV_32F, dx, dy)


def _lines(g: np.ndarray, across: str, stride: int) -> tuple[np.ndarray, tuple[int, int]]:
    """Line responses across "y" or "x", and the block (rows, columns) of their map. Taken from
    the image halved along the lines: their Gaussian is 8 pixels long, so halving loses nothing
    of it and halves the work."""
    if stride % 2:
        return _elongated(g, LINE, across, 2), (stride, stride)
    height, width = g.shape
    size, block = ((width // 2, height), (stride, stride // 2)) if across == "y" else (
        (width, height // 2), (stride // 2, stride))  # fmt: skip
    halved = cv2.resize(g, size, interpolation=cv2.INTER_AREA)
    return _elongated(halved, (LINE[0] / 2, LINE[1]), across, 2), block


def _blocks(m: np.ndarray, stride: int | tuple[int, int], how: str) -> np.ndarray:
    """Per block of `stride` pixels (or (rows, columns); the map's sides are multiples of it):
    mean, max or min."""
    down, across = (stride, stride) if isinstance(stride, int) else stride
    rows, cols = m.shape[0] // down, m.shape[1] // across
    if how == "mean":  # area resampling by a whole factor is the block mean
        return cv2.resize(m, (cols, rows), interpolation=cv2.INTER_AREA)
    # Down each block's rows with numpy, then across with a one-row dilation or erosion from
    # each block's first column (OpenCV's is vectorised: twice as fast as a second reduce).
    row = np.ones((1, across), np.uint8)
    if how == "max":
        along = m.reshape(rows, down, m.shape[1]).max(axis=1)
        return cv2.dilate(along, row, anchor=(0, 0))[:, ::across]
    along = m.reshape(rows, down, m.shape[1]).min(axis=1)
    return cv2.erode(along, row, anchor=(0, 0))[:, ::across]


def describe(image: np.ndarray, scale: float, patch: int, stride: int, margin: int) -> np.ndarray:
    """The patch descriptors of an image: (rows, cols, features), float32. Cell centres lie on a
    grid of `stride` pixels at `scale`, `margin` pixels off the edges (where they can be)."""
    g = grey(image).astype(np.float32)
    width, height = scaled_size(image.shape, scale)
    if (width, height) != (g.shape[1], g.shape[0]):
        g = cv2.resize(g, (width, height), interpolation=cv2.INTER_AREA)
    # Exposure drifts; texture does not. The median of 8x8 means: robust, and cheap.
    coarse = cv2.resize(g, (max(1, width // 8), max(1, height // 8)), interpolation=cv2.INTER_AREA)
    g *= 128.0 / (float(np.median(coarse)) + 1.0)
    inner, outer = pool_blocks(patch, stride)
    top, rows = grid_cells(height, margin, stride)
    left, cols = grid_cells(width, margin, stride)
    # Blocks are centred on the cells: mirror the image beyond its edges far enough for the
    # outer pool of the edge cells (a crop's edge varies more than any texture: the grid keeps
    # `margin` off it, the pools still see it).
    reach = (outer // 2 + 2) * stride + stride // 2
    first = (reach - stride // 2) // stride  # the block row (column) of cell 0
    needed = (2 * first + rows) * stride, (2 * first + cols) * stride
    pad_top, pad_left = reach - top, reach - left
    pad_bottom = needed[0] - (reach - stride // 2 - first * stride) - pad_top - height + stride
    pad_right = needed[1] - (reach - stride // 2 - first * stride) - pad_left - width + stride
    pads = [max(0, p) for p in (pad_top, pad_bottom, pad_left, pad_right)]
    g = cv2.copyMakeBorder(g, *pads, cv2.BORDER_REFLECT_101)
    offset = reach - stride // 2 - first * stride
    g = g[pads[0] - pad_top + offset :, pads[2] - pad_left + offset :]
    g = g[: needed[0], : needed[1]]

    small = cv2.resize(g, (g.shape[1] // 4, g.shape[0] // 4), interpolation=cv2.INTER_AREA)
    background = cv2.resize(
        cv2.GaussianBlur(small, (0, 0), 3.0),
        (g.shape[1], g.shape[0]),
        interpolation=cv2.INTER_LINEAR,
    )
    detail = g - background
    maps_mean = [
        _blocks(g, stride, "mean"),
        _blocks(detail, stride, "mean"),
        _blocks(detail * detail, stride, "mean"),
    ]
    maps_max = [_blocks(detail, stride, "max")]
    maps_min = [_blocks(detail, stride, "min")]
    half = cv2.resize(g, (g.shape[1] // 2, g.shape[0] // 2), interpolation=cv2.INTER_AREA)
    for sigma in SIGMAS:
        # The coarsest scale on the half-sized image: the same blob size, a quarter the work.
        coarse_ok = sigma >= COARSE_FROM and stride % 2 == 0
        source, s, step = (half, sigma / 2, stride // 2) if coarse_ok else (g, sigma, stride)
        smooth = cv2.GaussianBlur(source, (0, 0), s)
        gx = cv2.Sobel(smooth, cv2.CV_32F, 1, 0)
        gy = cv2.Sobel(smooth, cv2.CV_32F, 0, 1)
        blob = cv2.Laplacian(smooth, cv2.CV_32F) * (s * s)
        gxx, gyy = gx * gx, gy * gy
        maps_mean += [_blocks(gxx, step, "mean"), _blocks(gyy, step, "mean")]
        maps_mean.append(_blocks(gx * gy, step, "mean"))
        if sigma == SIGMAS[0]:
            directions = direction_weights(gx, gy, gxx + gyy, step)
        maps_max.append(_blocks(blob, step, "max"))
        maps_min.append(_blocks(blob, step, "min"))
    halved = stride % 2 == 0
    step_source, step_sigmas, step_stride = (
        (half, (STEP[0] / 2, STEP[1] / 2), stride // 2) if halved else (g, STEP, stride)
    )
    lines_max, lines_min = [], []
    for across in ("y", "x"):
        edge = np.abs(_elongated(step_source, step_sigmas, across, 1))
        lines_max.append(_blocks(edge, step_stride, "max"))
        line, block = _lines(g, across, stride)
        lines_max.append(_blocks(line, block, "max"))
        lines_min.append(_blocks(line, block, "min"))
    patterns = class_shares(local_patterns(g), stride)
    cells = (slice(first, first + rows), slice(first, first + cols))
    pooled = []
    for k in (inner, outer):
        size = (k, k)
        square = np.ones(size, np.uint8)
        mean = [cv2.blur(m, size) for m in maps_mean]
        high = [cv2.dilate(m, square) for m in maps_max]
        low = [cv2.erode(m, square) for m in maps_min]
        spread = np.sqrt(np.maximum(mean[2] - mean[1] ** 2, 0))
        # No shading term (the patch's brightness less the image's smooth shading) since the
        # patterns came: validation AUROC +0.003 without it learning from 90 tiles (11 of 16
        # splits), +0.004 from 60 (12 of 16).
        out = [mean[0], spread, high[0], -low[0]]
        for i in range(len(SIGMAS)):
            xx, yy, xy = (np.maximum(m, 0) for m in mean[3 + 3 * i : 6 + 3 * i])
            xy = mean[5 + 3 * i]
            out += [np.sqrt(xx), np.sqrt(yy), xy / (xx + yy + 1e-3), high[1 + i], -low[1 + i]]
        out += [cv2.dilate(m, square) for m in lines_max]
        out += [-cv2.erode(m, square) for m in lines_min]
        pooled += [m[cells] for m in out]
    # Each pattern class's share of the outer pool (of the inner one as well: less than half
    # the AUROC gain on magnetic-tile, and less sure judging on DeepPCB; see PATTERN_CLASSES),
    # and each orientation's share of its gradients' weight (see DIRECTION_BINS).
    shares = cv2.blur(patterns, (outer, outer))[cells]
    oriented = cv2.blur(directions, (outer, outer))[cells]
    oriented /= oriented.sum(axis=-1, keepdims=True) + 1e-3
    return np.concatenate([np.stack(pooled, axis=-1), shares, oriented], axis=-1).astype(np.float32)


def cell_box(
    shape: tuple[int, ...],
    scale: float,
    stride: int,
    margin: int,
    c0: int,
    r0: int,
    c1: int,
    r1: int,
) -> tuple[int, int, int, int]:
    """Grid cells (inclusive) to a box in source pixels: their strides around their centres."""
    width, height = scaled_size(shape, scale)
    top, left = grid_start(height, margin), grid_start(width, margin)
    half = stride / 2
    to = 1 / scale
    return (
        max(0, round((left + c0 * stride - half) * to)),
        max(0, round((top + r0 * stride - half) * to)),
        min(shape[1], round((left + c1 * stride + half) * to)),
        min(shape[0], round((top + r1 * stride + half) * to)),
    )
