"""`gemini`: Gemini 2.5 Pro and the other Gemini models, through google-genai. Cloud.

Images go as `Part.from_bytes`; the answer is constrained by a response JSON schema whose boxes
are `box_2d`, Gemini's own convention: [ymin, xmin, ymax, xmax] scaled to 0-1000. A prompt the
safety filter blocks has no answer: the attempt records the block reason and the part is
UNSURE.
"""

from __future__ import annotations

from typing import Literal

from inspector.judges.answers import BoxConvention
from inspector.judges.failures import CallFailed, retry_after, status_message
from inspector.judges.judge import Generation
from inspector.judges.keys import redact
from inspector.judges.prompt import Prompt, TextPart
from inspector.judges.remote import RemoteJudge, RemoteSettings, encode_image


class GeminiSettings(RemoteSettings):
    engine: Literal["gemini"] = "gemini"
    api_version: str | None = None  # unset: the SDK's (v1beta)
    temperature: float = 0.0
    thinking_budget: int | None = None  # tokens Gemini 2.5 may think; unset: the model's own


class GeminiJudge(RemoteJudge):
    engine = "gemini"
    samples_vary = True  # a prompt's temperature is honoured (agreement.samples)
    Settings = GeminiSettings
    settings: GeminiSettings
    provider = "gemini"
    default_base_url = "https://generativelanguage.googleapis.com"
    sdk_package = "google-genai"
    requires = ("google.genai",)
    extra = "cloud"
    supports_schema = True
    schema_box_key = "box_2d"  # Gemini's own box, [ymin, xmin, ymax, xmax] in 0-1000

    def box_convention(self) -> BoxConvention:
        return self.settings.box_convention or BoxConvention.YXYX_1000

    def _import_sdk(self):
        from google import genai

        return genai

    def _make_client(self, genai):
        from google.genai import types

        options = types.HttpOptions(
            base_url=self.settings.base_url,  # unset: the SDK's own
            api_version=self.settings.api_version,
            timeout=int(self.request_timeout_s() * 1000),  # milliseconds
        )
        # No retry_options: the SDK does not retry; the chain does, and records each try.
        return genai.Client(api_key=self._key, http_options=options)

    def _failure(self, exc: Exception) -> Exception:
        from google.genai import errors

        if isinstance(exc, errors.APIError):
            headers = getattr(getattr(exc, "response", None), "headers", None)
            return CallFailed(
                redact(status_message(exc.code, str(exc.message or exc.status or "")), self._key),
                status=exc.code,
                retry_after_s=retry_after(headers) or retry_delay(exc.details),
            )
        return _transport_failure(exc, self.endpoint, self.request_timeout_s())

    def tokens(self, usage) -> tuple[int | None, int | None]:
        if usage is None:
            return None, None
        # Thinking tokens are billed as output.
        thoughts = (usage.candidates_token_count or 0) + (usage.thoughts_token_count or 0)
        return usage.prompt_token_count, thoughts

    def _generate(self, prompt: Prompt, convention: BoxConvention) -> Generation:
        contents, config = self.request(prompt)
        response = self._call(
            self.client.models.generate_content,
            model=self.settings.model,
            contents=contents,
            config=config,
        )
        return self._generation(answer_text(response), response.usage_metadata)

    def request(self, prompt: Prompt):
        """The contents and config of a generate_content call for a prompt."""
        from google.genai import types

        parts = []
        for part in prompt.parts:
            if isinstance(part, TextPart):
                parts.append(types.Part.from_text(text=part.text))
            else:
                data, mime = encode_image(part, self.settings.image_format)
                parts.append(types.Part.from_bytes(data=data, mime_type=mime))
        thinking = None
        if self.settings.thinking_budget is not None:
            thinking = types.ThinkingConfig(thinking_budget=self.settings.thinking_budget)
        structured = prompt.schema is not None
        config = types.GenerateContentConfig(
            system_instruction=prompt.system,
            response_mime_type="application/json" if structured else None,
            response_json_schema=prompt.schema,
            max_output_tokens=self.settings.max_new_tokens,
            temperature=(
                prompt.temperature if prompt.temperature is not None else self.settings.temperature
            ),
            thinking_config=thinking,
        )
        return [types.Content(role="user", parts=parts)], config


def answer_text(response) -> str:
    """The candidate's text; CallFailed saying why when there is none (blocked, cut off)."""
    feedback = response.prompt_feedback
    if feedback is not None and feedback.block_reason:
        raise CallFailed(f"the provider blocked the prompt ({_name(feedback.block_reason)})", 200)
    candidates = response.candidates or []
    candidate = candidates[0] if candidates else None
    parts = candidate.content.parts if candidate and candidate.content else None
    text = "".join(p.text for p in parts or [] if p.text and not p.thought)
    if text or candidate is None:
        return text
    why = _name(candidate.finish_reason) if candidate.finish_reason else "no reason given"
    if why == "MAX_TOKENS":
        raise CallFailed(
            "the answer stopped at max_new_tokens before any text; raise it "
            "(Gemini 2.5 spends tokens on thinking first)",
            200,
        )
    raise CallFailed(f"the provider gave no answer ({why})", 200)


def retry_delay(details: object) -> float | None:
    """Google's RetryInfo in an error body ("retryDelay": "37s"): its Retry-After."""
    error = details.get("error", details) if isinstance(details, dict) else None
    for item in error.get("details", []) if isinstance(error, dict) else []:
        delay = item.get("retryDelay") if isinstance(item, dict) else None
        if isinstance(delay, str) and delay.endswith("s"):
            try:
                return max(0.0, float(delay[:-1]))
            except ValueError:
                return None
    return None


def _name(value) -> str:
    return str(getattr(value, "value", value))


def _transport_failure(exc: Exception, endpoint: str, timeout_s: float) -> Exception:
    """httpx(2) timeouts and connection errors as CallFailed; anything else as it is."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    if "TimeoutException" in names:
        return CallFailed(f"no answer from {endpoint} within {timeout_s:g} s", timed_out=True)
    if "TransportError" in names:
        return CallFailed(f"cannot reach {endpoint}: {type(exc).__name__}: {exc}")
    return exc
