"""API keys: the environment first, then the OS keyring; where to put one when there is none."""

from __future__ import annotations

import pytest

from inspector.errors import EngineUnavailable
from inspector.judges.keys import api_key, key_source, redact

keyring = pytest.importorskip("keyring")
from keyring.backend import KeyringBackend  # noqa: E402


class MemoryKeyring(KeyringBackend):
    """A keyring backend holding passwords in memory: a real backend of the keyring API, for a
    machine without a desktop secret service."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.passwords: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.passwords.get((service, username))

    def set_password(self, service, username, password):
        self.passwords[(service, username)] = password

    def delete_password(self, service, username):
        self.passwords.pop((service, username), None)


@pytest.fixture
def memory_keyring(monkeypatch):
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


def test_the_environment_comes_first(memory_keyring, monkeypatch):
    keyring.set_password("inspector", "openai", "sk-from-keyring-123456")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env-123456")
    assert api_key("openai") == "sk-from-env-123456"
    assert key_source("openai") == "environment OPENAI_API_KEY"


def test_the_keyring_is_read_when_the_environment_has_none(memory_keyring):
    keyring.set_password("inspector", "anthropic", "sk-ant-from-keyring-1234")
    assert api_key("anthropic") == "sk-ant-from-keyring-1234"
    assert key_source("anthropic") == "OS keyring (inspector/anthropic)"


def test_gemini_reads_either_google_variable(memory_keyring, monkeypatch):
    monkeypatch.setenv("GOOGLE_API_KEY", "AIza-google-123456")
    assert api_key("gemini") == "AIza-google-123456"
    monkeypatch.setenv("GEMINI_API_KEY", "AIza-gemini-123456")
    assert api_key("gemini") == "AIza-gemini-123456"


def test_a_recipe_can_name_its_own_variable(memory_keyring, monkeypatch):
    monkeypatch.setenv("PLANT_OPENAI_KEY", "sk-plant-123456")
    assert api_key("openai", "PLANT_OPENAI_KEY") == "sk-plant-123456"
    assert key_source("openai") is None


def test_a_missing_key_says_where_to_put_it(memory_keyring):
    with pytest.raises(EngineUnavailable) as caught:
        api_key("gemini")
    message = str(caught.value)
    assert "GEMINI_API_KEY or GOOGLE_API_KEY" in message
    assert "keyring set inspector gemini" in message


def test_a_broken_keyring_is_no_key_not_a_crash(monkeypatch, memory_keyring):
    def broken(service, username):
        raise keyring.errors.KeyringError("no secret service on this bus")

    monkeypatch.setattr(memory_keyring, "get_password", broken)
    assert key_source("openai") is None


def test_keys_and_key_shaped_text_are_redacted():
    text = "Incorrect API key provided: sk-proj-****************abcd. And AIzaSyD-123456789."
    clean = redact(text, "my-secret")
    assert "abcd" not in clean and "AIzaSy" not in clean
    assert redact("the key my-secret leaked", "my-secret") == "the key [key] leaked"
