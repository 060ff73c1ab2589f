"""Latency the judge chain adds around one engine call: chain over a bare `openai` client call.

The server is a real `transformers serve` on 127.0.0.1 with a tiny Qwen2.5-VL (built here, no
download). Both sides send the same request (same messages, image bytes, schema, token limit):
the bare side sends it prepared once with the official client; the chain side judges the part
as the station does (prompt with ROI crop, image encoding, request, parse, attempt record), with
and without a per-attempt timeout (the timeout runs the call on a worker thread). Each round
calls every side once, in a shuffled order, so that the drift of a busy machine hits all sides
alike; the ratio is the median over rounds of chain / bare. The chain's own work on the client
(prompt, encoding, parsing) is timed apart too, without the server. Target: ratio <= 1.05.

    .venv/bin/python bench/chain_overhead.py [--calls 40]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from inspector.judges import JudgeChain, build_chain  # noqa: E402
from inspector.judges.engines.openai_compat import chat_messages  # noqa: E402
from inspector.judges.prompt import build_prompt  # noqa: E402
from inspector.judges.structured import SCHEMA_NAME, verdict_schema  # noqa: E402
from inspector.recipes import ChainPolicy, parse_recipe  # noqa: E402
from tests.support.serving import SERVED_FAMILY, TransformersServer  # noqa: E402
from tests.support.tiny_models import build_tiny_model  # noqa: E402

TARGET = 1.05
MAX_TOKENS = 16


def part_image() -> np.ndarray:
    path = ROOT / "assets" / "demo" / "camera"
    return cv2.imread(str(sorted(path.glob("*.jpg"))[0]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=40)
    args = parser.parse_args()
    import openai

    with tempfile.TemporaryDirectory() as folder:
        model_dir = build_tiny_model(SERVED_FAMILY, Path(folder) / SERVED_FAMILY)
        server = TransformersServer(model_dir, Path(folder) / "serve.log")
        try:
            image = part_image()
            height, width = image.shape[:2]
            engine = {
                "engine": "openai-compatible",
                "base_url": server.url,
                "model": server.model,
                "max_new_tokens": MAX_TOKENS,
            }
            recipe = parse_recipe(
                {
                    "name": "bench",
                    "version": 1,
                    "prompt": "Inspect the copper tracks.",
                    "defects": [{"name": "open", "severity": "critical"}],
                    "roi": {
                        "x": width // 8,
                        "y": height // 8,
                        "width": width // 2,
                        "height": height // 2,
                    },
                    "engines": [engine],
                },
                "bench",
            )
            chain = build_chain(recipe, "bench")
            chain.load()
            timed = JudgeChain(chain.judges, ChainPolicy(timeout_s=60))
            judge = chain.judges[0]
            prompt = build_prompt(recipe, image, [], judge.box_convention())
            schema = {"name": SCHEMA_NAME, "schema": verdict_schema(recipe), "strict": True}
            request = {
                "model": server.model,
                "messages": chat_messages(prompt, "jpeg"),
                "max_tokens": MAX_TOKENS,
                "temperature": 0.0,
                "response_format": {"type": "json_schema", "json_schema": schema},
            }
            client = openai.OpenAI(base_url=server.url, api_key="EMPTY", max_retries=0)

            def bare() -> None:
                client.chat.completions.create(**request)

            sides = {"bare": bare, "chain": lambda: chain.judge(image)}
            sides["chain+timeout"] = lambda: timed.judge(image)
            for call in sides.values():  # warm up: connections, caches, the model's first run
                for _ in range(3):
                    call()
            times: dict[str, list[float]] = {name: [] for name in sides}
            order = list(sides)
            for _ in range(args.calls):
                random.shuffle(order)
                for name in order:
                    start = time.perf_counter()
                    sides[name]()
                    times[name].append((time.perf_counter() - start) * 1000)
        finally:
            server.stop()
        client_ms = client_side_ms(recipe, image, judge)
    bare_ms = np.array(times["bare"])
    print(f"one call to transformers serve ({SERVED_FAMILY}, tiny), {args.calls} rounds")
    for name, values in times.items():
        p50, p90 = np.percentile(values, [50, 90])
        line = f"  {name:14} p50 {p50:7.2f} ms  p90 {p90:7.2f} ms"
        if name != "bare":
            ratio = np.median(np.array(values) / bare_ms)
            line += f"  chain/bare {ratio:5.3f} (target <= {TARGET})"
        print(line)
    print(f"  the chain's own work on the client (prompt, JPEG, parse): {client_ms:.2f} ms a part")


def client_side_ms(recipe, image: np.ndarray, judge, calls: int = 50) -> float:
    """Prompt with ROI crop, image encoding and reading an answer, without any server."""
    from inspector.judges.answers import read_verdict

    answer = '{"outcome": "PASS", "defects": [], "confidence": 0.9, "reason": "clean"}'
    start = time.perf_counter()
    for _ in range(calls):
        prompt = build_prompt(recipe, image, [], judge.box_convention())
        chat_messages(prompt, "jpeg")
        read_verdict(answer, recipe, prompt.geometry, judge.box_convention())
    return (time.perf_counter() - start) / calls * 1000


if __name__ == "__main__":
    main()
