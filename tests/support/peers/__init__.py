"""Real protocol peers on 127.0.0.1 for the camera tests and benchmarks, run as subprocesses.

- `rtsp_server.py`: gst-rtsp-server looping real images as H.264 (an IP camera);
- `gige_camera.py`: Aravis's GvFakeCamera streaming real images over GigE Vision;
- `arv-fake-gv-camera-0.8` (Debian aravis-tools): Aravis's own fake GigE Vision camera.

Each can be killed mid-stream and started again, as a camera that loses power does.
`read_until_reconnected` reads a source through such a loss.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from inspector.cameras import SourceState
from tests.support.ports import free_port  # noqa: F401 - the camera tests' and benches' port

HERE = Path(__file__).resolve().parent
FAKE_GV_CAMERA = "arv-fake-gv-camera-0.8"
DEBIAN_HINT = "installer/test.sh installs it (as root)"


def need(ok: bool, reason: str) -> None:
    """Skip where a system package is missing (a user's machine); in CI, fail: it must run."""
    if ok:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI must run this test")
    pytest.skip(reason)


def python_with(*typelibs: str) -> str | None:
    """A Python that has PyGObject and these GObject typelibs: ours, else the system's."""
    check = "import gi\n" + "".join(
        f"gi.require_version({name!r}, {version!r})\n"
        f"from gi.repository import {name.replace('-', '')}\n"
        for name, version in (t.split(":") for t in typelibs)
    )
    for python in (sys.executable, "/usr/bin/python3"):
        if not Path(python).exists():
            continue
        done = subprocess.run([python, "-c", check], capture_output=True, timeout=60)
        if done.returncode == 0:
            return python
    return None


class Peer:
    """A peer process; `start` returns once it is ready (it printed "ready", or `ready()`)."""

    def __init__(self, args: list[str], ready=None, timeout_s: float = 20.0) -> None:
        self.args = args
        self.ready = ready
        self.timeout_s = timeout_s
        self.process: subprocess.Popen | None = None

    def start(self) -> Peer:
        self.process = subprocess.Popen(
            self.args,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        deadline = time.monotonic() + self.timeout_s
        if self.ready is None:
            line = self.process.stdout.readline()  # the peer prints "ready" or why it cannot
            if line.strip() != "ready":
                rest = line + self._drain()
                raise RuntimeError(f"{self.args[1:2]} did not start: {rest.strip()}")
        else:
            while not self.ready():
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{self.args[0]} did not start: {self._drain().strip()}")
                time.sleep(0.1)
        return self

    def _drain(self) -> str:
        if self.process is None:
            return ""
        if self.process.poll() is None:
            self.kill()
        return self.process.stdout.read() if self.process.stdout else ""

    def kill(self) -> None:
        """As a power cut: SIGKILL, no goodbye on the wire."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        self.kill()
        if self.process is not None and self.process.stdout is not None:
            self.process.stdout.close()


def rtsp_server(images: list[Path], port: int, fps: int = 10, *extra: str) -> Peer:
    python = python_with("Gst:1.0", "GstRtspServer:1.0")
    need(
        python is not None,
        f"no Python with PyGObject and GstRtspServer (Debian gir1.2-gst-rtsp-server-1.0, "
        f"python3-gi); {DEBIAN_HINT}",
    )
    args = [python, str(HERE / "rtsp_server.py"), "--port", str(port), "--fps", str(fps)]
    return Peer([*args, *extra, *map(str, images)])


def gige_camera(images: list[Path], serial: str = "GV7") -> Peer:
    """Aravis's GvFakeCamera with real images, on 127.0.0.1."""
    need(_aravis_importable(), f"no Aravis for PyGObject (Debian gir1.2-aravis-0.8); {DEBIAN_HINT}")
    script = str(HERE / "gige_camera.py")
    return Peer([sys.executable, script, "--serial", serial, *map(str, images)])


def fake_gv_camera(serial: str = "GV01") -> Peer:
    """Aravis's own fake camera program, on 127.0.0.1."""
    need(shutil.which(FAKE_GV_CAMERA) is not None, f"no {FAKE_GV_CAMERA} (Debian aravis-tools)")
    need(_aravis_importable(), f"no Aravis for PyGObject (Debian gir1.2-aravis-0.8); {DEBIAN_HINT}")
    return Peer([FAKE_GV_CAMERA, "-i", "127.0.0.1", "-s", serial], ready=_gvcp_answers)


def _aravis_importable() -> bool:
    try:
        import gi

        gi.require_version("Aravis", "0.8")
        from gi.repository import Aravis  # noqa: F401
    except (ImportError, ValueError):
        return False
    return True


def _gvcp_answers() -> bool:
    import gi

    gi.require_version("Aravis", "0.8")
    from gi.repository import Aravis

    try:
        Aravis.Camera.new("127.0.0.1")
    except Exception:
        return False
    return True


def read_until_reconnected(source, events: list, seconds: float):
    """Read through a loss: buffered frames, then the reconnection; the first frame after it."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        frame = source.read()
        assert frame is not None
        if any(e.state is SourceState.CONNECTED for e in events):
            return frame
    raise AssertionError(f"no reconnection within {seconds} s: {[e.state for e in events]}")
