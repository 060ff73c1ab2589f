"""`anthropic`: Claude (Sonnet 4 and others) through the Messages API. Cloud.

Images go as base64 image blocks. Structured output goes through a tool: the model is made to
call `record_verdict`, whose input schema is the verdict, and the call's input is the answer.
A refusal (`stop_reason: refusal`) has no tool call: its text is recorded and the part is UNSURE.
"""

from __future__ import annotations

import base64
import json
from typing import Literal

from inspector.errors import EngineUnavailable
from inspector.judges.answers import BoxConvention
from inspector.judges.base import Generation, Progress
from inspector.judges.keys import api_key
from inspector.judges.prompt import Prompt, TextPart
from inspector.judges.remote import (
    CloudJudge,
    CloudSettings,
    cost_usd,
    encode_image,
    sdk_failure,
)
from inspector.judges.structured import verdict_schema

TOOL_NAME = "record_verdict"


class AnthropicSettings(CloudSettings):
    engine: Literal["anthropic"] = "anthropic"
    # Sent only when set: newer Claude models fix their own sampling, and this SDK no longer
    # has the parameter (it goes in the request body as the API documents it).
    temperature: float | None = None


class AnthropicJudge(CloudJudge):
    engine = "anthropic"
    default_base_url = "https://api.anthropic.com"
    Settings = AnthropicSettings
    settings: AnthropicSettings
    requires = ("anthropic",)
    extra = "cloud"

    def load(self, progress: Progress | None = None) -> None:
        if self._client is not None:
            return
        try:
            import anthropic
        except ImportError:
            raise EngineUnavailable(
                "the anthropic engine needs the anthropic package: pip install 'inspector[cloud]'"
            ) from None
        self._key = api_key("anthropic", self.settings.api_key_env)
        self._client = anthropic.Anthropic(
            api_key=self._key,
            base_url=self.settings.base_url,
            timeout=self._timeout(),
            max_retries=0,  # the chain retries, honouring Retry-After, and records each try
        )

    def _generate(self, prompt: Prompt, convention: BoxConvention) -> Generation:
        import anthropic

        if self._client is None:
            self.load()
        try:
            response = self._client.messages.create(**self.request(prompt))
        except anthropic.AnthropicError as exc:
            raise sdk_failure(exc, anthropic, self.endpoint, self._timeout(), self._key) from None
        usage = response.usage
        prompt_tokens = usage.input_tokens if usage else None
        completion_tokens = usage.output_tokens if usage else None
        return Generation(
            text=answer_text(response),
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            cost_usd=cost_usd(self.settings, prompt_tokens, completion_tokens),
        )

    def request(self, prompt: Prompt) -> dict:
        """The Messages API request for a prompt."""
        content: list[dict] = []
        for part in prompt.parts:
            if isinstance(part, TextPart):
                content.append({"type": "text", "text": part.text})
            else:
                data, mime = encode_image(part, self.settings.image_format)
                source = {
                    "type": "base64",
                    "media_type": mime,
                    "data": base64.b64encode(data).decode("ascii"),
                }
                content.append({"type": "image", "source": source})
        tool = {
            "name": TOOL_NAME,
            "description": "Record the inspection verdict for the part in the image.",
            "input_schema": verdict_schema(self.recipe),
        }
        request = {
            "model": self.settings.model,
            "max_tokens": self.settings.max_new_tokens,
            "system": prompt.system,
            "messages": [{"role": "user", "content": content}],
            "tools": [tool],
            "tool_choice": {"type": "tool", "name": TOOL_NAME},
        }
        if self.settings.temperature is not None:
            request["extra_body"] = {"temperature": self.settings.temperature}
        return request


def answer_text(response) -> str:
    """The verdict tool's input as JSON; without a tool call, the text the model wrote."""
    texts = []
    for block in response.content or []:
        if block.type == "tool_use" and block.name == TOOL_NAME:
            return json.dumps(block.input)
        if block.type == "text":
            texts.append(block.text)
    return "".join(texts)
