"""The learned variant of the `texture` engine's patch scores (`features: learned`): a small
fully convolutional network trained from scratch on the station, on the good images only, to
outline synthetic defects drawn onto them (DRAEM's discriminative network, Zavrtanik et al.
2021, without its reconstruction network; CutPaste's pasted patches, Li et al. 2021, among the
synthetic defects). No downloaded weights: it starts from random weights seeded for
repeatability, and learns in minutes on two CPU cores.

Synthetic defects, each inside a random blob (thresholded smooth noise, Perlin-like), an ellipse
or a thin polyline (a crack): darker or brighter, a patch cut from another good image or place,
smoothed or sharpened texture, or noise; blended at a random opacity. The network answers, per
cell of `STRIDE` pixels at the engine's scale, the logit that the cell is part of a defect.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import cv2
import numpy as np
import torch
from torch import nn

from inspector.judges.texture_features import grey, scaled_size

STRIDE = 4  # output cell, in pixels at scale
CROP = 64  # training crop side, pixels at scale
WIDTH = 32


def make_net(width: int = WIDTH) -> nn.Module:
    w = width

    def block(i: int, o: int, stride: int = 1, dilation: int = 1) -> list[nn.Module]:
        pad = dilation
        return [nn.Conv2d(i, o, 3, stride, pad, dilation), nn.ReLU(inplace=True)]

    return nn.Sequential(
        *block(1, w // 2, 2),
        *block(w // 2, w, 2),
        *block(w, w),
        *block(w, 2 * w, 1, 2),
        *block(2 * w, 2 * w, 1, 4),
        nn.Conv2d(2 * w, 1, 1),
    )


def normalise(g: np.ndarray) -> np.ndarray:
    """Grey image (float32, exposure already levelled to a median of 128) to network input."""
    return (g - 128.0) / 48.0


def level(image: np.ndarray, scale: float) -> np.ndarray:
    """Grey, at `scale`, exposure levelled as the filter bank levels it (median of 8x8 means
    to 128): float32."""
    g = grey(image).astype(np.float32)
    width, height = scaled_size(image.shape, scale)
    if (width, height) != (g.shape[1], g.shape[0]):
        g = cv2.resize(g, (width, height), interpolation=cv2.INTER_AREA)
    coarse = cv2.resize(g, (max(1, width // 8), max(1, height // 8)), interpolation=cv2.INTER_AREA)
    return g * (128.0 / (float(np.median(coarse)) + 1.0))


# -- synthetic defects ---------------------------------------------------------------------
def _blob_mask(rng: np.random.Generator, side: int) -> np.ndarray:
    kind = rng.integers(3)
    if kind == 0:  # thresholded smooth noise
        cells = int(rng.integers(2, 6))
        noise = rng.normal(0, 1, (cells, cells)).astype(np.float32)
        noise = cv2.resize(noise, (side, side), interpolation=cv2.INTER_CUBIC)
        mask = (noise > np.quantile(noise, 1 - rng.uniform(0.03, 0.25))).astype(np.float32)
    elif kind == 1:  # ellipse
        mask = np.zeros((side, side), np.float32)
        c = tuple(int(v) for v in rng.integers(side // 6, side - side // 6, 2))
        axes = tuple(int(v) for v in rng.integers(2, side // 4, 2))
        cv2.ellipse(mask, c, axes, float(rng.uniform(0, 180)), 0, 360, 1.0, -1)
    else:  # crack: a jagged polyline
        mask = np.zeros((side, side), np.float32)
        n = int(rng.integers(3, 7))
        start = rng.uniform(0, side, 2)
        step = rng.normal(0, side / 6, (n, 2))
        pts = np.cumsum(np.vstack([start, step]), 0).astype(np.int32)
        cv2.polylines(mask, [pts], False, 1.0, int(rng.integers(1, 4)))
    return mask


def synthesise(
    crop: np.ndarray, other: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """A good crop (float32 grey) with a synthetic defect, and the defect's mask (0..1)."""
    side = crop.shape[0]
    mask = _blob_mask(rng, side)
    if mask.sum() < 3:
        return crop, np.zeros_like(crop)
    how = rng.integers(5)
    if how == 0:  # darker or brighter
        fill = crop * rng.choice([rng.uniform(0.2, 0.75), rng.uniform(1.3, 2.0)])
    elif how == 1:  # from another image or place (CutPaste)
        fill = other * rng.uniform(0.7, 1.3)
    elif how == 2:  # a constant, dark or bright
        fill = np.full_like(crop, rng.choice([rng.uniform(0, 70), rng.uniform(180, 255)]))
    elif how == 3:  # texture changed: smoothed or sharpened
        blur = cv2.GaussianBlur(crop, (0, 0), rng.uniform(1.5, 4))
        fill = blur if rng.random() < 0.5 else crop + 2.5 * (crop - blur)
    else:  # noise
        fill = crop + rng.normal(0, rng.uniform(10, 40), crop.shape).astype(np.float32)
    soft = cv2.GaussianBlur(mask, (0, 0), rng.uniform(0.3, 1.5)) * rng.uniform(0.5, 1.0)
    out = crop * (1 - soft) + fill.astype(np.float32) * soft
    return out.astype(np.float32), mask


def _crop(g: np.ndarray, rng: np.random.Generator, side: int) -> np.ndarray:
    if g.shape[0] < side or g.shape[1] < side:
        pad_y, pad_x = max(0, side - g.shape[0]), max(0, side - g.shape[1])
        g = cv2.copyMakeBorder(g, 0, pad_y, 0, pad_x, cv2.BORDER_REFLECT_101)
    y = int(rng.integers(0, g.shape[0] - side + 1))
    x = int(rng.integers(0, g.shape[1] - side + 1))
    c = g[y : y + side, x : x + side]
    if rng.random() < 0.5:
        c = c[:, ::-1]
    if rng.random() < 0.5:
        c = c[::-1]
    return np.ascontiguousarray(c)


def train(
    images: Sequence[np.ndarray],
    steps: int,
    seed: int = 0,
    batch: int = 32,
    width: int = WIDTH,
    progress: Callable[[int, int], None] | None = None,
) -> nn.Module:
    """Train on levelled grey images (float32, at the engine's scale), on at most two threads
    (the station's budget: two CPU cores)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(min(2, threads))
    try:
        return _train(images, steps, seed, batch, width, progress)
    finally:
        torch.set_num_threads(threads)


def _train(
    images: Sequence[np.ndarray],
    steps: int,
    seed: int,
    batch: int,
    width: int,
    progress: Callable[[int, int], None] | None,
) -> nn.Module:
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = make_net(width)
    opt = torch.optim.AdamW(net.parameters(), lr=2e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 2e-3, total_steps=steps, pct_start=0.1)
    pool = nn.AvgPool2d(STRIDE)
    net.train()
    for step in range(steps):
        xs, ms = [], []
        for _ in range(batch):
            c = _crop(images[int(rng.integers(len(images)))], rng, CROP)
            if rng.random() < 0.6:
                o = _crop(images[int(rng.integers(len(images)))], rng, CROP)
                c, m = synthesise(c, o, rng)
            else:
                m = np.zeros_like(c)
            xs.append(normalise(c))
            ms.append(m)
        x = torch.from_numpy(np.stack(xs)[:, None])
        target = pool(torch.from_numpy(np.stack(ms)[:, None]))
        target = (target > 0.25).float()
        logits = net(x)
        loss = nn.functional.binary_cross_entropy_with_logits(
            logits, target, pos_weight=torch.tensor(4.0)
        )
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if progress:
            progress(step + 1, steps)
    net.eval()
    return net


@torch.no_grad()
def logits(net: nn.Module, g: np.ndarray) -> np.ndarray:
    """Per-cell defect logits for a levelled grey image at scale, cell (i, j) covering pixels
    [4i, 4i + 4) x [4j, 4j + 4), smoothed over a cell (one odd cell can be noise)."""
    x = torch.from_numpy(np.ascontiguousarray(normalise(g))[None, None])
    return cv2.GaussianBlur(net(x)[0, 0].numpy(), (0, 0), 1.0)


def to_arrays(net: nn.Module) -> dict[str, np.ndarray]:
    """The weights as plain arrays (saved in the engine's .npz: no pickle)."""
    return {f"net.{k}": v.detach().numpy().copy() for k, v in net.state_dict().items()}


def from_arrays(arrays: dict[str, np.ndarray]) -> nn.Module:
    weights = {k[4:]: torch.from_numpy(np.asarray(v, np.float32)) for k, v in arrays.items()}
    width = int(weights["0.weight"].shape[0]) * 2
    net = make_net(width)
    net.load_state_dict(weights)
    net.eval()
    return net
