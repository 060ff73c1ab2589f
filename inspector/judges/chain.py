"""The judge chain: engines tried in order until one gives a verdict the chain accepts.

Per recipe (`chain:`): a timeout per attempt, what makes the chain fall back to the next engine
(an error, a timeout, an UNSURE answer), retries with backoff after a 429, a 5xx or a lost
connection (honouring Retry-After), and a circuit breaker that skips an engine that keeps
failing. Per recipe too (`privacy:`): an engine whose calls leave the site is not called at all
unless the recipe lets images leave. Every attempt, retries included, is kept (each answer
capped as `cap_raw_text` says, its full length and SHA-256 kept); a chain that ends without an
accepted verdict yields UNSURE.

A screen that did not clear a part vetoes a later PASS (`chain.screen: veto`, the default): the
verdict is UNSURE for a person, its reason giving both opinions, both attempts on record. Under
`screen: advisory` the model's PASS stands, the screen's opinion noted in its reason.
"""

from __future__ import annotations

import dataclasses
import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from inspector.domain import JudgeAttempt, Outcome, Verdict, unsure, utc_now
from inspector.judges.answers import cap_raw_text
from inspector.judges.breaker import Breaker
from inspector.judges.failures import CallFailed
from inspector.judges.judge import Judge, Progress
from inspector.judges.privacy import refusal
from inspector.judges.prompt import SUSPECTS_MARKED
from inspector.judges.zoom import Suspects
from inspector.recipes import ChainPolicy

log = logging.getLogger(__name__)


@runtime_checkable
class Screen(Protocol):
    """A judge that may screen: it PASSes what is clean beyond doubt and hands the rest on.

    `screening` says whether it screens here (else its verdict stands like any engine's);
    `hand_on` gives the image the next engines judge (e.g. with the suspect regions outlined),
    or None when the judge is not screening.
    """

    @property
    def screening(self) -> bool: ...

    def hand_on(self, image: np.ndarray, verdict: Verdict) -> np.ndarray | None: ...


class JudgeChain:
    def __init__(
        self,
        judges: Sequence[Judge],
        policy: ChainPolicy | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not judges:
            raise ValueError("a judge chain needs at least one engine")
        self.judges = list(judges)
        self.policy = policy or ChainPolicy()
        self._sleep = sleep
        self._breakers = [
            Breaker(self.policy.breaker_failures, self.policy.breaker_cooldown_s, clock)
            for _ in self.judges
        ]

    @property
    def description(self) -> str:
        return " -> ".join(f"{j.engine}:{j.model_id}" for j in self.judges)

    def load(self, progress: Progress | None = None) -> None:
        for judge in self.judges:
            reason = _privacy_refusal(judge)
            if reason is not None:  # never called, so it needs no key, package or server
                if progress:
                    progress(f"{judge.engine} {judge.model_id} will not be used: {reason}")
                continue
            judge.load(progress)

    def set_references(self, images: list[np.ndarray]) -> None:
        for judge in self.judges:
            judge.set_references(images)

    def judge(self, image: np.ndarray) -> Verdict:
        attempts: list[JudgeAttempt] = []
        skipped: list[str] = []
        last: Verdict | None = None
        hint = ""
        suspects: Suspects | None = None  # what a screen flagged, for the model to zoom on
        original = image  # the camera's image, before a screen outlined anything on it
        # The first screen that did not clear the part (flagged it, could not judge it, was
        # skipped): under a veto no later PASS stands.
        screened: tuple[str, Verdict] | None = None
        for judge, breaker in zip(self.judges, self._breakers, strict=True):
            name = f"{judge.engine} {judge.model_id}"
            screening = isinstance(judge, Screen) and judge.screening
            refused = _privacy_refusal(judge)
            if refused is not None:
                why = f"not called: {refused}"
            elif not breaker.allow():
                why = f"skipped: {breaker.describe()}"
            else:
                why = ""
            if why:
                skipped.append(f"{name} {why}")
                if screening and screened is None:
                    screened = (name, unsure(why))
                continue
            last, failure = self._with_retries(judge, breaker, image, hint, suspects)
            attempts.extend(last.attempts)
            if screening and (failure is not None or last.outcome is not Outcome.PASS):
                screened = screened or (name, last)
                marked = judge.hand_on(image, last) if failure is None else None
                if marked is not None:  # what is not clean goes on, suspects marked
                    image, hint = marked, SUSPECTS_MARKED
                    boxes = tuple(d.box for d in last.defects if d.box is not None)
                    suspects = Suspects(original, boxes, judge.aligned_references(original))
                    continue
            if failure is None and last.outcome is not Outcome.UNSURE:
                if screened is not None and last.outcome is Outcome.PASS:
                    last = self._screen_disagrees(*screened, name, last)
                return last.with_attempts(tuple(attempts))
            if (failure or "unsure") not in self.policy.fallback_on:
                break
        # No engine gave an accepted verdict: a person decides, with every attempt on record.
        if last is None:
            return unsure("no engine could judge: " + "; ".join(skipped), tuple(attempts))
        reason = last.reason
        if skipped:
            reason += " (" + "; ".join(skipped) + ")"
        return Verdict(
            outcome=Outcome.UNSURE,
            reason=reason,
            defects=last.defects,
            confidence=last.confidence,
            measured_confidence=last.measured_confidence,
            attempts=tuple(attempts),
        )

    def _screen_disagrees(
        self, screen: str, screened: Verdict, model: str, passed: Verdict
    ) -> Verdict:
        """A model's PASS of a part the screen did not clear: the recipe says who prevails."""
        flagged = screened.defects or screened.outcome is Outcome.FAIL
        said = (
            f"the screen {'flagged' if flagged else 'did not clear'} the part "
            f"({screen}: {screened.reason}) "
            f"and the model said PASS ({model}: {passed.reason or 'no reason given'})"
        )
        if self.policy.screen == "advisory":
            return dataclasses.replace(
                passed, reason=f"{said}; the recipe makes the screen advisory: PASS"
            )
        return Verdict(
            outcome=Outcome.UNSURE,
            reason=f"{said}; the screen vetoes a PASS: a person decides",
            defects=screened.defects + passed.defects,
            confidence=passed.confidence,
            measured_confidence=passed.measured_confidence,
        )

    def _with_retries(
        self,
        judge: Judge,
        breaker: Breaker,
        image: np.ndarray,
        hint: str = "",
        suspects: Suspects | None = None,
    ) -> tuple[Verdict, str | None]:
        """The engine's verdict with all its attempts, and "error" / "timeout" if it failed."""
        attempts: list[JudgeAttempt] = []
        retries = 0
        while True:
            verdict, exc, timed_out = self._call(judge, image, hint, suspects)
            # Every engine's answer enters the record here: a hostile length stops here too.
            attempts.extend(_capped(a) for a in verdict.attempts)
            verdict = verdict.with_attempts(tuple(attempts))
            failed = exc is not None or timed_out
            # A server that answers without a verdict (a safety block) is up: not a breaker count.
            breaker.record(failed and not (isinstance(exc, CallFailed) and exc.answered))
            if not failed:
                return verdict, None
            if timed_out:
                return verdict, "timeout"
            wait = self._retry_wait(exc, retries)
            if wait is None or breaker.is_open:
                return verdict, "error"
            log.info("%s %s: retrying in %.1f s after %s", judge.engine, judge.model_id, wait, exc)
            self._sleep(wait)
            retries += 1

    def _retry_wait(self, exc: Exception | None, retries: int) -> float | None:
        """Seconds to wait before trying again; None: do not try this engine again."""
        if not isinstance(exc, CallFailed) or not exc.retryable:
            return None
        if retries >= self.policy.retries:
            return None
        if exc.retry_after_s is not None:
            # Waiting longer than the recipe allows holds the line: fall back instead.
            return exc.retry_after_s if exc.retry_after_s <= self.policy.max_wait_s else None
        backoff = min(self.policy.backoff_s * 2**retries, self.policy.max_wait_s)
        return backoff / 2 + random.uniform(0, backoff / 2)  # jitter: stations spread out

    def _call(
        self, judge: Judge, image: np.ndarray, hint: str = "", suspects: Suspects | None = None
    ) -> tuple[Verdict, Exception | None, bool]:
        """One attempt within the timeout: (verdict, exception, timed out)."""
        timeout = judge.timeout_s()
        if timeout is None:
            verdict, exc = judge.judge_once(image, hint, suspects)
            return verdict, exc, _timed_out(exc)
        # An in-process model cannot be interrupted: it finishes in the background and its
        # answer is dropped. A server engine's own client gives up at the same limit.
        done = threading.Event()
        result: list[tuple[Verdict, Exception | None]] = []

        def run() -> None:
            try:
                result.append(judge.judge_once(image, hint, suspects))
            finally:
                done.set()

        started_at, start = utc_now(), time.perf_counter()
        threading.Thread(target=run, name=f"judge-{judge.engine}", daemon=True).start()
        if done.wait(timeout) and result:
            verdict, exc = result[0]
            return verdict, exc, _timed_out(exc)
        attempt = JudgeAttempt(
            engine=judge.engine,
            model_id=judge.model_id,
            model_revision=judge.model_revision,
            prompt_hash="",
            started_at=started_at,
            latency_ms=(time.perf_counter() - start) * 1000.0,
            error=f"TimeoutError: no answer within {timeout:g} s",
            # The call was made: for an engine off site, the image has left.
            image_left_site=judge.leaves_site,
            endpoint=judge.endpoint,
        )
        return unsure(f"{judge.engine} gave no answer within {timeout:g} s", (attempt,)), None, True


def _privacy_refusal(judge: Judge) -> str | None:
    return refusal(judge.recipe.privacy) if judge.leaves_site else None


def _timed_out(exc: Exception | None) -> bool:
    return isinstance(exc, CallFailed) and exc.timed_out


def _capped(attempt: JudgeAttempt) -> JudgeAttempt:
    capped = cap_raw_text(attempt.raw_text)
    return attempt if capped is attempt.raw_text else dataclasses.replace(attempt, raw_text=capped)
