"""`openai`: o3, GPT-4.1 and the other OpenAI models, through the Responses API. Cloud.

Images go as `input_image` parts (base64 data URLs); the answer is constrained by
`text.format` json_schema (strict). Responses are not stored at OpenAI (`store: false`).
A refusal comes back as the model's text: the parser finds no verdict in it, so the part is
UNSURE and the chain may fall back.
"""

from __future__ import annotations

from typing import Literal

from inspector.judges.answers import BoxConvention
from inspector.judges.engines.openai_compat import OpenAIStyleJudge
from inspector.judges.judge import Generation
from inspector.judges.prompt import Prompt, TextPart
from inspector.judges.remote import RemoteSettings, data_url
from inspector.judges.structured import SCHEMA_NAME

_REASONING_PREFIXES = ("o1", "o3", "o4", "gpt-5")


class OpenAISettings(RemoteSettings):
    engine: Literal["openai"] = "openai"
    image_detail: Literal["auto", "low", "high"] = "high"
    # Reasoning models (o3): how hard to think; their reasoning counts in max_new_tokens.
    reasoning_effort: Literal["minimal", "low", "medium", "high"] | None = None
    temperature: float | None = None  # unset: 0, except for reasoning models (they refuse it)


class OpenAIJudge(OpenAIStyleJudge):
    engine = "openai"
    Settings = OpenAISettings
    settings: OpenAISettings
    provider = "openai"
    extra = "cloud"
    supports_schema = True

    def _generate(self, prompt: Prompt, convention: BoxConvention) -> Generation:
        response = self._call(self.client.responses.create, **self.request(prompt))
        text = output_text(response)
        if not text and getattr(response, "status", None) == "incomplete":
            details = getattr(response, "incomplete_details", None)
            why = getattr(details, "reason", None) or "incomplete"
            raise RuntimeError(
                f"the answer stopped ({why}) before any text; raise the engine's max_new_tokens "
                "(a reasoning model spends them on thinking first)"
            )
        return self._generation(text, response.usage)

    def request(self, prompt: Prompt) -> dict:
        """The Responses API request for a prompt."""
        content: list[dict] = []
        for part in prompt.parts:
            if isinstance(part, TextPart):
                content.append({"type": "input_text", "text": part.text})
            else:
                url = data_url(part, self.settings.image_format)
                content.append(
                    {"type": "input_image", "image_url": url, "detail": self.settings.image_detail}
                )
        request: dict = {
            "model": self.settings.model,
            "instructions": prompt.system,
            "input": [{"role": "user", "content": content}],
            "max_output_tokens": self.settings.max_new_tokens,
            "store": False,  # nothing of the plant's is kept at the provider
        }
        if prompt.schema is not None:
            request["text"] = {
                "format": {
                    "type": "json_schema",
                    "name": SCHEMA_NAME,
                    "schema": prompt.schema,
                    "strict": True,
                }
            }
        reasoning = self.settings.model.lower().startswith(_REASONING_PREFIXES)
        if reasoning:
            pass  # reasoning models refuse a temperature (and sample anyway)
        elif prompt.temperature is not None:
            request["temperature"] = prompt.temperature
        elif self.settings.temperature is not None:
            request["temperature"] = self.settings.temperature
        else:
            request["temperature"] = 0.0
        if self.settings.reasoning_effort:
            request["reasoning"] = {"effort": self.settings.reasoning_effort}
        return request


def output_text(response) -> str:
    """The answer's text: output_text parts, or the refusal the model gave instead."""
    texts = []
    for item in getattr(response, "output", None) or []:
        if getattr(item, "type", None) != "message":
            continue
        for content in getattr(item, "content", None) or []:
            kind = getattr(content, "type", None)
            if kind == "output_text":
                texts.append(content.text)
            elif kind == "refusal":
                texts.append(content.refusal)
    return "".join(texts)
