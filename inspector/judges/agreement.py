"""Looks that must agree: several answers about one part become one verdict, or UNSURE.

A recipe's `agreement` asks the model more than once (`samples`: the same prompt, the later
answers sampled so that a model's doubt shows as a different answer) and, with `views`, asks
that the whole, its tiles and its zoomed crops say the same. Where they all give one outcome,
that outcome stands (its defects merged, the least sure look's confidence); where they split,
the part is UNSURE and every answer is kept: the attempts hold each raw answer, the reason
names who said what, and the failing looks' defects stay on the verdict for the reviewer.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from inspector.domain import Outcome, Verdict
from inspector.judges.tiles import least, suppress_duplicates


def agree(looks: Sequence[tuple[str, Verdict]], nms_iou: float) -> Verdict:
    """One verdict from looks (label, verdict) that must agree; a split is UNSURE."""
    outcomes = Counter(verdict.outcome for _, verdict in looks)
    defects = suppress_duplicates([d for _, v in looks for d in v.defects], nms_iou)
    attempts = tuple(a for _, v in looks for a in v.attempts)
    confidence = least([v.confidence for _, v in looks])
    measured = least([v.measured_confidence for _, v in looks])
    if len(outcomes) == 1:
        (outcome,) = outcomes
        first = looks[0][1].reason
        said = f"all {len(looks)} looks agree"
        return Verdict(
            outcome=outcome,
            reason=f"{first} ({said})" if first else said,
            defects=defects,
            confidence=confidence,
            attempts=attempts,
            measured_confidence=measured,
        )
    tally = ", ".join(
        f"{count} {outcome.value}" for outcome, count in sorted(outcomes.items(), key=_order)
    )
    each = "; ".join(
        f"{label}: {verdict.outcome.value} ({verdict.reason or 'no reason'})"
        for label, verdict in looks
    )
    return Verdict(
        outcome=Outcome.UNSURE,
        reason=f"the looks disagree ({tally}): {each}",
        defects=defects,
        confidence=confidence,
        attempts=attempts,
        measured_confidence=measured,
    )


def sample_label(label: str, index: int, count: int) -> str:
    """How one of a view's samples is named in the reason."""
    return f"{label}, sample {index} of {count}" if count > 1 else label


def _order(item: tuple[Outcome, int]) -> tuple[int, str]:
    return (-item[1], item[0].value)
