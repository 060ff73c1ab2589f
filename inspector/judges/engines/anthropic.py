"""`anthropic`: Claude (Sonnet 4 and others) through the Messages API. Cloud.

Images go as base64 image blocks. Structured output goes through a tool: the model is made to
call `record_verdict`, whose input schema is the verdict, and the call's input is the answer.
A refusal (`stop_reason: refusal`) has no tool call: its text is recorded and the part is UNSURE.
"""

from __future__ import annotations

import base64
import json
from typing import Literal

from inspector.judges.answers import BoxConvention
from inspector.judges.judge import Generation
from inspector.judges.prompt import Prompt, TextPart
from inspector.judges.remote import RemoteSettings, StainlessJudge, encode_image

TOOL_NAME = "record_verdict"


class AnthropicSettings(RemoteSettings):
    engine: Literal["anthropic"] = "anthropic"
    # Sent only when set: newer Claude models fix their own sampling, and this SDK no longer
    # has the parameter (it goes in the request body as the API documents it).
    temperature: float | None = None


class AnthropicJudge(StainlessJudge):
    engine = "anthropic"
    samples_vary = True  # a prompt's temperature is honoured (agreement.samples)
    Settings = AnthropicSettings
    settings: AnthropicSettings
    provider = "anthropic"
    default_base_url = "https://api.anthropic.com"
    sdk_package = "anthropic"
    client_class = "Anthropic"
    requires = ("anthropic",)
    extra = "cloud"
    supports_schema = True  # as the input schema of a tool the model must call

    def _import_sdk(self):
        import anthropic

        return anthropic

    def _generate(self, prompt: Prompt, convention: BoxConvention) -> Generation:
        response = self._call(self.client.messages.create, **self.request(prompt))
        return self._generation(answer_text(response), response.usage)

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
        request: dict = {
            "model": self.settings.model,
            "max_tokens": self.settings.max_new_tokens,
            "system": prompt.system,
            "messages": [{"role": "user", "content": content}],
        }
        if prompt.schema is not None:
            tool = {
                "name": TOOL_NAME,
                "description": "Record the inspection verdict for the part in the image.",
                "input_schema": prompt.schema,
            }
            request["tools"] = [tool]
            request["tool_choice"] = {"type": "tool", "name": TOOL_NAME}
        temperature = prompt.temperature
        if temperature is None:
            temperature = self.settings.temperature
        if temperature is not None:
            request["extra_body"] = {"temperature": temperature}
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
