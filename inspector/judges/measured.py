"""Confidence measured from the model's own token probabilities, not the number it writes.

A model's self-reported `confidence` says little (it is one more token sequence the model
writes). Engines that expose token probabilities give, for every token of the answer, the
log-probability the model assigned it. The outcome's probability is read where the answer
writes its verdict word: the tokens that spell PASS, FAIL or UNSURE after `"outcome": "`. Their
log-probabilities summed are the probability of that word given everything before it, which is
the model's own belief in the verdict it gave (greedy decoding writes the most likely token, so
a split between PASS and FAIL shows as a probability near one half).

The maths works on bytes: servers give each token's bytes, and a token of a multi-byte
character or a partial one would shift character offsets.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

# The verdict word inside the JSON, under any of the keys the parser reads.
_OUTCOME_VALUE = re.compile(
    rb'"(?:outcome|verdict|result)"\s*:\s*"(PASS|FAIL|UNSURE)"', re.IGNORECASE | re.ASCII
)


@dataclass(frozen=True)
class TokenLogprob:
    """One generated token: its bytes and the natural log of the probability it was given."""

    data: bytes
    logprob: float


def outcome_probability(tokens: Sequence[TokenLogprob]) -> float | None:
    """The probability of the verdict word the answer wrote (its last one, as the parser reads
    the last verdict); None where the answer writes none or a probability is not finite."""
    text = b"".join(t.data for t in tokens)
    matches = list(_OUTCOME_VALUE.finditer(text))
    if not matches:
        return None
    start, end = matches[-1].span(1)
    total = 0.0
    position = 0
    for token in tokens:
        token_end = position + len(token.data)
        if token_end > start and position < end:  # the token holds part of the word
            if not math.isfinite(token.logprob) and token.logprob != -math.inf:
                return None
            total += token.logprob
        position = token_end
    probability = math.exp(total) if total != -math.inf else 0.0
    return probability if 0.0 <= probability <= 1.0 else None
