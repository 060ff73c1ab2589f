"""Tiny random-weight checkpoints of real vision-language architectures, for tests.

No model hub is reachable on the development and CI machines, so the tests cannot download
real weights. Instead, `build_tiny_model(family, out_dir)` writes a complete checkpoint
directory (config, safetensors weights, generation config, tokenizer, image processor,
processor config and the family's real chat template, from chat_templates.py) for one of:

- ``gemma3``: ``Gemma3ForConditionalGeneration`` (SigLIP tower, ``Gemma3Processor``,
  ``GemmaTokenizer`` with SentencePiece-style byte fallback),
- ``qwen2_5_vl``: ``Qwen2_5_VLForConditionalGeneration`` (``Qwen2_5_VLProcessor``,
  ``Qwen2Tokenizer``),
- ``internvl``: ``InternVLForConditionalGeneration``, the ``-hf`` format (Qwen2 text model,
  ``InternVLProcessor`` with ``GotOcr2ImageProcessor`` tiling, ``Qwen2Tokenizer``),
- ``mllama``: ``MllamaForConditionalGeneration``, Llama 3.2 Vision (cross-attention,
  ``MllamaProcessor``, ``TokenizersBackend``/``PreTrainedTokenizerFast``).

The directory then loads exactly like a real checkpoint, in a fresh process, with
``HF_HUB_OFFLINE=1``::

    processor = AutoProcessor.from_pretrained(d)
    model = AutoModelForImageTextToText.from_pretrained(d, dtype=torch.float32)
    inputs = processor.apply_chat_template(messages, add_generation_prompt=True,
                                           tokenize=True, return_dict=True, return_tensors="pt")
    out = model.generate(**inputs, max_new_tokens=16, do_sample=False)

All four take a system message and several images (e.g. a reference and a part) in one user
turn. The weights are random (``torch.manual_seed(0)``), so the answers are noise: tests
should check the plumbing (the image reached the model as image tokens, generation ran, the
answer was parsed or declared unsure), never the judgement. A build takes well under a second
once torch and transformers are imported; a checkpoint is under 1.1 MB. 16 new tokens take
about 20-40 ms with ``torch.set_num_threads(1)``; with several OpenMP threads on a busy 2-core
machine the same call can take 0.1-0.6 s, so tests should pin one thread.

Per-family notes that mirror the real checkpoints:

- gemma3: every image becomes ``\\n\\n<start_of_image>`` + ``image_seq_length`` (4) x
  ``<image_soft_token>`` + ``<end_of_image>\\n\\n``; the soft token is the one in
  ``input_ids`` that carries the image (``Gemma3Processor.image_token_id`` is the
  *begin-of-image* id, use :func:`image_token_id`). Generation stops at ``<end_of_turn>``.
- qwen2_5_vl: the number of ``<|image_pad|>`` tokens depends on the image size
  (``min_pixels``/``max_pixels`` keep it at 4 to 8 here). Without a system message the template
  inserts the default "You are a helpful assistant." system turn.
- internvl: images are tiled (``crop_to_patches``, up to 4 tiles plus a thumbnail), each tile
  becomes ``image_seq_length`` (4) x ``<IMG_CONTEXT>`` between ``<img>`` and ``</img>``.
- mllama: images go through cross-attention; each image is one ``<|image|>`` token in
  ``input_ids`` (plus ``cross_attention_mask``), tiles up to 2 per image. The template is the
  current Hub one (a system message is allowed with images; the older template raised
  "Prompting with images is incompatible with system messages"). Like the real template it
  reads the system message as ``messages[0]['content']|trim``: a system message given as a
  *list* of parts is rendered as that list's Python repr, so send it as a plain string (which
  all four templates accept).
"""

from __future__ import annotations

import json
import pathlib

from tests.support.chat_templates import (
    GEMMA3_CHAT_TEMPLATE,
    INTERNVL_CHAT_TEMPLATE,
    MLLAMA_CHAT_TEMPLATE,
    QWEN2_5_VL_CHAT_TEMPLATE,
)

FAMILIES: tuple[str, ...] = ("gemma3", "qwen2_5_vl", "internvl", "mllama")

# --------------------------------------------------------------------------------------------
# Tokenizers
# --------------------------------------------------------------------------------------------

_CORPUS_LINES = (
    '{"outcome": "PASS", "defects": [], "reason": "The part matches the reference."}',
    '{"outcome": "FAIL", "defects": ["scratch"], "reason": "A scratch on the left edge."}',
    '{"outcome": "FAIL", "defects": ["missing_component", "solder_bridge"], "reason": "..."}',
    '{"outcome": "UNSURE", "defects": [], "reason": "The image is too dark to judge."}',
    '{"outcome": "PASS", "defects": [], "reason": "No visible defects."}',
    '```json\n{"outcome": "FAIL", "defects": [{"type": "crack", "box": [12, 40, 88, 120]}]}\n```',
    "You inspect parts. Answer with JSON.",
    "You are a helpful assistant.",
    "Reference image of a good part:",
    "Part to inspect:",
    "Compare the part with the reference and report every defect you see.",
    "The quick brown fox jumps over the lazy dog. 0123456789",
    "Defects: scratch, dent, crack, stain, missing hole, open circuit, short, spur, mouse bite.",
    "Is the surface clean? Yes. Is the part aligned? No, it is rotated by 5 degrees.",
    "true false null, : ; ( ) [ ] { } < > / \\ | _ - + = * & % $ # @ ! ? ' \" ` ~ ^",
    "Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n",
)


def _corpus() -> list[str]:
    return list(_CORPUS_LINES) * 4


def _dump_merges(tokenizer) -> list[tuple[str, str]]:
    model = json.loads(tokenizer.to_str())["model"]
    return [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in model["merges"]]


def _train_byte_level_bpe(
    special_tokens: list[str], vocab_size: int, pre_tokenizer=None
) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """Byte-level BPE (GPT-2 alphabet), special tokens first (ids 0..n-1)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizer or pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=special_tokens,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(_corpus(), trainer=trainer)
    return tok.get_vocab(), _dump_merges(tok)


def _train_sentencepiece_style_bpe(
    special_tokens: list[str], vocab_size: int
) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """SentencePiece-style BPE as Gemma uses it: specials, then <0x00>..<0xFF>, then pieces on
    text where spaces are "▁" (byte fallback covers everything else)."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE(byte_fallback=True))
    tok.normalizer = normalizers.Replace(" ", "\u2581")
    tok.pre_tokenizer = pre_tokenizers.Split("\u2581", behavior="merged_with_next")
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, show_progress=False)
    tok.train_from_iterator(_corpus(), trainer=trainer)
    trained = sorted(tok.get_vocab().items(), key=lambda kv: kv[1])

    vocab: dict[str, int] = {}
    for token in [*special_tokens, *(f"<0x{b:02X}>" for b in range(256))]:
        vocab.setdefault(token, len(vocab))
    for token, _ in trained:
        vocab.setdefault(token, len(vocab))
    return vocab, _dump_merges(tok)


# --------------------------------------------------------------------------------------------
# Families
# --------------------------------------------------------------------------------------------

_TEXT = {
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "max_position_embeddings": 4096,
}


def _vocab_size(tokenizer) -> int:
    # Round up like the real checkpoints do (padding the embedding matrix).
    return (len(tokenizer) + 63) // 64 * 64


def _save(model, processor, generation_kwargs: dict, out_dir: pathlib.Path) -> None:
    from transformers import GenerationConfig

    model.generation_config = GenerationConfig(**generation_kwargs)
    model.save_pretrained(out_dir)
    processor.save_pretrained(out_dir)


def _build_gemma3(out_dir: pathlib.Path) -> None:
    import torch
    from transformers import (
        Gemma3Config,
        Gemma3ForConditionalGeneration,
        Gemma3ImageProcessor,
        Gemma3Processor,
        GemmaTokenizer,
    )

    specials = {
        "pad_token": "<pad>",
        "eos_token": "<eos>",
        "bos_token": "<bos>",
        "unk_token": "<unk>",
        "mask_token": "<mask>",
    }
    named = {
        "boi_token": "<start_of_image>",
        "eoi_token": "<end_of_image>",
        "image_token": "<image_soft_token>",
    }
    turn = ["<start_of_turn>", "<end_of_turn>"]
    vocab, merges = _train_sentencepiece_style_bpe(
        [*specials.values(), *turn, *named.values()], vocab_size=700
    )
    tokenizer = GemmaTokenizer(
        vocab=vocab,
        merges=merges,
        **specials,
        extra_special_tokens=turn,
        **named,
        add_bos_token=True,
        padding_side="left",
    )

    image_size, patch_size, tokens_per_image = 32, 8, 4  # 4x4 patches pooled 2x2 -> 4 tokens
    image_processor = Gemma3ImageProcessor(
        size={"height": image_size, "width": image_size},
        image_mean=[0.5, 0.5, 0.5],
        image_std=[0.5, 0.5, 0.5],
        do_pan_and_scan=False,
    )
    processor = Gemma3Processor(
        image_processor=image_processor,
        tokenizer=tokenizer,
        chat_template=GEMMA3_CHAT_TEMPLATE,
        image_seq_length=tokens_per_image,
    )

    ids = {k: tokenizer.convert_tokens_to_ids(v) for k, v in {**specials, **named}.items()}
    end_of_turn = tokenizer.convert_tokens_to_ids("<end_of_turn>")
    text_config = {
        "model_type": "gemma3_text",
        **_TEXT,
        "vocab_size": _vocab_size(tokenizer),
        "head_dim": 16,
        "query_pre_attn_scalar": 16,
        "sliding_window": 64,
        "layer_types": ["sliding_attention", "full_attention"],
        "pad_token_id": ids["pad_token"],
        "bos_token_id": ids["bos_token"],
        "eos_token_id": [ids["eos_token"], end_of_turn],
    }
    vision_config = {
        "model_type": "siglip_vision_model",
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_hidden_layers": 1,
        "num_attention_heads": 2,
        "image_size": image_size,
        "patch_size": patch_size,
        "vision_use_head": False,
    }
    config = Gemma3Config(
        text_config=text_config,
        vision_config=vision_config,
        mm_tokens_per_image=tokens_per_image,
        boi_token_index=ids["boi_token"],
        eoi_token_index=ids["eoi_token"],
        image_token_index=ids["image_token"],
        pad_token_id=ids["pad_token"],
        bos_token_id=ids["bos_token"],
        eos_token_id=[ids["eos_token"], end_of_turn],
    )
    model = Gemma3ForConditionalGeneration(config).eval()
    # The real init zeroes the projection, which would make every image embed to zeros.
    with torch.no_grad():
        model.model.multi_modal_projector.mm_input_projection_weight.normal_(std=0.02)
    _save(
        model,
        processor,
        {
            "bos_token_id": ids["bos_token"],
            "eos_token_id": [ids["eos_token"], end_of_turn],
            "pad_token_id": ids["pad_token"],
        },
        out_dir,
    )


def _build_qwen2_5_vl(out_dir: pathlib.Path) -> None:
    from transformers import (
        Qwen2_5_VLConfig,
        Qwen2_5_VLForConditionalGeneration,
        Qwen2_5_VLProcessor,
        Qwen2Tokenizer,
        Qwen2VLImageProcessor,
        Qwen2VLVideoProcessor,
    )

    specials = [
        "<|endoftext|>",
        "<|im_start|>",
        "<|im_end|>",
        "<|object_ref_start|>",
        "<|object_ref_end|>",
        "<|box_start|>",
        "<|box_end|>",
        "<|quad_start|>",
        "<|quad_end|>",
        "<|vision_start|>",
        "<|vision_end|>",
        "<|vision_pad|>",
        "<|image_pad|>",
        "<|video_pad|>",
    ]
    vocab, merges = _train_byte_level_bpe(specials, vocab_size=600)
    tokenizer = Qwen2Tokenizer(
        vocab=vocab,
        merges=merges,
        unk_token=None,
        bos_token=None,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        extra_special_tokens=specials,
        image_token="<|image_pad|>",
        video_token="<|video_pad|>",
        vision_bos_token="<|vision_start|>",
        vision_eos_token="<|vision_end|>",
        padding_side="left",
    )

    # smart_resize keeps 56*56 <= h*w <= 28*28*8 -> 4..8 merged tokens per image.
    pixels = {"min_pixels": 56 * 56, "max_pixels": 28 * 28 * 8}
    geometry = {"patch_size": 14, "temporal_patch_size": 2, "merge_size": 2}
    processor = Qwen2_5_VLProcessor(
        image_processor=Qwen2VLImageProcessor(**pixels, **geometry),
        tokenizer=tokenizer,
        video_processor=Qwen2VLVideoProcessor(**pixels, **geometry),
        chat_template=QWEN2_5_VL_CHAT_TEMPLATE,
    )

    tid = tokenizer.convert_tokens_to_ids
    eos = [tid("<|im_end|>"), tid("<|endoftext|>")]
    text_config = {
        **_TEXT,
        "vocab_size": _vocab_size(tokenizer),
        "rope_parameters": {"rope_type": "default", "rope_theta": 1e6, "mrope_section": [2, 3, 3]},
        "bos_token_id": tid("<|endoftext|>"),
        "eos_token_id": tid("<|im_end|>"),
        "pad_token_id": tid("<|endoftext|>"),
    }
    vision_config = {
        "depth": 2,
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_heads": 2,
        "out_hidden_size": _TEXT["hidden_size"],
        "fullatt_block_indexes": [1],
        "window_size": 112,
        "patch_size": 14,
        "spatial_merge_size": 2,
        "temporal_patch_size": 2,
    }
    config = Qwen2_5_VLConfig(
        text_config=text_config,
        vision_config=vision_config,
        image_token_id=tid("<|image_pad|>"),
        video_token_id=tid("<|video_pad|>"),
        vision_start_token_id=tid("<|vision_start|>"),
        vision_end_token_id=tid("<|vision_end|>"),
    )
    model = Qwen2_5_VLForConditionalGeneration(config).eval()
    _save(
        model,
        processor,
        {"bos_token_id": tid("<|endoftext|>"), "eos_token_id": eos, "pad_token_id": eos[1]},
        out_dir,
    )


def _build_internvl(out_dir: pathlib.Path) -> None:
    from transformers import (
        GotOcr2ImageProcessor,
        InternVLConfig,
        InternVLForConditionalGeneration,
        InternVLProcessor,
        InternVLVideoProcessor,
        Qwen2Tokenizer,
    )

    named = {
        "start_image_token": "<img>",
        "end_image_token": "</img>",
        "context_image_token": "<IMG_CONTEXT>",
        "video_token": "<video>",
    }
    specials = [
        "<|endoftext|>",
        "<|im_start|>",
        "<|im_end|>",
        "<img>",
        "</img>",
        "<IMG_CONTEXT>",
        "<quad>",
        "</quad>",
        "<ref>",
        "</ref>",
        "<box>",
        "</box>",
        "<video>",
    ]
    vocab, merges = _train_byte_level_bpe(specials, vocab_size=600)
    tokenizer = Qwen2Tokenizer(
        vocab=vocab,
        merges=merges,
        unk_token=None,
        bos_token=None,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        extra_special_tokens=specials,
        **named,
        padding_side="left",
    )

    image_size, patch_size, downsample = 32, 8, 0.5
    image_seq_length = int((image_size // patch_size) ** 2 * downsample**2)  # 4 per tile
    mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
    size = {"height": image_size, "width": image_size}
    processor = InternVLProcessor(
        image_processor=GotOcr2ImageProcessor(
            size=size,
            crop_to_patches=True,
            min_patches=1,
            max_patches=4,
            image_mean=mean,
            image_std=std,
        ),
        tokenizer=tokenizer,
        video_processor=InternVLVideoProcessor(size=size, image_mean=mean, image_std=std),
        image_seq_length=image_seq_length,
        chat_template=INTERNVL_CHAT_TEMPLATE,
    )

    tid = tokenizer.convert_tokens_to_ids
    eos = tid("<|im_end|>")
    text_config = {
        "model_type": "qwen2",
        **_TEXT,
        "vocab_size": _vocab_size(tokenizer),
        "rope_parameters": {"rope_type": "default", "rope_theta": 1e6},
        "bos_token_id": tid("<|endoftext|>"),
        "eos_token_id": eos,
        "pad_token_id": tid("<|endoftext|>"),
        "tie_word_embeddings": True,
    }
    vision_config = {
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_hidden_layers": 1,
        "num_attention_heads": 2,
        "image_size": [image_size, image_size],
        "patch_size": [patch_size, patch_size],
    }
    config = InternVLConfig(
        vision_config=vision_config,
        text_config=text_config,
        image_token_id=tid("<IMG_CONTEXT>"),
        image_seq_length=image_seq_length,
        downsample_ratio=downsample,
    )
    model = InternVLForConditionalGeneration(config).eval()
    _save(
        model,
        processor,
        {
            "bos_token_id": tid("<|endoftext|>"),
            "eos_token_id": eos,
            "pad_token_id": tid("<|endoftext|>"),
        },
        out_dir,
    )


# Llama 3 pre-tokenizer split (tiktoken-style), then byte-level without its own regex.
_LLAMA3_SPLIT = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)


def _build_mllama(out_dir: pathlib.Path) -> None:
    import torch
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers
    from transformers import (
        MllamaConfig,
        MllamaForConditionalGeneration,
        MllamaImageProcessor,
        MllamaProcessor,
        PreTrainedTokenizerFast,
    )

    specials = [
        "<|begin_of_text|>",
        "<|end_of_text|>",
        "<|reserved_special_token_0|>",
        "<|reserved_special_token_1|>",
        "<|finetune_right_pad_id|>",
        "<|step_id|>",
        "<|start_header_id|>",
        "<|end_header_id|>",
        "<|eom_id|>",
        "<|eot_id|>",
        "<|python_tag|>",
        "<|image|>",
    ]
    pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(_LLAMA3_SPLIT), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    vocab, merges = _train_byte_level_bpe(specials, vocab_size=600, pre_tokenizer=pre_tokenizer)
    backend = Tokenizer(models.BPE(vocab=vocab, merges=merges, ignore_merges=True))
    backend.pre_tokenizer = pre_tokenizer
    backend.decoder = decoders.ByteLevel()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        bos_token="<|begin_of_text|>",
        eos_token="<|eot_id|>",
        pad_token="<|finetune_right_pad_id|>",
        extra_special_tokens=specials,
        image_token="<|image|>",
        add_bos_token=True,
        model_input_names=["input_ids", "attention_mask"],
    )

    image_size, patch_size, max_tiles = 32, 8, 2
    processor = MllamaProcessor(
        image_processor=MllamaImageProcessor(
            size={"height": image_size, "width": image_size},
            max_image_tiles=max_tiles,
            image_mean=[0.48145466, 0.4578275, 0.40821073],
            image_std=[0.26862954, 0.26130258, 0.27577711],
        ),
        tokenizer=tokenizer,
        chat_template=MLLAMA_CHAT_TEMPLATE,
    )

    tid = tokenizer.convert_tokens_to_ids
    eos = [tid("<|end_of_text|>"), tid("<|eom_id|>"), tid("<|eot_id|>")]
    text_config = {
        **_TEXT,
        "vocab_size": _vocab_size(tokenizer),
        "max_position_embeddings": 131072,
        "cross_attention_layers": [1],
        "rope_parameters": {
            "rope_type": "llama3",
            "rope_theta": 500000.0,
            "factor": 8.0,
            "low_freq_factor": 1.0,
            "high_freq_factor": 4.0,
            "original_max_position_embeddings": 8192,
        },
        "bos_token_id": tid("<|begin_of_text|>"),
        "eos_token_id": eos,
        "pad_token_id": tid("<|finetune_right_pad_id|>"),
    }
    vision_hidden, intermediate_layers = 32, [0]
    vision_config = {
        "hidden_size": vision_hidden,
        "intermediate_size": 64,
        "num_hidden_layers": 2,
        "num_global_layers": 1,
        "attention_heads": 2,
        "image_size": image_size,
        "patch_size": patch_size,
        "max_num_tiles": max_tiles,
        "supported_aspect_ratios": [[1, 1], [1, 2], [2, 1]],  # get_all_supported_aspect_ratios(2)
        "intermediate_layers_indices": intermediate_layers,
        "vision_output_dim": vision_hidden * (len(intermediate_layers) + 1),
    }
    config = MllamaConfig(
        vision_config=vision_config,
        text_config=text_config,
        image_token_index=tid("<|image|>"),
    )
    model = MllamaForConditionalGeneration(config).eval()
    # The real init zeroes the cross-attention gates (tanh(0) = 0), which would cut the images
    # off from the text; trained checkpoints have them open.
    with torch.no_grad():
        for layer in model.model.language_model.layers:
            if hasattr(layer, "cross_attn_attn_gate"):
                layer.cross_attn_attn_gate.fill_(1.0)
                layer.cross_attn_mlp_gate.fill_(1.0)
    _save(
        model,
        processor,
        {
            "bos_token_id": tid("<|begin_of_text|>"),
            "eos_token_id": eos,
            "pad_token_id": tid("<|finetune_right_pad_id|>"),
        },
        out_dir,
    )


_BUILDERS = {
    "gemma3": _build_gemma3,
    "qwen2_5_vl": _build_qwen2_5_vl,
    "internvl": _build_internvl,
    "mllama": _build_mllama,
}


def build_tiny_model(family: str, out_dir: pathlib.Path) -> pathlib.Path:
    """Build a tiny random-weight checkpoint of `family` into out_dir (created), return out_dir."""
    if family not in _BUILDERS:
        raise ValueError(f"unknown family {family!r}; expected one of {FAMILIES}")
    import torch

    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    _BUILDERS[family](out_dir)
    return out_dir


def image_token_id(processor) -> int:
    """Id of the token that stands for image content in `input_ids` for a loaded processor.

    Gemma 3: ``<image_soft_token>`` (not ``processor.image_token_id``, which is
    ``<start_of_image>``); Qwen2.5-VL: ``<|image_pad|>``; InternVL: ``<IMG_CONTEXT>``;
    Mllama: ``<|image|>`` (one per image).
    """
    ids = getattr(processor, "image_token_ids", None)
    if ids and ids[0] is not None:
        return int(ids[0])
    tokenizer = processor.tokenizer
    if getattr(tokenizer, "image_token_id", None) is not None:
        return int(tokenizer.image_token_id)
    return int(processor.image_token_id)
