"""`openai-compatible`: any server that speaks the OpenAI chat completions API.

vLLM, the lmdeploy api_server, SGLang, Ollama, llama.cpp's server and `transformers serve`: the
scale-out path, many stations judging through one GPU server. Images go as base64 data URLs in
`image_url` parts; the answer is asked for as JSON-schema structured output, and where a server
refuses that (a 400), as the JSON the prompt describes, remembered for the next parts.

`OpenAIStyleJudge` is what every engine reached through the openai SDK shares (client, key,
errors); the `openai` engine (Responses API) builds on it.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import urllib.error
import urllib.request
from typing import ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import field_validator

from inspector.errors import EngineUnavailable
from inspector.judges.answers import BoxConvention
from inspector.judges.base import Generation, Judge, Progress
from inspector.judges.failures import CallFailed
from inspector.judges.keys import api_key, key_source, where_to_put
from inspector.judges.prompt import Prompt, TextPart
from inspector.judges.remote import (
    DEFAULT_TIMEOUT_S,
    RemoteSettings,
    cost_usd,
    data_url,
    endpoint_of,
    sdk_failure,
)
from inspector.judges.structured import SCHEMA_NAME, verdict_schema

log = logging.getLogger(__name__)

_LOCAL_SUFFIXES = (".local", ".lan", ".internal", ".home.arpa", ".localhost")


class OpenAIStyleJudge(Judge):
    """An engine reached through the openai SDK: one client, its key, its errors."""

    provider: ClassVar[str | None] = None  # whose API key it needs; None: the server's choice
    requires = ("openai",)
    extra = "server"
    settings: RemoteSettings

    def __init__(self, settings: RemoteSettings, recipe) -> None:
        super().__init__(settings, recipe)
        self._client = None
        self._key: str | None = None
        self.endpoint = endpoint_of(self.base_url())

    def base_url(self) -> str:
        return getattr(self.settings, "base_url", None) or "https://api.openai.com/v1"

    def load(self, progress: Progress | None = None) -> None:
        if self._client is not None:
            return
        try:
            import openai
        except ImportError:
            raise EngineUnavailable(
                f"the {self.engine} engine needs the openai package: "
                f"pip install 'inspector[{self.extra}]'"
            ) from None
        self._key = self._api_key()
        self._client = openai.OpenAI(
            api_key=self._key,
            base_url=self.base_url(),
            timeout=self.request_timeout_s(),
            max_retries=0,  # the chain retries, honouring Retry-After, and records each try
        )
        if progress:
            progress(f"{self.engine} {self.model_id} at {self.endpoint}")

    def check(self) -> str | None:
        if self.provider and key_source(self.provider, self.settings.api_key_env) is None:
            return f"no API key: {where_to_put(self.provider, self.settings.api_key_env)}"
        env = self.settings.api_key_env
        if not self.provider and env and not os.environ.get(env):
            return f"no API key: the recipe names {env}, which is not set"
        return None

    def request_timeout_s(self) -> float:
        return self.timeout_s() or DEFAULT_TIMEOUT_S

    def _api_key(self) -> str:
        if self.provider:
            return api_key(self.provider, self.settings.api_key_env)
        env = self.settings.api_key_env
        if env:
            value = os.environ.get(env, "").strip()
            if not value:
                raise EngineUnavailable(f"{self.engine}: the recipe names {env}, which is not set")
            return value
        return "EMPTY"  # servers without authentication ignore it; the SDK wants one

    def _request(self, method, **request):
        """Call the SDK; its errors become CallFailed (retryable or not, key scrubbed)."""
        import openai

        try:
            return method(**request)
        except openai.OpenAIError as exc:
            raise sdk_failure(
                exc, openai, self.endpoint, self.request_timeout_s(), self._key
            ) from None


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

    def __init__(self, settings: OpenAICompatibleSettings, recipe) -> None:
        super().__init__(settings, recipe)
        self._structured = settings.structured_output != "none"

    @property
    def leaves_site(self) -> bool:  # type: ignore[override]
        if self.settings.on_site is not None:
            return not self.settings.on_site
        return not is_on_site(self.settings.base_url)

    def base_url(self) -> str:
        return self.settings.base_url

    def check(self) -> str | None:
        problem = super().check()
        if problem:
            return problem
        return server_problem(self.settings.base_url, self.settings.model)

    def _generate(self, prompt: Prompt, convention: BoxConvention) -> Generation:
        if self._client is None:
            self.load()
        request = {
            "model": self.settings.model,
            "messages": chat_messages(prompt, self.settings.image_format),
            "max_tokens": self.settings.max_new_tokens,
            "temperature": self.settings.temperature,
        }
        create = self._client.chat.completions.create
        if not self._structured:
            return self._generation(self._request(create, **request))
        schema = {"name": SCHEMA_NAME, "schema": verdict_schema(self.recipe), "strict": True}
        try:
            response = self._request(
                create, **request, response_format={"type": "json_schema", "json_schema": schema}
            )
        except CallFailed as exc:
            if self.settings.structured_output != "auto" or exc.status not in (400, 422):
                raise
            response = self._request(create, **request)
            # The plain request went through: it was the schema the server refused.
            log.info("%s refuses JSON-schema output (%s); asking in the prompt", self.endpoint, exc)
            self._structured = False
        return self._generation(response)

    def _generation(self, response) -> Generation:
        if not response.choices:
            raise CallFailed(f"{self.endpoint} answered without a choice", status=200)
        message = response.choices[0].message
        text = message.content or getattr(message, "refusal", None) or ""
        usage = response.usage
        prompt_tokens = usage.prompt_tokens if usage else None
        completion_tokens = usage.completion_tokens if usage else None
        return Generation(
            text=text,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            cost_usd=cost_usd(self.settings, prompt_tokens, completion_tokens),
        )


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
