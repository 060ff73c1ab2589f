"""What is the same for every part comes first in every engine's messages, the part last.

Servers cache a prompt's prefix by its bytes (vLLM's automatic prefix caching, lmdeploy's and
SGLang's radix caches): two parts judged under one recipe must send messages that agree, byte for
byte, on everything before the part's own content.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from inspector.judges.answers import BoxConvention
from inspector.judges.engines import lmdeploy, openai_compat, ovis2
from inspector.judges.engines.transformers import _messages
from inspector.judges.prompt import (
    AFTER_THE_PART,
    SUSPECTS_MARKED,
    Example,
    ImagePart,
    Reference,
    TextPart,
    build_prompt,
)
from inspector.recipes import parse_recipe


def _recipe(**fields):
    data = {
        "name": "r",
        "version": 1,
        "prompt": "Inspect the board.",
        "defects": [{"name": "scratch", "severity": "major"}, {"name": "short"}],
        **fields,
    }
    return parse_recipe(data, "r.yaml")


def _two_parts():
    """Two parts' prompts under one recipe: different pixels, one with a screen's hint."""
    recipe = _recipe()
    rng = np.random.default_rng(3)
    references = [Reference.of(rng.integers(0, 255, (90, 120, 3), np.uint8)) for _ in range(2)]
    example = Example.of(
        rng.integers(0, 255, (40, 60, 3), np.uint8), recipe.defects[0], (5, 5, 30, 20)
    )
    prompts = []
    for hint in ("", SUSPECTS_MARKED):
        part = rng.integers(0, 255, (90, 120, 3), np.uint8)
        prompts.append(
            build_prompt(
                recipe, part, references, BoxConvention.XYXY_1000, hint, examples=[example]
            )
        )
    return prompts


def test_the_prompt_puts_instructions_references_and_examples_first_and_the_part_last():
    first, second = _two_parts()
    stable = first.stable_length()
    assert stable == second.stable_length()
    assert all(
        _same_part(a, b) for a, b in zip(first.parts[:stable], second.parts[:stable], strict=True)
    )
    prefix_roles = [p.role for p in first.parts[:stable] if isinstance(p, ImagePart)]
    assert prefix_roles == ["reference", "reference", "example"]
    assert isinstance(first.parts[0], TextPart) and "Defect classes" in first.parts[0].text
    # After the prefix only the part's own: its label (and hint), its image, the fixed reminder.
    rest = first.parts[stable:]
    assert [p.role for p in rest if isinstance(p, ImagePart)] == ["part"]
    assert rest[-2].role == "part" and rest[-1] == TextPart(AFTER_THE_PART)
    assert SUSPECTS_MARKED in [p.text for p in second.parts[stable:] if isinstance(p, TextPart)]


def test_without_references_or_examples_the_instructions_are_the_prefix():
    prompt = build_prompt(_recipe(), np.zeros((30, 40, 3), np.uint8), [], BoxConvention.PIXELS)
    assert prompt.stable_length() == 1
    assert "Give each box as" in prompt.parts[0].text


def _same_part(a, b) -> bool:
    if isinstance(a, TextPart) or isinstance(b, TextPart):
        return a == b
    return a.role == b.role and np.array_equal(a.image, b.image)


def _bytes(value) -> bytes:
    """A message structure as bytes; images as their pixels."""
    if isinstance(value, Image.Image):
        return b"image:" + value.tobytes()
    if isinstance(value, dict):
        return b"{" + b",".join(k.encode() + b":" + _bytes(v) for k, v in value.items()) + b"}"
    if isinstance(value, list | tuple):
        return b"[" + b",".join(_bytes(v) for v in value) + b"]"
    return json.dumps(value).encode()


def _user_turn(messages: list[dict]) -> list:
    [system, user] = messages
    assert system["role"] == "system"
    return user["content"]


ENGINES = {
    "transformers": lambda prompt: _messages(prompt, Image),
    "openai-compatible (vLLM, SGLang, lmdeploy serve)": lambda prompt: openai_compat.chat_messages(
        prompt, "png"
    ),
    "lmdeploy": lmdeploy.messages,
}


@pytest.mark.parametrize("engine", ENGINES)
def test_each_engine_s_messages_share_their_prefix_byte_for_byte(engine):
    first, second = _two_parts()
    stable = first.stable_length()
    a, b = ENGINES[engine](first), ENGINES[engine](second)
    assert _bytes(a[0]) == _bytes(b[0])  # the system message
    content_a, content_b = _user_turn(a), _user_turn(b)
    assert len(content_a) == len(first.parts)
    assert _bytes(content_a[:stable]) == _bytes(content_b[:stable])
    # The part's own content differs (its pixels, the hint): it comes after.
    assert _bytes(content_a[stable:]) != _bytes(content_b[stable:])


def test_ovis2_s_conversation_shares_its_text_and_images_up_to_the_part():
    first, second = _two_parts()
    (turns_a, images_a), (turns_b, images_b) = ovis2.conversation(first), ovis2.conversation(second)
    assert turns_a[0] == turns_b[0]
    prefix_images = sum(isinstance(p, ImagePart) for p in first.parts[: first.stable_length()])
    assert [i.tobytes() for i in images_a[:prefix_images]] == [
        i.tobytes() for i in images_b[:prefix_images]
    ]
    text_a, text_b = turns_a[1]["value"], turns_b[1]["value"]
    seam = text_a.index("The part to inspect")
    assert text_b.startswith(text_a[:seam])
    assert text_a[:seam].endswith(f"Image {prefix_images}: <image>\n")
