"""`inspector models [--check]` as a user runs it, and `inspector --help` staying light."""

from __future__ import annotations

import json

import pytest

from tests.support.command_line import inspector as run_inspector
from tests.support.command_line import python
from tests.support.ports import free_port
from tests.support.recipes import recipe_file

HEAVY = ("torch", "transformers", "openai", "anthropic", "google.genai", "keyring", "lmdeploy")


API_KEYS = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY")


def inspector(*args: str, env: dict | None = None, data_dir=None):
    """The CLI with no API key but those in `env`, and no stored key (keyring fails)."""
    given = env or {}
    keys = {name: given.get(name) for name in API_KEYS}  # None: unset
    keyring = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    return run_inspector(*args, data_dir=data_dir, env={**keys, **given, **keyring}, timeout=120)


@pytest.mark.parametrize("args", [["--help"], ["models"]])
def test_help_and_the_preset_list_import_no_engine_package(args, tmp_path):
    code = (
        "import sys, inspector.cli as cli\n"
        f"try:\n    cli.main({args!r})\nexcept SystemExit:\n    pass\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    )
    result = python(code, data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_models_lists_the_presets_of_the_field(tmp_path):
    result = inspector("models", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    for name in (
        "InternVL3-78B",
        "Gemma-3-27b-it",
        "Qwen2.5-VL-72B-Instruct",
        "Llama-3.2-90B-Vision-Instruct",
        "Ovis2-34B",
        "Kimi-VL-A3B-Thinking-2506",
        "o3",
        "GPT-4.1",
        "Claude Sonnet 4",
        "Gemini 2.5 Pro",
    ):
        assert name in result.stdout
    rows = json.loads(inspector("models", "--json", data_dir=tmp_path).stdout)
    by_name = {row["preset"]: row for row in rows}
    assert by_name["Gemini 2.5 Pro"]["boxes"] == "yxyx_1000"
    assert by_name["Qwen2.5-VL-7B-Instruct"]["boxes"] == "pixels"
    assert by_name["Qwen2.5-VL-7B-Instruct"]["workstation"]
    assert by_name["InternVL3-2B"]["engine"] == "lmdeploy"
    assert not by_name["InternVL3-78B"]["workstation"]
    small = {r["preset"] for r in rows if r["workstation"]}
    assert {"InternVL3-2B", "InternVL3-8B", "Gemma-3-4b-it", "Qwen2.5-VL-7B-Instruct"} <= small


def test_check_says_for_each_engine_why_it_cannot_run_here(tiny_models, tmp_path):
    engines = [
        {"engine": "transformers", "model": str(tiny_models["gemma3"])},
        {"engine": "transformers", "model": str(tmp_path / "no-such-model")},
        {
            "engine": "openai-compatible",
            "model": "m",
            "base_url": f"http://127.0.0.1:{free_port()}/v1",
        },
        {"engine": "openai", "model": "gpt-4.1"},
        {"engine": "lmdeploy", "model": "OpenGVLab/InternVL3-8B"},
        {"engine": "ovis2", "model": "AIDC-AI/Ovis2-8B"},
    ]
    recipe = recipe_file(tmp_path, engines, privacy={"images_may_leave": True})
    result = inspector("models", "--check", "--recipe", str(recipe), data_dir=tmp_path / "d")
    assert result.returncode == 1, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == len(engines)
    assert lines[0].endswith(": ready")
    assert "model folder" in lines[1] and "not found" in lines[1]
    assert "server unreachable at http://127.0.0.1:" in lines[2]
    assert "no API key: set OPENAI_API_KEY" in lines[3]
    assert "keyring set inspector openai" in lines[3]
    if "no CUDA" not in lines[4] and "CUDA GPUs only" not in lines[4]:
        pytest.fail(f"lmdeploy line names no GPU problem: {lines[4]}")
    assert "pip install 'inspector[lmdeploy]'" in lines[4]  # not installed in the test env
    assert "trust_remote_code: true" in lines[5]


def test_check_with_a_key_and_without_privacy_consent(tmp_path):
    engines = [{"engine": "anthropic", "model": "claude-sonnet-4-20250514"}]
    recipe = recipe_file(tmp_path, engines)
    result = inspector(
        "models",
        "--check",
        "--recipe",
        str(recipe),
        env={"ANTHROPIC_API_KEY": "sk-ant-test-123456"},
        data_dir=tmp_path / "d",
    )
    assert result.returncode == 0, result.stderr
    assert "not used: the recipe keeps images on site" in result.stdout
    assert "sk-ant" not in result.stdout + result.stderr

    allowed = recipe_file(tmp_path, engines, privacy={"images_may_leave": True})
    result = inspector(
        "models",
        "--check",
        "--json",
        "--recipe",
        str(allowed),
        env={"ANTHROPIC_API_KEY": "sk-ant-test-123456"},
        data_dir=tmp_path / "d",
    )
    [row] = json.loads(result.stdout)
    assert row["ready"] and row["problem"] is None
