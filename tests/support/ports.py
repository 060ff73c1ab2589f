"""A free TCP port on 127.0.0.1, for a peer or a server a test starts.

The port is free when asked; a peer that binds it a moment later almost always gets it (the
kernel hands out ephemeral ports in turn). Tests and benchmarks talk to loopback only.
"""

from __future__ import annotations

import socket


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
