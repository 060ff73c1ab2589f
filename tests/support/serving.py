"""A real OpenAI-compatible server on 127.0.0.1: `transformers serve` with a tiny model.

The test peer of the openai-compatible engine (TESTING.md), and the server of
bench/chain_overhead.py. Of the tiny families, Qwen2.5-VL is served (its processor takes the
server's base64 `image_url` parts; the model id is the model's folder).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.support.ports import free_port

SERVED_FAMILY = "qwen2_5_vl"


def serve_command() -> list[str] | None:
    """`transformers serve` of this interpreter's environment; None without the serving extra."""
    try:
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        return None
    script = Path(sys.executable).with_name("transformers")
    if script.exists():
        return [str(script), "serve"]
    found = shutil.which("transformers")
    return [found, "serve"] if found else None


class TransformersServer:
    """Starts the server, waits for /health, and stops it (by its own process id)."""

    def __init__(self, model_dir: Path, log_path: Path, timeout_s: float = 120.0) -> None:
        command = serve_command()
        if command is None:
            raise RuntimeError("transformers serve is not installed: pip install 'inspector[dev]'")
        self.port = free_port()
        self.model = str(model_dir)
        self.url = f"http://127.0.0.1:{self.port}/v1"
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
        self._log = log_path.open("wb")
        address = ["--host", "127.0.0.1", "--port", str(self.port)]
        self.process = subprocess.Popen(
            [*command, self.model, *address, "--device", "cpu"],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.stop()
                raise RuntimeError(f"transformers serve exited: see {log_path}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=2):
                    return
            except OSError:
                time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"transformers serve did not answer /health in {timeout_s:.0f} s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self._log.close()
