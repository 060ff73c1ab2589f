"""The recipe's stable prefix computed once per model: its key/value cache reused for each part.

Everything a prompt holds before the part (system prompt, instructions, good references,
defect examples: `Prompt.stable_length`) is the same for every part judged under a recipe (for
one view: a tile's references are cut like the tile). The transformers engine computes that
prefix's key/value cache once, keeps it here (a few prefixes, the most recently used), and
hands `generate` a copy of it with the full input: `generate` then runs the model only on the
uncached tokens, and the vision tower only on the part's own images.

Correctness, per family, rests on these checks: the prefix is named by its texts and the
pixels of its images; on every part, the full input's first K tokens are the cached prefix's
tokens and its image tensors hold the prefix's images first (as many as cached) and the part's
after them; when the prefix is computed, those leading image tensors are checked equal to the
prefix's own; and the family is one whose cache continuation transformers handles with images:

- Gemma 3: the bidirectional attention over an image's tokens is built from the whole
  sequence's `token_type_ids`, which `generate` keeps whole for a continued prefill;
- Qwen2.5-VL: the 3D (mrope) positions come from the whole sequence and every image's grid,
  while the vision tower must see only the part's patches, so the part's image features are
  computed here and passed as `mm_encoder_outputs`;
- InternVL: plain positions, the part's tiles only;
- Llama 3.2 Vision (Mllama): the cross-attention layers cache the prefix images' states and
  append the part's (the cache update concatenates), the cross-attention mask covers them all.

Any other family, a batch, or an input with tensors this module does not know: no reuse, said
once in the log. Only the families proved here (greedy output equal with and without reuse,
tests/judges/test_prefix_reuse.py) are listed.
"""

from __future__ import annotations

import copy
import hashlib
import logging
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass

log = logging.getLogger(__name__)

# Per family: the image tensors, and the axis along which they list the images in order (the
# prefix's images come first: a leading slice is theirs, the rest the part's).
_IMAGE_AXES: dict[str, dict[str, int]] = {
    "gemma3": {"pixel_values": 0},
    "qwen2_5_vl": {"pixel_values": 0, "image_grid_thw": 0},
    "internvl": {"pixel_values": 0},
    "mllama": {"pixel_values": 1, "aspect_ratio_ids": 1, "aspect_ratio_mask": 1},
}
# Tensors one row per token: the prefix is their first K columns.
_PER_TOKEN = ("input_ids", "attention_mask", "token_type_ids", "mm_token_type_ids")
# Mllama: (batch, tokens, images, tiles).
_CROSS_MASK = "cross_attention_mask"


def supported(model_type: str) -> bool:
    return model_type in _IMAGE_AXES


@dataclass
class _Entry:
    ids: object  # (1, K) token ids of the prefix
    images: dict[str, int]  # per image tensor, how many of its entries are the prefix's
    cache: object  # the prefix's key/value cache, never handed out itself (copies are)
    hits: int = 0


@dataclass
class Reuse:
    """What `generate` takes to continue from a cached prefix, and what it saves."""

    inputs: dict
    cache: object
    cached_tokens: int


@contextmanager
def given_cache(model):
    """`generate` with a cache handed to it: a checkpoint's `cache_implementation` (Gemma 3's
    `hybrid`, a static cache) would make it refuse one, so it is set aside for the call (the
    caller holds the model's lock)."""
    config = model.generation_config
    kept = getattr(config, "cache_implementation", None)
    config.cache_implementation = None
    try:
        yield
    finally:
        config.cache_implementation = kept


class PrefixCache:
    def __init__(self, model, processor, entries: int) -> None:
        self._model = model
        self._processor = processor
        self._family = getattr(model.config, "model_type", "")
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._size = entries
        self._said: set[str] = set()

    def clear(self) -> None:
        self._entries.clear()

    def disable(self) -> None:
        self._entries.clear()
        self._size = 0

    def disabled(self) -> bool:
        return self._size == 0

    def __len__(self) -> int:
        return len(self._entries)

    def reuse(self, prompt, inputs, messages) -> Reuse | None:
        """The keyword arguments for `generate` that continue from the prompt's cached prefix
        (computed now if new); None where it cannot be reused (said in the log).

        `inputs`: the processor's output for the whole prompt; `messages(parts)`: the chat
        messages of the prompt cut to those parts."""
        if self._size == 0:
            return None
        if not supported(self._family):
            return self._no(f"model type {self._family!r}: no prefix reuse (not proved for it)")
        stable = prompt.stable_length()
        if stable <= 0:
            return None
        unknown = set(inputs) - set(_PER_TOKEN) - set(_IMAGE_AXES[self._family]) - {_CROSS_MASK}
        if unknown:
            return self._no(f"{self._family}: inputs {sorted(unknown)} unknown to prefix reuse")
        key = _key(prompt, stable)
        entry = self._entries.get(key)
        if entry is not None and not self._matches(entry, inputs):
            log.info(
                "prefix reuse: the part's input does not start with the cached prefix (%d "
                "tokens); computing the prefix again",
                entry.ids.shape[1],
            )
            entry = None
        if entry is None:
            entry = self._compute(inputs, messages(prompt.parts[:stable]))
            if entry is None:
                return None
            self._entries[key] = entry
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        self._entries.move_to_end(key)
        entry.hits += 1
        return self._continuation(entry, inputs)

    def _no(self, reason: str) -> None:
        if reason not in self._said:
            self._said.add(reason)
            log.info("%s; every part computes its whole prompt", reason)
        return None

    def _matches(self, entry: _Entry, inputs) -> bool:
        import torch

        ids = inputs["input_ids"]
        length = entry.ids.shape[1]
        if ids.shape[0] != 1 or ids.shape[1] <= length:
            return False
        if not torch.equal(ids[:, :length], entry.ids):
            return False
        axes = _IMAGE_AXES[self._family]
        for name, count in entry.images.items():
            whole = inputs.get(name)
            if whole is None or whole.shape[axes[name]] <= count:
                return False  # the part has no image of its own after the prefix's
        return True

    def _compute(self, inputs, prefix_messages) -> _Entry | None:
        """The prefix's cache, from the prefix alone rendered by the chat template: its tokens
        shared with the whole input (the template closes the turn after it; a word at the
        seam may tokenize differently, so the shared run is cut one token short of it)."""
        import torch
        from transformers import DynamicCache

        model = self._model
        alone = self._processor.apply_chat_template(
            prefix_messages,
            add_generation_prompt=False,
            tokenize=True,
            return_dict=True,
            return_tensors="pt",
        ).to(model.device, dtype=model.dtype)
        ids, whole = alone["input_ids"], inputs["input_ids"]
        if ids.shape[0] != 1 or whole.shape[0] != 1:
            return self._no("prefix reuse: one prompt at a time only")
        shared = _shared_length(ids[0].tolist(), whole[0].tolist())
        shared = _before_seam(ids[0].tolist(), shared, self._specials())
        images_in = _image_token_count(ids[0, :shared].tolist(), self._image_ids())
        if images_in != _image_token_count(ids[0].tolist(), self._image_ids()):
            return self._no(f"{self._family}: the prefix's images do not end before the part")
        if shared <= 0:
            return None
        axes = _IMAGE_AXES[self._family]
        images = {name: alone[name] for name in axes if name in alone}
        entry = _Entry(
            whole[:, :shared].clone(),
            {name: int(tensor.shape[axes[name]]) for name, tensor in images.items()},
            None,
        )
        leading = self._matches(entry, inputs) and all(
            torch.equal(inputs[name].narrow(axes[name], 0, entry.images[name]), tensor)
            for name, tensor in images.items()
        )
        if not leading:
            return self._no(f"{self._family}: the prefix's image tensors differ in the whole input")
        forward = {name: inputs[name][:, :shared] for name in _PER_TOKEN if name in inputs}
        forward.update(images)
        if _CROSS_MASK in inputs:
            count = images["pixel_values"].shape[1] if "pixel_values" in images else 0
            forward[_CROSS_MASK] = inputs[_CROSS_MASK][:, :shared, :count]
            if count == 0:
                del forward[_CROSS_MASK]
        cache = DynamicCache(config=model.config.get_text_config(decoder=True))
        with torch.inference_mode():
            model(**forward, cache=cache, use_cache=True, logits_to_keep=1)
        entry.cache = cache
        log.info("prefix reuse: %d prompt tokens cached for %s", shared, self._family)
        return entry

    def _continuation(self, entry: _Entry, inputs) -> Reuse:
        """The whole input with the part's image tensors only, and a copy of the cache:
        `generate` computes the tokens after the prefix."""
        axes = _IMAGE_AXES[self._family]
        given = dict(inputs)
        for name, count in entry.images.items():
            whole = inputs[name]
            given[name] = whole.narrow(axes[name], count, whole.shape[axes[name]] - count)
        if self._family == "qwen2_5_vl" and entry.images:
            # The mrope positions need every image's grid; the vision tower only the part's.
            import torch

            with torch.inference_mode():
                features = self._model.model.get_image_features(
                    given.pop("pixel_values"), given["image_grid_thw"], return_dict=True
                )
            given["image_grid_thw"] = inputs["image_grid_thw"]
            given["mm_encoder_outputs"] = {"image": features}
        return Reuse(given, copy.deepcopy(entry.cache), int(entry.ids.shape[1]))

    def _image_ids(self) -> set[int]:
        config = self._model.config
        ids = set()
        for name in ("image_token_id", "image_token_index"):
            value = getattr(config, name, None)
            if isinstance(value, int):
                ids.add(value)
        return ids

    def _specials(self) -> set[int]:
        tokenizer = getattr(self._processor, "tokenizer", self._processor)
        return set(getattr(tokenizer, "all_special_ids", []) or []) | self._image_ids()


def _key(prompt, stable: int) -> str:
    """The prefix's identity: its texts and the pixels of its images as cut for this prompt (a
    tile's references are cut like the tile; a reference's own hash names the whole image)."""
    from inspector.judges.prompt import TextPart

    digest = hashlib.sha256(prompt.system.encode())
    for part in prompt.parts[:stable]:
        if isinstance(part, TextPart):
            digest.update(b"\x00text\x00" + part.text.encode())
        else:
            image = part.image
            digest.update(f"\x00image\x00{part.role}\x00{image.shape}\x00{image.dtype}".encode())
            digest.update(image.tobytes() if not image.flags.c_contiguous else image.data)
    return digest.hexdigest()


def _shared_length(a: list[int], b: list[int]) -> int:
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return i
    return min(len(a), len(b))


def _before_seam(ids: list[int], shared: int, specials: set[int]) -> int:
    """Where the shared run ends next to text that follows the prefix, its last token may be
    one the next part's first word would merge with: leave it out unless it is special."""
    if shared > 0 and ids[shared - 1] not in specials:
        return shared - 1
    return shared


def _image_token_count(ids: list[int], image_ids: set[int]) -> int:
    return sum(1 for token in ids if token in image_ids)
