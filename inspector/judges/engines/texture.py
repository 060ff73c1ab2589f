"""`texture`: judge surfaces that cannot be aligned to a golden image, from good texture learnt on
the station. No model weights, no download, any CPU.

Method (PatchCore, Roth et al. 2022, with a hand-built filter bank in place of the pretrained
network, which cannot be downloaded here): every image is described on a grid of patches by
pooled responses of a fixed filter bank (`judges/texture_features.py`: local brightness, local
contrast, the brightest and darkest detail, oriented gradient energy and coherence at three
scales, dark and bright blobs as extremes of a scale-normalised Laplacian, long straight steps
and lines along each axis from elongated Gaussian derivatives), each pooled over two patch
sizes so a patch also knows its surroundings, by the share of each class of local binary
pattern around it (micro-texture) and by a histogram of its strong edges' orientations; the
features, standardised, are whitened onto
their 16 principal components (`whitening`: a family of correlated features no longer
outweighs a lone one). Learning keeps a memory of good patches (a greedy k-centre coreset of all
good patches, so rare good texture stays represented); a patch's distance is to the nearest
good patch less half that good patch's own spacing (rare good texture sits where good patches
are sparse), weighted for how near the grid's edge it lies (`band_weights`: learnt on held-out
good images, so an edge patch counts in interior units); a patch's score is that distance,
smoothed, plus the image's mean distance; an image's score is its highest patch score. Why
this and not a network trained from scratch (DRAEM, CutPaste): it learns in seconds on two
cores, has no training instability to tune, needs only good images, and localises by
construction (the score map is the heat map; regions above the threshold are the boxes).
Patches do not depend on where they lie, so good images and frames may differ in size. The grid
keeps `margin` off the image's edge (a crop's border varies more than any texture: on
magnetic-tile, describing the edge too cut AUROC from 0.83 to 0.63; a margin of 16 px rather
than 24, with the edge weights, 0.853 -> 0.834; a memory of its own per side of the image, or
the edge scored and calibrated apart, no better).

Images are described at scale 0.75 (finer detail than 0.5: validation AUROC 0.827 against
0.814, both whitened) with a memory of 2000 good patches (as good as 4000 on validation, and
the nearest-patch search is the larger half of judging).

Measured by bench/texture_mtd.py on magnetic-tile (2026-12-01): image AUROC 0.900 learning
from every other good tile (the issue's goal: 0.90), 0.934 learning from the others (a quarter
of the defects lie wholly within the margin, where the crops' borders vary more than any
defect, and score 0.82 against 0.93 for the rest), pixel AUROC 0.67, 100 good images learnt in
about 2 s, 45-61 frames/s per core at 640x480 on the 2-core development machine of that day
(the bench's docstring has each run's figures).

Scores are in units of the good images' own spread: learning scores each half of the good
images against a memory of the other half, and 1.0 is the highest score a held-out good image
reached. `threshold` (default 1.0) is the operating point; `inspector eval --target-miss` tunes
it on a labelled set.

Learning is a separate step (`inspector learn RECIPE`, or `learn()` here): it writes an artefact
`<data>/learned/<recipe>-v<version>-<sha12>.npz` whose SHA-256 is the engine's model revision in
every attempt it judges, so the record names the learned model. The station loads it in well
under a second. Uses: alone (FAIL above the threshold with a `defect_class` defect per region),
or as a screen (`screen: true`) in front of a vision-language model, exactly as `reference`:
what scores at most the threshold PASSes without a model call, the rest goes on with the
suspect regions outlined (JudgeChain's `Screen`, the screen veto applies).
"""

from __future__ import annotations

import glob
import hashlib
import io
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
from pydantic import Field

from inspector.domain import Verdict
from inspector.errors import InputError
from inspector.heap import keep_freed_memory
from inspector.judges.answers import BoxConvention
from inspector.judges.good_images import read_good_images
from inspector.judges.judge import EngineSettings, Generation, Judge, Progress
from inspector.judges.prompt import Prompt
from inspector.judges.texture_features import cell_box, describe, grey
from inspector.recipes import Recipe

FORMAT = 6  # of the artefact; a change of features makes older artefacts unreadable, said so
MIN_GOOD = 10  # fewer good images leave the memory and its calibration to chance
_MARK = (255, 0, 255)  # as reference's: magenta outlines for the next engine
_MARK_PAD = 6
_FLAT = 1.0  # grey levels: an image whose spread is below this is all one colour
_CHUNK = 128  # patches scored per matrix product: the product stays in the cache (256: 1.2x,
# the whole frame at once: 3x the time)
_SAMPLE = 60_000  # good patches the coreset is chosen from
_SMOOTH = 1.0  # grid cells: the Gaussian that smooths the distances
_DENSITY = 0.5  # of a good patch's own spacing, taken off the distances to it (see Memory)
_COMPONENTS = 16  # principal components of the standardised features kept (see whitening())
_WHITEN_FLOOR = 0.1  # of the largest variance, added to each before dividing by it
_BANDS = 3  # grid cells from the edge given their own weight (see edge_bands()); then the interior


class TextureSettings(EngineSettings):
    engine: Literal["texture"] = "texture"
    model: str = "patch-memory"
    good: tuple[str, ...] = ()  # images of good parts to learn from; empty: the recipe's references
    learned: str = (
        ""  # the artefact; empty: the newest for this recipe version under <data>/learned
    )
    screen: bool = False
    threshold: float = Field(default=1.0, gt=0)  # in units of the held-out good images' highest
    scale: float = Field(default=0.75, gt=0, le=1)  # images are described at this scale
    patch: int = Field(default=24, ge=4, le=128)  # pooling side, in pixels at `scale`
    margin: int | None = Field(default=None, ge=0)  # grid's distance from the edges; None: patch
    stride: int = Field(default=8, ge=2, le=64)
    memory: int = Field(default=2000, ge=100, le=100_000)  # good patches kept
    defect_class: str = Field(default="texture", min_length=1, max_length=64)
    max_defects: int = Field(default=20, ge=1)


# -- features (inspector/judges/texture_features.py) ------------------------------------------
def min_side(settings: TextureSettings) -> int:
    """The least width and height, in source pixels, of an image: one patch."""
    return int(np.ceil(settings.patch / settings.scale))


def _describe(image: np.ndarray, s: TextureSettings) -> np.ndarray:
    return describe(image, s.scale, s.patch, s.stride, _margin(s))


# -- the learned model ---------------------------------------------------------------------------
@dataclass
class Learned:
    """Good patches and what is needed to compare a frame's with them; saved as one .npz."""

    mean: np.ndarray  # per feature, of the good patches
    std: np.ndarray
    projection: np.ndarray  # (features, components): standardised features to compared ones
    memory: np.ndarray  # (n, components), projected
    band_weights: np.ndarray  # per edge band (edge_bands()): distances there are multiplied by it
    unit: float  # the highest score of a held-out good image: scores are divided by it
    held_out: np.ndarray  # the held-out good images' scores, in units (calibration)
    meta: dict  # recipe, version, settings, images' hashes, when, how long

    def settings_key(self) -> dict:
        return self.meta["settings"]

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        meta = json.dumps(self.meta, sort_keys=True).encode()
        np.savez_compressed(
            buffer,
            mean=self.mean,
            std=self.std,
            projection=self.projection,
            memory=self.memory.astype(np.float16),
            band_weights=self.band_weights,
            unit=np.float64(self.unit),
            held_out=self.held_out,
            meta=np.frombuffer(meta, np.uint8),
        )
        return buffer.getvalue()

    @classmethod
    def read(cls, path: Path) -> Learned:
        learned = None
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(bytes(data["meta"]).decode())
                if meta.get("format") == FORMAT:  # an older one lacks fields: said below
                    learned = cls(
                        data["mean"],
                        data["std"],
                        data["projection"],
                        data["memory"].astype(np.float32),
                        data["band_weights"],
                        float(data["unit"]),
                        data["held_out"],
                        meta,
                    )
        except (OSError, ValueError, KeyError) as exc:
            raise InputError(
                f"texture engine: {path} is not a learned texture model ({exc}); "
                "run `inspector learn RECIPE` again"
            ) from None
        if learned is None:
            raise InputError(
                f"texture engine: {path} was learnt by another version of Inspector (format "
                f"{meta.get('format')}, this one reads {FORMAT}); run `inspector learn RECIPE` "
                "again"
            )
        return learned


def whitening(standard: np.ndarray) -> np.ndarray:
    """(features, components): the standardised features' leading principal components, each
    divided by its spread (plus a floor, so a near-constant direction is not blown up to the
    size of the others). The filter bank's features come in correlated families (the same
    filter pooled twice, gradient energies at neighbouring scales); standardised alone, such a
    family outweighs a lone feature in the distance. Chosen on validation splits of
    magnetic-tile's learning half (six random halves, 60 learnt, 59 good and 99 defects judged):
    AUROC 0.807 standardised, 0.828 with 16 whitened components (8: 0.810, 12: 0.827, 20: 0.809;
    16 unwhitened: 0.809), better on every one of the six splits. With the local binary
    patterns too, 16 still (16 random splits, learning from 90: 20 components -0.008)."""
    covariance = np.cov(standard, rowvar=False).astype(np.float64)
    variances, vectors = np.linalg.eigh(covariance)
    order = np.argsort(variances)[::-1][: min(_COMPONENTS, len(variances))]
    variances = np.maximum(variances[order], 0)
    spread = np.sqrt(variances + _WHITEN_FLOOR * max(float(variances.max()), 1e-12))
    return (vectors[:, order] / spread).astype(np.float32)


class Memory:
    """Nearest-good-patch distances, by chunked matrix products (numpy, CPU); `memory` holds
    good patches standardised and projected (`whitening`), frames' patches are projected here.

    A distance is less half the nearest good patch's own spacing (its distance to the next good
    patch): rare good texture lies where good patches are sparse, and would otherwise score as
    odd as a defect (the density correction of PatchCore's reweighting, and of LOF). Chosen on
    a validation split of magnetic-tile's learning half: AUROC 0.726 without, 0.736 with."""

    def __init__(
        self, mean: np.ndarray, std: np.ndarray, projection: np.ndarray, memory: np.ndarray
    ) -> None:
        # Standardising and projecting in one product: (f - mean) / std @ P = f @ W - offset,
        # with one column more that is always 1 (a zero weight less an offset of -1): it takes
        # each good patch's -|b|^2/2 into the product in distances() (a fifth faster).
        weights = (projection / std.astype(np.float32)[:, None]).astype(np.float32)
        self.weights = np.hstack([weights, np.zeros((len(weights), 1), np.float32)])
        offset = ((mean / std).astype(np.float32) @ projection).astype(np.float32)
        self.offset = np.append(offset, np.float32(-1.0))
        self.memory = np.ascontiguousarray(memory, np.float32)
        self.norms = (self.memory**2).sum(1)
        self.scoring = np.ascontiguousarray(np.vstack([self.memory.T, -0.5 * self.norms[None]]))
        self.spacing = np.empty(len(self.memory), np.float32)
        for start in range(0, len(self.memory), _CHUNK):
            part = self.memory[start : start + _CHUNK]
            d = self.norms[start : start + _CHUNK, None] - 2 * part @ self.memory.T
            d += self.norms[None]
            d[np.arange(len(part)), np.arange(start, start + len(part))] = np.inf
            self.spacing[start : start + _CHUNK] = np.sqrt(np.maximum(d.min(1), 0))
        if len(self.memory) < 2:
            self.spacing[:] = 0

    def distances(self, features: np.ndarray) -> np.ndarray:
        """The distance of each patch (rows, cols, features) to its nearest good patch."""
        rows, cols, depth = features.shape
        z = features.reshape(-1, depth) @ self.weights - self.offset  # the last column: 1
        out = np.empty(len(z), np.float32)
        for start in range(0, len(z), _CHUNK):
            part = z[start : start + _CHUNK]
            # The nearest good patch has the highest a.b - |b|^2/2 (|a - b|^2 less |a|^2, halved):
            # one matrix product and one pass over it, half the work of whole distances.
            closeness = part @ self.scoring
            nearest = closeness.argmax(1)
            length = (part**2).sum(1) - 1  # |a|^2: the column of ones is no part of a
            squared = length - 2 * closeness[np.arange(len(part)), nearest]
            near = np.sqrt(np.maximum(squared, 0))
            out[start : start + _CHUNK] = near - _DENSITY * self.spacing[nearest]
        return np.maximum(out, 0).reshape(rows, cols)


def _score_map(distances: np.ndarray) -> np.ndarray:
    """Each patch's distance, smoothed over its neighbours (one odd patch can be noise, a
    cluster is a defect), plus the image's mean distance (a surface odd all over, such as an
    uneven one, raises every patch). Measured on magnetic-tile: AUROC 0.83 with the smoothed
    maximum alone, 0.86 with the mean added; a smoothing of one cell rather than two was chosen
    on the validation split (0.726 against 0.712)."""
    if not distances.size:
        return distances
    return _local_map(distances) + float(distances.mean())


def _local_map(distances: np.ndarray) -> np.ndarray:
    """The smoothed distances alone: where the image differs (the heat map)."""
    if not distances.size:
        return distances
    return cv2.GaussianBlur(distances, (0, 0), _SMOOTH)


def edge_bands(rows: int, cols: int) -> np.ndarray:
    """Each grid cell's band: its distance in cells from the grid's nearest edge, up to
    `_BANDS` (the interior), and `_BANDS + 1` for the cells within two of a corner."""
    down = np.minimum(np.arange(rows), np.arange(rows)[::-1])[:, None]
    across = np.minimum(np.arange(cols), np.arange(cols)[::-1])[None, :]
    bands = np.minimum(np.minimum(down, across), _BANDS)
    return np.where((down < 2) & (across < 2), _BANDS + 1, bands)


def band_weights(held_out: Sequence[np.ndarray]) -> np.ndarray:
    """Per band, the interior's mean distance over the band's, on held-out good images.
    Patches near a crop's edge see its border and are farther from good ones than interior
    patches; weighted so, a band's distances are in interior units, and an edge no longer
    outweighs a defect inside. Chosen on magnetic-tile's validation splits (16 random splits
    of the learning half, even defects): AUROC 0.849 -> 0.859 learning from 60 tiles, 0.879 ->
    0.882 from 90. The price: a defect wholly within the margin, seen only by the edge
    patches, scores lower (from 90: 0.800 -> 0.785; the rest 0.906 -> 0.915). A separate
    memory per side of the image instead: 0.851 (six splits); a narrower margin, even
    weighted: 0.834 at 16 px, 0.764 at 8."""
    sums, counts = np.zeros(_BANDS + 2), np.zeros(_BANDS + 2)
    for distances in held_out:
        bands = edge_bands(*distances.shape)
        sums += np.bincount(bands.ravel(), distances.ravel(), _BANDS + 2)
        counts += np.bincount(bands.ravel(), minlength=_BANDS + 2)
    means = sums / np.maximum(counts, 1)  # 0 for a band no image has
    if means[_BANDS] <= 0:  # images too small for an interior: no band is set apart
        return np.ones(_BANDS + 2, np.float32)
    weights = np.where(means > 0, means[_BANDS] / np.maximum(means, 1e-9), 1.0)
    return weights.astype(np.float32)


def _weighted(distances: np.ndarray, weights: np.ndarray) -> np.ndarray:
    return distances * weights[edge_bands(*distances.shape)]


def _coreset(z: np.ndarray, size: int, seed: int = 0) -> np.ndarray:
    """Greedy k-centre: each next patch is the one farthest from those kept (PatchCore)."""
    rng = np.random.default_rng(seed)
    if len(z) > _SAMPLE:
        z = z[rng.choice(len(z), _SAMPLE, replace=False)]
    if len(z) <= size:
        return z
    z = np.ascontiguousarray(z, np.float32)
    norms = (z * z).sum(1)
    chosen = [int(rng.integers(len(z)))]
    # Squared distances by |a|^2 - 2ab + |b|^2: one matrix-vector product a step.
    nearest = norms - 2 * (z @ z[chosen[0]]) + norms[chosen[0]]
    for _ in range(size - 1):
        pick = int(nearest.argmax())
        chosen.append(pick)
        np.minimum(nearest, norms - 2 * (z @ z[pick]) + norms[pick], out=nearest)
    return z[chosen]


def check_image(image: np.ndarray, settings: TextureSettings, name: str) -> str | None:
    """Why an image cannot be judged or learnt from; None when it can."""
    height, width = image.shape[:2]
    side = min_side(settings)
    if height < side or width < side:
        return (
            f"{name} is {width}x{height} pixels, smaller than one patch of the texture model "
            f"({side}x{side} at scale {settings.scale:g}, patch {settings.patch}); lower `patch` "
            "or give larger images"
        )
    g = grey(image)
    if float(cv2.meanStdDev(g)[1][0, 0]) < _FLAT:  # OpenCV's: a tenth of numpy's time
        return (
            f"{name} is all one colour (grey level {float(g.mean()):.0f}): no texture to judge; "
            "check the camera, its exposure and the lighting"
        )
    return None


def learn(
    images: Sequence[np.ndarray],
    settings: TextureSettings,
    meta: dict | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> Learned:
    """Learn good texture from images of good parts. `progress(done, total, what)` is told each
    step: describing every image, choosing the memory, calibrating on the held-out halves."""
    if len(images) < MIN_GOOD:
        raise InputError(
            f"texture engine: {len(images)} images of good parts; learning needs at least "
            f"{MIN_GOOD} (about 50-100 give a steadier model): add good images under the "
            "engine's `good:` or the recipe's `references:`"
        )
    keep_freed_memory()  # each image's arrays are the next one's (inspector/heap.py)
    s = settings
    total = len(images) + 3
    started = time.perf_counter()
    grids, described, hashes = [], [], []
    for i, image in enumerate(images):
        problem = check_image(image, s, f"good image {i + 1}")
        if problem:
            raise InputError(f"texture engine: {problem}")
        features = _describe(image, s)
        grids.append(features)
        described.append(features.reshape(-1, features.shape[-1]))
        hashes.append(hashlib.sha256(np.ascontiguousarray(image).data).hexdigest())
        if progress:
            progress(i + 1, total, "describing the good images")
    every = np.concatenate(described)
    mean = every.mean(0)
    std = every.std(0) + 1e-3
    projection = whitening((every - mean) / std)
    standard = [((d - mean) / std) @ projection for d in described]
    # Calibration: each half of the images scored against a memory of the other half.
    halves = (list(range(0, len(images), 2)), list(range(1, len(images), 2)))
    distances = []
    for step, (train, test) in enumerate((halves, halves[::-1])):
        kept = _coreset(np.concatenate([standard[i] for i in train]), s.memory, seed=step)
        memory = Memory(mean, std, projection, kept)
        distances += [memory.distances(grids[i]) for i in test]
        if progress:
            progress(len(images) + step + 1, total, "calibrating on held-out good images")
    weights = band_weights(distances)
    held_out = [float(_score_map(_weighted(d, weights)).max()) for d in distances]
    unit = max(max(held_out), 1e-6)
    kept = _coreset(np.concatenate(standard), s.memory, seed=2)
    if progress:
        progress(total, total, "choosing the memory of good patches")
    info = {
        "format": FORMAT,
        "settings": _learning_settings(s),
        "images": len(images),
        "image_sha256": hashes,
        "patches": len(every),
        "memory": len(kept),
        "learn_s": round(time.perf_counter() - started, 2),
        **(meta or {}),
    }
    return Learned(
        mean.astype(np.float32),
        std.astype(np.float32),
        projection,
        kept.astype(np.float32),
        weights,
        unit,
        np.array(sorted(h / unit for h in held_out), np.float32),
        info,
    )


def _learning_settings(s: TextureSettings) -> dict:
    return {
        "scale": s.scale,
        "patch": s.patch,
        "stride": s.stride,
        "margin": _margin(s),
        "memory": s.memory,
    }


def _margin(s: TextureSettings) -> int:
    return s.patch if s.margin is None else s.margin


def artefact_name(recipe: Recipe, sha256: str) -> str:
    return f"{recipe.name}-v{recipe.version}-{sha256[:12]}.npz"


def save(learned: Learned, folder: Path, recipe: Recipe) -> tuple[Path, str]:
    """Write the artefact under `folder` (never over another); its path and SHA-256."""
    data = learned.to_bytes()
    sha256 = hashlib.sha256(data).hexdigest()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / artefact_name(recipe, sha256)
    partial = path.with_suffix(".part")
    partial.write_bytes(data)
    partial.replace(path)
    return path, sha256


def find_learned(recipe: Recipe, folder: Path) -> Path | None:
    """The newest artefact learnt for this recipe version under `folder`."""
    found = sorted(
        folder.glob(f"{glob.escape(recipe.name)}-v{recipe.version}-*.npz"),
        key=lambda p: p.stat().st_mtime,
    )
    return found[-1] if found else None


# -- the judge -----------------------------------------------------------------------------------
class TextureJudge(Judge):
    engine = "texture"
    Settings = TextureSettings
    settings: TextureSettings
    judges_tiles = False  # it scores every patch of the whole image already

    def __init__(self, settings: TextureSettings, recipe: Recipe) -> None:
        super().__init__(settings, recipe)
        self.learned: Learned | None = None
        self.artefact: Path | None = None
        self._memory: Memory | None = None

    def box_convention(self) -> BoxConvention:
        return BoxConvention.PIXELS

    def for_recipe(self, recipe: Recipe) -> TextureJudge | None:
        """Shared only for the same recipe version (or a named artefact): the learned model
        found at load belongs to one version."""
        if not self.settings.learned and (recipe.name, recipe.version) != (
            self.recipe.name,
            self.recipe.version,
        ):
            return None
        return super().for_recipe(recipe)

    def set_references(self, images: list[np.ndarray]) -> None:
        """The images of good parts are learnt from (`inspector learn`), not shown per part."""
        self.good_references = images

    def good_images(self) -> list[np.ndarray]:
        """What `inspector learn` learns from: the engine's `good:`, else the references."""
        if self.settings.good:
            return read_good_images(self.settings.good, "texture", "good", self.recipe.folder)
        return list(getattr(self, "good_references", []))

    def load(self, progress: Progress | None = None) -> None:
        path = self._artefact_path()
        started = time.perf_counter()
        learned = Learned.read(path)
        if learned.settings_key() != _learning_settings(self.settings):
            raise InputError(
                f"texture engine: {path} was learnt with {learned.settings_key()}, the recipe now "
                f"says {_learning_settings(self.settings)}; run `inspector learn RECIPE` again"
            )
        self.use(learned, path, hashlib.sha256(path.read_bytes()).hexdigest())
        if progress:
            progress(
                f"texture: learned model {path.name} ({learned.meta['images']} good images) "
                f"loaded in {time.perf_counter() - started:.2f} s"
            )

    def use(self, learned: Learned, path: Path | None, sha256: str) -> None:
        """Judge with this learned model; its SHA-256 is the revision on every attempt."""
        keep_freed_memory()  # a frame's arrays are the next one's (inspector/heap.py)
        self.learned, self.artefact = learned, path
        self._memory = Memory(learned.mean, learned.std, learned.projection, learned.memory)
        self.model_revision = sha256

    def _artefact_path(self) -> Path:
        if self.settings.learned:
            path = Path(self.settings.learned).expanduser()
            if not path.is_file():
                raise InputError(f"texture engine: `learned: {self.settings.learned}` is no file")
            return path
        from inspector.config import Settings

        folder = Settings.from_env().data_dir / "learned"
        path = find_learned(self.recipe, folder)
        if path is None:
            raise InputError(
                f"texture engine: recipe {self.recipe.name} v{self.recipe.version} has no "
                f"learned texture model in {folder}; run `inspector learn RECIPE.yaml` first"
            )
        return path

    def score_map(self, image: np.ndarray) -> np.ndarray:
        """Scores on the patch grid, in units (1.0: the oddest held-out good image)."""
        if self._memory is None or self.learned is None:
            raise RuntimeError("the texture model is not loaded (load() first)")
        return _score_map(self._distances(image)) / self.learned.unit

    def _distances(self, image: np.ndarray) -> np.ndarray:
        """Each patch's distance to the nearest good one, weighted for its band (edge_bands)."""
        if self._memory is None or self.learned is None:
            raise RuntimeError("the texture model is not loaded (load() first)")
        distances = self._memory.distances(_describe(image, self.settings))
        return _weighted(distances, self.learned.band_weights)

    def heat_map(self, image: np.ndarray) -> np.ndarray:
        """Where the image differs, at its size (float32, units), for reports and pixel AUROC:
        the score map less the image's mean distance, which lies nowhere in particular (it
        raises every patch of an odd image, good ones around a defect too). Pixel AUROC on
        magnetic-tile's validation splits (even defects): 0.587 with the mean, 0.643 without.
        The margin takes the value of the nearest patch."""
        if self.learned is None:
            raise RuntimeError("the texture model is not loaded (load() first)")
        scores = _local_map(self._distances(image)) / self.learned.unit
        height, width = image.shape[:2]
        heat = np.zeros((height, width), np.float32)
        if scores.size:  # each cell over its own stride around its centre
            last_row, last_col = scores.shape[0] - 1, scores.shape[1] - 1
            x0, y0, x1, y1 = self._cell_box(image.shape, 0, 0, last_col, last_row)
            stretched = cv2.resize(scores, (x1 - x0, y1 - y0), interpolation=cv2.INTER_NEAREST)
            edges = (y0, height - y1, x0, width - x1)
            heat = cv2.copyMakeBorder(stretched, *edges, cv2.BORDER_REPLICATE)
        return heat

    def _cell_box(
        self, shape: tuple[int, ...], c0: int, r0: int, c1: int, r1: int
    ) -> tuple[int, int, int, int]:
        s = self.settings
        return cell_box(shape, s.scale, s.stride, _margin(s), c0, r0, c1, r1)

    def _generate(self, prompt: Prompt, convention: BoxConvention) -> Generation:
        part = prompt.images[-1].image
        problem = check_image(part, self.settings, "the image")
        if problem:
            answer = {"outcome": "UNSURE", "defects": [], "reason": problem, "score": None}
        else:
            scores = self.score_map(part)
            if np.isfinite(scores).all():
                answer = self._answer(scores, part.shape)
            else:  # never a PASS on a score that is not a number
                why = "the texture model gave no finite score for this image"
                answer = {"outcome": "UNSURE", "defects": [], "reason": why, "score": None}
        return Generation(
            text=json.dumps(answer), model_width=part.shape[1], model_height=part.shape[0]
        )

    def _answer(self, scores: np.ndarray, shape: tuple[int, ...]) -> dict:
        s = self.settings
        score = float(scores.max())
        # Regions: cells over the threshold that also stand out within the image (halfway from
        # its typical cell to its oddest), so a strong defect, which raises the image's mean
        # distance and so every cell, is boxed where it lies, not over the whole part.
        typical = float(np.median(scores))
        level = max(s.threshold, typical + 0.5 * (score - typical))
        above = (scores > level).astype(np.uint8)
        count, labels, stats, _ = cv2.connectedComponentsWithStats(above, connectivity=8)
        regions = []
        for label in range(1, count):
            c0, r0, w, h = stats[label, :4]
            x0, y0, x1, y1 = self._cell_box(shape, c0, r0, c0 + w - 1, r0 + h - 1)
            # A region at the grid's edge reaches into the margin, which it stands for.
            x0, y0 = (0 if c0 == 0 else x0), (0 if r0 == 0 else y0)
            x1 = shape[1] if c0 + w == scores.shape[1] else x1
            y1 = shape[0] if r0 + h == scores.shape[0] else y1
            box = (x0, y0, x1, y1)
            regions.append((float(scores[labels == label].max()), box))
        regions.sort(key=lambda r: -r[0])
        defects = [
            {
                "class": "suspect" if s.screen else s.defect_class,
                "box": list(box),
                "strength": round(strength, 3),
            }
            for strength, box in regions[: s.max_defects]
        ]
        facts = {"score": round(score, 4), "threshold": s.threshold, "model": self.model_revision}
        if score <= s.threshold:
            reason = f"texture as learnt from good parts (score {score:.2f} <= {s.threshold:g})"
            outcome = "PASS"
            if s.screen:
                reason = f"clean beyond doubt: {reason}"
        elif s.screen:
            outcome = "UNSURE"
            reason = f"suspect (score {score:.2f} > {s.threshold:g}): handed on to the next engine"
        else:
            outcome = "FAIL"
            many = "1 region differs" if len(regions) == 1 else f"{len(regions)} regions differ"
            reason = f"{many} from the good texture (score {score:.2f} > {s.threshold:g})"
        return {"outcome": outcome, "defects": defects, "reason": reason, **facts}

    @property
    def screening(self) -> bool:
        return self.settings.screen

    def hand_on(self, image: np.ndarray, verdict: Verdict) -> np.ndarray | None:
        """In screen mode, the frame for the next engine with the suspect regions outlined."""
        if not self.settings.screen:
            return None
        boxes = [d.box for d in verdict.defects if d.box is not None]
        if not boxes:
            return image
        marked = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR) if image.ndim == 2 else image.copy()
        thickness = max(2, round(max(marked.shape[:2]) / 400))
        color = _MARK if marked.shape[2] == 3 else (*_MARK, 255)
        for box in boxes:
            # Outside the region, but within the image: a region at its edge is outlined too.
            height, width = marked.shape[:2]
            top_left = (max(box.x0 - _MARK_PAD, 0), max(box.y0 - _MARK_PAD, 0))
            bottom_right = (
                min(box.x1 - 1 + _MARK_PAD, width - 1),
                min(box.y1 - 1 + _MARK_PAD, height - 1),
            )
            cv2.rectangle(marked, top_left, bottom_right, color, thickness)
        return marked
