"""Confidence measured from the model's token probabilities, beside the self-reported one.

The tiny models' weights are random, so they never write a verdict of their own: a logits
processor forces the answer's tokens (teacher forcing), and the engine reads the model's raw
logits at each step. The measured probability must equal the one computed by hand from a
separate forward pass over the prompt and the answer.
"""

from __future__ import annotations

import math

import cv2
import pytest

from inspector.domain import Outcome
from inspector.judges import build_chain
from inspector.judges.measured import TokenLogprob, outcome_probability
from inspector.recipes import load_recipe
from tests.support.recipes import recipe_file
from tests.support.scripted_judge import PASS_ANSWER

ANSWER = '{"outcome": "PASS", "defects": [], "confidence": 0.9, "reason": "clean"}'


def _tokens(*pieces: tuple[str, float]) -> list[TokenLogprob]:
    return [TokenLogprob(text.encode(), logprob) for text, logprob in pieces]


def test_the_outcome_word_s_tokens_make_its_probability():
    tokens = _tokens(
        ('{"', -0.1), ("outcome", -0.2), ('": "', -0.3), ("P", math.log(0.8)),
        ("ASS", math.log(0.9)), ('"}', -0.5),
    )  # fmt: skip
    assert outcome_probability(tokens) == pytest.approx(0.8 * 0.9)


def test_a_token_that_holds_the_word_and_its_quotes_counts_once():
    tokens = _tokens(('{"outcome":', -0.1), (' "FAIL"', math.log(0.6)), ("}", -2.0))
    assert outcome_probability(tokens) == pytest.approx(0.6)


def test_the_last_verdict_is_the_one_measured_and_bytes_not_characters_place_it():
    # A multi-byte character before the verdict, split over two tokens as servers send it.
    accent = "é".encode()
    tokens = [
        TokenLogprob(b'{"reason": "caf', -0.1),
        TokenLogprob(accent[:1], -0.1),
        TokenLogprob(accent[1:], -0.1),
        TokenLogprob(b'", "outcome": "', -0.1),
        TokenLogprob(b"UNSURE", math.log(0.25)),
        TokenLogprob(b'"}', -0.1),
    ]
    assert outcome_probability(tokens) == pytest.approx(0.25)


def test_an_answer_without_a_verdict_word_measures_nothing():
    assert outcome_probability(_tokens(("no verdict here", -0.1))) is None
    assert outcome_probability([]) is None


def _scripted_chain(tmp_path, token_logprob, answers=(PASS_ANSWER,), min_confidence=0.5):
    engine = {"engine": "scripted", "answers": list(answers), "token_logprob": token_logprob}
    path = recipe_file(tmp_path, [engine], pass_rule={"min_confidence": min_confidence})
    recipe = load_recipe(path)
    return build_chain(recipe, str(path))


def test_min_confidence_applies_to_the_measured_confidence(tmp_path):
    import numpy as np

    import tests.support.scripted_judge  # noqa: F401  (registers the engine)

    image = np.zeros((64, 64, 3), np.uint8)
    # PASS is four one-character tokens: exp(4 * log(0.3) / 4) = 0.3, under 0.5.
    chain = _scripted_chain(tmp_path, math.log(0.3) / 4)
    verdict = chain.judge(image)
    assert verdict.confidence == pytest.approx(0.95)  # what the model wrote is kept
    assert verdict.measured_confidence == pytest.approx(0.3)
    assert verdict.outcome is Outcome.UNSURE
    assert "measured confidence 0.30 below 0.5" in verdict.reason
    [attempt] = verdict.attempts
    assert attempt.measured_confidence == pytest.approx(0.3)

    # A model that writes a low confidence but whose distribution is sure: the measure decides.
    low = PASS_ANSWER.replace("0.95", "0.1")
    sure = _scripted_chain(tmp_path, math.log(0.9) / 4, answers=(low,)).judge(image)
    assert sure.outcome is Outcome.PASS
    assert sure.confidence == pytest.approx(0.1)
    assert sure.measured_confidence == pytest.approx(0.9)


def test_without_token_probabilities_the_confidence_is_self_reported(tmp_path):
    import numpy as np

    import tests.support.scripted_judge  # noqa: F401

    verdict = _scripted_chain(tmp_path, None).judge(np.zeros((64, 64, 3), np.uint8))
    assert verdict.outcome is Outcome.PASS
    assert verdict.measured_confidence is None
    assert verdict.attempts[0].measured_confidence is None


# --- the transformers engine, on tiny models of real architectures ---------------------------


def _forced_judge(model_dir, recipe, answer_ids: list[int], eos_id: int):
    import torch
    from transformers import LogitsProcessor, LogitsProcessorList

    from inspector.judges.engines.transformers import TransformersJudge, TransformersSettings

    class ForceAnswer(LogitsProcessor):
        """Teacher forcing: the i-th new token is the answer's i-th, then the end of turn."""

        def __init__(self, prompt_length: int) -> None:
            self.prompt_length = prompt_length

        def __call__(self, input_ids, scores):
            step = input_ids.shape[1] - self.prompt_length
            wanted = answer_ids[step] if step < len(answer_ids) else eos_id
            forced = torch.full_like(scores, -math.inf)
            forced[:, wanted] = 0.0
            return forced

    class ForcedJudge(TransformersJudge):
        def _generate_options(self, inputs) -> dict:
            processor = ForceAnswer(inputs["input_ids"].shape[1])
            return {"logits_processor": LogitsProcessorList([processor])}

    settings = TransformersSettings(
        model=str(model_dir), max_new_tokens=len(answer_ids) + 4, device="cpu", dtype="float32"
    )
    return ForcedJudge(settings, recipe)


def _by_hand(judge, inputs, answer_ids: list[int], word: str) -> float:
    """P(word) from one forward pass over prompt + answer: the softmax at each of its tokens."""
    import torch

    tokenizer = judge._tokenizer
    prompt_length = inputs["input_ids"].shape[1]
    ids = torch.cat([inputs["input_ids"], torch.tensor([answer_ids])], dim=1)
    full = dict(inputs)
    full["input_ids"] = ids
    full["attention_mask"] = torch.ones_like(ids)
    for key in ("token_type_ids", "mm_token_type_ids"):  # the answer's tokens are text
        if key in full:
            text = torch.zeros((1, len(answer_ids)), dtype=full[key].dtype)
            full[key] = torch.cat([full[key], text], dim=1)
    if "cross_attention_mask" in full:  # Mllama: new tokens see the images as the last one did
        mask = full["cross_attention_mask"]
        extra = mask[:, -1:].repeat(1, len(answer_ids), 1, 1)
        full["cross_attention_mask"] = torch.cat([mask, extra], dim=1)
    with torch.inference_mode():
        logits = judge._model(**full).logits[0].float()
    text = tokenizer.decode(answer_ids, skip_special_tokens=False)
    start = text.index(f'"{word}"') + 1
    end = start + len(word)
    total = 0.0
    for k, token in enumerate(answer_ids):
        before = len(tokenizer.decode(answer_ids[:k], skip_special_tokens=False))
        after = len(tokenizer.decode(answer_ids[: k + 1], skip_special_tokens=False))
        if after > start and before < end:
            row = logits[prompt_length + k - 1]  # the logits that predict token k
            total += float(torch.log_softmax(row, dim=-1)[token])
    return math.exp(total)


@pytest.mark.parametrize("family", ["gemma3", "qwen2_5_vl", "internvl", "mllama"])
def test_transformers_measures_the_outcome_from_the_model_s_own_logits(
    family, tiny_models, test_data, tmp_path
):
    import torch

    from inspector.judges.prompt import build_prompt

    torch.set_num_threads(1)
    part = cv2.imread(str(test_data / "deeppcb" / "defect" / "00041000_test.jpg"))
    path = recipe_file(tmp_path, [{"engine": "transformers", "model": str(tiny_models[family])}])
    recipe = load_recipe(path)
    from transformers import AutoProcessor

    tokenizer = AutoProcessor.from_pretrained(tiny_models[family]).tokenizer
    answer_ids = tokenizer.encode(ANSWER, add_special_tokens=False)
    eos = tokenizer.eos_token_id
    judge = _forced_judge(tiny_models[family], recipe, answer_ids, eos)
    judge.load()

    verdict = judge.judge(part)
    [attempt] = verdict.attempts
    assert attempt.error is None, attempt.error
    assert ANSWER in attempt.raw_text
    prompt = build_prompt(recipe, part, [], judge.box_convention())
    expected = _by_hand(judge, judge.encode(prompt), answer_ids, "PASS")
    assert verdict.measured_confidence == pytest.approx(expected, rel=1e-3, abs=1e-12)
    assert attempt.measured_confidence == verdict.measured_confidence
    # Random weights spread their belief over the whole vocabulary: the model wrote 0.9, its
    # distribution says far less, and the measure makes the part one for a person.
    assert verdict.confidence == pytest.approx(0.9)
    assert verdict.measured_confidence < 0.5
    assert verdict.outcome is Outcome.UNSURE
    assert "measured confidence" in verdict.reason
