"""The transformers engine reuses the recipe's prefix (instructions, references) across parts.

On the tiny random-weight models of each real family: the greedy answer with the reused
key/value cache equals the answer computed from scratch, token for token; the model computes
only the part's tokens (counted where they enter the text model), and the vision tower sees
only the part's image.
"""

from __future__ import annotations

import logging

import numpy as np
import pytest

from inspector.judges import build_chain
from inspector.judges.answers import BoxConvention
from inspector.judges.prompt import SUSPECTS_MARKED, build_prompt
from inspector.recipes import load_recipe
from tests.support.recipes import recipe_file
from tests.support.tiny_models import FAMILIES, image_token_id

NEW_TOKENS = 10


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _images(count: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 255, (120, 160, 3), np.uint8) for _ in range(count)]


def _judge(folder, model_dir, prefix_cache: int):
    engine = {
        "engine": "transformers",
        "model": str(model_dir),
        "max_new_tokens": NEW_TOKENS,
        "device": "cpu",
        "prefix_cache": prefix_cache,
    }
    folder.mkdir(exist_ok=True)
    path = recipe_file(folder, [engine])
    judge = build_chain(load_recipe(path), str(path)).judges[0]
    judge.set_references(_images(2, seed=7))
    judge.load()
    # Random weights often end at once: never before NEW_TOKENS, so that every step compares.
    judge._generate_options = lambda inputs: {"min_new_tokens": NEW_TOKENS}
    return judge


class _Seen:
    """The sequence lengths entering the text model, and the pixel inputs of the vision tower."""

    def __init__(self, judge) -> None:
        model = judge._model
        self.text: list[int] = []
        self.vision: list[tuple[int, ...]] = []
        model.get_input_embeddings().register_forward_hook(
            lambda module, args, output: self.text.append(int(args[0].shape[-1]))
        )
        tower = next(
            getattr(model.model, name)
            for name in ("vision_tower", "visual", "vision_model")
            if hasattr(model.model, name)
        )
        tower.register_forward_pre_hook(self._vision, with_kwargs=True)

    def _vision(self, module, args, kwargs):
        pixels = args[0] if args else kwargs.get("pixel_values", kwargs.get("hidden_states"))
        self.vision.append(tuple(pixels.shape))

    def clear(self) -> None:
        self.text.clear()
        self.vision.clear()


def _prompt(judge, part, hint=""):
    return build_prompt(judge.recipe, part, judge._references, judge.box_convention(), hint)


def _shared(a, b) -> int:
    a, b = a[0].tolist(), b[0].tolist()
    return next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), len(a))


@pytest.mark.parametrize("family", FAMILIES)
def test_reusing_the_prefix_gives_the_same_greedy_answer(family, tiny_models, tmp_path):
    reusing = _judge(tmp_path / "reuse", tiny_models[family], prefix_cache=8)
    fresh = _judge(tmp_path / "fresh", tiny_models[family], prefix_cache=0)
    seen, seen_fresh = _Seen(reusing), _Seen(fresh)
    convention = reusing.box_convention()
    image_id = image_token_id(reusing._processor)
    for i, part in enumerate(_images(3, seed=11)):
        hint = SUSPECTS_MARKED if i == 2 else ""  # a part's own text after the prefix
        prompt = _prompt(reusing, part, hint)
        seen.clear()
        seen_fresh.clear()
        with_cache = reusing._generate(prompt, convention)
        without = fresh._generate(prompt, convention)

        assert with_cache.completion_tokens == without.completion_tokens == NEW_TOKENS
        assert with_cache.text == without.text
        assert [t.data for t in with_cache.token_logprobs] == [
            t.data for t in without.token_logprobs
        ]
        assert [t.logprob for t in with_cache.token_logprobs] == pytest.approx(
            [t.logprob for t in without.token_logprobs], abs=1e-4
        )
        assert with_cache.prompt_tokens == without.prompt_tokens
        assert fresh.computed_prompt_tokens == without.prompt_tokens
        assert seen_fresh.text[0] == without.prompt_tokens  # the whole prompt, every part
        if i == 0:  # the first part computes the prefix, then its own tokens
            assert len(reusing._prefixes) == 1
            assert seen.text[0] + seen.text[1] == with_cache.prompt_tokens
            continue

        # From the second part on: the text model's first input is the part's tokens only.
        computed = reusing.computed_prompt_tokens
        assert seen.text[0] == computed < with_cache.prompt_tokens
        ids = reusing.encode(prompt)["input_ids"]
        other = reusing.encode(_prompt(reusing, part, "Something else entirely."))["input_ids"]
        cached = with_cache.prompt_tokens - computed
        # The prefix ends where the part's own text begins (or one token before, at the seam).
        assert _shared(ids, other) - 1 <= cached <= _shared(ids, other)
        alone = reusing.encode(build_prompt(reusing.recipe, part, [], convention, hint))
        part_image_tokens = int((alone["input_ids"] == image_id).sum())
        assert int((ids[0, cached:] == image_id).sum()) == part_image_tokens
        # The vision tower ran once, on the part's image alone (not the references again).
        [pixels] = seen.vision
        assert pixels == _vision_input_of(fresh, alone)
        assert len(reusing._prefixes) == 1  # still the one prefix


def _vision_input_of(judge, inputs) -> tuple[int, ...]:
    """The shape the vision tower is handed for these inputs (a plain forward, counted)."""
    import torch

    seen = _Seen(judge)
    with torch.inference_mode():
        judge._model(**inputs)
    return seen.vision[-1]


def test_a_prefix_that_no_longer_matches_is_computed_again_and_said(tiny_models, tmp_path, caplog):
    reusing = _judge(tmp_path / "reuse", tiny_models["qwen2_5_vl"], prefix_cache=8)
    fresh = _judge(tmp_path / "fresh", tiny_models["qwen2_5_vl"], prefix_cache=0)
    first, second = _images(2, seed=5)
    convention = reusing.box_convention()
    reusing._generate(_prompt(reusing, first), convention)
    [entry] = reusing._prefixes._entries.values()
    entry.ids = entry.ids.clone()
    entry.ids[0, -1] += 1  # as if the tokenizer had cut the seam otherwise
    with caplog.at_level(logging.INFO, logger="inspector.judges.engines.prefix_cache"):
        answer = reusing._generate(_prompt(reusing, second), convention)
    assert "does not start with the cached prefix" in caplog.text
    assert answer.text == fresh._generate(_prompt(fresh, second), convention).text
    [entry] = reusing._prefixes._entries.values()
    assert entry.hits == 1  # a new entry, used once


def test_a_family_not_proved_here_computes_every_prompt_and_says_so(tiny_models, tmp_path, caplog):
    judge = _judge(tmp_path / "other", tiny_models["gemma3"], prefix_cache=8)
    judge._prefixes._family = "idefics3"  # a family whose cache continuation is not proved
    part = _images(1, seed=2)[0]
    with caplog.at_level(logging.INFO, logger="inspector.judges.engines.prefix_cache"):
        for _ in range(2):
            generation = judge._generate(_prompt(judge, part), BoxConvention.XYXY_1000)
            assert judge.computed_prompt_tokens == generation.prompt_tokens
    assert caplog.text.count("'idefics3': no prefix reuse") == 1  # said once
    assert len(judge._prefixes) == 0


def test_tiles_keep_one_prefix_each(tiny_models, tmp_path):
    """A tile's references are cut like the tile: each view has a prefix of its own, reused
    from part to part (one by one: a batch's rows are padded and do not reuse)."""
    folder = tmp_path / "tiles"
    folder.mkdir()
    engine = {
        "engine": "transformers",
        "model": str(tiny_models["internvl"]),
        "max_new_tokens": 4,
        "device": "cpu",
        "batch_size": 1,
    }
    path = recipe_file(folder, [engine], tiles={"size": 96, "overlap": 0.1})
    chain = build_chain(load_recipe(path), str(path))
    judge = chain.judges[0]
    judge.set_references(_images(1, seed=3))
    chain.load()
    first, second = _images(2, seed=4)
    views = len(chain.judge(first).attempts)
    assert views > 2
    assert len(judge._prefixes) == views
    hits = sum(e.hits for e in judge._prefixes._entries.values())
    chain.judge(second)
    assert len(judge._prefixes) == views
    assert sum(e.hits for e in judge._prefixes._entries.values()) == hits + views


def test_a_checkpoint_that_names_its_cache_implementation_still_reuses(tiny_models, tmp_path):
    """Real Gemma 3 checkpoints name a cache implementation in their generation config, which
    makes `generate` refuse a given cache: it is set aside for the call, and put back."""
    reusing = _judge(tmp_path / "reuse", tiny_models["gemma3"], prefix_cache=8)
    fresh = _judge(tmp_path / "fresh", tiny_models["gemma3"], prefix_cache=0)
    for judge in (reusing, fresh):
        judge._model.generation_config.cache_implementation = "static"
    convention = reusing.box_convention()
    for part in _images(2, seed=8):
        prompt = _prompt(reusing, part)
        assert (
            reusing._generate(prompt, convention).text == fresh._generate(prompt, convention).text
        )
    assert reusing.computed_prompt_tokens < fresh.computed_prompt_tokens
    assert reusing._model.generation_config.cache_implementation == "static"


def test_a_reuse_the_model_refuses_falls_back_to_the_whole_prompt_for_good(
    tiny_models, tmp_path, caplog
):
    reusing = _judge(tmp_path / "reuse", tiny_models["qwen2_5_vl"], prefix_cache=8)
    fresh = _judge(tmp_path / "fresh", tiny_models["qwen2_5_vl"], prefix_cache=0)
    first, second, third = _images(3, seed=6)
    convention = reusing.box_convention()
    reusing._generate(_prompt(reusing, first), convention)
    [entry] = reusing._prefixes._entries.values()
    # As a checkpoint whose inputs this was not proved on: the vision tower is handed every
    # image's grid for the part's patches only, and the model raises.
    entry.images["image_grid_thw"] = 0
    with caplog.at_level(logging.WARNING, logger="inspector.judges.engines.transformers"):
        answer = reusing._generate(_prompt(reusing, second), convention)
    assert "prefix reuse failed" in caplog.text
    assert answer.text == fresh._generate(_prompt(fresh, second), convention).text
    assert reusing.computed_prompt_tokens == answer.prompt_tokens
    assert reusing._prefixes.disabled() and len(reusing._prefixes) == 0
    later = reusing._generate(_prompt(reusing, third), convention)
    assert reusing.computed_prompt_tokens == later.prompt_tokens
