"""The cost of tiling, zooming and measured confidence, on CPU with tiny real-architecture models.

What this measures is cost, never accuracy: the tiny models' weights are random (no weights
reach these machines), so their answers are noise. Accuracy needs a real model on a GPU.

For each family, one 1600 x 1200 part (tiles of 896, overlap 0.15: 2 x 2 tiles + the whole):
- whole only: one prompt per part (the baseline);
- tiles, one by one (`batch_size: 1`): five `generate` calls per part, each reusing its
  prefix's key/value cache (the instructions here: no references) unless `--prefix-cache 0`;
- tiles, batched (`batch_size: 8`): one `generate` of five rows per part;
and the time `output_logits` plus reading the outcome's probability add to a whole-only call
(measured against a plain `generate` of the same inputs). Rounds alternate the sides, the
figure is the median over rounds; ratios are against whole-only.

    .venv/bin/python bench/vlm_tiles.py [--rounds 5] [--families gemma3 qwen2_5_vl]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from inspector.judges import build_chain  # noqa: E402
from inspector.recipes import parse_recipe  # noqa: E402
from tests.support.tiny_models import FAMILIES, build_tiny_model  # noqa: E402

NEW_TOKENS = 16


def part_image() -> np.ndarray:
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (1200, 1600, 3), np.uint8)
    image[600:606, 800:830] = 255  # a small flaw, for the look of it
    return image


def chain_for(model_dir: Path, tiles: dict | None, batch_size: int, prefix_cache: int = 8):
    engine = {
        "engine": "transformers",
        "model": str(model_dir),
        "max_new_tokens": NEW_TOKENS,
        "batch_size": batch_size,
        "device": "cpu",
        "prefix_cache": prefix_cache,
    }
    data = {"name": "bench", "version": 1, "prompt": "Inspect.", "engines": [engine]}
    if tiles:
        data["tiles"] = tiles
    chain = build_chain(parse_recipe(data, "bench.yaml"), "bench.yaml")
    chain.load()
    return chain


def timed(chain, image) -> tuple[float, int, int]:
    start = time.perf_counter()
    verdict = chain.judge(image)
    seconds = time.perf_counter() - start
    prompt_tokens = sum(a.prompt_tokens or 0 for a in verdict.attempts)
    return seconds, len(verdict.attempts), prompt_tokens


def logits_overhead(chain, image, rounds: int) -> tuple[float, float]:
    """Median seconds of the engine's call (encode, generate with output_logits, decode, each
    token's log-probability and bytes) and of the same without the logits (encode, plain
    generate, decode)."""
    import torch

    from inspector.judges.prompt import build_prompt

    judge = chain.judges[0]
    prompt = build_prompt(judge.recipe, image, [], judge.box_convention())
    with_logits, plain = [], []
    for _ in range(rounds):
        start = time.perf_counter()
        judge._generate(prompt, judge.box_convention())
        with_logits.append(time.perf_counter() - start)
        start = time.perf_counter()  # the same work: encoding the prompt, then generating
        inputs = judge.encode(prompt)
        with torch.inference_mode():
            output = judge._model.generate(**inputs, max_new_tokens=NEW_TOKENS, do_sample=False)
        judge._decode(output[0, inputs["input_ids"].shape[1] :])
        plain.append(time.perf_counter() - start)
    return statistics.median(with_logits), statistics.median(plain)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--families", nargs="*", default=list(FAMILIES))
    parser.add_argument(
        "--prefix-cache", type=int, default=8, help="the engine's prefix_cache (0: recompute)"
    )
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    image = part_image()
    tiles = {"size": 896, "overlap": 0.15}
    print(
        f"part {image.shape[1]}x{image.shape[0]}, tiles {tiles}, {NEW_TOKENS} new tokens, "
        f"prefix_cache {args.prefix_cache} (a batch never reuses; the wide model's figures: "
        "bench/prefix_reuse.py)"
    )
    print("accuracy: not measurable here (random weights); this is cost only")
    with tempfile.TemporaryDirectory() as folder:
        for family in args.families:
            model_dir = build_tiny_model(family, Path(folder) / family)
            sides = {
                "whole": chain_for(model_dir, None, 8, args.prefix_cache),
                "tiles 1 by 1": chain_for(model_dir, tiles, 1, args.prefix_cache),
                "tiles batched": chain_for(model_dir, tiles, 8, args.prefix_cache),
            }
            for chain in sides.values():  # warm up: first calls pay one-off costs
                chain.judge(image)
            times: dict[str, list[float]] = {name: [] for name in sides}
            calls: dict[str, int] = {}
            tokens: dict[str, int] = {}
            for _ in range(args.rounds):
                for name, chain in sides.items():
                    seconds, calls[name], tokens[name] = timed(chain, image)
                    times[name].append(seconds)
            base = statistics.median(times["whole"])
            print(f"\n{family}")
            for name in sides:
                median = statistics.median(times[name])
                print(
                    f"  {name:14s} {calls[name]} prompts/part, {tokens[name]:5d} prompt tokens, "
                    f"{median * 1000:7.1f} ms/part ({median / base:4.2f}x whole), "
                    f"{median * 1000 / calls[name]:6.1f} ms/prompt"
                )
            measured, plain = logits_overhead(sides["whole"], image, args.rounds)
            print(
                f"  measured confidence: generate with logits + reading {measured * 1000:.1f} ms "
                f"vs plain generate {plain * 1000:.1f} ms ({measured / plain:4.2f}x)"
            )


if __name__ == "__main__":
    main()
