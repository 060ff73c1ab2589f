"""`lmdeploy`: InternVL3 and other models on lmdeploy's TurboMind or PyTorch engine, in process.

GPU only (CUDA): on a machine without one the engine says so at once and names the engines that
do run there. `tp` spreads the model over several GPUs (InternVL3-38B: 2, 78B: 4). Images go as
base64 data URLs in OpenAI-style messages, which lmdeploy's VLM pipeline reads; the answer is
constrained by a JSON schema (lmdeploy's guided decoding) unless `structured_output: false`.

lmdeploy brings its own CUDA build of torch, so it is kept out of the CPU test environment
(the `lmdeploy` extra is for GPU stations).
"""

from __future__ import annotations

import threading
from typing import Literal

from pydantic import Field

from inspector.errors import EngineUnavailable
from inspector.judges.answers import BoxConvention
from inspector.judges.failures import first_line
from inspector.judges.gpu import cuda_device_count, no_gpu_message
from inspector.judges.judge import EngineSettings, Generation, Judge, Progress
from inspector.judges.prompt import Prompt, TextPart
from inspector.judges.remote import data_url
from inspector.judges.structured import SCHEMA_NAME


class LMDeploySettings(EngineSettings):
    engine: Literal["lmdeploy"] = "lmdeploy"
    backend: Literal["turbomind", "pytorch"] = "turbomind"
    tp: int = Field(default=1, ge=1)  # GPUs to spread the model over (tensor parallelism)
    session_len: int | None = None  # tokens of context; unset: the model's own
    cache_max_entry_count: float = Field(default=0.8, gt=0, le=1)  # GPU memory for the KV cache
    dtype: Literal["auto", "bfloat16", "float16"] = "auto"
    structured_output: bool = True


class LMDeployJudge(Judge):
    engine = "lmdeploy"
    samples_vary = True  # a prompt's temperature is honoured (agreement.samples)
    Settings = LMDeploySettings
    settings: LMDeploySettings
    requires = ("lmdeploy",)
    extra = "lmdeploy"
    supports_schema = True  # guided decoding

    def __init__(self, settings: LMDeploySettings, recipe) -> None:
        super().__init__(settings, recipe)
        self._pipe = None
        self._lock = threading.Lock()  # one request at a time from this station

    def structured_output(self) -> Literal["auto", "json_schema", "none"]:
        return "json_schema" if self.settings.structured_output else "none"

    def check(self) -> str | None:
        return gpu_problem(self.settings.tp)  # `inspector models --check` adds the package

    def load(self, progress: Progress | None = None) -> None:
        if self._pipe is not None:
            return
        problem = gpu_problem(self.settings.tp) or self.missing_package()
        if problem:
            raise EngineUnavailable(f"lmdeploy: {problem}")
        import lmdeploy

        config = engine_config(lmdeploy, self.settings)
        if progress:
            progress(f"loading {self.settings.model} on lmdeploy {self.settings.backend}")
        try:
            self._pipe = lmdeploy.pipeline(
                self.settings.model, backend_config=config, log_level="ERROR"
            )
        except (OSError, ValueError, RuntimeError) as exc:
            raise EngineUnavailable(
                f"model {self.settings.model}: lmdeploy cannot load it ({first_line(exc)})"
            ) from None
        self.model_revision = None

    def _generate(self, prompt: Prompt, convention: BoxConvention) -> Generation:
        import lmdeploy

        if self._pipe is None:
            self.load()
        options: dict = {"max_new_tokens": self.settings.max_new_tokens, "top_k": 1}
        if prompt.temperature is not None:  # a sampled look (agreement.samples)
            options.update(top_k=0, top_p=1.0, temperature=prompt.temperature)
        if prompt.schema is not None:
            options["response_format"] = response_format(prompt.schema)
        with self._lock:
            response = self._pipe(messages(prompt), gen_config=lmdeploy.GenerationConfig(**options))
        if isinstance(response, list):
            response = response[0]
        return Generation(
            text=response.text,
            prompt_tokens=response.input_token_len,
            completion_tokens=response.generate_token_len,
        )


def gpu_problem(tp: int) -> str | None:
    """Why lmdeploy cannot run here for this many GPUs; None when it can."""
    gpus = cuda_device_count()
    if gpus == 0:
        return no_gpu_message("lmdeploy")
    if tp > gpus:
        return f"`tp: {tp}` needs {tp} GPUs and this machine shows {gpus}; lower `tp`"
    return None


def engine_config(lmdeploy, settings: LMDeploySettings):
    """The TurboMind or PyTorch engine configuration for the settings."""
    options: dict = {"tp": settings.tp, "cache_max_entry_count": settings.cache_max_entry_count}
    if settings.session_len:
        options["session_len"] = settings.session_len
    if settings.dtype != "auto":
        options["dtype"] = settings.dtype
    if settings.backend == "pytorch":
        return lmdeploy.PytorchEngineConfig(**options)
    return lmdeploy.TurbomindEngineConfig(**options)


def messages(prompt: Prompt) -> list[dict]:
    """The prompt as the OpenAI-style messages lmdeploy's VLM pipeline takes."""
    content: list[dict] = []
    for part in prompt.parts:
        if isinstance(part, TextPart):
            content.append({"type": "text", "text": part.text})
        else:  # PNG: lossless, and nothing leaves the process
            content.append({"type": "image_url", "image_url": {"url": data_url(part, "png")}})
    return [{"role": "system", "content": prompt.system}, {"role": "user", "content": content}]


def response_format(schema: dict) -> dict:
    """lmdeploy's guided decoding by the verdict's JSON schema."""
    return {"type": "json_schema", "json_schema": {"name": SCHEMA_NAME, "schema": schema}}
