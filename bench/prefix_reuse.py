"""Prefix reuse and tiling, on CPU, with a random-weight model of a real family's width.

The model is Qwen2.5-VL's architecture at Qwen2.5-VL-3B's width (text: hidden 2048, MLP 11008,
16 heads, 2 key/value heads; vision: hidden 1280, MLP 3420, 16 heads), with a few layers only
(2 text, 2 vision by default), built here from a config with random weights, saved, and loaded
by the engine like a real checkpoint. Its tokenizer is the tiny test one (tests/support): it
spends more tokens per word than the real one, so the instructions weigh a little more here.

What this measures is cost, never accuracy (random weights; no weights reach these machines).

1. Prefix reuse: parts judged under a recipe with 2 good references and 1 defect example,
   with `prefix_cache: 8` (the instructions, references and example computed once, reused)
   against `prefix_cache: 0` (every part computes its whole prompt): time per part, ratio,
   and the prompt tokens the model computed per part in each mode; the same for the first
   token only (the prompt's cost, without the answer's decoding, which reuse leaves as is).
2. Tiling: the same part whole only, and whole + 2 x 2 tiles, one by one with prefix reuse
   (`batch_size: 1`) and batched without it (`batch_size: 8`): time per part, per tile.

Each side is warmed up on one part first (the first part of a recipe computes its prefixes);
rounds alternate the sides and the figure is the median.

    .venv/bin/python bench/prefix_reuse.py [--rounds 3] [--layers 2] [--side 224] [--threads 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from inspector.judges import build_chain  # noqa: E402
from inspector.recipes import parse_recipe  # noqa: E402
from tests.support.tiny_models import build_tiny_model  # noqa: E402

NEW_TOKENS = 16
TEXT = {
    "hidden_size": 2048,
    "intermediate_size": 11008,
    "num_attention_heads": 16,
    "num_key_value_heads": 2,
}
VISION = {"hidden_size": 1280, "intermediate_size": 3420, "num_heads": 16}


def build_wide_model(folder: Path, layers: int, vision_layers: int, side: int) -> Path:
    """The tiny Qwen2.5-VL checkpoint's tokenizer, template and processor, with a model of
    Qwen2.5-VL-3B's width and `layers` layers, images resized to about side x side."""
    import torch
    from transformers import (
        AutoProcessor,
        Qwen2_5_VLConfig,
        Qwen2_5_VLForConditionalGeneration,
        Qwen2VLImageProcessor,
    )

    build_tiny_model("qwen2_5_vl", folder)
    config = Qwen2_5_VLConfig.from_pretrained(folder)
    text = config.text_config
    for name, value in TEXT.items():
        setattr(text, name, value)
    text.num_hidden_layers = layers
    text.head_dim = TEXT["hidden_size"] // TEXT["num_attention_heads"]
    text.layer_types = ["full_attention"] * layers
    text.rope_parameters = {**text.rope_parameters, "mrope_section": [16, 24, 24]}
    vision = config.vision_config
    for name, value in VISION.items():
        setattr(vision, name, value)
    vision.depth = vision_layers
    vision.fullatt_block_indexes = [vision_layers - 1]
    vision.out_hidden_size = TEXT["hidden_size"]
    torch.manual_seed(0)
    model = Qwen2_5_VLForConditionalGeneration(config).eval()
    model.save_pretrained(folder)
    processor = AutoProcessor.from_pretrained(folder)
    pixels = side * side
    processor.image_processor = Qwen2VLImageProcessor(
        min_pixels=pixels, max_pixels=pixels, patch_size=14, temporal_patch_size=2, merge_size=2
    )
    processor.save_pretrained(folder)
    return folder


def images(count: int, shape: tuple[int, int], seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 255, (*shape, 3), np.uint8) for _ in range(count)]


def chain_for(
    model_dir: Path,
    folder: Path,
    prefix_cache: int,
    batch_size: int,
    tiles=None,
    new_tokens: int = NEW_TOKENS,
):
    example = images(1, (200, 300), seed=9)[0]
    cv2.imwrite(str(folder / "scratch.png"), example)
    engine = {
        "engine": "transformers",
        "model": str(model_dir),
        "max_new_tokens": new_tokens,
        "batch_size": batch_size,
        "prefix_cache": prefix_cache,
        "device": "cpu",
    }
    data = {
        "name": "bench",
        "version": 1,
        "prompt": "Inspect the printed circuit board for defects in the copper and the mask.",
        "defects": [
            {
                "name": "scratch",
                "severity": "major",
                "examples": [{"image": str(folder / "scratch.png"), "box": [20, 40, 200, 60]}],
            },
            {"name": "short", "severity": "critical", "description": "copper joins two tracks"},
            {"name": "open", "severity": "critical", "description": "a track is cut"},
        ],
        "engines": [engine],
    }
    if tiles:
        data["tiles"] = tiles
    chain = build_chain(parse_recipe(data, str(folder / "bench.yaml")), str(folder / "bench.yaml"))
    judge = chain.judges[0]
    judge.set_references(images(2, (1200, 1600), seed=1))
    chain.load()
    # Random weights end their answers at random: every prompt generates NEW_TOKENS, so that
    # the sides compare the same work.
    judge._generate_options = lambda inputs: {"min_new_tokens": new_tokens}
    return chain


def judged(chain, image) -> dict:
    """Seconds, views judged, prompt tokens (all views), prompt tokens computed (last view),
    tokens generated (all views)."""
    start = time.perf_counter()
    verdict = chain.judge(image)
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "views": len(verdict.attempts),
        "tokens": sum(a.prompt_tokens or 0 for a in verdict.attempts),
        "computed": chain.judges[0].computed_prompt_tokens,
        "generated": sum(a.completion_tokens or 0 for a in verdict.attempts),
    }


def compare(sides: dict, parts: list[np.ndarray], rounds: int) -> dict[str, dict]:
    """Each side warmed up on the first part, then the others, rounds alternating sides."""
    for chain in sides.values():
        chain.judge(parts[0])
    figures: dict[str, dict] = {name: {"times": []} for name in sides}
    for r in range(rounds):
        part = parts[1 + r % (len(parts) - 1)]
        for name, chain in sides.items():
            figure = judged(chain, part)
            figures[name]["times"].append(figure.pop("seconds"))
            figures[name].update(figure)
    for figure in figures.values():
        figure["median"] = statistics.median(figure["times"])
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--vision-layers", type=int, default=2)
    parser.add_argument("--side", type=int, default=224, help="image side the model sees")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-tiles", action="store_true")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    print(
        f"Qwen2.5-VL architecture at 3B width (hidden {TEXT['hidden_size']}), {args.layers} text "
        f"+ {args.vision_layers} vision layers, random weights, CPU, {args.threads} threads; "
        f"images ~{args.side}x{args.side} for the model; {NEW_TOKENS} new tokens"
    )
    print("accuracy: not measurable here (random weights); this is cost only")
    parts = images(1 + args.rounds, (1200, 1600), seed=2)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        start = time.perf_counter()
        model_dir = build_wide_model(root / "model", args.layers, args.vision_layers, args.side)
        print(f"model built in {time.perf_counter() - start:.0f} s")
        sides = {
            "reuse": chain_for(model_dir, root, prefix_cache=8, batch_size=1),
            "recompute": chain_for(model_dir, root, prefix_cache=0, batch_size=1),
            "reuse, 1st token": chain_for(model_dir, root, 8, 1, new_tokens=1),
            "recompute, 1st token": chain_for(model_dir, root, 0, 1, new_tokens=1),
        }
        figures = compare(sides, parts, args.rounds)
        print("\nprefix reuse (2 references + 1 defect example + instructions; one part whole)")
        for name, f in figures.items():
            print(
                f"  {name:20s} {f['median'] * 1000:8.0f} ms/part, prompt {f['tokens']} tokens, "
                f"{f['computed']} computed per part, {f['generated']} generated"
            )
        for suffix in ("", ", 1st token"):
            reuse, recompute = figures["reuse" + suffix], figures["recompute" + suffix]
            print(
                f"  reuse / recompute{suffix}: {reuse['median'] / recompute['median']:.2f}x "
                f"time, {reuse['computed'] / recompute['computed']:.2f}x prompt tokens computed"
            )
        del sides
        if args.no_tiles:
            return
        tiles = {"size": 896, "overlap": 0.15}
        sides = {
            "whole": chain_for(model_dir, root, prefix_cache=8, batch_size=1),
            "tiles, 1 by 1, reuse": chain_for(model_dir, root, 8, 1, tiles),
            "tiles, batched": chain_for(model_dir, root, 0, 8, tiles),
        }
        figures = compare(sides, parts, max(1, args.rounds - 1))
        base = figures["whole"]["median"]
        print(f"\ntiling a 1600x1200 part, tiles {tiles} (2 x 2 tiles + the whole)")
        for name, f in figures.items():
            tiles_count = f["views"] - 1
            per_tile = (f["median"] - base) / tiles_count if tiles_count else 0.0
            extra = f", {per_tile * 1000:6.0f} ms per tile" if tiles_count else ""
            print(
                f"  {name:22s} {f['views']} prompts, {f['tokens']} prompt tokens, "
                f"{f['generated']} generated, {f['median'] * 1000:8.0f} ms/part "
                f"({f['median'] / base:4.2f}x whole){extra}"
            )


if __name__ == "__main__":
    main()
