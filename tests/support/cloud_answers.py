"""What the fake cloud APIs (tests/support/cloud_fakes.py) answer: each provider's documented
bodies for a success, a refusal or safety block, an authentication failure and the errors, and
its published rule for counting an image's tokens.

One class per provider, all with the same static methods: `auth_failure(headers)` (None when
the key is the test's), `error(status, message)`, `image_tokens(image)`, `success(body, verdict,
input_tokens, output_tokens)` and `refusal(body, input_tokens)`.
"""

from __future__ import annotations

import json
import math

import numpy as np

API_KEY = "sk-test-0123456789abcdef"
GEMINI_KEY = "AIzaTest0123456789abcdef"


class OpenAIAnswers:
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


# The log-probability the fake OpenAI-compatible server gives each token (one per character).
CHAT_TOKEN_LOGPROB = math.log(0.9)


class ChatAnswers(OpenAIAnswers):
    @staticmethod
    def auth_failure(headers: dict):
        return None  # a plant server without authentication

    @staticmethod
    def success(body: dict, verdict: dict, input_tokens: int, output_tokens: int) -> dict:
        content = json.dumps(verdict)
        choice = {
            "index": 0,
            "message": {"role": "assistant", "content": content},
            "finish_reason": "stop",
            "logprobs": None,
        }
        if body.get("logprobs"):  # vLLM's shape: one entry per token, with its bytes
            choice["logprobs"] = {
                "content": [
                    {
                        "token": c,
                        "logprob": CHAT_TOKEN_LOGPROB,
                        "bytes": list(c.encode()),
                        "top_logprobs": [],
                    }
                    for c in content
                ]
            }
        return {
            "id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
            "object": "chat.completion",
            "created": 1741570283,
            "model": body.get("model"),
            "choices": [choice],
            "usage": {
                "prompt_tokens": input_tokens,
                "completion_tokens": output_tokens,
                "total_tokens": input_tokens + output_tokens,
            },
        }


class AnthropicAnswers:
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


class GeminiAnswers:
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


# The answers of each provider ("chat": an OpenAI-compatible server).
ANSWERS = {
    "openai": OpenAIAnswers,
    "anthropic": AnthropicAnswers,
    "gemini": GeminiAnswers,
    "chat": ChatAnswers,
}
