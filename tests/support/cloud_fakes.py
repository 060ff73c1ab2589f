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
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cv2
import numpy as np

API_KEY = "sk-test-0123456789abcdef"
GEMINI_KEY = "AIzaTest0123456789abcdef"
IMAGE_TYPES = {"image/jpeg", "image/png", "image/gif", "image/webp"}


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
        check = {
            "openai": _check_openai,
            "anthropic": _check_anthropic,
            "gemini": _check_gemini,
            "chat": _check_chat,
        }[fake.provider]
        problems = check(self.path, headers, body)
        fake.violations.extend(problems)
        answer = {
            "openai": _OpenAIAnswers,
            "anthropic": _AnthropicAnswers,
            "gemini": _GeminiAnswers,
            "chat": _ChatAnswers,
        }[fake.provider]
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
        text_chars = sum(len(t) for t in _texts(fake.provider, body))
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


def _decode(data: str, urlsafe: bool = False) -> np.ndarray | None:
    """A base64 image; Google's JSON (proto3 bytes) may use the URL-safe alphabet too."""
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        if not urlsafe:
            return None
        try:
            raw = base64.b64decode(data, altchars=b"-_", validate=True)
        except (binascii.Error, ValueError):
            return None
    return cv2.imdecode(np.frombuffer(raw, np.uint8), cv2.IMREAD_COLOR)


_DATA_URL = re.compile(r"^data:(image/[a-z]+);base64,(.+)$", re.DOTALL)


def images_sent(provider: str, body: dict) -> list[np.ndarray]:
    """The images in a request body, decoded, in order."""
    found = []
    if provider in ("openai", "chat"):
        key = "input" if provider == "openai" else "messages"
        for message in body.get(key, []):
            content = message.get("content") if isinstance(message, dict) else None
            for part in content if isinstance(content, list) else []:
                url = part.get("image_url")
                url = url.get("url") if isinstance(url, dict) else url
                match = _DATA_URL.match(url or "")
                if match:
                    found.append(_decode(match.group(2)))
    elif provider == "anthropic":
        for message in body.get("messages", []):
            for block in message.get("content", []):
                if block.get("type") == "image":
                    found.append(_decode(block["source"]["data"]))
    else:
        for content in body.get("contents", []):
            for part in content.get("parts", []):
                if "inlineData" in part:
                    found.append(_decode(part["inlineData"]["data"], urlsafe=True))
    return [i for i in found if i is not None]


def _texts(provider: str, body: dict) -> list[str]:
    texts = []
    if provider in ("openai", "chat"):
        key = "input" if provider == "openai" else "messages"
        for message in body.get(key, []):
            content = message.get("content", [])
            if isinstance(content, str):
                texts.append(content)
                continue
            texts += [p.get("text", "") for p in content if "text" in p]
        texts.append(body.get("instructions") or "")
    elif provider == "anthropic":
        for message in body.get("messages", []):
            texts += [b.get("text", "") for b in message.get("content", []) if "text" in b]
        texts.append(body.get("system") if isinstance(body.get("system"), str) else "")
    else:
        for content in body.get("contents", []):
            texts += [p.get("text", "") for p in content.get("parts", []) if "text" in p]
    return texts


# -- request checks: the providers' documented request shapes ------------------------------------
def _check_image_url(url: object, where: str) -> list[str]:
    match = _DATA_URL.match(url) if isinstance(url, str) else None
    if not match:
        return [f"{where}: image_url is not a base64 data URL"]
    if match.group(1) not in IMAGE_TYPES:
        return [f"{where}: image type {match.group(1)} is not one of {sorted(IMAGE_TYPES)}"]
    if _decode(match.group(2)) is None:
        return [f"{where}: the data URL does not decode to an image"]
    return []


def _strict_schema_problems(schema: object, where: str) -> list[str]:
    """OpenAI strict mode: every object closed, every property required, supported types."""
    problems: list[str] = []
    if not isinstance(schema, dict):
        return [f"{where}: schema is not an object"]
    types = schema.get("type")
    types = types if isinstance(types, list) else [types]
    if "object" in types:
        props = schema.get("properties", {})
        if schema.get("additionalProperties") is not False:
            problems.append(f"{where}: strict schema needs additionalProperties: false")
        if sorted(schema.get("required", [])) != sorted(props):
            problems.append(f"{where}: strict schema needs every property in `required`")
        for name, sub in props.items():
            problems += _strict_schema_problems(sub, f"{where}.{name}")
    if "array" in types and "items" in schema:
        problems += _strict_schema_problems(schema["items"], f"{where}[]")
    allowed = {"object", "array", "string", "number", "integer", "boolean", "null", None}
    if not set(types) <= allowed:
        problems.append(f"{where}: unsupported type {types}")
    return problems


_RESPONSES_KEYS = {
    "model",
    "input",
    "instructions",
    "max_output_tokens",
    "text",
    "temperature",
    "top_p",
    "store",
    "reasoning",
    "metadata",
    "tools",
    "tool_choice",
    "truncation",
    "user",
    "stream",
    "previous_response_id",
    "include",
    "parallel_tool_calls",
    "service_tier",
}


def _check_openai(path: str, headers: dict, body: dict) -> list[str]:
    """POST /v1/responses (platform.openai.com/docs/api-reference/responses/create)."""
    problems = []
    if path != "/v1/responses":
        return [f"unexpected endpoint {path}"]
    if not headers.get("authorization", "").startswith("Bearer "):
        problems.append("no `Authorization: Bearer` header")
    unknown = set(body) - _RESPONSES_KEYS
    if unknown:
        problems.append(f"unknown parameters {sorted(unknown)}")
    if not isinstance(body.get("model"), str) or not body["model"]:
        problems.append("`model` is missing")
    limit = body.get("max_output_tokens")
    if limit is not None and (not isinstance(limit, int) or limit < 16):
        problems.append("`max_output_tokens` must be an integer >= 16")
    if str(body.get("model", "")).startswith(("o1", "o3", "o4")) and "temperature" in body:
        problems.append("Unsupported parameter: 'temperature' is not supported with this model.")
    images = 0
    for i, message in enumerate(body.get("input") or []):
        if message.get("role") not in ("user", "system", "developer", "assistant"):
            problems.append(f"input.{i}: bad role {message.get('role')!r}")
        for j, part in enumerate(message.get("content") or []):
            kind = part.get("type")
            if kind == "input_image":
                images += 1
                problems += _check_image_url(part.get("image_url"), f"input.{i}.content.{j}")
                if part.get("detail", "auto") not in ("auto", "low", "high"):
                    problems.append(f"input.{i}.content.{j}: bad detail")
            elif kind == "input_text":
                if not isinstance(part.get("text"), str):
                    problems.append(f"input.{i}.content.{j}: input_text without text")
            else:
                problems.append(f"input.{i}.content.{j}: unknown part type {kind!r}")
    if images == 0:
        problems.append("no input_image in the request")
    fmt = (body.get("text") or {}).get("format") or {}
    if fmt.get("type") != "json_schema":
        problems.append("text.format.type is not json_schema")
    elif not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", str(fmt.get("name", ""))):
        problems.append("text.format.name must be 1-64 letters, digits, _ or -")
    elif fmt.get("strict"):
        problems += _strict_schema_problems(fmt.get("schema"), "text.format.schema")
    return problems


def _check_chat(path: str, headers: dict, body: dict) -> list[str]:
    """POST /v1/chat/completions with image_url parts (an OpenAI-compatible server)."""
    if path != "/v1/chat/completions":
        return [f"unexpected endpoint {path}"]
    problems = []
    for i, message in enumerate(body.get("messages") or []):
        content = message.get("content")
        if isinstance(content, list):
            for j, part in enumerate(content):
                if part.get("type") == "image_url":
                    url = (part.get("image_url") or {}).get("url")
                    problems += _check_image_url(url, f"messages.{i}.content.{j}")
    fmt = body.get("response_format") or {}
    schema = (fmt.get("json_schema") or {}).get("schema")
    if fmt.get("type") == "json_schema" and not isinstance(schema, dict):
        problems.append("response_format.json_schema.schema is missing")
    return problems


def _check_anthropic(path: str, headers: dict, body: dict) -> list[str]:
    """POST /v1/messages (docs.anthropic.com/en/api/messages)."""
    if path != "/v1/messages":
        return [f"unexpected endpoint {path}"]
    problems = []
    if not headers.get("anthropic-version"):
        problems.append("no anthropic-version header")
    if not headers.get("x-api-key") and not headers.get("authorization", "").startswith("Bearer "):
        problems.append("no x-api-key (or Authorization: Bearer) header")
    if not isinstance(body.get("model"), str) or not body["model"]:
        problems.append("model: Field required")
    if not isinstance(body.get("max_tokens"), int) or body["max_tokens"] < 1:
        problems.append("max_tokens: Field required (an integer >= 1)")
    temperature = body.get("temperature", 1.0)
    if not isinstance(temperature, int | float) or not 0 <= temperature <= 1:
        problems.append("temperature: must be between 0 and 1")
    messages = body.get("messages") or []
    if not messages or messages[0].get("role") != "user":
        problems.append("messages: the first message must use the user role")
    images = 0
    for i, message in enumerate(messages):
        for j, block in enumerate(message.get("content") or []):
            if block.get("type") == "image":
                images += 1
                source = block.get("source") or {}
                where = f"messages.{i}.content.{j}.source"
                if source.get("type") != "base64":
                    problems.append(f"{where}.type: expected base64")
                if source.get("media_type") not in IMAGE_TYPES:
                    problems.append(f"{where}.media_type: not a supported image type")
                data = source.get("data", "")
                image = _decode(data)
                if image is None:
                    problems.append(f"{where}.data: not a base64 image")
                elif len(data) * 3 / 4 > 5 * 1024 * 1024 or max(image.shape[:2]) > 8000:
                    problems.append(f"{where}: image exceeds 5 MB or 8000 px")
            elif block.get("type") != "text":
                problems.append(f"messages.{i}.content.{j}: unknown block {block.get('type')!r}")
    if images == 0:
        problems.append("no image block in the request")
    tools = body.get("tools") or []
    names = set()
    for k, tool in enumerate(tools):
        if not re.fullmatch(r"[a-zA-Z0-9_-]{1,128}", str(tool.get("name", ""))):
            problems.append(f"tools.{k}.name: must match ^[a-zA-Z0-9_-]{{1,128}}$")
        if (tool.get("input_schema") or {}).get("type") != "object":
            problems.append(f"tools.{k}.input_schema: type must be object")
        names.add(tool.get("name"))
    choice = body.get("tool_choice")
    if choice is not None and choice.get("type") == "tool" and choice.get("name") not in names:
        problems.append("tool_choice names a tool that is not in `tools`")
    return problems


def _check_gemini(path: str, headers: dict, body: dict) -> list[str]:
    """POST /v1beta/models/{model}:generateContent (ai.google.dev/api/generate-content)."""
    if not re.fullmatch(r"/v1(beta)?/models/[\w.\-]+:generateContent", path):
        return [f"unexpected endpoint {path}"]
    problems = []
    contents = body.get("contents") or []
    if not contents:
        problems.append("contents is required")
    images = 0
    for i, content in enumerate(contents):
        if content.get("role", "user") not in ("user", "model"):
            problems.append(f"contents.{i}.role: must be user or model")
        for j, part in enumerate(content.get("parts") or []):
            if "inlineData" in part:
                images += 1
                blob = part["inlineData"]
                # proto3 JSON: a field may be named lowerCamel or as declared (mime_type)
                if (blob.get("mimeType") or blob.get("mime_type")) not in IMAGE_TYPES:
                    problems.append(f"contents.{i}.parts.{j}.inlineData.mimeType: unsupported")
                if _decode(blob.get("data", ""), urlsafe=True) is None:
                    problems.append(f"contents.{i}.parts.{j}.inlineData.data: not base64 image")
            elif "text" not in part:
                problems.append(f"contents.{i}.parts.{j}: neither text nor inlineData")
    if images == 0:
        problems.append("no inlineData image in the request")
    system = body.get("systemInstruction")
    if system is not None and not all("text" in p for p in system.get("parts", [])):
        problems.append("systemInstruction.parts: text parts only")
    config = body.get("generationConfig") or {}
    if config.get("responseMimeType") != "application/json":
        problems.append("generationConfig.responseMimeType is not application/json")
    schema = config.get("responseJsonSchema") or config.get("responseSchema")
    if not isinstance(schema, dict):
        problems.append("generationConfig has no responseJsonSchema")
    elif "box_2d" not in json.dumps(schema):
        problems.append("the response schema does not ask for box_2d")
    limit = config.get("maxOutputTokens")
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        problems.append("generationConfig.maxOutputTokens must be a positive integer")
    return problems


# -- documented answers -------------------------------------------------------------------------
class _OpenAIAnswers:
    @staticmethod
    def auth_failure(headers: dict):
        if headers.get("authorization") == f"Bearer {API_KEY}":
            return None
        given = headers.get("authorization", "").removeprefix("Bearer ")
        masked = given[:3] + "*" * max(0, len(given) - 7) + given[-4:]
        return 401, _openai_error(
            f"Incorrect API key provided: {masked}. You can find your API key at "
            "https://platform.openai.com/account/api-keys.",
            "invalid_request_error",
            "invalid_api_key",
        )

    @staticmethod
    def error(status: int, message: str | None):
        kinds = {
            400: ("invalid_request_error", None, "Invalid request."),
            401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
            429: (
                "requests",
                "rate_limit_exceeded",
                "Rate limit reached for requests. Please try again in 1s.",
            ),
            500: (
                "server_error",
                None,
                "The server had an error while processing your request. Sorry about that!",
            ),
        }
        kind, code, default = kinds.get(status, ("server_error", None, "error"))
        return status, _openai_error(message or default, kind, code)

    @staticmethod
    def image_tokens(image: np.ndarray) -> int:
        # detail high: fit in 2048, shortest side to 768, 170 per 512 tile plus 85
        height, width = image.shape[:2]
        scale = min(1.0, 2048 / max(width, height))
        width, height = width * scale, height * scale
        scale = min(1.0, 768 / min(width, height))
        width, height = width * scale, height * scale
        return 85 + 170 * math.ceil(width / 512) * math.ceil(height / 512)

    @staticmethod
    def success(body: dict, verdict: dict, input_tokens: int, output_tokens: int) -> dict:
        content = [{"type": "output_text", "text": json.dumps(verdict), "annotations": []}]
        return _response(body, content, input_tokens, output_tokens)

    @staticmethod
    def refusal(body: dict, input_tokens: int) -> dict:
        content = [{"type": "refusal", "refusal": "I'm sorry, but I can't assist with that."}]
        return _response(body, content, input_tokens, 12)


def _openai_error(message: str, kind: str, code: str | None) -> dict:
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


def _response(body: dict, content: list, input_tokens: int, output_tokens: int) -> dict:
    return {
        "id": "resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b",
        "object": "response",
        "created_at": 1741476542,
        "status": "completed",
        "error": None,
        "incomplete_details": None,
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "model": body["model"],
        "output": [
            {
                "type": "message",
                "id": "msg_67ccd2bf17f0819081ff3bb2cf6508e60bb6a6b452d3795b",
                "status": "completed",
                "role": "assistant",
                "content": content,
            }
        ],
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "reasoning": {"effort": None, "summary": None},
        "store": body.get("store", True),
        "temperature": body.get("temperature", 1.0),
        "text": body.get("text", {"format": {"type": "text"}}),
        "tool_choice": "auto",
        "tools": [],
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": {
            "input_tokens": input_tokens,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": output_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": input_tokens + output_tokens,
        },
        "user": None,
        "metadata": {},
    }


class _ChatAnswers(_OpenAIAnswers):
    @staticmethod
    def auth_failure(headers: dict):
        return None  # a plant server without authentication

    @staticmethod
    def success(body: dict, verdict: dict, input_tokens: int, output_tokens: int) -> dict:
        return {
            "id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
            "object": "chat.completion",
            "created": 1741570283,
            "model": body.get("model"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": json.dumps(verdict)},
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": input_tokens,
                "completion_tokens": output_tokens,
                "total_tokens": input_tokens + output_tokens,
            },
        }


class _AnthropicAnswers:
    @staticmethod
    def auth_failure(headers: dict):
        if API_KEY in (headers.get("x-api-key"), headers.get("authorization", "")[7:]):
            return None
        return 401, _anthropic_error("authentication_error", "invalid x-api-key")

    @staticmethod
    def error(status: int, message: str | None):
        kinds = {
            400: ("invalid_request_error", "Invalid request."),
            401: ("authentication_error", "invalid x-api-key"),
            429: ("rate_limit_error", "Number of requests has exceeded your rate limit."),
            500: ("api_error", "Internal server error"),
            529: ("overloaded_error", "Overloaded"),
        }
        kind, default = kinds.get(status, ("api_error", "error"))
        return status, _anthropic_error(kind, message or default)

    @staticmethod
    def image_tokens(image: np.ndarray) -> int:
        height, width = image.shape[:2]
        return math.ceil(width * height / 750)

    @staticmethod
    def success(body: dict, verdict: dict, input_tokens: int, output_tokens: int) -> dict:
        choice = body.get("tool_choice") or {}
        if choice.get("type") == "tool":
            content = [
                {
                    "type": "tool_use",
                    "id": "toolu_01A09q90qw90lq917835lq9",
                    "name": choice["name"],
                    "input": verdict,
                }
            ]
            stop = "tool_use"
        else:
            content, stop = [{"type": "text", "text": json.dumps(verdict)}], "end_turn"
        return _message(body, content, stop, input_tokens, output_tokens)

    @staticmethod
    def refusal(body: dict, input_tokens: int) -> dict:
        content = [{"type": "text", "text": "I can't help with this request."}]
        return _message(body, content, "refusal", input_tokens, 9)


def _anthropic_error(kind: str, message: str) -> dict:
    return {"type": "error", "error": {"type": kind, "message": message}}


def _message(body: dict, content: list, stop: str, input_tokens: int, output_tokens: int) -> dict:
    return {
        "id": "msg_013Zva2CMHLNnXjNJJKqJ2EF",
        "type": "message",
        "role": "assistant",
        "model": body["model"],
        "content": content,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens},
    }


class _GeminiAnswers:
    @staticmethod
    def auth_failure(headers: dict):
        if headers.get("x-goog-api-key") == GEMINI_KEY:
            return None
        return 400, _gemini_error(400, "API key not valid. Please pass a valid API key.")

    @staticmethod
    def error(status: int, message: str | None):
        defaults = {
            400: "Invalid JSON payload received.",
            401: "Request had invalid authentication credentials.",
            429: "Resource has been exhausted (e.g. check quota).",
            500: "An internal error has occurred. Please retry or report.",
        }
        return status, _gemini_error(status, message or defaults.get(status, "error"))

    @staticmethod
    def image_tokens(image: np.ndarray) -> int:
        height, width = image.shape[:2]
        if width <= 384 and height <= 384:
            return 258
        return 258 * math.ceil(width / 768) * math.ceil(height / 768)

    @staticmethod
    def success(body: dict, verdict: dict, input_tokens: int, output_tokens: int) -> dict:
        return {
            "candidates": [
                {
                    "content": {"parts": [{"text": json.dumps(verdict)}], "role": "model"},
                    "finishReason": "STOP",
                    "index": 0,
                }
            ],
            "usageMetadata": {
                "promptTokenCount": input_tokens,
                "candidatesTokenCount": output_tokens,
                "totalTokenCount": input_tokens + output_tokens,
            },
            "modelVersion": "gemini-2.5-pro",
            "responseId": "mAitaLmkHPPlz7IPvtfUqQ4",
        }

    @staticmethod
    def refusal(body: dict, input_tokens: int) -> dict:
        ratings = [
            {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": True}
        ]
        return {
            "promptFeedback": {"blockReason": "SAFETY", "safetyRatings": ratings},
            "usageMetadata": {"promptTokenCount": input_tokens, "totalTokenCount": input_tokens},
            "modelVersion": "gemini-2.5-pro",
        }


_GEMINI_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


def _gemini_error(code: int, message: str) -> dict:
    error = {"code": code, "message": message, "status": _GEMINI_STATUS.get(code, "UNKNOWN")}
    if code == 429:  # Google says how long to wait in the body, not in a Retry-After header
        error["details"] = [
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "1s"}
        ]
    return {"error": error}
