"""How a failed call to a model is described, and whether the chain may retry it.

Engines turn their SDK's errors into `CallFailed`; the chain reads `retryable` and
`retry_after_s` (429, 5xx, a lost connection) and `timed_out`. Nothing here imports an SDK.
"""

from __future__ import annotations

import email.utils
import time


class CallFailed(Exception):
    """A call the server answered with an error, or never answered; says whether to retry."""

    def __init__(
        self,
        message: str,
        status: int | None = None,
        retry_after_s: float | None = None,
        timed_out: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after_s = retry_after_s
        self.timed_out = timed_out

    @property
    def answered(self) -> bool:
        """The server answered, without a verdict (a safety block): it is up, not failing."""
        return self.status == 200

    @property
    def retryable(self) -> bool:
        """Rate limits, server errors and lost connections pass; a bad request does not."""
        if self.timed_out:
            return False
        return self.status is None or self.status == 429 or self.status >= 500


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message; the exception's type when it says nothing."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def describe(exc: BaseException) -> str:
    """An exception as a record or a message says it: its type and its first line."""
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__


def status_message(status: int, detail: str) -> str:
    """An HTTP error as a person at the station reads it: what happened and what to do."""
    hint = {
        400: "the server refused the request",
        401: "the API key was refused: check it",
        403: "the API key may not use this model",
        404: "no such model or endpoint: check `model` and `base_url`",
        413: "the request is too large: set the recipe's privacy.max_side or an ROI",
        429: "rate limited",
        529: "the provider is overloaded",
    }.get(status, "server error" if status >= 500 else "request failed")
    detail = " ".join(detail.split())[:300]
    return f"HTTP {status}: {hint}" + (f" ({detail})" if detail else "")


def retry_after(headers) -> float | None:
    """Seconds a server asks to wait (Retry-After: seconds or an HTTP date; retry-after-ms)."""
    if headers is None:
        return None
    milliseconds = headers.get("retry-after-ms")
    if milliseconds:
        try:
            return max(0.0, float(milliseconds) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
