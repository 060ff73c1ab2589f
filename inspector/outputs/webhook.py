"""Webhook: an HTTP POST of each verdict's JSON (message.py) to an MES, a chat alarm, a script.

    http(s)://HOST[:PORT]/PATH

A verdict counts as sent when the server answers 2xx. Anything else (a 500, a refused
connection, no answer within `timeout_s`) is counted, logged and raised as OutputError; the
outbox keeps the message and the station's drain retries it with exponential backoff, in
order, so a hanging server delays only its own webhook, never a record or another output.
The header `Idempotency-Key` carries the inspection id: a server that sees it twice (its 200
was lost) has been sent the same verdict twice.
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from inspector.errors import InputError
from inspector.outputs import mask
from inspector.outputs.base import OutputError, OutputStatus

log = logging.getLogger(__name__)

TIMEOUT_S = 5.0


class WebhookPublisher:
    def __init__(self, url: str, timeout_s: float = TIMEOUT_S) -> None:
        parts = urlsplit(url)
        if not parts.hostname:
            raise InputError(f"output {mask(url)}: no host; use https://HOST/PATH")
        self.name = mask(url)
        self.url = url
        self.timeout_s = timeout_s
        self._lock = threading.Lock()
        self._sent = 0
        self._failed = 0
        self._last_error: str | None = None
        self._reachable = False

    def start(self) -> None:
        """Nothing to open: each verdict is one request."""

    def close(self) -> None:
        """Nothing held between requests."""

    def status(self) -> OutputStatus:
        with self._lock:
            return OutputStatus(
                self.name, self._reachable, self._sent, self._failed, self._last_error
            )

    def publish(self, message: dict) -> None:
        request = urllib.request.Request(
            self.url,
            data=json.dumps(message, separators=(",", ":")).encode("utf-8"),
            headers={
                "Content-Type": "application/json",
                "Idempotency-Key": str(message["inspection_id"]),
                "User-Agent": "inspector-webhook/1",
            },
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                response.read()
        except urllib.error.HTTPError as exc:
            self._fail(f"HTTP {exc.code} {exc.reason}", reachable=True)
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            if isinstance(reason, TimeoutError) or "timed out" in str(reason):
                reason = f"no answer within {self.timeout_s:g} s"
            self._fail(str(reason), reachable=False)
        with self._lock:
            self._sent += 1
            self._reachable = True
            self._last_error = None

    def _fail(self, error: str, reachable: bool) -> None:
        with self._lock:
            self._failed += 1
            self._reachable = reachable
            self._last_error = error
        log.debug("webhook %s: %s", self.name, error)  # the drain logs it, with what it keeps
        raise OutputError(f"webhook {self.name}: {error}")
