"""`openai-compatible`: any server that speaks the OpenAI chat completions API.

vLLM, the lmdeploy api_server, SGLang, Ollama, llama.cpp's server and `transformers serve`: the
scale-out path, many stations judging through one GPU server. Images go as base64 data URLs in
`image_url` parts; the answer is asked for as JSON-schema structured output, and where a server
refuses that (a 400), as the JSON the prompt describes, remembered for the next parts (the base
judge's `structured_output: auto`).

`OpenAIStyleJudge` is the openai SDK's engine (client, key and errors come from
inspector.judges.remote); the `openai` engine (Responses API) builds on it.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import urllib.error
import urllib.request
from typing import Literal
from urllib.parse import urlsplit

from pydantic import field_validator

from inspector.judges.answers import BoxConvention
from inspector.judges.failures import CallFailed
from inspector.judges.judge import Generation
from inspector.judges.measured import TokenLogprob
from inspector.judges.prompt import Prompt, TextPart
from inspector.judges.remote import RemoteSettings, StainlessJudge, data_url, endpoint_of
from inspector.judges.structured import SCHEMA_NAME

_LOCAL_SUFFIXES = (".local", ".lan", ".internal", ".home.arpa", ".localhost")


class OpenAIStyleJudge(StainlessJudge):
    """An engine reached through the openai SDK; the `openai` engine builds on it too."""

    default_base_url = "https://api.openai.com/v1"
    sdk_package = "openai"
    client_class = "OpenAI"
    requires = ("openai",)
    extra = "server"
    samples_vary = True  # a prompt's temperature is honoured (agreement.samples)

    def _import_sdk(self):
        import openai

        return openai


class OpenAICompatibleSettings(RemoteSettings):
    engine: Literal["openai-compatible"] = "openai-compatible"
    base_url: str  # the API root, e.g. http://gpu-server:8000/v1
    # auto: ask for JSON-schema output, and drop it for good if the server refuses it.
    structured_output: Literal["auto", "json_schema", "none"] = "auto"
    temperature: float = 0.0
    # Whether the server is inside the plant; unset: judged from base_url (loopback, private
    # addresses and single-label or .local/.lan/.internal names are on site). Off site, the
    # recipe's privacy rule applies as to a cloud engine.
    on_site: bool | None = None
    # Ask for each answer token's log-probability (vLLM, SGLang, lmdeploy, llama.cpp and
    # Ollama give them): the outcome's probability is then measured, not self-reported. A
    # server that ignores the field (`transformers serve`) leaves the confidence self-reported;
    # one that refuses it needs `logprobs: false`.
    logprobs: bool = True

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
            raise ValueError(f"{url!r} is not an http(s) URL such as http://gpu-server:8000/v1")
        return url


class OpenAICompatibleJudge(OpenAIStyleJudge):
    engine = "openai-compatible"
    Settings = OpenAICompatibleSettings
    settings: OpenAICompatibleSettings
    supports_schema = True
    usage_fields = ("prompt_tokens", "completion_tokens")

    @property
    def leaves_site(self) -> bool:  # type: ignore[override]
        if self.settings.on_site is not None:
            return not self.settings.on_site
        return not is_on_site(self.settings.base_url)

    def structured_output(self) -> Literal["auto", "json_schema", "none"]:
        return self.settings.structured_output

    def check(self) -> str | None:
        problem = super().check()
        if problem:
            return problem
        return server_problem(self.settings.base_url, self.settings.model)

    def _generate(self, prompt: Prompt, convention: BoxConvention) -> Generation:
        request = {
            "model": self.settings.model,
            "messages": chat_messages(prompt, self.settings.image_format),
            "max_tokens": self.settings.max_new_tokens,
            "temperature": _temperature(prompt, self.settings.temperature),
        }
        if self.settings.logprobs:
            request["logprobs"] = True
        if prompt.schema is not None:
            schema = {"name": SCHEMA_NAME, "schema": prompt.schema, "strict": True}
            request["response_format"] = {"type": "json_schema", "json_schema": schema}
        response = self._call(self.client.chat.completions.create, **request)
        if not response.choices:
            raise CallFailed(f"{self.endpoint} answered without a choice", status=200)
        message = response.choices[0].message
        text = message.content or getattr(message, "refusal", None) or ""
        generation = self._generation(text, response.usage)
        tokens = token_logprobs(getattr(response.choices[0], "logprobs", None))
        return dataclasses.replace(generation, token_logprobs=tokens) if tokens else generation


def token_logprobs(logprobs: object) -> tuple[TokenLogprob, ...] | None:
    """The answer's tokens with their log-probabilities, from a choice's `logprobs`; None where
    the server sent none (or something else)."""
    content = getattr(logprobs, "content", None)
    if not content:
        return None
    tokens = []
    for item in content:
        token, logprob = getattr(item, "token", None), getattr(item, "logprob", None)
        if not isinstance(token, str) or not isinstance(logprob, int | float):
            return None
        data = getattr(item, "bytes", None)
        # The token's exact bytes where given (a token can be half of a UTF-8 character).
        if isinstance(data, list) and all(isinstance(b, int) and 0 <= b < 256 for b in data):
            raw = bytes(data)
        else:
            raw = token.encode("utf-8", "surrogatepass")
        tokens.append(TokenLogprob(raw, float(logprob)))
    return tuple(tokens)


def chat_messages(prompt: Prompt, image_format: str) -> list[dict]:
    """The prompt as chat completion messages: a system string, then one user turn in order."""
    content: list[dict] = []
    for part in prompt.parts:
        if isinstance(part, TextPart):
            content.append({"type": "text", "text": part.text})
        else:
            url = data_url(part, image_format)
            content.append({"type": "image_url", "image_url": {"url": url}})
    # The system message as a plain string: every family's chat template reads that.
    return [{"role": "system", "content": prompt.system}, {"role": "user", "content": content}]


def is_on_site(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host == "localhost" or "." not in host or host.endswith(_LOCAL_SUFFIXES)
    return address.is_private or address.is_loopback or address.is_link_local


def server_problem(base_url: str, model: str, timeout_s: float = 5.0) -> str | None:
    """Why the server at base_url cannot judge with `model`; None when it lists the model."""
    url = base_url.rstrip("/") + "/models"
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as answer:
            listing = json.loads(answer.read() or b"{}")
    except urllib.error.HTTPError as exc:
        if exc.code in (401, 403):
            return None  # it answers, and wants a key for its listing: the judge call will tell
        return f"server at {endpoint_of(base_url)} answers GET /models with HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return f"server unreachable at {endpoint_of(base_url)} ({reason})"
    served = [m.get("id") for m in listing.get("data", []) if isinstance(m, dict)]
    if served and model not in served:
        return f"the server at {endpoint_of(base_url)} serves {', '.join(served)}, not {model}"
    return None


def _temperature(prompt: Prompt, configured: float) -> float:
    """A sampled look's temperature (agreement.samples), else the engine entry's."""
    return prompt.temperature if prompt.temperature is not None else configured
