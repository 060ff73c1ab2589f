"""The commands that inspect: `run` (one camera, headless), `parts` (several cameras per part),
`window` (the operator's window) and `judge` (still images).

    inspector run --source usb:0 --recipe recipes/board.yaml
    inspector parts --view top folder:/line/top recipes/top.yaml \\
                    --view side gige:192.168.1.20 recipes/side.yaml
    inspector window --view top usb:0 top.yaml --view side usb:1 side.yaml

`run`, `parts` and `window` drive the one station (a single camera is one view); `judge` runs
the station's inspect step on each image. In `parts` (and the window with `--view`) each view
has its own source and recipe (prompt, ROI, defect classes, engines); the part FAILs if any view
fails, is UNSURE if any view is unsure or sent no frame, and PASSes only if all pass.
Only argparse at import; every handler imports the station when it runs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from inspector.cli.demo import DEMO_RECIPE, DEMO_SOURCE

TRIGGERS = ("auto", "free-run", "triggered")
RUN_TRIGGERS = (*TRIGGERS, "plc")


def register(commands) -> None:
    _register_run(commands)
    _register_window(commands)
    _register_judge(commands)
    _register_parts(commands)


def _view_option(parser: argparse.ArgumentParser, required: bool, help: str) -> None:
    parser.add_argument(
        "--view",
        nargs=3,
        action="append",
        required=required,
        metavar=("NAME", "SOURCE", "RECIPE"),
        help=help,
    )


def _register_run(commands) -> None:
    run = commands.add_parser("run", help="inspect a camera, stream, video or folder headless")
    run.add_argument(
        "--source",
        default=DEMO_SOURCE,
        help="usb:N, rtsp://..., http(s)://..., "
        "a video file, or folder:DIR[?loop=1&fps=N] (default: the demo camera)",
    )
    run.add_argument("--recipe", default=str(DEMO_RECIPE), help="recipe YAML (default: demo)")
    run.add_argument(
        "--trigger",
        choices=RUN_TRIGGERS,
        default="auto",
        help="free-run: judge the newest frame, drop older ones; triggered: judge "
        "every frame; auto: triggered for files and folders, free-run for cameras; plc: the "
        "line's PLC triggers each part over an opcua:// or modbus:// --output",
    )
    run.add_argument(
        "--max-parts",
        type=int,
        default=0,
        metavar="N",
        help="stop after N recorded inspections (0: until the source ends or Ctrl-C)",
    )
    run.add_argument("--evidence-format", choices=("jpeg", "png"), default="jpeg")
    run.add_argument("--json", action="store_true", help="one JSON object per verdict")
    _output_option(run)
    run.set_defaults(handler=_run)


def _output_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--output",
        action="append",
        default=[],
        metavar="URL",
        help="serve the line: opcua://HOST:PORT[?cert=FILE&key=FILE] or modbus://HOST:PORT "
        "(the PLC handshake; repeat for several)",
    )


def _register_window(commands) -> None:
    window = commands.add_parser("window", help="open the operator's window")
    window.add_argument("--source", help="camera source (default: the saved one, else the demo)")
    window.add_argument("--recipe", help="recipe YAML (default: the saved one, else the demo)")
    _view_option(
        window,
        required=False,
        help="several cameras per part, as in `inspector parts`: a view's name, camera source "
        "and recipe (give --view once per camera; replaces --source and --recipe)",
    )
    window.add_argument("--no-start", action="store_true", help="open without starting")
    window.set_defaults(handler=_window)


def _register_judge(commands) -> None:
    judge = commands.add_parser("judge", help="judge still images")
    judge.add_argument("images", nargs="+", type=Path, metavar="IMAGE")
    judge.add_argument("--recipe", default=str(DEMO_RECIPE), help="recipe YAML (default: demo)")
    judge.add_argument("--evidence-format", choices=("jpeg", "png"), default="jpeg")
    judge.add_argument("--json", action="store_true", help="print the verdicts as JSON")
    judge.set_defaults(handler=_judge)


def _register_parts(commands) -> None:
    parts = commands.add_parser(
        "parts",
        help="inspect parts seen by several cameras (top, side ...), one verdict per part",
    )
    _view_option(
        parts,
        required=True,
        help="a view: its name, its camera source and its recipe (give --view once per camera)",
    )
    parts.add_argument(
        "--trigger",
        choices=TRIGGERS,
        default="auto",
        help="auto: triggered when every view is a file, a folder or a triggered camera",
    )
    parts.add_argument("--max-parts", type=int, default=0, metavar="N")
    parts.add_argument("--json", action="store_true", help="one JSON object per part")
    parts.set_defaults(handler=_parts)


# -- handlers ------------------------------------------------------------------------------
def _open_store(settings, evidence_format: str = "jpeg"):
    from inspector.store import Store

    return Store.open(settings, evidence_format)


def _progress(message: str) -> None:
    from inspector.cli.interrupts import say

    say(message)


def _headless(store, start, printed: type, line, max_parts: int, camera_name):
    """A station run from the command line until it stops (the sources end, --max-parts, or
    Ctrl-C): `start(runner, listener)` starts it; each `printed` event is printed as `line(event)`
    and counted against `max_parts`; camera states and record failures go to stderr, the camera
    named by `camera_name(uri)`. Returns the stopped station."""
    import threading

    from inspector.cameras import SourceEvent
    from inspector.cli.interrupts import run_until_stopped
    from inspector.station import RecordFailed, StationStopped
    from inspector.station.runner import StationRunner

    runner = StationRunner(store)
    done = threading.Event()
    count = 0

    def on_event(event) -> None:
        nonlocal count
        if isinstance(event, printed):
            count += 1
            print(line(event), flush=True)
            if max_parts and count >= max_parts:
                runner.stop(wait=False)
        elif isinstance(event, SourceEvent):
            _progress(f"{camera_name(event.uri)}: {event.state}: {event.message}")
        elif isinstance(event, RecordFailed):
            _progress(event.message)
        elif isinstance(event, StationStopped):
            done.set()

    station = start(runner, on_event)
    run_until_stopped(station.stop, done)
    station.wait()
    return station


def _run(args, settings) -> int:
    from inspector.cli import console
    from inspector.station import InspectionRecorded

    with _open_store(settings, args.evidence_format) as store:
        station = _headless(
            store,
            lambda runner, listener: runner.start(
                args.recipe, args.source, listener, args.trigger, _progress, args.output
            ),
            InspectionRecorded,
            lambda event: console.verdict_line(event, as_json=args.json),
            args.max_parts,
            lambda uri: f"camera {uri}",
        )
    _progress(console.summary_line(station.stats))
    return 0


def _parts(args, settings) -> int:
    from inspector.cli import console
    from inspector.station import PartInspected
    from inspector.station.runner import ViewPlan

    plans = [ViewPlan(name, source, recipe) for name, source, recipe in args.view]
    names = {plan.source: plan.name for plan in plans}
    with _open_store(settings) as store:
        station = _headless(
            store,
            lambda runner, listener: runner.start_views(plans, listener, args.trigger, _progress),
            PartInspected,
            lambda event: console.part_line(event, as_json=args.json),
            args.max_parts,
            lambda uri: names.get(uri, uri),
        )
    _progress(console.parts_summary_line(station.stats))
    return 0


def _judge(args, settings) -> int:
    import json
    import time
    from concurrent.futures import ThreadPoolExecutor

    from inspector.cli import console
    from inspector.domain import Frame, utc_now
    from inspector.station.inspection import inspect
    from inspector.station.runner import prepare_judge, read_image_or_explain

    images = [(path, read_image_or_explain(path, "image")) for path in args.images]
    prepared = prepare_judge(args.recipe)
    recipe, chain = prepared.recipe, prepared.chain
    chain.load(_progress)
    results = []
    with _open_store(settings, args.evidence_format) as store:
        version_id = store.recipe_version_id(recipe, prepared.references)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="evidence") as encoder:
            for sequence, (path, image) in enumerate(images, start=1):
                now = time.monotonic_ns()
                frame = Frame(image, "judge", sequence, utc_now(), now, part_id=path.stem)
                inspection_id, verdict, timings = inspect(
                    chain, recipe, version_id, frame, store, encoder
                )
                results.append(
                    console.verdict_dict(inspection_id, frame, verdict, timings, str(path))
                )
                if not args.json:
                    print(console.judge_line(path, verdict, timings), flush=True)
    if args.json:
        print(json.dumps(results, indent=2))
    return 0


def _window(args, settings) -> int:
    from inspector.config import StationProfile

    try:
        from inspector.ui.app import run_window
    except ImportError as exc:
        from inspector.errors import EngineUnavailable

        raise EngineUnavailable(
            f"the window needs PySide6 and pyqtgraph ({exc.name} is missing): "
            "pip install 'inspector[ui]'"
        ) from None
    from inspector.station.runner import ViewPlan

    profile = StationProfile.load()
    if not (args.data_dir or args.database_url):
        settings = profile.settings()
    source = args.source or profile.source or DEMO_SOURCE
    recipe = args.recipe or profile.recipe or str(DEMO_RECIPE)
    views = [ViewPlan(name, uri, path) for name, uri, path in args.view or ()]
    return run_window(settings, profile, source, recipe, autostart=not args.no_start, views=views)


def can_show_window() -> bool:
    """Whether `inspector` with no command can open the window; if not, says why on stderr."""
    import importlib.util
    import os

    if importlib.util.find_spec("PySide6") is None:
        print(
            "inspector: no window: PySide6 is not installed (pip install 'inspector[ui]'); "
            "running the demo headless",
            file=sys.stderr,
        )
        return False
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY")
        or os.environ.get("WAYLAND_DISPLAY")
        or os.environ.get("QT_QPA_PLATFORM")
    ):
        print(
            "inspector: no screen (DISPLAY is not set): running the demo headless", file=sys.stderr
        )
        return False
    return True
