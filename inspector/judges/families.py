"""What a model family sees: its native input side and what a zoomed crop costs it.

A recipe names a checkpoint (a hub id or a folder); the family is read from that name. The
figures set the zoom budget where the recipe leaves it open (`zoom.max_crops` / `min_size`
unset): a crop smaller than the family's native side is enlarged, not sharpened, and each crop
is one more prompt, so families whose image is dear get fewer.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Family:
    name: str
    native_side: int  # camera pixels shown 1:1 at the model's usual input
    tokens_per_image: int  # image tokens of one crop at that side
    zoom_crops: int  # crops a flagged part may add by default

    def __str__(self) -> str:
        return self.name


# Checked in order: the first whose marker is in the model's name (lower case) wins.
FAMILIES: tuple[tuple[tuple[str, ...], Family], ...] = (
    # 14 px patches merged 2x2: 256 tokens at 448 px, dynamic resolution beyond.
    (("qwen2.5-vl", "qwen2_5_vl", "qwen2-vl", "qwen2_vl"), Family("Qwen2-VL", 448, 256, 3)),
    # A fixed 896 px input (SigLIP), 256 tokens whatever the crop's size.
    (("gemma-3", "gemma3"), Family("Gemma 3", 896, 256, 3)),
    # 448 px tiles of 256 tokens.
    (("internvl",), Family("InternVL", 448, 256, 3)),
    (("ovis",), Family("Ovis2", 448, 256, 3)),
    # 560 px tiles, up to four plus a global one per image, through cross-attention: dear.
    (("llama-3.2", "llama3.2", "mllama"), Family("Llama 3.2 Vision", 560, 1601, 2)),
    (("kimi-vl",), Family("Kimi-VL", 448, 256, 3)),
    # Cloud models bill per image tile: OpenAI 512 px, Gemini 768 px; Claude about 1.15 MP.
    (("gpt-", "o3", "o4-"), Family("OpenAI", 512, 765, 2)),
    (("claude",), Family("Claude", 768, 790, 2)),
    (("gemini",), Family("Gemini", 768, 258, 2)),
)
GENERIC = Family("generic", 448, 1280, 3)


def family_of(model: str | None) -> Family:
    """The family of a checkpoint named by hub id, folder or API model name; GENERIC if none."""
    name = (model or "").lower()
    for markers, family in FAMILIES:
        if any(marker in name for marker in markers):
            return family
    return GENERIC
