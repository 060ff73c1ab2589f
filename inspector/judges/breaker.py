"""A circuit breaker per engine: one that keeps failing is skipped for a while, then tried again.

A part must not wait for a server that is down, nor a line pay a timeout per part: after
`failures` failed attempts in a row the engine is skipped for `cooldown_s`; then one trial call
decides whether it is back (closed) or skipped for another cooldown.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class Breaker:
    def __init__(
        self, failures: int, cooldown_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.failures = failures
        self.cooldown_s = cooldown_s
        self._clock = clock
        self._lock = threading.Lock()
        self._in_a_row = 0
        self._opened_at: float | None = None
        self._trial = False  # a call is under way after the cooldown

    @property
    def is_open(self) -> bool:
        with self._lock:
            return self._opened_at is not None

    def allow(self) -> bool:
        """Whether to call the engine now; after the cooldown, lets one trial call through."""
        with self._lock:
            if self._opened_at is None:
                return True
            if self._trial or self._clock() - self._opened_at < self.cooldown_s:
                return False
            self._trial = True
            return True

    def record(self, failed: bool) -> None:
        with self._lock:
            trial, self._trial = self._trial, False
            if not failed:
                self._in_a_row, self._opened_at = 0, None
                return
            self._in_a_row += 1
            if trial or self._in_a_row >= self.failures:
                self._opened_at = self._clock()

    def describe(self) -> str:
        with self._lock:
            left = 0.0
            if self._opened_at is not None:
                left = max(0.0, self.cooldown_s - (self._clock() - self._opened_at))
            return f"failed {self._in_a_row} times in a row; skipped for {left:.0f} s more"
