"""The `texture` engine against `reference` on magnetic-tile (MTD): image AUROC, overkill at zero
misses and at 5% misses, model calls saved as a screen, learn time and judge time per image,
pixel AUROC against the masks, and the learned artefact's size, measured in one run.

Every other good tile is learnt from (texture) or used as a golden image (reference, aligned
`none`, high-pass 16, as bench/reference_judge.py); the other good tiles and every defective one
are judged. Saved calls: on a stream 95% good, the share of frames the screen passes at the
operating point (threshold at <= 5% misses on this set), i.e. that never reach a model.

    .venv/bin/python bench/texture_mtd.py        (BENCH_DATA=/path/to/shared/data elsewhere)

Method choices (filter bank pooling, smoothing, the density correction, the whitening, the
scale and memory) were made on validation splits of the learning half only: half the learning
tiles learnt, the other half and the even-numbered defective tiles judged (first the two
alternate halves, both ways round; from the whitening on, six random halves, 60 learnt and
59 judged, which are less noisy: a change is kept when it wins on most of the six). The
odd-numbered defective tiles were never looked at; their AUROC is printed apart.

Measured 2026-12-01 (the fourth session) on the 2-core development machine of that day, one
run, BLAS and OpenCV on one thread:
    texture   image AUROC 0.9002 (0.895 on the held-out defects; learnt from the other half of
              the good tiles 0.934, so 0.917 both ways); overkill at 0% miss 78.2%, at <=5% miss
              39.5% (screen saves 57.7% of model calls there); by class Blowhole 0.885, Break
              0.912, Crack 0.912, Fray 0.965, Uneven 0.881; the 51 defects wholly within the
              grid's 32 px margin 0.818, the rest 0.929; learn 100 good images 1.9 s (goal 300 s:
              159x inside); judge 9.6 ms/image; artefact 0.07 MB; pixel AUROC 0.670; 53.4
              frames/s per core at 640x480 (best of 5 batches; goal 50: 1.07x). That machine
              was slower than the third session's: the third session's engine judged 45.3
              frames/s there (median of 9 batches of 20; 75.2, best of 5, on its own day). As a
              station judges (a process that loads the learned model, then judges; three such
              processes taking turns, 9 batches of 20 each): this engine 41.6 frames/s (median;
              best 47.0), the third session's 34.9 (best 37.6): 1.19x; this engine without
              inspector/heap.py 33.1 (best 37.0). In a process that learnt first, as this bench
              does, glibc has raised its own limits already and heap.py changes nothing; the
              third session's engine is then 1.13x this one (the histogram's cost). Run again
              an hour later, the machine quieter: the same scores, 61.3 frames/s (goal 50:
              1.23x), and as a station judges 59.0 frames/s (best 61.3), the third session's
              engine 50.1 (best 51.5): 1.18x; without heap.py 48.7 (best 52.1).
    the third session's engine (its run, 2026-11-30): image AUROC 0.895 (0.889 on the
              held-out defects; learnt from the other half of the good tiles 0.918, so 0.907
              both ways); overkill at 0% miss 79.8%, at <=5% miss
              39.5% (screen saves 57.7% of model calls there); by class Blowhole 0.882, Break
              0.908, Crack 0.907, Fray 0.955, Uneven 0.875; the 51 defects wholly within the
              grid's 32 px margin 0.812, the rest 0.924; learn 100 good images 1.9 s (goal 300 s:
              161x inside); judge 6.5 ms/image; artefact 0.07 MB; pixel AUROC 0.680; 75.2
              frames/s per core at 640x480 (best of 5 batches; goal 50: 1.50x; against the second
              session's engine in one run, best of 7 batches of 20: 79.8 against 91.8, 0.87x)
    the second session's engine (its run, the same bench): image AUROC 0.877 (0.872 on the
              held-out defects; learnt from the other half of the good tiles 0.899, so 0.888
              both ways); overkill at 0% miss 95.0%, at <=5% miss 48.7% (screen saves 48.9% of
              model calls there); by class Blowhole 0.851, Break 0.902, Crack 0.915, Fray
              0.951, Uneven 0.843; the 51 defects wholly within the grid's 32 px margin 0.782,
              the rest 0.910; learn 100 good images 1.7 s (goal 300 s: 179x inside); judge 5.9
              ms/image; artefact 0.07 MB; pixel AUROC 0.639; 81.9 frames/s per core at 640x480
              (best of 5 batches; goal 50: 1.64x)
    the first session's engine, in the second session's hour: image AUROC 0.873 (held out
              0.872; other half 0.881, both ways 0.877); overkill at <=5% miss 58.8% (saves
              39.3%); Blowhole 0.893, Break 0.920, Crack 0.901, Fray 0.938, Uneven 0.777; within
              the margin 0.827, the rest 0.889; judge 4.3 ms/image; 77.5-91.6 frames/s
    reference image AUROC 0.730; overkill at 0% miss 92.4%, at <=5% miss 77.3% (saves 21.8%)
The issue's goal, image AUROC >= 0.90 learning from every other good tile, is met, by a hair
(0.9002; the third session's engine 0.895), and the other way round with room (0.934). A quarter
of the defects lie wholly within the margin, where the crops' borders (tile rims, background)
vary more than any defect: there no patch model tried reached 0.83 (describing the edge: see
below).

What the fourth session's changes bought (validation as the third's, 16 random splits of the
learning half, seeds 100-115, 90 or 60 learnt; base 0.877 / 0.859): histograms of oriented
gradients (12 bins over 180 degrees at sigma 1, each pixel shared between its two nearest bins
and weighted by its gradient magnitude cubed, over the outer pool) 0.887 / 0.872, better on 11 /
16 of 16 splits; the powers 1, 2, 4 and 6 gave 0.883, 0.885, 0.886, 0.885 from 90. Tried and not
kept (from 90): every second pixel's gradient only (0.882), each pixel in one bin (0.887, as
good; not kept for a texture along a bin's border), and with power 1: the half-sized image
(0.881), the inner pool's histogram for the outer's (0.875), a second one at sigma 2 (0.882),
8 or 16 bins (0.882, 0.881), circular harmonics of the orientation (orders 1-3: 0.882; 1-6:
0.873), 20 or 24 principal components (0.881, 0.877), the filters and the histograms whitened
apart (16 + 6 or 10 components: 0.878, 0.873), the coreset's 20 or 60 farthest patches dropped
(0.881, 0.881), a grid of stride 6 (0.884 on 0.883); the shares of dark and bright pixels in
the pool (at 8 and 16 grey levels off the background 0.875, at 12 0.880, on 0.883); a density
correction by the mean distance of the good patches each memory patch stands for, at 0.5 or 1
(0.869, 0.850 on 0.877); the edge bands' distances mapped by their mean and spread rather than
scaled by their mean (0.870); the sigma 2 scale from the half-sized image (0.887 from 90 but
0.868 from 60). Speed, with the same scores: the nearest-patch search's -|b|^2/2 taken into its
matrix product and blocks of 128 patches (a fifth faster), and glibc's freed memory kept for
the next frame (inspector/heap.py).

What the third session's changes bought (validation as before, 16 new random splits of the
learning half, seeds 100-115: 90 or 60 learnt, the rest of the half and the even defects
judged; base 0.862 / 0.847): local binary patterns (riu2, radius 1, their shares over the outer
pool) 0.874 / 0.855, better on 14 / 12 of 16 splits (Uneven 0.80 -> 0.85); the shading feature
then dropped 0.877 / 0.859 (11 / 12 of 16). Tried and not kept (from 90, against 0.874 unless
said): the patterns' shares over the inner pool too (with 20 components 0.872, and on DeepPCB
one odd held-out board set the unit and boxes strayed), radius 2 or the half-sized image's
patterns as well (0.869, 0.869), a second pattern set at a threshold of 3-10 grey levels
(0.863-0.865), arcs told apart by direction (0.858 with both pools), the shares' square root or
logarithm (+0.000, +0.002 on 0.877), patterns from the full-sized image (0.871 on 0.877), a
third, wider pool for them (0.867); histograms of gradient direction (8 bins over the outer
pool: +0.004, with 12 bins and the shading dropped 0.883, but on DeepPCB up to five boxes on no
defect, so not kept); stride 6 (0.882 on 0.877, 0.867 on 0.859 from 60, but 0.63x the
frames/s, below the goal; with memory 1000 for speed 0.877); stride 4 (0.866 on 0.877);
scale 0.8, 0.85, 0.9, 1.0 (0.876, 0.887, 0.879, 0.875 on 0.877: a lone peak at 0.85, its
neighbours no better, so not taken); patch 40 with the margin kept (0.865); margin 20 (0.874); an
along-edge consistency score for the margin's strips (+0.007 from the left and right strips
only, with a median filter too slow to judge at 50 frames/s; from all four sides +0.000 to
+0.003); the image's own patches as a second memory (0.860-0.862 on 0.862); per-side edge
bands (0.859 on 0.862); whitening fitted on interior patches only (0.863 on 0.877); on 0.874:
memory 4000, smoothing 0.7 or 1.5 cells, density 0.25 or 0.75, 12 components, whitening floor
0.05 or 0.2, the mean distance at half or twice its weight, 2 or 4 edge bands (all within
-0.018 to +0.001). On a first protocol (the good tiles of both halves judged, base 0.862): a
minimum-curvature blob detector in place of the Laplacian or beside it (0.845, 0.855); a row
change-point statistic for Uneven (alone 0.69 on Uneven tiles).

What the second session's changes bought (validation, even defects, 16 random splits of the
learning half, learning from 60 / from 90 tiles): the elongated step and line filters with the
edge-band weights 0.839 -> 0.859 / 0.868 -> 0.882 (filters alone 0.849 / 0.879, Uneven tiles
0.73 -> 0.80); by place, learning from 90: defects within the margin 0.800 -> 0.785 with the
band weights, the rest 0.906 -> 0.915 (the same trade on this bench: 0.827 -> 0.782 and 0.889
-> 0.910). Lines from the image halved along them, as steps are from the half-sized one: the
same AUROC, a fifth less describing. Tried then and not kept (six splits, 60 learnt, base 0.853
with both): diagonal lines and steps from the image turned 45 degrees (0.856, twice the
describing); a second step scale (16 px: 0.852); steps and lines at scale 1.0 (0.852, 1.5x the
time); a narrower margin with a memory per side of the image (16 px: 0.838, 8 px: 0.776), or
the edge scored and calibrated apart (0.81-0.78); the PCA residual outside the 16 components
added to the distance (0.81-0.74: the low-variance directions are noise here); each feature's
own extreme beyond its good range (0.82-0.78); image scores from several statistics, Gaussian
on held-out good images (0.80-0.81); a long horizontal step as a second image score, max or
sum (0.81-0.83: it lifts Uneven to 0.84 and costs the rest as much); within-image region
disparity (0.82-0.83); features relative to the image's, its rows' or columns' median
(0.81-0.82); k = 3, 9 nearest (0.81, 0.78); a random or half-random memory (0.82, 0.84);
scale, shift, gamma or flip augmentation of the good images (0.84-0.85); global contrast
normalisation (0.79-0.82); the gradient magnitude's own steps (second order, +0.003 at 60, 0.000
at 90); memory 4000 (+0.003 at 90). This bench was run once the choices were made, and again
for these figures; it showed the band weights' cost within the margin, which validation then
confirmed (above) and outweighed; no choice was made on it.

What the first session's changes bought (six-split validation AUROC, then this bench): features
standardised as before 0.795 at scale 0.5, 0.807 at 0.75; whitened onto 16 principal
components 0.814 at 0.5, 0.827 at 0.75 (at 0.75, memory 1000: 8 components 0.810, 12: 0.827,
20: 0.809, 16 unwhitened 0.809; memory 1000, 2000 and 4000 alike). Bench: 0.868 -> 0.873
(held out 0.862 -> 0.872). One look at this bench on the way, and its lesson: scale 0.75 with
memory 1000, unwhitened (chosen on the alternate halves: 0.766 against 0.739) gave 0.840
(held out 0.836); the alternate halves were then judged too noisy to choose by, and replaced
by the six random ones.
Speed from the nearest-patch search in cache-sized blocks of 256 patches, by a.b - |b|^2/2
(3x), 16 dimensions in place of 40, and block max/min by a one-row dilation. Pixel AUROC
from a heat map without the image's mean distance (validation, even defects: 0.587 -> 0.643).

Tried in the first session and not kept, validation AUROC against the base of the time (fixed
halves, base 0.739 at scale 0.5, 0.764 at 0.75; six random halves, base 0.827 whitened at 0.75):
scales and patch sizes alone (0.25: 0.66-0.68; patch 16 or 40 at 0.5: 0.725, 0.685; scale 1.0
patch 24: 0.767 but 2.5x the judging time); ensembles of two scales or patch sizes, each in its
own held-out units, mean or max (0.70-0.77, none above the better member by more than 0.01;
scale 0.5 + 1.0 0.816 on six splits, too slow); image score as the top-5/10 mean, more or less
weight on the image's mean distance, less its median, other smoothing (all within +-0.01);
memory 2000-16000, flipped good images in the memory (no change); a wider grid margin (32:
0.694, 40: 0.659); dropping any feature family (all within +-0.01); large-scale gradients
(sigma 8, 16: no change); a random-weight CNN (7x7 then 3x3, 24 and 48 channels, fixed
seed) alone 0.669, with the filters 0.719; SPADE-style memory of the 3/10/30 globally nearest
good images (0.707-0.734); locally contrast-normalised detail (0.833 pooled approximately,
0.816 as built into the filter bank); a third, wider pool (0.815); a density correction of
0.25 or 0.75 (0.824, 0.826); the image's global feature statistics' distance to the nearest
good image's, added at 0.25 (0.832: too small a gain for a second score and calibration).
Sigma 2 from the half-sized image as sigma 4 is: judging 15% faster, 0.823.

Earlier (code in the history of branch texture2, commit dfb1dd8), a learned variant: a small
fully convolutional network (5 conv layers, 32-64 channels, output per 4 px at scale 0.5)
trained from scratch on the good tiles to outline synthetic defects
drawn onto them (DRAEM's discriminative half: noise blobs, ellipses, cracks; pasted patches,
darker/brighter, blurred/sharpened, noise), 300 steps of 32 crops, 20-60 s on 1-2 cores; its
z-scored peak added to this engine's score (weight 0.2, chosen on the validation split).
Validation split: network alone 0.74, filters 0.77, sum 0.80. Held out (the protocol above):
network alone 0.63, filters 0.862, sum 0.768; 37 frames/s per core at 640x480. Longer
training (1000 steps) was worse on validation (0.71 alone); the network's own features in
the kNN memory in place of the filter bank 0.62-0.70. The synthetic defects do not teach it
magnetic-tile's real ones at this budget.
"""

from __future__ import annotations

import os

# One core for judging figures: set before numpy loads its BLAS (learning runs on it too, so its
# time is an upper bound for a 2-core station).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import csv  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from inspector.evaluation import metrics  # noqa: E402
from inspector.judges import make_judge  # noqa: E402
from inspector.judges.engines import texture  # noqa: E402
from inspector.judges.golden import GoldenSet  # noqa: E402
from inspector.recipes import parse_recipe  # noqa: E402

# ../shared/data from the project root; BENCH_DATA names another copy (a worktree elsewhere).
DATA = Path(os.environ.get("BENCH_DATA", ROOT.parent / "shared" / "data")) / "magnetic-tile"
GOOD_SHARE = 0.95


def recipe(engine: dict):
    return parse_recipe(
        {"name": "mtd", "version": 1, "prompt": "Tiles.", "engines": [engine]}, "bench"
    )


def operating(good: list[float], defect: list[float], miss: float) -> tuple[float, float, float]:
    """Threshold passing at most `miss` of defects, its overkill and calls saved."""
    ordered = np.sort(defect)
    allowed = int(np.floor(miss * len(ordered)))
    threshold = float(np.nextafter(ordered[allowed], -np.inf))
    overkill = float(np.mean(np.array(good) > threshold))
    passed_defect = float(np.mean(np.array(defect) <= threshold))
    saved = GOOD_SHARE * (1 - overkill) + (1 - GOOD_SHARE) * passed_defect
    return threshold, overkill, saved


def report(name: str, good: list[float], defect: list[float], learn_s: float, judge_ms: float):
    auroc = metrics.auroc(defect, good)
    _, zero, _ = operating(good, defect, 0.0)
    _, five, saved = operating(good, defect, 0.05)
    print(
        f"{name:<9} image AUROC {auroc:.4f}; overkill at 0% miss {zero:.1%}, at <=5% miss "
        f"{five:.1%} (screen saves {saved:.1%} of model calls there); learn {learn_s:.1f} s, "
        f"judge {judge_ms:.1f} ms/image"
    )


def within_margin(mask_path: Path, margin: int) -> bool:
    """Whether a defect's mask lies wholly within `margin` pixels of the image's edge."""
    mask = cv2.imread(str(mask_path), cv2.IMREAD_GRAYSCALE) > 127
    inner = np.zeros_like(mask)
    inner[margin:-margin, margin:-margin] = True
    return bool(mask.any() and not (mask & inner).any())


def pixel_auroc(judge, tested: list[tuple[np.ndarray, Path]]) -> float:
    scores, labels = [], []
    rng = np.random.default_rng(0)
    for image, mask_path in tested:
        heat = judge.heat_map(image)
        mask = cv2.imread(str(mask_path), cv2.IMREAD_GRAYSCALE) > 127
        pick = rng.choice(heat.size, min(heat.size, 2000), replace=False)
        scores.append(heat.ravel()[pick])
        labels.append(mask.ravel()[pick])
    s, y = np.concatenate(scores), np.concatenate(labels)
    order = np.argsort(s)
    ranks = np.empty(len(s))
    ranks[order] = np.arange(1, len(s) + 1)
    pos = int(y.sum())
    return float((ranks[y].sum() - pos * (pos + 1) / 2) / (pos * (len(s) - pos)))


def main() -> None:
    if not DATA.is_dir():
        raise SystemExit(f"no data at {DATA}")
    cv2.setNumThreads(1)
    with (DATA / "index.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    read = lambda r: cv2.imread(str(DATA / r["image"]), cv2.IMREAD_GRAYSCALE)  # noqa: E731
    good = [r for r in rows if r["label"] == "good"]
    bad = [r for r in rows if r["label"] != "good"]
    train = [read(r) for r in good[::2]]
    tested_good = [read(r) for r in good[1::2]]
    tested_bad = [(read(r), DATA / r["mask"]) for r in bad]
    print(f"magnetic-tile: {len(train)} good to learn, {len(tested_good)} good and "
          f"{len(tested_bad)} defective judged")  # fmt: skip

    # texture
    settings = texture.TextureSettings()
    start = time.perf_counter()
    texture.learn(train[:100], settings)
    learn_100 = time.perf_counter() - start
    start = time.perf_counter()
    learned = texture.learn(train, settings)
    learn_s = time.perf_counter() - start
    size = len(learned.to_bytes())
    judge = make_judge({"engine": "texture"}, recipe({"engine": "texture"}), "bench")
    judge.use(learned, None, "bench")
    start = time.process_time()
    s_good = [float(judge.score_map(i).max()) for i in tested_good]
    s_bad = [float(judge.score_map(i).max()) for i, _ in tested_bad]
    judge_ms = 1000 * (time.process_time() - start) / (len(s_good) + len(s_bad))
    report("texture", s_good, s_bad, learn_s, judge_ms)
    # The odd-numbered defects were never looked at while choosing the method (choices were
    # made on the even ones against half the learning images, learnt from the other half).
    held = metrics.auroc(s_bad[1::2], s_good)
    print(
        f"          image AUROC on the defects held out from every choice: {held:.3f} (goal 0.90)"
    )
    # The other half of the good tiles is "every other good tile" too: the same protocol the
    # other way round says how much of the figure is the split's (it differs by 0.02).
    other = make_judge({"engine": "texture"}, recipe({"engine": "texture"}), "bench")
    other.use(texture.learn(tested_good, settings), None, "bench")
    swapped = metrics.auroc(
        [float(other.score_map(i).max()) for i, _ in tested_bad],
        [float(other.score_map(i).max()) for i in train],
    )
    print(
        f"          learnt from the other half of the good tiles, the first judged: image AUROC "
        f"{swapped:.3f} (mean of both ways {(swapped + metrics.auroc(s_bad, s_good)) / 2:.3f})"
    )
    print(
        f"          learn 100 good images: {learn_100:.1f} s on one core (goal <= 300 s on 2: "
        f"{300 / learn_100:.0f}x inside)"
    )
    by_class: dict[str, list[float]] = {}
    for score, row in zip(s_bad, bad, strict=True):
        by_class.setdefault(row["class"][3:], []).append(score)
    print("          image AUROC by class: " + ", ".join(
        f"{name} {metrics.auroc(scores, s_good):.3f}" for name, scores in sorted(by_class.items())
    ))  # fmt: skip
    margin = round(texture._margin(settings) / settings.scale)  # in source pixels
    within = [within_margin(DATA / r["mask"], margin) for r in bad]
    inside = [s for s, w in zip(s_bad, within, strict=True) if not w]
    edge = [s for s, w in zip(s_bad, within, strict=True) if w]
    print(
        f"          defects wholly within {margin} px of the edge (the grid's margin): "
        f"{len(edge)} of {len(s_bad)}, image AUROC {metrics.auroc(edge, s_good):.3f}; "
        f"the rest {metrics.auroc(inside, s_good):.3f}"
    )
    print(f"          artefact {size / 1e6:.2f} MB ({learned.meta['memory']} good patches); "
          f"pixel AUROC {pixel_auroc(judge, tested_bad):.3f}")  # fmt: skip
    frame = cv2.resize(tested_good[0], (640, 480))
    judge.judge(frame)
    batches = []  # the best of five: other jobs on a shared machine only ever slow it down
    for _ in range(5):
        start = time.process_time()
        for _ in range(20):
            judge.judge(frame)
        batches.append(time.process_time() - start)
    fps = 20 / min(batches)
    print(
        f"          whole judge at 640x480: {fps:.1f} frames/s per core (goal 50: {fps / 50:.2f}x)"
    )

    # reference, as bench/reference_judge.py sets it for tiles
    start = time.perf_counter()
    engine = {"engine": "reference", "align": "none", "highpass_sigma": 16}
    reference = make_judge(engine, recipe(engine), "bench")
    reference.set_references(train)
    reference.load()
    learn_s = time.perf_counter() - start
    golden: GoldenSet = next(iter(reference._golden.values()))
    start = time.process_time()
    r_good = [golden.compare(i, 3.0).score for i in tested_good]
    r_bad = [golden.compare(i, 3.0).score for i, _ in tested_bad]
    judge_ms = 1000 * (time.process_time() - start) / (len(r_good) + len(r_bad))
    finite = lambda v: [s if np.isfinite(s) else 1e9 for s in v]  # noqa: E731
    report("reference", finite(r_good), finite(r_bad), learn_s, judge_ms)


if __name__ == "__main__":
    main()
