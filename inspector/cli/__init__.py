"""`inspector`: the headless station and its tools.

Only argparse is imported at the top: `inspector --help` must answer at once, so every command
imports what it needs when it runs (torch and transformers load only with a local model).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from inspector.cli import (
    audit_commands,
    export_commands,
    override_commands,
    purge_commands,
    recipe_commands,
    setting_commands,
    user_commands,
)
from inspector.cli import models_commands as models_cli
from inspector.cli import parts_commands as parts_cli

RECORD_COMMANDS = (
    user_commands,
    audit_commands,
    override_commands,
    recipe_commands,
    export_commands,
    purge_commands,
    setting_commands,
)

ASSETS = Path(__file__).resolve().parents[2] / "assets"
DEMO_RECIPE = ASSETS / "demo" / "recipe.yaml"
DEMO_SOURCE = f"folder:{ASSETS / 'demo' / 'camera'}?loop=1&fps=1"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="inspector",
        description="Visual quality inspection: line cameras judged by a vision-language model, "
        "every verdict recorded with its evidence. With no command: the window (`inspector "
        "window`), or `inspector run` on the demo where no screen is available.",
    )
    parser.add_argument(
        "--data-dir",
        help="where the database, evidence and logs live "
        "(default: the user data directory; env INSPECTOR_DATA_DIR)",
    )
    parser.add_argument(
        "--database-url",
        help="any SQLAlchemy URL (default: SQLite in the "
        "data directory; env INSPECTOR_DATABASE_URL)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more to stderr")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

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
        choices=("auto", "free-run", "triggered"),
        default="auto",
        help="free-run: judge the newest frame, drop older ones; triggered: judge "
        "every frame; auto: triggered for files and folders, free-run for cameras",
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

    window = commands.add_parser("window", help="open the operator's window")
    window.add_argument("--source", help="camera source (default: the saved one, else the demo)")
    window.add_argument("--recipe", help="recipe YAML (default: the saved one, else the demo)")
    window.add_argument("--no-start", action="store_true", help="open without starting")

    judge = commands.add_parser("judge", help="judge still images")
    judge.add_argument("images", nargs="+", type=Path, metavar="IMAGE")
    judge.add_argument("--recipe", default=str(DEMO_RECIPE), help="recipe YAML (default: demo)")
    judge.add_argument("--evidence-format", choices=("jpeg", "png"), default="jpeg")
    judge.add_argument("--json", action="store_true", help="print the verdicts as JSON")

    history = commands.add_parser("history", help="list recorded inspections, newest first")
    history.add_argument("--limit", type=int, default=20)
    history.add_argument("--json", action="store_true")

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    db_commands.add_parser("upgrade", help="apply schema migrations (also done on every start)")
    _eval_parser(commands)
    _cameras_parser(commands)
    for module in RECORD_COMMANDS:
        module.register(commands)
    models_cli.add_command(commands, default_recipe=str(DEMO_RECIPE))
    parts_cli.add_command(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from inspector.errors import InspectorError
    from inspector.logs import setup_logging

    if args.command is None:
        default = "window" if _can_show_window() else "run"
        args = build_parser().parse_args([*(argv or sys.argv[1:]), default])
    try:
        settings = _settings(args)
        setup_logging(settings.data_dir, verbose=args.verbose)
        handler = (
            getattr(args, "handler", None)
            or {
                "run": _run,
                "window": _window,
                "judge": _judge,
                "history": _history,
                "db": _db,
                "eval": _eval,
                "cameras": _cameras,
                "models": models_cli.run,
                "parts": parts_cli.run,
            }[args.command]
        )
        return handler(args, settings)
    except InspectorError as exc:
        print(f"inspector: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


def _can_show_window() -> bool:
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
    profile = StationProfile.load()
    if not (args.data_dir or args.database_url):
        settings = profile.settings()
    source = args.source or profile.source or DEMO_SOURCE
    recipe = args.recipe or profile.recipe or str(DEMO_RECIPE)
    return run_window(settings, profile, source, recipe, autostart=not args.no_start)


def _settings(args):
    from inspector.config import Settings

    return Settings.from_env(data_dir=args.data_dir, database_url=args.database_url)


def _open_store(settings, evidence_format: str = "jpeg"):
    from inspector.store import Store

    return Store.open(settings, evidence_format)


def _progress(message: str) -> None:
    from inspector.cli.interrupts import say

    say(message)


def _run(args, settings) -> int:
    import threading

    from inspector.cameras import SourceEvent
    from inspector.cli import console
    from inspector.cli.interrupts import run_until_stopped
    from inspector.station import InspectionRecorded, RecordFailed, StationStopped
    from inspector.station.runner import StationRunner

    store = _open_store(settings, args.evidence_format)
    runner = StationRunner(store)
    done = threading.Event()
    recorded = 0

    def on_event(event) -> None:
        nonlocal recorded
        if isinstance(event, InspectionRecorded):
            recorded += 1
            print(console.verdict_line(event, as_json=args.json), flush=True)
            if args.max_parts and recorded >= args.max_parts:
                runner.station.stop()
        elif isinstance(event, SourceEvent):
            _progress(f"camera {event.uri}: {event.state}: {event.message}")
        elif isinstance(event, RecordFailed):
            _progress(event.message)
        elif isinstance(event, StationStopped):
            done.set()

    try:
        station = runner.start(args.recipe, args.source, on_event, args.trigger, _progress)
    except BaseException:
        store.close()
        raise
    try:
        run_until_stopped(station.stop, done)
        station.wait()
    finally:
        store.close()
    _progress(console.summary_line(station.stats))
    return 0


def _judge(args, settings) -> int:
    import json
    import time

    from inspector.cli import console
    from inspector.domain import Frame, utc_now
    from inspector.station.runner import prepare_judge, read_image_or_explain
    from inspector.store import Timings

    images = [(path, read_image_or_explain(path, "image")) for path in args.images]
    prepared = prepare_judge(args.recipe)
    recipe, chain = prepared.recipe, prepared.chain
    chain.load(_progress)
    store = _open_store(settings, args.evidence_format)
    version_id = store.recipe_version_id(recipe, prepared.references)
    results = []
    try:
        for sequence, (path, image) in enumerate(images, start=1):
            start = time.monotonic_ns()
            frame = Frame(image, "judge", sequence, utc_now(), start, part_id=path.stem)
            verdict = chain.judge(image)
            judged = time.monotonic_ns()
            encoded = store.evidence.encode(image)
            timings = Timings(0.0, (judged - start) / 1e6, (time.monotonic_ns() - start) / 1e6)
            roi = recipe.roi.as_region() if recipe.roi else None
            inspection_id = store.record_inspection(
                frame, version_id, verdict, encoded, timings, roi
            )
            results.append(console.verdict_dict(inspection_id, frame, verdict, timings, str(path)))
            if not args.json:
                print(console.judge_line(path, verdict, timings), flush=True)
    finally:
        store.close()
    if args.json:
        print(json.dumps(results, indent=2))
    return 0


def _history(args, settings) -> int:
    import json

    from inspector.cli import console

    with _open_store(settings) as store:
        records = store.history(limit=args.limit)
    if args.json:
        print(json.dumps([console.record_dict(r) for r in records], indent=2))
    else:
        for line in console.history_table(records):
            print(line)
    return 0


def _db(args, settings) -> int:
    with _open_store(settings) as store:
        revisions = ", ".join(sorted(store.revisions()))
    print(f"database schema up to date (revision {revisions})")
    return 0


def _eval_parser(commands) -> None:
    evaluation = commands.add_parser(
        "eval",
        help="judge a labelled image set with a recipe: miss rate, overkill, latency, recorded",
        description="Judge every image of a labelled set (MVTec AD layout, a folder per class, "
        "or a CSV of images and labels) and print the figures; the run is recorded, can be "
        "interrupted (Ctrl-C) and resumed (--resume), and compared with another (--compare).",
    )
    evaluation.add_argument("dataset", nargs="?", metavar="DATASET", help="folder or .csv file")
    evaluation.add_argument("--recipe", help="recipe YAML to evaluate")
    evaluation.add_argument("--good-label", default="good", help="the class of good parts")
    evaluation.add_argument("--image-column", default="image", help="CSV: column of image paths")
    evaluation.add_argument("--label-column", default="label", help="CSV: column of classes")
    evaluation.add_argument("--resume", metavar="RUN", help="finish an interrupted run")
    evaluation.add_argument("--compare", nargs=2, metavar=("RUN1", "RUN2"))
    evaluation.add_argument("--list", action="store_true", help="list the recorded runs")
    evaluation.add_argument("--report", metavar="FILE", help="write a report (.html or .pdf)")
    evaluation.add_argument(
        "--price",
        action="append",
        metavar="MODEL=IN,OUT",
        help="price per million tokens (input, output) of a model or engine, for the cost "
        "estimate of engines that give none; repeatable",
    )
    evaluation.add_argument("--json", action="store_true", help="print the figures as JSON")


def _eval(args, settings) -> int:
    from inspector.cli.eval_commands import main as evaluate

    return evaluate(args, settings)


def _cameras_parser(commands) -> None:
    cameras = commands.add_parser(
        "cameras", help="list the cameras this station can open, with the URI to use"
    )
    cameras.add_argument(
        "--producer",
        action="append",
        type=Path,
        default=[],
        metavar="PATH.cti",
        help="a GenTL producer to ask too (besides GENICAM_GENTL64_PATH); repeatable",
    )
    cameras.add_argument("--json", action="store_true", help="print the list as JSON")


def _cameras(args, settings) -> int:
    import dataclasses
    import json

    from inspector.cameras.discovery import discover

    found, notes = discover(tuple(args.producer))
    if args.json:
        listing = {
            "cameras": [dataclasses.asdict(f) for f in found],
            "notes": [dataclasses.asdict(n) for n in notes],
        }
        print(json.dumps(listing, indent=2))
        return 0
    width = max((len(f.uri) for f in found), default=0)
    for camera in found:
        print(f"{camera.uri:<{width}}  {camera.description}")
    for note in notes:
        print(f"({note.family}: {note.message})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
