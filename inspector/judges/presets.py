"""The models users name, and how each is reached: the table `inspector models` prints.

A preset is a starting point for a recipe's `engines` entry, not a setting: the recipe names
the engine and the checkpoint itself. GPU memory is a rough figure for bf16 weights plus a
working cache at one image per request; `tp` spreads a large model over several GPUs.
Prices are list prices in USD per million tokens (input, output) as published in 2025, for the
cost estimate recorded with each attempt; a recipe can set its own (`price_per_mtok`). What an
engine needs installed is said by the engine's class (`requires`, `extra`): `missing_packages`
asks it through the registry.
"""

from __future__ import annotations

from dataclasses import dataclass

from inspector.judges.answers import BoxConvention

WORKSTATION_GB = 24  # one workstation GPU (RTX 4090 / L4 class)


@dataclass(frozen=True)
class Preset:
    name: str
    engine: str
    checkpoint: str
    gpu_gb: int | None  # None: a cloud model
    boxes: BoxConvention
    note: str = ""

    @property
    def workstation(self) -> bool:
        return self.gpu_gb is not None and self.gpu_gb <= WORKSTATION_GB


def _internvl3(size: str, gb: int, note: str = "") -> Preset:
    also = f"also transformers with OpenGVLab/InternVL3-{size}-hf, or a server"
    return Preset(
        f"InternVL3-{size}",
        "lmdeploy",
        f"OpenGVLab/InternVL3-{size}",
        gb,
        BoxConvention.XYXY_1000,
        f"{note}; {also}" if note else also,
    )


PRESETS: tuple[Preset, ...] = (
    _internvl3("1B", 4),
    _internvl3("2B", 6),
    _internvl3("8B", 20),
    _internvl3("14B", 34, "tp: 2 on 24 GB cards"),
    _internvl3("38B", 84, "tp: 2"),
    _internvl3("78B", 170, "tp: 4"),
    Preset("Gemma-3-4b-it", "transformers", "google/gemma-3-4b-it", 10, BoxConvention.XYXY_1000),
    Preset("Gemma-3-12b-it", "transformers", "google/gemma-3-12b-it", 28, BoxConvention.XYXY_1000),
    Preset(
        "Gemma-3-27b-it",
        "transformers",
        "google/gemma-3-27b-it",
        60,
        BoxConvention.XYXY_1000,
        "or a server",
    ),
    Preset(
        "Qwen2.5-VL-3B-Instruct",
        "transformers",
        "Qwen/Qwen2.5-VL-3B-Instruct",
        8,
        BoxConvention.PIXELS,
        "the default; boxes in pixels of its resized input",
    ),
    Preset(
        "Qwen2.5-VL-7B-Instruct",
        "transformers",
        "Qwen/Qwen2.5-VL-7B-Instruct",
        18,
        BoxConvention.PIXELS,
    ),
    Preset(
        "Qwen2.5-VL-32B-Instruct",
        "transformers",
        "Qwen/Qwen2.5-VL-32B-Instruct",
        72,
        BoxConvention.PIXELS,
        "or a server",
    ),
    Preset(
        "Qwen2.5-VL-72B-Instruct",
        "openai-compatible",
        "Qwen/Qwen2.5-VL-72B-Instruct",
        160,
        BoxConvention.PIXELS,
        "vLLM / lmdeploy server, tp 4",
    ),
    Preset(
        "Llama-3.2-11B-Vision-Instruct",
        "transformers",
        "meta-llama/Llama-3.2-11B-Vision-Instruct",
        24,
        BoxConvention.XYXY_1000,
        "Mllama",
    ),
    Preset(
        "Llama-3.2-90B-Vision-Instruct",
        "openai-compatible",
        "meta-llama/Llama-3.2-90B-Vision-Instruct",
        190,
        BoxConvention.XYXY_1000,
        "vLLM server, tp 4 or more",
    ),
    Preset("Ovis2-2B", "ovis2", "AIDC-AI/Ovis2-2B", 6, BoxConvention.XYXY_1000, "remote code"),
    Preset("Ovis2-8B", "ovis2", "AIDC-AI/Ovis2-8B", 20, BoxConvention.XYXY_1000, "remote code"),
    Preset("Ovis2-34B", "ovis2", "AIDC-AI/Ovis2-34B", 72, BoxConvention.XYXY_1000, "remote code"),
    Preset(
        "Kimi-VL-A3B-Thinking-2506",
        "openai-compatible",
        "moonshotai/Kimi-VL-A3B-Thinking-2506",
        36,
        BoxConvention.XYXY_1000,
        "vLLM; answers after a ◁think▷ block: max_new_tokens 4096",
    ),
    Preset("o3", "openai", "o3", None, BoxConvention.XYXY_1000, "reasoning: max_new_tokens 4096"),
    Preset("GPT-4.1", "openai", "gpt-4.1", None, BoxConvention.XYXY_1000),
    Preset(
        "Claude Sonnet 4", "anthropic", "claude-sonnet-4-20250514", None, BoxConvention.XYXY_1000
    ),
    Preset(
        "Gemini 2.5 Pro",
        "gemini",
        "gemini-2.5-pro",
        None,
        BoxConvention.YXYX_1000,
        "box_2d; thinks: max_new_tokens 4096",
    ),
)

# USD per million tokens (input, output); the longest matching model-name prefix applies.
PRICES: dict[str, tuple[float, float]] = {
    "gpt-4.1": (2.0, 8.0),
    "gpt-4.1-mini": (0.4, 1.6),
    "gpt-4.1-nano": (0.1, 0.4),
    "gpt-4o": (2.5, 10.0),
    "o3": (2.0, 8.0),
    "o3-pro": (20.0, 80.0),
    "o4-mini": (1.1, 4.4),
    "claude-sonnet-4": (3.0, 15.0),
    "claude-opus-4": (15.0, 75.0),
    "gemini-2.5-pro": (1.25, 10.0),
    "gemini-2.5-flash": (0.3, 2.5),
}


def price_per_mtok(model: str) -> tuple[float, float] | None:
    name = model.lower().removeprefix("models/")
    matches = [prefix for prefix in PRICES if name.startswith(prefix)]
    return PRICES[max(matches, key=len)] if matches else None


def missing_packages(engine: str) -> str | None:
    """Which package a registered engine lacks here and the extra to install; None when none."""
    from inspector.judges.registry import ENGINES

    return ENGINES.engine_class(engine).missing_package() if engine in ENGINES else None
