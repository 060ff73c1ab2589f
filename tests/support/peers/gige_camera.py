"""A GigE Vision camera on 127.0.0.1 (Aravis's GvFakeCamera) that streams real images.

    python -m tests.support.peers.gige_camera --serial GV7 IMAGE...

It speaks GVCP and GVSP like a real camera; its frames are the given images in turn, scaled to
the camera's Width x Height, in Mono8 or RGB8 as the client sets PixelFormat, and brightened
or darkened by the exposure (10 ms = as the file is), as a sensor would be. Prints "ready".

Aravis's fill callback cannot go through PyGObject (the introspection data frees the Python
callback after the call, and the camera thread crashes), so it is registered with ctypes.
"""

from __future__ import annotations

import argparse
import ctypes
import signal
import threading

import cv2
import gi
import numpy as np

gi.require_version("Aravis", "0.8")
from gi.repository import Aravis  # noqa: E402

MONO8 = 0x01080001
RGB8 = 0x02180014
FILL = ctypes.CFUNCTYPE(
    None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint32, ctypes.c_uint32, ctypes.c_uint32
)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("images", nargs="+")
    parser.add_argument("--serial", default="GV7")
    args = parser.parse_args()

    lib = ctypes.CDLL("libaravis-0.8.so.0")
    lib.arv_fake_camera_set_fill_pattern.argtypes = [ctypes.c_void_p, FILL, ctypes.c_void_p]
    lib.arv_buffer_get_data.restype = ctypes.c_void_p
    lib.arv_buffer_get_data.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_size_t)]
    for name in ("arv_buffer_get_image_width", "arv_buffer_get_image_height"):
        getattr(lib, name).argtypes = [ctypes.c_void_p]
    pythonapi = ctypes.pythonapi
    pythonapi.PyCapsule_GetPointer.restype = ctypes.c_void_p
    pythonapi.PyCapsule_GetPointer.argtypes = [ctypes.py_object, ctypes.c_char_p]

    sources = [cv2.imread(path) for path in args.images]
    scaled: dict[tuple[int, int, int, int], np.ndarray] = {}
    count = [0]

    def fill(buffer, _data, exposure_us, _gain, pixel_format) -> None:
        width = lib.arv_buffer_get_image_width(buffer)
        height = lib.arv_buffer_get_image_height(buffer)
        index = count[0] % len(sources)
        count[0] += 1
        key = (index, width, height, pixel_format)
        if key not in scaled:
            image = cv2.resize(sources[index], (width, height))
            if pixel_format == RGB8:
                image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
            else:
                image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
            scaled[key] = np.ascontiguousarray(image)
        image = cv2.convertScaleAbs(scaled[key], alpha=exposure_us / 10000.0)
        pointer = lib.arv_buffer_get_data(buffer, ctypes.byref(ctypes.c_size_t()))
        ctypes.memmove(pointer, image.ctypes.data, image.nbytes)

    callback = FILL(fill)  # kept referenced for the life of the process
    camera = Aravis.GvFakeCamera.new("127.0.0.1", args.serial)
    fake = camera.get_fake_camera()
    lib.arv_fake_camera_set_fill_pattern(
        pythonapi.PyCapsule_GetPointer(fake.__gpointer__, None), callback, None
    )
    if not camera.is_running():
        print("the fake camera did not start (is 127.0.0.1:3956 taken?)", flush=True)
        return 1
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print("ready", flush=True)
    stop.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
