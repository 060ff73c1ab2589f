"""`ovis2`: AIDC-AI's Ovis2 (1B ... 34B) in process, through the model's own code.

Ovis2 is not an AutoModelForImageTextToText: its checkpoint ships Python (`trust_remote_code`)
with its own input API. A conversation of `{"from": ..., "value": ...}` turns, with an
`<image>` placeholder where each image goes, and the PIL images, go through
`model.preprocess_inputs`, which tiles each image into up to `max_partition` crops; `generate`
takes the token ids and the pixel values and returns only the new tokens.

Running a model's own code is a decision for the recipe's author: it needs
`trust_remote_code: true` in the engine entry. torch and transformers are imported on load.
"""

from __future__ import annotations

import threading
from typing import Literal

from pydantic import Field

from inspector.errors import EngineUnavailable
from inspector.judges.answers import BoxConvention
from inspector.judges.failures import first_line
from inspector.judges.judge import Generation, Judge, Progress
from inspector.judges.local_model import (
    LocalModelSettings,
    model_folder,
    placement,
    store_revision,
)
from inspector.judges.prompt import Prompt, TextPart

IMAGE_PLACEHOLDER = "<image>"


class Ovis2Settings(LocalModelSettings):
    engine: Literal["ovis2"] = "ovis2"
    trust_remote_code: bool = False  # must be true: Ovis2 runs the code in its checkpoint
    max_partition: int | None = Field(default=None, ge=1, le=16)  # unset: 9, or 4 per image
    multimodal_max_length: int = Field(default=32768, ge=1024)


class Ovis2Judge(Judge):
    engine = "ovis2"
    samples_vary = True  # a prompt's temperature is honoured (agreement.samples)
    Settings = Ovis2Settings
    settings: Ovis2Settings
    requires = ("torch", "transformers")
    extra = "local"

    def __init__(self, settings: Ovis2Settings, recipe) -> None:
        super().__init__(settings, recipe)
        self._model = None
        self._text_tokenizer = None
        self._visual_tokenizer = None
        self._lock = threading.Lock()

    def check(self) -> str | None:
        if not self.settings.trust_remote_code:
            return _REMOTE_CODE
        return None

    def load(self, progress: Progress | None = None) -> None:
        if self._model is not None:
            return
        if not self.settings.trust_remote_code:
            raise EngineUnavailable(_REMOTE_CODE)
        try:
            import torch
            from transformers import AutoConfig, AutoModelForCausalLM
        except ImportError as exc:
            raise EngineUnavailable(
                f"the ovis2 engine needs torch and transformers ({exc.name} is missing): "
                "pip install 'inspector[local]'"
            ) from None
        name = self.settings.model
        folder = model_folder(name, self.settings.revision)
        device, dtype = placement(torch, self.settings.device, self.settings.dtype)
        if progress:
            progress(f"loading {name} (Ovis2, remote code) on {device}")
        source = str(folder) if folder else name
        options = {"trust_remote_code": True, "revision": self.settings.revision}
        try:
            config = AutoConfig.from_pretrained(source, **options)
        except (OSError, ValueError, KeyError) as exc:
            raise EngineUnavailable(
                f"model {name}: cannot read its config ({first_line(exc)})"
            ) from None
        if getattr(config, "model_type", "") != "ovis":
            raise EngineUnavailable(
                f"model {name} is a {config.model_type} checkpoint, not an Ovis2 checkpoint; "
                "use `engine: transformers` for it"
            )
        try:
            model = AutoModelForCausalLM.from_pretrained(
                source,
                dtype=dtype,
                multimodal_max_length=self.settings.multimodal_max_length,
                **options,
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise EngineUnavailable(
                f"model {name}: cannot load it as Ovis2 ({first_line(exc)})"
            ) from None
        if not hasattr(model, "preprocess_inputs"):
            raise EngineUnavailable(
                f"model {name} is not an Ovis2 checkpoint (it has no preprocess_inputs); "
                "use `engine: transformers` for it"
            )
        self._model = model.to(device).eval()
        self._text_tokenizer = model.get_text_tokenizer()
        self._visual_tokenizer = model.get_visual_tokenizer()
        self.model_revision = (
            store_revision(name, self.settings.revision)
            or self.settings.revision
            or getattr(model.config, "_commit_hash", None)
        )

    def _generate(self, prompt: Prompt, convention: BoxConvention) -> Generation:
        import torch

        if self._model is None:
            self.load()
        model, tokenizer = self._model, self._text_tokenizer
        turns, images = conversation(prompt)
        partitions = self.settings.max_partition or (9 if len(images) == 1 else 4)
        _, input_ids, pixel_values = model.preprocess_inputs(
            turns, images, max_partition=partitions
        )
        attention_mask = torch.ne(input_ids, tokenizer.pad_token_id).unsqueeze(0)
        input_ids = input_ids.unsqueeze(0).to(model.device)
        if pixel_values is not None:
            pixel_values = pixel_values.to(
                dtype=self._visual_tokenizer.dtype, device=self._visual_tokenizer.device
            )
        with self._lock, torch.inference_mode():
            output = model.generate(
                input_ids,
                pixel_values=[pixel_values],
                attention_mask=attention_mask.to(model.device),
                max_new_tokens=self.settings.max_new_tokens,
                **_sampling(prompt),
                eos_token_id=model.generation_config.eos_token_id,
                pad_token_id=tokenizer.pad_token_id,
                use_cache=True,
            )[0]
        return Generation(
            text=decode(tokenizer, output),
            prompt_tokens=int(input_ids.shape[-1]),
            completion_tokens=int(output.numel()),
        )


_REMOTE_CODE = (
    "Ovis2 runs Python code that ships with the checkpoint: review it, then set "
    "`trust_remote_code: true` in this engine entry"
)


def conversation(prompt: Prompt) -> tuple[list[dict], list]:
    """Ovis2's conversation for a prompt, an `<image>` where each image goes, and the images."""
    from PIL import Image

    pieces: list[str] = []
    images = []
    for part in prompt.parts:
        if isinstance(part, TextPart):
            pieces.append(part.text)
        else:
            images.append(Image.fromarray(part.rgb()))
            pieces.append(f"Image {len(images)}: {IMAGE_PLACEHOLDER}")
    turns = [
        {"from": "system", "value": prompt.system},
        {"from": "human", "value": "\n".join(pieces)},
    ]
    return turns, images


def decode(tokenizer, token_ids) -> str:
    """The new tokens as text, without special tokens (Ovis2 wraps no thinking in them)."""
    return tokenizer.decode(token_ids, skip_special_tokens=True).strip()


def _sampling(prompt: Prompt) -> dict:
    """Greedy, except a sampled look's (agreement.samples)."""
    if prompt.temperature is None:
        return {"do_sample": False}
    return {"do_sample": True, "temperature": prompt.temperature}
