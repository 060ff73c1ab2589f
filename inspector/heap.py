"""Freed memory kept in the process for the next frame (glibc's allocator).

Judging a frame allocates about a hundred frame-sized arrays (the texture engine's filter bank:
1 MB each at 640x480) and frees them. glibc gives such blocks back to the system as they are
freed (it maps blocks above a threshold apart, and trims the heap's free top), so every frame
faults each page in again. On the development machine that was half the time the texture
engine took to describe a 640x480 frame (25 ms, 11-13 ms with the limits below); a process
that loads a learned model and judges, as a station does, judged 33 frames/s without them and
42 with (median of 9 batches of 20, in one run). Where the C library is not glibc nothing is
changed.
"""

from __future__ import annotations

import ctypes
import functools
import sys

_M_TRIM_THRESHOLD = -1  # glibc's malloc.h
_M_MMAP_THRESHOLD = -3
MAP_ABOVE = 64 << 20  # bytes: larger blocks (a model's weights) are still mapped apart
KEEP = 256 << 20  # bytes of free memory at the heap's top kept rather than given back


@functools.cache
def keep_freed_memory() -> bool:
    """Raise glibc's limits, once per process; False where they cannot be set."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the process's own C library
    except (OSError, AttributeError):  # not glibc (musl has a mallopt that does nothing)
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return mallopt(_M_MMAP_THRESHOLD, MAP_ABOVE) == 1 and mallopt(_M_TRIM_THRESHOLD, KEEP) == 1
