"""The judge chain: engines tried in order until one gives a verdict the chain accepts."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from inspector.domain import Outcome, Verdict
from inspector.judges.base import Judge, Progress


class JudgeChain:
    """Falls back to the next engine after an error or an UNSURE answer; every attempt is kept.

    A chain that ends without an accepted verdict yields UNSURE, with all its attempts.
    """

    def __init__(self, judges: Sequence[Judge], fallback_on_unsure: bool = True) -> None:
        if not judges:
            raise ValueError("a judge chain needs at least one engine")
        self.judges = list(judges)
        self.fallback_on_unsure = fallback_on_unsure

    @property
    def description(self) -> str:
        return " -> ".join(f"{j.engine}:{j.model_id}" for j in self.judges)

    def load(self, progress: Progress | None = None) -> None:
        for judge in self.judges:
            judge.load(progress)

    def set_references(self, images: list[np.ndarray]) -> None:
        for judge in self.judges:
            judge.set_references(images)

    def judge(self, image: np.ndarray) -> Verdict:
        attempts = []
        last: Verdict | None = None
        for judge in self.judges:
            last = judge.judge(image)
            attempts.extend(last.attempts)
            failed = last.attempts[-1].error is not None if last.attempts else True
            if failed or (last.outcome is Outcome.UNSURE and self.fallback_on_unsure):
                continue
            return last.with_attempts(tuple(attempts))
        # Every engine failed or was unsure: the last one's UNSURE stands, with all attempts.
        assert last is not None and last.outcome is Outcome.UNSURE
        return last.with_attempts(tuple(attempts))
