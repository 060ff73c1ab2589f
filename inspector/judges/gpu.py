"""Whether this machine has CUDA GPUs, asked of the driver without importing torch, and what a
GPU-only engine says on a machine without one."""

from __future__ import annotations

import ctypes
import sys


def cuda_device_count() -> int:
    """GPUs the CUDA driver shows this process (CUDA_VISIBLE_DEVICES applies); 0 without one."""
    name = "nvcuda.dll" if sys.platform == "win32" else "libcuda.so.1"
    try:
        driver = ctypes.CDLL(name)
    except OSError:
        return 0
    count = ctypes.c_int(0)
    try:
        if driver.cuInit(0) != 0 or driver.cuDeviceGetCount(ctypes.byref(count)) != 0:
            return 0
    except AttributeError:
        return 0
    return count.value


def no_gpu_message(engine: str) -> str:
    return (
        f"the {engine} engine runs on CUDA GPUs only, and this machine has none; use "
        "`engine: transformers` (in process, on the CPU too) or `engine: openai-compatible` "
        "with `base_url` of an inference server on a GPU machine (lmdeploy api_server, vLLM)"
    )
