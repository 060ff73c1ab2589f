"""A webhook receiver on 127.0.0.1 (http.server in a thread): it answers each POST with the
next status of its script (then 200), or hangs for `hang_s` first, and keeps what it took."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class WebhookPeer:
    def __init__(
        self, statuses: list[int] | None = None, hang_s: float = 0.0, port: int = 0
    ) -> None:
        self.statuses = list(statuses or [])
        self.hang_s = hang_s
        self.received: list[dict] = []  # bodies answered 2xx
        self.requests = 0
        self.headers: list[dict] = []
        self._lock = threading.Lock()
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with peer._lock:
                    peer.requests += 1
                    status = peer.statuses.pop(0) if peer.statuses else 200
                    hang = peer.hang_s
                if hang:
                    time.sleep(hang)
                    return  # no answer at all: the client times out
                if status < 300:
                    with peer._lock:
                        peer.received.append(json.loads(body))
                        peer.headers.append(dict(self.headers))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def wait_for(self, count: int, timeout: float = 30) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.received) >= count:
                    return True
            time.sleep(0.02)
        return False

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
