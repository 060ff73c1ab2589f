"""What every engine that calls a server shares: its settings, the API key, the SDK's client
and its errors as `CallFailed` (key scrubbed), the endpoint recorded, the image encoding, and
the tokens and cost of each answer.

No SDK is imported here: each engine imports its own in `_import_sdk`, when it loads; the
functions that read an SDK's exceptions take its module as an argument.
"""

from __future__ import annotations

import base64
import os
from typing import ClassVar, Literal
from urllib.parse import urlsplit, urlunsplit

import cv2
import numpy as np

from inspector.errors import EngineUnavailable
from inspector.judges.failures import CallFailed, describe, retry_after, status_message
from inspector.judges.judge import EngineSettings, Generation, Judge, Progress
from inspector.judges.keys import api_key, key_source, redact, where_to_put
from inspector.judges.prompt import ImagePart

DEFAULT_TIMEOUT_S = 60.0  # a server engine's limit per attempt when the recipe sets none


class RemoteSettings(EngineSettings):
    """Settings of an engine that sends its prompt to a server."""

    image_format: Literal["jpeg", "png"] = "jpeg"  # JPEG at quality 95: visually lossless
    # USD per million tokens (input, output), to estimate each attempt's cost; unset: the price
    # list in inspector.judges.presets, where it knows the model.
    price_per_mtok: tuple[float, float] | None = None
    # The environment variable that holds the API key, if not the provider's usual one.
    api_key_env: str | None = None
    base_url: str | None = None  # the API root; unset: the provider's own


class RemoteJudge(Judge):
    """An engine that calls a server through its provider's SDK.

    The base does what every such engine does alike: it finds the API key (the provider's usual
    variables and the keyring, or the variable the recipe names), builds the SDK's client once
    in `load` with the recipe's base URL and timeout and no retries of its own (the chain
    retries, honouring Retry-After, and records each try), turns the SDK's errors into
    `CallFailed` with the key scrubbed, and maps the answer's token usage to the attempt's
    tokens and cost. An engine says which SDK (`_import_sdk`, the only place it is imported),
    how its client is made (`_make_client`), how its errors read (`_failure`) and, where its
    usage object differs, `tokens`.
    """

    leaves_site = True  # a provider's server, elsewhere; an engine that knows better overrides
    provider: ClassVar[str | None] = None  # whose API key it needs; None: the recipe's, if any
    default_base_url: ClassVar[str]  # the API root when the recipe sets no base_url
    sdk_package: ClassVar[str]  # the SDK's name on PyPI, for the message when it is missing
    # The usage object's fields for the prompt's and the answer's tokens.
    usage_fields: ClassVar[tuple[str, str]] = ("input_tokens", "output_tokens")
    settings: RemoteSettings

    def __init__(self, settings: RemoteSettings, recipe) -> None:
        super().__init__(settings, recipe)
        self._client = None
        self._sdk = None
        self._key: str | None = None
        self.endpoint = endpoint_of(self.base_url())

    def base_url(self) -> str:
        return self.settings.base_url or self.default_base_url

    def request_timeout_s(self) -> float:
        """Seconds the client waits for an answer: the engine's or the chain's, else 60."""
        return self.timeout_s() or DEFAULT_TIMEOUT_S

    def check(self) -> str | None:
        env = self.settings.api_key_env
        if self.provider and key_source(self.provider, env) is None:
            return f"no API key: {where_to_put(self.provider, env)}"
        if not self.provider and env and not os.environ.get(env):
            return f"no API key: the recipe names {env}, which is not set"
        return None

    def load(self, progress: Progress | None = None) -> None:
        if self._client is not None:
            return
        try:
            sdk = self._import_sdk()
        except ImportError:
            raise EngineUnavailable(
                f"the {self.engine} engine needs the {self.sdk_package} package: "
                f"pip install 'inspector[{self.extra}]'"
            ) from None
        self._key = self._api_key()
        self._sdk = sdk  # before the client: a call that sees the client can read its errors
        self._client = self._make_client(sdk)
        if progress:
            progress(f"{self.engine} {self.model_id} at {self.endpoint}")

    def _import_sdk(self):
        """Import and return the SDK's module (ImportError when it is not installed)."""
        raise NotImplementedError

    def _make_client(self, sdk):
        """The SDK's client for `base_url()`, `request_timeout_s()` and `self._key`."""
        raise NotImplementedError

    def _failure(self, exc: Exception) -> Exception:
        """The SDK's exception as CallFailed, key scrubbed; any other exception as it is."""
        return exc

    def _api_key(self) -> str:
        if self.provider:
            return api_key(self.provider, self.settings.api_key_env)
        env = self.settings.api_key_env
        if env:
            value = os.environ.get(env, "").strip()
            if not value:
                raise EngineUnavailable(f"{self.engine}: the recipe names {env}, which is not set")
            return value
        return "EMPTY"  # servers without authentication ignore it; the SDKs want one

    @property
    def client(self):
        """The SDK's client, made on first use."""
        if self._client is None:
            self.load()
        return self._client

    def _call(self, method, /, *args, **kwargs):
        """Call one of the client's methods; the SDK's errors become CallFailed."""
        try:
            return method(*args, **kwargs)
        except Exception as exc:
            failure = self._failure(exc)
            if failure is exc:
                raise
            raise failure from None

    def tokens(self, usage) -> tuple[int | None, int | None]:
        """The prompt's and the answer's tokens from the answer's usage object, if any."""
        if usage is None:
            return None, None
        prompt_field, completion_field = self.usage_fields
        return getattr(usage, prompt_field), getattr(usage, completion_field)

    def _generation(self, text: str, usage) -> Generation:
        """The answer's text with its tokens and their estimated cost."""
        prompt_tokens, completion_tokens = self.tokens(usage)
        return Generation(
            text=text,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            cost_usd=cost_usd(self.settings, prompt_tokens, completion_tokens),
        )


class StainlessJudge(RemoteJudge):
    """An engine on the openai or anthropic SDK: both are generated by Stainless, so their
    clients take the same options and raise the same errors. An engine names its client's
    class (`client_class`) and imports its SDK."""

    client_class: ClassVar[str]  # "OpenAI", "Anthropic"

    def _make_client(self, sdk):
        return getattr(sdk, self.client_class)(
            api_key=self._key,
            base_url=self.base_url(),
            timeout=self.request_timeout_s(),
            max_retries=0,  # the chain retries, honouring Retry-After, and records each try
        )

    def _failure(self, exc: Exception) -> Exception:
        return sdk_failure(exc, self._sdk, self.endpoint, self.request_timeout_s(), self._key)


def encode_image(part: ImagePart, image_format: str) -> tuple[bytes, str]:
    """The image's bytes to send, and their MIME type."""
    image: np.ndarray = part.image  # BGR or mono, as cv2 writes them
    if image.ndim == 3 and image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    if image_format == "png":
        ok, data = cv2.imencode(".png", image)
        mime = "image/png"
    else:
        ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 95])
        mime = "image/jpeg"
    if not ok:
        raise ValueError(f"cannot encode a {image.shape} image as {image_format}")
    return data.tobytes(), mime


def data_url(part: ImagePart, image_format: str) -> str:
    data, mime = encode_image(part, image_format)
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def endpoint_of(url: str) -> str:
    """A URL fit for the record: no user name, password, query or fragment."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path.rstrip("/"), "", ""))[:300]


def cost_usd(
    settings: RemoteSettings, prompt_tokens: int | None, completion_tokens: int | None
) -> float | None:
    """The attempt's cost from its tokens, where a price is known."""
    from inspector.judges.presets import price_per_mtok

    price = settings.price_per_mtok or price_per_mtok(settings.model)
    if price is None or prompt_tokens is None or completion_tokens is None:
        return None
    return (prompt_tokens * price[0] + completion_tokens * price[1]) / 1e6


def sdk_failure(exc: Exception, sdk, endpoint: str, timeout_s: float, key: str | None) -> Exception:
    """An exception of the openai or anthropic SDK (both generated by Stainless) as CallFailed.

    Anything else is returned as it is. The message is scrubbed of the key: providers echo a
    masked key in their 401 answers.
    """
    if isinstance(exc, sdk.APITimeoutError):
        return CallFailed(f"no answer from {endpoint} within {timeout_s:g} s", timed_out=True)
    if isinstance(exc, sdk.APIConnectionError):
        cause = exc.__cause__ or exc
        return CallFailed(redact(f"cannot reach {endpoint}: {describe(cause)}", key))
    if isinstance(exc, sdk.APIStatusError):
        detail = _error_detail(getattr(exc, "body", None)) or getattr(exc, "message", "")
        return CallFailed(
            redact(status_message(exc.status_code, str(detail)), key),
            status=exc.status_code,
            retry_after_s=retry_after(exc.response.headers),
        )
    return exc


def _error_detail(body: object) -> str:
    """The message of a documented error body: {"error": {"message": ...}} and the like."""
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict):
            return str(error.get("message") or error.get("type") or "")
        return str(error)
    return str(body or "")
