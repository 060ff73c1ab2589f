"""What the in-process engines on torch share (transformers, ovis2): the settings that say
which checkpoint (revision, remote code) and where it runs (device, dtype), the local folder
a recipe names (a folder, or an id installed in the model store), and the device and dtype to
load on.

No torch import here: each engine passes in the torch it imported when its model loads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from inspector.errors import EngineUnavailable
from inspector.judges.judge import EngineSettings
from inspector.judges.model_store import ModelStore


class LocalModelSettings(EngineSettings):
    revision: str | None = None
    device: str = "auto"  # auto: CUDA when present, else CPU; or "cpu", "cuda:1" ...
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"
    trust_remote_code: bool = False


def model_folder(name: str, revision: str | None = None) -> Path | None:
    """The local folder a recipe's `model` names, checked to hold a model: a folder path, or an
    id installed in the model store (judges/model_store.py); None: a hub id to download."""
    local = Path(name).expanduser()
    if not local.exists():
        found = ModelStore().resolve(name, revision)
        return found.folder if found is not None else None
    if not (local / "config.json").is_file():
        raise EngineUnavailable(f"model {name}: this folder is not a model (no config.json)")
    return local


def installed(name: str, revision: str | None = None) -> bool:
    """Whether the model a recipe names is on this machine (a model folder, or in the hub's
    cache), so that it loads without a network."""
    local = Path(name).expanduser()
    if local.exists():
        return (local / "config.json").is_file()
    if ModelStore().resolve(name, revision) is not None:
        return True
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:  # no in-process engine installed: no local model either
        return False
    return isinstance(try_to_load_from_cache(name, "config.json", revision=revision), str)


def store_revision(name: str, revision: str | None = None) -> str | None:
    """What a verdict records for a model loaded from the store: its manifest's digest."""
    if Path(name).expanduser().exists():
        return None
    found = ModelStore().resolve(name, revision)
    return found.manifest.digest if found is not None else None


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
