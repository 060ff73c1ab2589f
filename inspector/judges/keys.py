"""API keys: from the environment, else the OS keyring. Never stored, never logged.

A key is read when an engine builds its client and lives only in that client. Messages name
where a key was looked for, never the key; text that comes back from a provider is scrubbed of
anything that looks like a key before it is logged or recorded.
"""

from __future__ import annotations

import os
import re

from inspector.errors import EngineUnavailable

KEYRING_SERVICE = "inspector"

# The provider's usual variables, in the order they are read.
ENV_VARS: dict[str, tuple[str, ...]] = {
    "openai": ("OPENAI_API_KEY",),
    "anthropic": ("ANTHROPIC_API_KEY",),
    "gemini": ("GEMINI_API_KEY", "GOOGLE_API_KEY"),
}

# sk-..., sk-ant-..., sk-proj-... (OpenAI, Anthropic), AIza... (Google); masked echoes too.
_KEY_LIKE = re.compile(r"\b(?:sk-[A-Za-z0-9_\-*.]{6,}|AIza[A-Za-z0-9_\-*.]{6,})")


def api_key(provider: str, env_var: str | None = None) -> str:
    """The key for a provider; EngineUnavailable saying where to put it when there is none."""
    key, _ = _find(provider, env_var)
    if key:
        return key
    raise EngineUnavailable(f"{provider}: no API key; {where_to_put(provider, env_var)}")


def key_source(provider: str, env_var: str | None = None) -> str | None:
    """Where the key would come from (for `inspector models --check`), without reading it out."""
    return _find(provider, env_var)[1]


def where_to_put(provider: str, env_var: str | None = None) -> str:
    names = (env_var,) if env_var else ENV_VARS.get(provider, ())
    env = " or ".join(names)
    return (
        f"set {env} in the environment, or store it in the OS keyring: "
        f"`keyring set {KEYRING_SERVICE} {provider}`"
    )


def redact(text: str, *secrets: str | None) -> str:
    """The text without the given secrets or anything shaped like an API key."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[key]")
    return _KEY_LIKE.sub("[key]", text)


def _find(provider: str, env_var: str | None) -> tuple[str | None, str | None]:
    for name in (env_var,) if env_var else ENV_VARS.get(provider, ()):
        value = os.environ.get(name, "").strip()
        if value:
            return value, f"environment {name}"
    value = _from_keyring(provider)
    if value:
        return value, f"OS keyring ({KEYRING_SERVICE}/{provider})"
    return None, None


def _from_keyring(provider: str) -> str | None:
    try:
        import keyring
    except ImportError:  # the keyring package is optional (the `cloud` extra brings it)
        return None
    try:
        return keyring.get_password(KEYRING_SERVICE, provider)
    except Exception:  # no usable backend (a headless machine without a secret service)
        return None


def store_in_keyring(provider: str, key: str) -> None:
    """Keep a key in the OS keyring (the window's settings); EngineUnavailable says why not."""
    if provider not in ENV_VARS or not key.strip():
        raise EngineUnavailable(f"{provider}: give a key to store")
    try:
        import keyring
    except ImportError:
        raise EngineUnavailable(
            "no keyring package on this station: pip install 'inspector[cloud]'"
        ) from None
    try:
        keyring.set_password(KEYRING_SERVICE, provider, key.strip())
    except Exception as exc:
        raise EngineUnavailable(
            f"no usable OS keyring on this station ({type(exc).__name__}); "
            f"set {' or '.join(ENV_VARS[provider])} in the environment instead"
        ) from None
