"""What the in-process engines on torch share (transformers, ovis2): the settings that say
which checkpoint (revision, remote code) and where it runs (device, dtype).

No torch import here: each engine passes in the torch it imported when its model loads.
"""

from __future__ import annotations

from typing import Literal

from inspector.errors import EngineUnavailable
from inspector.judges.judge import EngineSettings


class LocalModelSettings(EngineSettings):
    revision: str | None = None
    device: str = "auto"  # auto: CUDA when present, else CPU; or "cpu", "cuda:1" ...
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"
    trust_remote_code: bool = False


def placement(torch, device: str, dtype: str) -> tuple[str, object]:
    """The device and torch dtype to load on: bf16 on CUDA, float32 on the CPU, unless set."""
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    elif device.startswith("cuda") and not torch.cuda.is_available():
        raise EngineUnavailable(
            f"the recipe asks for device {device}, but this machine has no usable CUDA GPU; "
            "set `device: auto` or `device: cpu`"
        )
    if dtype == "auto":
        return device, torch.bfloat16 if device.startswith("cuda") else torch.float32
    return device, getattr(torch, dtype)
