"""An RTSP server (gst-rtsp-server) on 127.0.0.1 looping real images as H.264, as an IP camera does.

    python -m tests.support.peers.rtsp_server --port 8554 --fps 10 IMAGE...

Serves rtsp://127.0.0.1:PORT/line. With --stamp, the first 16 rows of each frame carry the
server's wall clock (time.time_ns at the moment the frame enters the encoder) as 64 black or
white blocks, so a client can measure server-to-frame-in-hand latency on the same host.
--tcp-only refuses RTP over UDP, as a camera behind a firewall does. Prints "ready" once
listening. Needs PyGObject with Gst and GstRtspServer (Debian gir1.2-gst-rtsp-server-1.0).
"""

from __future__ import annotations

import argparse
import signal
import sys
import time

import cv2
import gi
import numpy as np

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402

STAMP_BITS = 64
STAMP_ROWS = 16


def stamp(image: np.ndarray, value: int) -> None:
    """Write `value` into the image's top rows as STAMP_BITS blocks, most significant first."""
    block = image.shape[1] // STAMP_BITS
    for bit in range(STAMP_BITS):
        on = (value >> (STAMP_BITS - 1 - bit)) & 1
        image[:STAMP_ROWS, bit * block : (bit + 1) * block] = 255 if on else 0


def read_stamp(image: np.ndarray) -> int:
    """The value written by `stamp`, read from block centres (robust to H.264 blur)."""
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    block = gray.shape[1] // STAMP_BITS
    value = 0
    for bit in range(STAMP_BITS):
        x = bit * block + block // 2
        patch = gray[STAMP_ROWS // 2 - 2 : STAMP_ROWS // 2 + 2, x - 1 : x + 2]
        value = (value << 1) | int(patch.mean() > 127)
    return value


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("images", nargs="+")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--fps", type=int, default=10)
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=480)
    parser.add_argument("--stamp", action="store_true")
    parser.add_argument("--tcp-only", action="store_true")
    args = parser.parse_args()

    frames = [cv2.resize(cv2.imread(p), (args.width, args.height)) for p in args.images]
    Gst.init(None)
    for element in ("x264enc", "rtph264pay", "videoconvert", "appsrc"):
        if Gst.ElementFactory.find(element) is None:
            print(f"missing GStreamer element {element} (Debian gstreamer1.0-plugins-*)")
            return 3
    caps = f"video/x-raw,format=BGR,width={args.width},height={args.height},framerate={args.fps}/1"
    launch = (
        f"( appsrc name=src is-live=true do-timestamp=true format=time caps={caps} ! "
        "videoconvert ! video/x-raw,format=I420 ! x264enc tune=zerolatency speed-preset=ultrafast "
        "key-int-max=10 ! rtph264pay name=pay0 pt=96 config-interval=1 )"
    )
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(launch)
    factory.set_shared(True)
    factory.set_latency(0)  # a camera sends at once; the 200 ms default is for receivers
    if args.tcp_only:
        factory.set_protocols(GstRtsp.RTSPLowerTrans.TCP)
    sources: list = []
    count = [0]

    def on_configure(_factory, media) -> None:
        sources.append(media.get_element().get_child_by_name("src"))

    factory.connect("media-configure", on_configure)
    interval_ns = Gst.SECOND // args.fps

    def push() -> bool:
        for src in list(sources):
            image = frames[count[0] % len(frames)].copy()
            if args.stamp:
                stamp(image, time.time_ns())
            buffer = Gst.Buffer.new_wrapped(image.tobytes())
            buffer.duration = interval_ns
            if src.emit("push-buffer", buffer) != Gst.FlowReturn.OK:
                sources.remove(src)  # the client went away; a new one configures anew
        count[0] += 1
        return True

    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    server.get_mount_points().add_factory("/line", factory)
    if server.attach(None) == 0:
        print(f"cannot listen on 127.0.0.1:{args.port}", file=sys.stderr)
        return 1
    GLib.timeout_add(max(1, 1000 // args.fps), push)
    loop = GLib.MainLoop()
    signal.signal(signal.SIGTERM, lambda *_: loop.quit())
    print("ready", flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
