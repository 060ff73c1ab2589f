"""`transformers`: any image-text-to-text checkpoint, in process. The embedded default.

Gemma 3, Qwen2.5-VL, InternVL3 (-hf), Llama 3.2 Vision and others load through AutoProcessor and
AutoModelForImageTextToText, from a local folder or a hub id. torch and transformers are imported
here only, when the model loads.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from contextlib import nullcontext
from dataclasses import replace
from pathlib import Path
from typing import Literal

from pydantic import Field

from inspector.errors import EngineUnavailable
from inspector.judges.answers import BoxConvention
from inspector.judges.engines.prefix_cache import PrefixCache, given_cache
from inspector.judges.failures import first_line
from inspector.judges.judge import Generation, Judge, Progress
from inspector.judges.local_model import (
    LocalModelSettings,
    model_folder,
    placement,
    store_revision,
)
from inspector.judges.measured import TokenLogprob
from inspector.judges.prompt import Prompt, TextPart

log = logging.getLogger(__name__)

# Families trained to give boxes in pixels of the image as their processor resized it.
_PIXEL_BOX_FAMILIES = frozenset({"qwen2_vl", "qwen2_5_vl"})
_THINK_MARKERS = frozenset({"◁think▷", "◁/think▷", "<think>", "</think>"})


class TransformersSettings(LocalModelSettings):
    engine: Literal["transformers"] = "transformers"
    # Prompts generated together (a part's tiles): one batched `generate`. 1: one by one.
    batch_size: int = Field(default=8, ge=1, le=64)
    # Prefixes (system prompt, instructions, references, examples) whose key/value cache is
    # kept and reused for every part, the most recently used: one per view (the whole, each
    # tile). 0: every part computes its whole prompt. Each costs the prefix's cache in memory
    # (layers x 2 x key/value heads x head size x tokens).
    prefix_cache: int = Field(default=8, ge=0, le=64)


class TransformersJudge(Judge):
    engine = "transformers"
    Settings = TransformersSettings
    settings: TransformersSettings
    requires = ("torch", "transformers")
    extra = "local"
    samples_vary = True  # a sampled look (agreement.samples) samples at its temperature

    def __init__(self, settings: TransformersSettings, recipe) -> None:
        super().__init__(settings, recipe)
        self._model = None
        self._processor = None
        self._tokenizer = None
        self._drop_tokens: list[str] = []
        self._model_type = ""
        self._lock = threading.Lock()  # one generate at a time on one model
        self._prefixes = None  # the reused prefix caches (prefix_cache.PrefixCache)
        # Prompt tokens the model computed for the last prompt (all of them, or those after
        # a reused prefix).
        self.computed_prompt_tokens: int | None = None

    def load(self, progress: Progress | None = None) -> None:
        if self._model is not None:
            return
        say = progress or (lambda message: None)
        try:
            import torch
            from transformers import AutoModelForImageTextToText, AutoProcessor
        except ImportError as exc:
            raise EngineUnavailable(
                f"the transformers engine needs torch and transformers ({exc.name} is missing): "
                "pip install 'inspector[local]'"
            ) from None
        name = self.settings.model
        device, dtype = placement(torch, self.settings.device, self.settings.dtype)
        folder = model_folder(name, self.settings.revision)
        source = str(folder) if folder else name
        options = {
            "revision": self.settings.revision,
            "trust_remote_code": self.settings.trust_remote_code,
        }
        if folder is None and not _in_hub_cache(name, self.settings.revision):
            _check_hub_reachable(name)
            say(f"downloading {name} (first use; several GB, once)")
        say(f"loading {name} on {device} ({str(dtype).removeprefix('torch.')})")
        try:
            processor = AutoProcessor.from_pretrained(source, **options)
            model = AutoModelForImageTextToText.from_pretrained(source, dtype=dtype, **options)
        except (OSError, ValueError, KeyError) as exc:
            raise EngineUnavailable(_load_failure(name, folder is not None, exc)) from None
        self._model = model.to(device).eval()
        self._processor = processor
        self._tokenizer = getattr(processor, "tokenizer", processor)
        self._drop_tokens = [
            t for t in self._tokenizer.all_special_tokens if t not in _THINK_MARKERS
        ]
        self._model_type = getattr(model.config, "model_type", "")
        self._prefixes = PrefixCache(self._model, processor, self.settings.prefix_cache)
        self.model_revision = (
            store_revision(name, self.settings.revision)
            or self.settings.revision
            or _revision(model.config, folder)
        )
        say(f"loaded {name} ({self._model_type}, revision {self.model_revision})")

    def box_convention(self) -> BoxConvention:
        if self.settings.box_convention is not None:
            return self.settings.box_convention
        if self._model_type in _PIXEL_BOX_FAMILIES:
            return BoxConvention.PIXELS
        return BoxConvention.XYXY_1000

    def encode(self, prompt: Prompt):
        """The model's inputs for a prompt: token ids with the images' tokens, pixel values."""
        from PIL import Image

        if self._model is None:
            self.load()
        return self._processor.apply_chat_template(
            _messages(prompt, Image),
            add_generation_prompt=True,
            tokenize=True,
            return_dict=True,
            return_tensors="pt",
        ).to(self._model.device, dtype=self._model.dtype)

    def encode_batch(self, prompts: list[Prompt]):
        """The model's inputs for several prompts at once, padded on the left (generation
        continues every row from its own last token)."""
        from PIL import Image

        if self._model is None:
            self.load()
        self._tokenizer.padding_side = "left"
        return self._processor.apply_chat_template(
            [_messages(prompt, Image) for prompt in prompts],
            add_generation_prompt=True,
            tokenize=True,
            return_dict=True,
            return_tensors="pt",
            processor_kwargs={"padding": True},
        ).to(self._model.device, dtype=self._model.dtype)

    def _generate_batch(
        self, prompts: list[Prompt], convention: BoxConvention
    ) -> list[Generation | Exception]:
        """Several prompts (a part's tiles) in one batched `generate`: the model's weights are
        read once per step for all of them. A failure fails them all."""
        sampled = any(p.temperature is not None for p in prompts)
        if len(prompts) < 2 or self.settings.batch_size < 2 or sampled:
            # Sampled looks one by one: a batch shares one decoding rule.
            return super()._generate_batch(prompts, convention)
        results: list[Generation | Exception] = []
        size = self.settings.batch_size
        for first in range(0, len(prompts), size):
            chunk = prompts[first : first + size]
            try:
                results.extend(self._generate_together(chunk))
            except Exception as exc:  # a model crash is a verdict for a person
                results.extend([exc] * len(chunk))
        return results

    def _generate_together(self, prompts: list[Prompt]) -> list[Generation]:
        import torch

        inputs = self.encode_batch(prompts)
        padded_length = inputs["input_ids"].shape[1]
        with self._lock, torch.inference_mode():
            output = self._model.generate(
                **inputs,
                max_new_tokens=self.settings.max_new_tokens,
                do_sample=False,
                output_logits=True,
                return_dict_in_generate=True,
                **self._generate_options(inputs),
            )
            # No prefix reuse in a batch: its rows' prefixes differ (a tile's references are cut
            # like the tile) and are padded on the left.
            self.computed_prompt_tokens = int(inputs["attention_mask"].sum())
            rows = []
            for row in range(len(prompts)):
                new_tokens = _until_end(output.sequences[row, padded_length:], self._end_ids())
                rows.append((new_tokens, _chosen_logprobs(output.logits, new_tokens, row)))
        generations = []
        image_index = -1
        for row, (prompt, (new_tokens, logprobs)) in enumerate(zip(prompts, rows, strict=True)):
            image_index += len(prompt.images)  # the part is the last image of its prompt
            width, height = self._model_image_size(inputs, image_index)
            generations.append(
                Generation(
                    text=self._decode(new_tokens),
                    prompt_tokens=int(inputs["attention_mask"][row].sum()),
                    completion_tokens=int(new_tokens.numel()),
                    model_width=width,
                    model_height=height,
                    token_logprobs=self._token_logprobs(new_tokens.tolist(), logprobs),
                )
            )
        return generations

    def _end_ids(self) -> set[int]:
        """The tokens that end an answer (a batch's shorter rows are padded after them)."""
        ends = getattr(self._model.generation_config, "eos_token_id", None)
        ends = ends if isinstance(ends, list) else [ends]
        return {int(e) for e in ends if e is not None}

    def _generate(self, prompt: Prompt, convention: BoxConvention) -> Generation:
        import torch
        from PIL import Image

        inputs = self.encode(prompt)
        prompt_length = inputs["input_ids"].shape[1]
        with self._lock, torch.inference_mode():
            # The prefix's key/value cache, computed once per recipe (and view), continued
            # here: the model computes only the part's tokens, the vision tower only its images.
            try:
                reuse = self._prefixes.reuse(
                    prompt, inputs, lambda parts: _messages(replace(prompt, parts=parts), Image)
                )
            except Exception as exc:
                reuse = self._stop_reusing(exc)
            try:
                output = self._generate_from(inputs, reuse, prompt_length, prompt.temperature)
            except Exception as exc:
                if reuse is None:
                    raise
                self._stop_reusing(exc)
                output = self._generate_from(inputs, None, prompt_length, prompt.temperature)
            new_tokens = output.sequences[0, prompt_length:]
            logprobs = _chosen_logprobs(output.logits, new_tokens, row=0)
        text = self._decode(new_tokens)
        width, height = self._model_image_size(inputs)
        return Generation(
            text=text,
            prompt_tokens=int(prompt_length),
            completion_tokens=int(new_tokens.numel()),
            model_width=width,
            model_height=height,
            token_logprobs=self._token_logprobs(new_tokens.tolist(), logprobs),
        )

    def _stop_reusing(self, exc: Exception) -> None:
        """A checkpoint prefix reuse was not proved on failed with it: this part and every
        later one compute their whole prompt."""
        log.warning("prefix reuse failed (%s); every part computes its whole prompt", exc)
        self._prefixes.disable()

    def _generate_from(self, inputs, reuse, prompt_length: int, temperature: float | None = None):
        """`generate` on the whole prompt, or continuing from its reused prefix; greedy, or
        sampled at `temperature` (a recipe's agreement.samples)."""
        given, options, context = inputs, {}, nullcontext()
        if reuse is not None:
            given, options, context = reuse.inputs, {"cache": reuse.cache}, given_cache(self._model)
        sampling: dict = {"do_sample": False}
        if temperature is not None:
            sampling = {"do_sample": True, "temperature": temperature, "top_k": 0, "top_p": 1.0}
        self.computed_prompt_tokens = prompt_length - (reuse.cached_tokens if reuse else 0)
        with context:
            return self._model.generate(
                **given,
                **options,
                max_new_tokens=self.settings.max_new_tokens,
                **sampling,
                # The raw logits of each step (before any processor of the generation config,
                # a repetition penalty say): the model's own distribution, for the measured
                # confidence. One row per new token, dropped once read below.
                output_logits=True,
                return_dict_in_generate=True,
                **self._generate_options(inputs),
            )

    def _generate_options(self, inputs) -> dict:
        """More keyword arguments for `generate` (none here; a test forces an answer with a
        logits processor to check the measured confidence against a forward pass)."""
        return {}

    def _token_logprobs(self, ids: list[int], logprobs: list[float]) -> tuple[TokenLogprob, ...]:
        """Each token's bytes as it adds to the decoded text (decoding the growing prefix: a
        token alone can be half a character or lose its leading space), with its logprob."""
        pieces = []
        previous = b""
        for i, logprob in enumerate(logprobs):
            text = self._tokenizer.decode(ids[: i + 1], skip_special_tokens=False)
            data = text.encode("utf-8", "surrogatepass")
            # By length: where a half character decoded as U+FFFD became a whole one, the
            # bytes before it change, but every later token still lands at its own offset.
            pieces.append(TokenLogprob(data[len(previous) :], logprob))
            previous = data
        return tuple(pieces)

    def _decode(self, tokens) -> str:
        """Keep thinking markers (the parser needs them) and drop every other special token."""
        text = self._tokenizer.decode(tokens, skip_special_tokens=False)
        for special in self._drop_tokens:
            text = text.replace(special, "")
        return text.strip()

    def _model_image_size(self, inputs, index: int = -1) -> tuple[int | None, int | None]:
        """The part image's size as the processor resized it, for pixel-box families (`index`:
        the part's image among the inputs'; the last for one prompt)."""
        grid = inputs.get("image_grid_thw")
        if grid is None or self._model_type not in _PIXEL_BOX_FAMILIES:
            return None, None
        image_processor = self._processor.image_processor
        patch = int(getattr(image_processor, "patch_size", 14))
        _, rows, cols = (int(v) for v in grid[index])
        return cols * patch, rows * patch


def _messages(prompt: Prompt, image_class) -> list[dict]:
    content = []
    for part in prompt.parts:
        if isinstance(part, TextPart):
            content.append({"type": "text", "text": part.text})
        else:
            content.append({"type": "image", "image": image_class.fromarray(part.rgb())})
    return [
        # A plain string: every family's template reads it (Mllama's prints a list as is).
        {"role": "system", "content": prompt.system},
        {"role": "user", "content": content},
    ]


def _until_end(tokens, end_ids: set[int]):
    """A batch row's new tokens up to and with its first end token (padding follows it)."""
    for i, token in enumerate(tokens.tolist()):
        if token in end_ids:
            return tokens[: i + 1]
    return tokens


def _chosen_logprobs(step_logits, tokens, row: int) -> list[float]:
    """The log-probability of each chosen token under the raw logits of its step."""
    import torch

    values = []
    for logits, token in zip(step_logits, tokens, strict=False):
        scores = logits[row].float()
        values.append(float(scores[token] - torch.logsumexp(scores, dim=-1)))
    return values


def _load_failure(name: str, is_local: bool, exc: Exception) -> str:
    if is_local:
        return f"model {name}: cannot load it from this folder ({first_line(exc)})"
    offline = os.environ.get("HF_HUB_OFFLINE") == "1"
    hint = " (HF_HUB_OFFLINE=1 is set)" if offline else ""
    return (
        f"model {name}: not in the local cache and it cannot be downloaded{hint}; "
        "give a local model folder in the recipe's `engines`, or connect this station once"
    )


def _in_hub_cache(name: str, revision: str | None) -> bool:
    from huggingface_hub import try_to_load_from_cache

    cached = try_to_load_from_cache(name, "config.json", revision=revision)
    return isinstance(cached, str)


def _check_hub_reachable(name: str) -> None:
    """Fail in a second, not after half a minute of retries, on a station with no network."""
    import socket
    from urllib.parse import urlparse

    if os.environ.get("HF_HUB_OFFLINE") == "1":
        raise EngineUnavailable(_load_failure(name, False, OSError("offline")))
    host = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co")).hostname or ""
    try:
        socket.getaddrinfo(host, 443)
    except OSError:
        raise EngineUnavailable(
            f"model {name}: not downloaded yet, and {host} cannot be reached from this station; "
            "give a local model folder in the recipe's `engines`, or connect the station once"
        ) from None


def _revision(config, local: Path | None) -> str | None:
    """The hub commit, or for a local folder a fingerprint of its files.

    The fingerprint covers names, sizes and the first and last MiB of each file: it tells a
    swapped or re-exported model apart at no cost, where a full hash of tens of GB would delay
    every start.
    """
    commit = getattr(config, "_commit_hash", None)
    if commit:
        return commit
    if local is None or not local.is_dir():
        return None
    digest = hashlib.sha256()
    for path in sorted(local.iterdir()):
        if not path.is_file():
            continue
        size = path.stat().st_size
        digest.update(f"{path.name}\0{size}\0".encode())
        with path.open("rb") as handle:
            digest.update(handle.read(1 << 20))
            if size > 2 << 20:
                handle.seek(-(1 << 20), os.SEEK_END)
                digest.update(handle.read())
    return "local-" + digest.hexdigest()[:16]
