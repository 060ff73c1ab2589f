"""Local stand-ins for the cloud APIs (OpenAI Responses, Anthropic Messages, Gemini), for tests.

No cloud API may be called from a test, so each engine's official SDK is pointed at one of these
HTTP servers on 127.0.0.1. The server checks every request the SDK sends against the provider's
documented request shape (endpoint, authentication header, model, image encoding, schema, token
limit) and records what does not match in `violations`; it answers with the provider's
documented bodies: a success, a refusal or safety block, and the errors 400, 401, 429 (with a
Retry-After), 500, or a stall past the client's timeout, as a test queues them.

The "model" behind a success looks at the part image it was sent (the last image): it finds the
red mark a test drew on the part and reports it as a defect with a box in that provider's
convention (0-1000 of the image; Gemini's box_2d as y/x), or passes a part without one. So a
test can check the whole way: the image was encoded and cropped right, the box came back to the
camera's pixels. Token counts follow each provider's published rule for images, so the recorded
tokens and cost can be checked too.

The request checks live in cloud_requests.py, the documented answers in cloud_answers.py.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np

from tests.support.cloud_answers import ANSWERS, API_KEY, GEMINI_KEY
from tests.support.cloud_requests import REQUEST_CHECKS, images_sent, texts_sent

__all__ = ["API_KEY", "GEMINI_KEY", "FakeProvider", "Reply", "Seen", "images_sent"]


@dataclass
class Reply:
    """What the server answers to the next request."""

    kind: str  # success | refusal | error | stall
    status: int = 200
    retry_after: str | None = None
    stall_s: float = 0.0

    @classmethod
    def success(cls) -> Reply:
        return cls("success")

    @classmethod
    def refusal(cls) -> Reply:
        return cls("refusal")

    @classmethod
    def error(cls, status: int, retry_after: str | None = None) -> Reply:
        return cls("error", status, retry_after)

    @classmethod
    def stall(cls, seconds: float) -> Reply:
        return cls("stall", stall_s=seconds)


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: dict


@dataclass
class FakeProvider:
    """One provider's API on 127.0.0.1; `url` is the base URL to give its SDK."""

    provider: str  # openai | anthropic | gemini | chat (an OpenAI-compatible server)
    requests: list[Seen] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    usages: list[tuple[int, int]] = field(default_factory=list)
    refuse_response_format: bool = False  # chat: answer 400 to JSON-schema requests

    def __post_init__(self) -> None:
        self._replies: deque[Reply] = deque()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        fake = self

        class Handler(_Handler):
            server_fake = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        root = f"http://{host}:{port}"
        return root + "/v1" if self.provider in ("openai", "chat") else root

    def queue(self, *replies: Reply) -> None:
        with self._lock:
            self._replies.extend(replies)

    def next_reply(self) -> Reply:
        with self._lock:
            return self._replies.popleft() if self._replies else Reply.success()

    def close(self) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_fake: FakeProvider

    def log_message(self, format, *args) -> None:  # keep test output clean
        pass

    def do_GET(self) -> None:
        self._send(404, {"error": {"message": "not found"}})

    def do_POST(self) -> None:
        try:
            self._answer()
        except Exception as exc:  # a bug of the fake: said, not a dropped connection
            self.server_fake.violations.append(f"the fake failed: {exc!r}")
            self._send(500, {"error": {"message": f"fake failed: {exc!r}"}})

    def _answer(self) -> None:
        fake = self.server_fake
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {}
            fake.violations.append("the body is not JSON")
        headers = {k.lower(): v for k, v in self.headers.items()}
        fake.requests.append(Seen("POST", self.path, headers, body))
        problems = REQUEST_CHECKS[fake.provider](self.path, headers, body)
        fake.violations.extend(problems)
        answer = ANSWERS[fake.provider]
        if problems:
            status, payload = answer.error(400, "; ".join(problems))
            return self._send(status, payload)
        auth = answer.auth_failure(headers)
        if auth is not None:
            return self._send(*auth)
        if fake.provider == "chat" and fake.refuse_response_format and "response_format" in body:
            return self._send(
                *answer.error(400, "response_format json_schema is not supported by this server")
            )
        reply = fake.next_reply()
        if reply.kind == "stall":
            fake._stop.wait(reply.stall_s)
            reply = Reply.success()
        if reply.kind == "error":
            extra = {"retry-after": reply.retry_after} if reply.retry_after else {}
            status, payload = answer.error(reply.status, None)
            return self._send(status, payload, extra)
        images = images_sent(fake.provider, body)
        image = images[-1] if images else None  # the part comes last, after any references
        text_chars = sum(len(t) for t in texts_sent(fake.provider, body))
        input_tokens = text_chars // 4 + sum(answer.image_tokens(i) for i in images)
        verdict = _look(image, box_key="box_2d" if fake.provider == "gemini" else "box")
        output_tokens = len(json.dumps(verdict)) // 4
        fake.usages.append((input_tokens, output_tokens))
        if reply.kind == "refusal":
            return self._send(200, answer.refusal(body, input_tokens))
        self._send(200, answer.success(body, verdict, input_tokens, output_tokens))

    def _send(self, status: int, payload: dict, headers: dict | None = None) -> None:
        data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (a stall)
            pass


# -- the "model": finds the red mark on the part ------------------------------------------------
def _look(image: np.ndarray | None, box_key: str) -> dict:
    if image is None:
        return {"outcome": "UNSURE", "defects": [], "confidence": 0.2, "reason": "no image"}
    b, g, r = (image[..., i].astype(int) for i in range(3))
    ys, xs = np.nonzero((r > 150) & (g < 90) & (b < 90))
    if len(xs) < 4:
        return {"outcome": "PASS", "defects": [], "confidence": 0.93, "reason": "clean surface"}
    height, width = image.shape[:2]
    x0, x1 = xs.min() / width * 1000, (xs.max() + 1) / width * 1000
    y0, y1 = ys.min() / height * 1000, (ys.max() + 1) / height * 1000
    box = [y0, x0, y1, x1] if box_key == "box_2d" else [x0, y0, x1, y1]
    defect = {"class": "scratch", box_key: [round(v, 1) for v in box], "confidence": 0.91}
    return {"outcome": "FAIL", "defects": [defect], "confidence": 0.9, "reason": "a red scratch"}
