"""What a cloud SDK sent to the fake APIs (tests/support/cloud_fakes.py): the images and texts
of a request body, and its check against the provider's documented request shape.

Each check returns the differences from the documented shape (endpoint, authentication header,
model, image encoding, schema, token limit) as readable problems; an empty list is a request
the provider would take. The references are in each check's docstring.
"""

from __future__ import annotations

import base64
import binascii
import json
import re

import cv2
import numpy as np

IMAGE_TYPES = {"image/jpeg", "image/png", "image/gif", "image/webp"}


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


def texts_sent(provider: str, body: dict) -> list[str]:
    """The texts in a request body (prompt, instructions, system), in order."""
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


# The check of each provider's requests ("chat": an OpenAI-compatible server).
REQUEST_CHECKS = {
    "openai": _check_openai,
    "anthropic": _check_anthropic,
    "gemini": _check_gemini,
    "chat": _check_chat,
}
