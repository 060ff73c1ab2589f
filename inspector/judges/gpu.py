"""Whether this machine has CUDA GPUs, asked of the driver without importing torch, and what a
GPU-only engine says on a machine without one."""

from __future__ import annotations

import ctypes
import sys


def cuda_device_count() -> int:
    """GPUs the CUDA driver shows this process (CUDA_VISIBLE_DEVICES applies); 0 without one."""
    return len(cuda_memory_gb())


def cuda_memory_gb() -> list[float]:
    """Each CUDA GPU's total memory in GB (10^9 bytes), as the driver reports it to this
    process; [] without a driver or a GPU."""
    name = "nvcuda.dll" if sys.platform == "win32" else "libcuda.so.1"
    try:
        driver = ctypes.CDLL(name)
    except OSError:
        return []
    count = ctypes.c_int(0)
    try:
        if driver.cuInit(0) != 0 or driver.cuDeviceGetCount(ctypes.byref(count)) != 0:
            return []
        sizes = []
        for index in range(count.value):
            device, total = ctypes.c_int(0), ctypes.c_size_t(0)
            if driver.cuDeviceGet(ctypes.byref(device), index) != 0:
                return sizes
            if driver.cuDeviceTotalMem_v2(ctypes.byref(total), device) != 0:
                return sizes
            sizes.append(total.value / 1e9)
    except AttributeError:
        return []
    return sizes


# What a model needs beyond its weights: the working cache of one request at one image.
WORKING_SHARE = 0.25


def model_need_gb(model: str, weights_bytes: int | None) -> float | None:
    """GPU memory a model needs, in GB: the preset's figure where one names this checkpoint,
    else its weights' size on disk plus a working share; None when neither is known."""
    from inspector.judges.presets import PRESETS

    wanted = model.rstrip("/").lower()
    for preset in PRESETS:
        checkpoint = preset.checkpoint.lower()
        if preset.gpu_gb and (
            wanted == checkpoint or wanted.endswith("/" + checkpoint.split("/")[-1])
        ):
            return float(preset.gpu_gb)
    if weights_bytes:
        return weights_bytes * (1 + WORKING_SHARE) / 1e9
    return None


def gpu_fit_problem(model: str, need_gb: float | None, gpus_gb: list[float]) -> str | None:
    """Why the model will not fit on this machine's largest GPU; None when it fits or when
    nothing is known (no GPU: said elsewhere; no figure for the model)."""
    if need_gb is None or not gpus_gb:
        return None
    largest = max(gpus_gb)
    if need_gb <= largest:
        return None
    return (
        f"the recipe's {model} needs about {need_gb:.0f} GB of GPU memory; the largest GPU here "
        f"has {largest:.0f} GB"
    )


def no_gpu_message(engine: str) -> str:
    return (
        f"the {engine} engine runs on CUDA GPUs only, and this machine has none; use "
        "`engine: transformers` (in process, on the CPU too) or `engine: openai-compatible` "
        "with `base_url` of an inference server on a GPU machine (lmdeploy api_server, vLLM)"
    )
