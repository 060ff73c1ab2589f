"""An IP camera's HTTP MJPEG stream on 127.0.0.1, in a thread of the test: what `cv2.VideoCapture`
reads from `http://` cameras. It serves any path and ignores the query, as a camera ignores
parameters it does not know, so an address may carry credentials for the tests of masking.
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import cv2

from tests.support.pcb_frames import pcb_images
from tests.support.ports import free_port


def pcb_jpegs(test_data: Path, count: int, size: tuple[int, int] = (320, 240)) -> list[bytes]:
    """`count` DeepPCB images as JPEG bytes, resized to `size`."""
    frames = []
    for path in pcb_images(test_data, count):
        _, data = cv2.imencode(".jpg", cv2.resize(cv2.imread(str(path)), size))
        frames.append(data.tobytes())
    return frames


class MjpegServer:
    """An IP camera's HTTP MJPEG stream (multipart/x-mixed-replace), stoppable and restartable."""

    def __init__(self, frames: list[bytes], port: int = 0, fps: float = 20.0) -> None:
        self.frames = frames
        self.fps = fps
        self.port = port or free_port()
        self._server: ThreadingHTTPServer | None = None
        self._stop = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/stream.mjpg"

    def start(self) -> None:
        owner = self
        self._stop.clear()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
                self.end_headers()
                index = 0
                try:
                    while not owner._stop.is_set():
                        data = owner.frames[index % len(owner.frames)]
                        self.wfile.write(
                            b"--frame\r\nContent-Type: image/jpeg\r\n"
                            + f"Content-Length: {len(data)}\r\n\r\n".encode()
                            + data
                            + b"\r\n"
                        )
                        index += 1
                        time.sleep(1.0 / owner.fps)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
