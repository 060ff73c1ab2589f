"""Frames per second read from each camera kind, against the camera's own rate, and capture
latency (the camera's or server's timestamp to the frame in hand) where it can be measured.

Real peers on 127.0.0.1, as in the tests: Aravis's fake GigE Vision camera (its timestamps are
the host's clock, so latency is measurable), the GenTL simulated producer (viky.cti: no
timestamps), and a gst-rtsp-server whose frames carry its clock in their top rows.

    .venv/bin/python bench/camera_sources.py [--seconds 5]

Ratio = frames read per second / frames the camera was set to send; 1.00 means none was lost.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from inspector.cameras import open_source  # noqa: E402
from inspector.recipes import CameraSettings  # noqa: E402
from tests.support.peers import fake_gv_camera, free_port, rtsp_server  # noqa: E402
from tests.support.peers.rtsp_server import read_stamp  # noqa: E402

SHARED = ROOT.parent / "shared" / "data" / "deeppcb" / "defect"


def measure(source, seconds: float, latency) -> tuple[float, list[float], tuple]:
    """Read for `seconds` after a short warm-up; fps, latencies (ms), the frame shape."""
    for _ in range(5):
        source.read()
    frames = 0
    ages: list[float] = []
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        frame = source.read()
        if frame is None:
            break
        frames += 1
        age = latency(frame)
        if age is not None:
            ages.append(age)
    return frames / (time.monotonic() - started), ages, frame.image.shape


def row(name: str, shape, rate: float, fps: float, ages: list[float], lost: int | str) -> str:
    size = "x".join(str(s) for s in shape[:2][::-1]) + (f"x{shape[2]}" if len(shape) > 2 else "")
    if ages:
        ages = sorted(ages)
        p95 = ages[int(0.95 * (len(ages) - 1))]
        latency = f"{statistics.median(ages):6.1f} / {p95:6.1f}"
    else:
        latency = "   n/a (no timestamps)"
    return f"{name:<30} {size:>12} {rate:7.1f} {fps:8.1f} {fps / rate:6.2f}  {latency}  {lost}"


def gige(seconds: float) -> list[str]:
    peer = fake_gv_camera("BENCH").start()
    lines = []
    try:
        source = open_source("gige:127.0.0.1")

        def age(frame) -> float:
            return (frame.captured_at.timestamp() * 1e9 - frame.device_timestamp_ns) / 1e6

        for label, settings in (
            ("gige 512x512 Mono8 @25", CameraSettings(frame_rate=25)),
            ("gige 512x512 Mono8 @200", CameraSettings(frame_rate=200)),
            (
                "gige 2048x2048 Mono8 @25",
                CameraSettings(frame_rate=25, roi={"x": 0, "y": 0, "width": 2048, "height": 2048}),
            ),
            (
                "gige 1024x768 RGB8 @50",
                CameraSettings(
                    frame_rate=50,
                    pixel_format="color",
                    roi={"x": 0, "y": 0, "width": 1024, "height": 768},
                ),
            ),
        ):
            applied = source.configure(settings)
            rate = float(applied.values["AcquisitionFrameRate"])
            lost_before = source.counters.lost_frames
            fps, ages, shape = measure(source, seconds, age)
            lost = source.counters.lost_frames - lost_before
            lines.append(row(label, shape, rate, fps, ages, lost))
        source.close()
    finally:
        peer.stop()
    return lines


def gentl(seconds: float) -> list[str]:
    import genicam

    os.environ["GENICAM_GENTL64_PATH"] = str(Path(genicam.__file__).parent)
    lines = []
    source = open_source("gentl:VikyTL_DEV_red")
    try:
        for label, settings in (
            ("gentl viky 400x400 RGBa8 @20", CameraSettings(frame_rate=20)),
            ("gentl viky 400x400 RGBa8 @100", CameraSettings(frame_rate=100)),
            ("gentl viky 400x400 Mono8 @100", CameraSettings(frame_rate=100, pixel_format="mono8")),
        ):
            applied = source.configure(settings)
            rate = float(applied.values["AcquisitionFrameRate"])
            lost_before = source.counters.lost_frames
            fps, ages, shape = measure(source, seconds, lambda frame: None)
            lines.append(
                row(label, shape, rate, fps, ages, source.counters.lost_frames - lost_before)
            )
    finally:
        source.close()
    return lines


def rtsp(seconds: float) -> list[str]:
    images = sorted(SHARED.glob("*.jpg"))[:4]
    lines = []
    for fps_set, width, height in (
        (10, 640, 480),
        (30, 640, 480),
        (25, 1280, 720),
        (30, 1920, 1080),
    ):
        port = free_port()
        size = ["--width", str(width), "--height", str(height), "--stamp"]
        peer = rtsp_server(images, port, fps_set, *size).start()
        try:
            source = open_source(f"rtsp://127.0.0.1:{port}/line")

            def age(frame) -> float:
                return (frame.captured_at.timestamp() * 1e9 - read_stamp(frame.image)) / 1e6

            fps, ages, shape = measure(source, seconds, age)
            source.close()
        finally:
            peer.stop()
        lines.append(row(f"rtsp H.264 {width}x{height} @{fps_set}", shape, fps_set, fps, ages, "-"))
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="reading time per row")
    args = parser.parse_args()
    print(
        f"{'source':<30} {'size':>12} {'rate':>7} {'read/s':>8} {'ratio':>6}"
        f"  {'latency ms p50 / p95':<22} lost"
    )
    for family in (gige, gentl, rtsp):
        try:
            for line in family(args.seconds):
                print(line, flush=True)
        except BaseException as exc:  # a peer that cannot run here: say so, go on
            if isinstance(exc, KeyboardInterrupt):
                raise
            print(f"{family.__name__}: not measured ({type(exc).__name__}: {exc})", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
