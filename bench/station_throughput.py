"""Station throughput with the tiny transformers judge, over a bare `model.generate` loop.

Both run the same tiny Qwen2.5-VL checkpoint (random weights, built here: no download), on the
same real PCB frames, with the same prompt and generation settings. The bare loop is what a
script would do: chat template, generate, decode. The station adds capture, queueing, prompt
building, parsing, evidence encoding and the SQLite record. Target: ratio >= 0.95.

    OMP_NUM_THREADS=1 .venv/bin/python bench/station_throughput.py [--frames 60] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import cv2

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.memory_source import MemorySource  # noqa: E402
from inspector.config import Settings  # noqa: E402
from inspector.judges import build_chain  # noqa: E402
from inspector.judges.prompt import build_prompt  # noqa: E402
from inspector.recipes import parse_recipe  # noqa: E402
from inspector.station import Station, TriggerPolicy  # noqa: E402
from inspector.store import Store  # noqa: E402
from tests.support.tiny_models import build_tiny_model  # noqa: E402

MAX_NEW_TOKENS = 16


def frames() -> list:
    folder = ROOT / "assets" / "demo" / "camera"
    return [cv2.resize(cv2.imread(str(p)), (640, 480)) for p in sorted(folder.glob("*.jpg"))]


def bare_loop(judge, recipe, images, count: int) -> float:
    """Frames per second of chat template + generate + decode, nothing else."""
    import torch
    from PIL import Image

    processor, model = judge._processor, judge._model
    convention = judge.box_convention()
    # The same texts the station sends, built once: the bare loop pays for none of it.
    texts = [build_prompt(recipe, image, [], convention) for image in images]
    start = time.perf_counter()
    for i in range(count):
        prompt = texts[i % len(texts)]
        content = [
            {"type": "text", "text": p.text}
            if hasattr(p, "text")
            else {"type": "image", "image": Image.fromarray(p.rgb())}
            for p in prompt.parts
        ]
        messages = [
            {"role": "system", "content": prompt.system},
            {"role": "user", "content": content},
        ]
        inputs = processor.apply_chat_template(
            messages,
            add_generation_prompt=True,
            tokenize=True,
            return_dict=True,
            return_tensors="pt",
        )
        with torch.inference_mode():
            output = model.generate(**inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False)
        processor.decode(output[0, inputs["input_ids"].shape[1] :], skip_special_tokens=True)
    return count / (time.perf_counter() - start)


def station_run(chain, recipe, images, count: int) -> float:
    with tempfile.TemporaryDirectory() as folder:
        store = Store.open(Settings.from_env(data_dir=folder))
        version = store.recipe_version_id(recipe, [])
        source = MemorySource(images, count)
        station = Station.for_camera(source, chain, recipe, version, store, TriggerPolicy.TRIGGERED)
        start = time.perf_counter()
        station.start()
        station.wait()
        elapsed = time.perf_counter() - start
        store.close()
        assert station.stats.recorded == count
    return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        model_dir = build_tiny_model("qwen2_5_vl", Path(folder) / "qwen")
        engine = {
            "engine": "transformers",
            "model": str(model_dir),
            "max_new_tokens": MAX_NEW_TOKENS,
        }
        recipe = parse_recipe(
            {"name": "bench", "version": 1, "prompt": "Inspect the board.", "engines": [engine]},
            "bench",
        )
        chain = build_chain(recipe, "bench")
        chain.load()
        images = frames()
        bare_loop(chain.judges[0], recipe, images, 5)  # warm up both paths
        station_run(chain, recipe, images, 5)
        ratios = []
        for round_ in range(1, args.rounds + 1):
            # Alternate which goes first: this machine's noise drifts over seconds.
            if round_ % 2:
                bare = bare_loop(chain.judges[0], recipe, images, args.frames)
                station = station_run(chain, recipe, images, args.frames)
            else:
                station = station_run(chain, recipe, images, args.frames)
                bare = bare_loop(chain.judges[0], recipe, images, args.frames)
            ratios.append(station / bare)
            print(
                f"round {round_}: bare generate loop {bare:6.1f} fps, station {station:6.1f} fps, "
                f"ratio {station / bare:.3f}"
            )
    ratios.sort()
    print(
        f"station / bare generate loop: median ratio {ratios[len(ratios) // 2]:.3f} (target 0.95)"
    )


if __name__ == "__main__":
    main()
