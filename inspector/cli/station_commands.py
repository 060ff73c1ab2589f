"""The commands that inspect: `run` (one camera, headless), `parts` (several cameras per part),
`window` (the operator's window) and `judge` (still images).

    inspector run --source usb:0 --recipe recipes/board.yaml
    inspector run --output mqtt://127.0.0.1:1883/plant1 --output https://mes.example.com/hook
    inspector parts --view top folder:/line/top recipes/top.yaml \\
                    --view side gige:192.168.1.20 recipes/side.yaml
    inspector window --view top usb:0 top.yaml --view side usb:1 side.yaml

`run`, `parts` and `window` drive the one station (a single camera is one view); `judge` runs
the station's inspect step on each image. In `parts` (and the window with `--view`) each view
has its own source and recipe (prompt, ROI, defect classes, engines); the part FAILs if any view
fails, is UNSURE if any view is unsure or sent no frame, and PASSes only if all pass.

Never a verdict without a record: when a part's record cannot be written, the station stops in
FAULT, prints the cause, keeps the part (and every part seen behind it) in the journal of the
data directory, and `run` / `parts` / `judge` exit with NOT_RECORDED_EXIT naming each part.
The next start (or `inspector journal replay`) writes them to the store.
Only argparse at import; every handler imports the station when it runs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from inspector.cli.demo import DEMO_SOURCE, demo_recipe

TRIGGERS = ("auto", "free-run", "triggered")
NOT_RECORDED_EXIT = 4
EXIT_STATUS = (
    "exit status: 0 every part seen was recorded; "
    f"{NOT_RECORDED_EXIT} the station stopped in FAULT (a record could not be written, or the "
    "data directory's disk is nearly full: below min_free_disk_mb, env "
    "INSPECTOR_MIN_FREE_DISK_MB, default 500): the cause and every part seen but not recorded "
    "are printed on stderr, with the journal file that keeps each; the next start or "
    "`inspector journal replay` writes them to the store. 1-3: bad input or set-up, "
    "nothing inspected; 130: interrupted."
)

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
    run = commands.add_parser(
        "run", help="inspect a camera, stream, video or folder headless", epilog=EXIT_STATUS
    )
    run.add_argument(
        "--source",
        default=DEMO_SOURCE,
        help="usb:N, rtsp://..., http(s)://..., "
        "a video file, or folder:DIR[?loop=1&fps=N] (default: the demo camera)",
    )
    run.add_argument("--recipe", help=DEFAULT_RECIPE_HELP)
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
        help="send each recorded verdict to the line: mqtt://[USER:PASSWORD@]HOST[:PORT]/PREFIX, "
        "an http(s):// webhook, or serve the PLC handshake: opcua://HOST:PORT[?cert=FILE&key=FILE] "
        "or modbus://HOST:PORT (repeat for several; added to station.yaml's `outputs:`)",
    )
    parser.add_argument(
        "--recipes",
        metavar="DIR",
        help="the folder a recipe selected from the line (MQTT command, OPC UA SelectRecipe) "
        "is found in, as NAME.yaml (default: station.yaml's `recipes_dir`, else the folder of "
        "the running recipe)",
    )


def _outputs(args) -> list[str]:
    """station.yaml's outputs, then the command line's, each once."""
    from inspector.config import StationProfile

    urls = [*StationProfile.load().outputs, *args.output]
    return list(dict.fromkeys(urls))


def _recipes_dir(args) -> str | None:
    """--recipes, else station.yaml's recipes_dir, else None (the running recipe's folder)."""
    from inspector.config import StationProfile

    return getattr(args, "recipes", None) or StationProfile.load().recipes_dir or None


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
    judge = commands.add_parser("judge", help="judge still images", epilog=EXIT_STATUS)
    judge.add_argument("images", nargs="+", type=Path, metavar="IMAGE")
    judge.add_argument("--recipe", help=DEFAULT_RECIPE_HELP)
    judge.add_argument("--evidence-format", choices=("jpeg", "png"), default="jpeg")
    judge.add_argument("--json", action="store_true", help="print the verdicts as JSON")
    judge.set_defaults(handler=_judge)


def _register_parts(commands) -> None:
    parts = commands.add_parser(
        "parts",
        help="inspect parts seen by several cameras (top, side ...), one verdict per part",
        epilog=EXIT_STATUS,
    )
    _view_option(
        parts,
        required=True,
        help="a view: its name, its camera source and its recipe (give --view once per camera)",
    )
    _output_option(parts)
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


def _headless(
    store, start, printed: type, line, max_parts: int, camera_name, recipes_dir: str | None = None
):
    """A station run from the command line until it stops (the sources end, --max-parts,
    Ctrl-C, or a FAULT): `start(runner, listener)` starts it; each `printed` event is printed as
    `line(event)` and counted against `max_parts`; camera states, the fault and each record not
    written go to stderr, the camera named by `camera_name(uri)`. Returns the stopped station and
    the messages of the records not written (each names the part and its journal file)."""
    import threading

    from inspector.cameras import SourceEvent
    from inspector.cli.interrupts import run_until_stopped
    from inspector.station import RecordFailed, StationFaulted, StationStopped
    from inspector.station.runner import StationRunner
    from inspector.store import storable

    runner = StationRunner(store, recipes_dir, line_selects_recipes=True)
    done = threading.Event()
    count = 0
    not_recorded: list[str] = []

    def on_event(event) -> None:
        nonlocal count
        if isinstance(event, printed):
            count += 1
            print(storable(line(event)), flush=True)  # a part id from any file name prints
            if max_parts and count >= max_parts:
                runner.stop(wait=False)
        elif isinstance(event, SourceEvent):
            _progress(f"{camera_name(event.uri)}: {event.state}: {event.message}")
        elif isinstance(event, StationFaulted):
            _progress(f"FAULT: {event.cause}")
        elif isinstance(event, RecordFailed):
            not_recorded.append(event.message)
            _progress(event.message)
        elif isinstance(event, StationStopped):
            done.set()

    station = start(runner, on_event)
    from inspector.station.watchdog import Watchdog  # systemd's, where systemd started us

    watchdog = Watchdog(station).start()
    run_until_stopped(station.stop, done)
    station.wait()
    watchdog.stop()
    if station.publishing is not None:
        for report in station.publishing.reports():
            _progress(report.line())
    return station, not_recorded


def _exit_status(station, not_recorded: list[str]) -> int:
    """0 when every part seen is recorded; else the fault and each part, and NOT_RECORDED_EXIT."""
    return _fault_exit(station.fault, not_recorded)


def _fault_exit(fault: str | None, not_recorded: list[str]) -> int:
    from inspector.cli import console

    if fault is None and not not_recorded:
        return 0
    for message in console.fault_report(fault, not_recorded):
        _progress(message)
    return NOT_RECORDED_EXIT


DEFAULT_RECIPE_HELP = (
    "recipe YAML (default: the demo, on its local model where installed, else on the "
    "model-free reference judge)"
)


def _recipe_or_demo(recipe: str | None) -> str:
    """The recipe asked for, else the demo's for this machine (saying why when model-free)."""
    if recipe:
        return recipe
    recipe, notice = demo_recipe()
    if notice:
        _progress(f"inspector: {notice}")
    return recipe


def _run(args, settings) -> int:
    from inspector.cli import console
    from inspector.station import InspectionRecorded

    args.recipe = _recipe_or_demo(args.recipe)

    with _open_store(settings, args.evidence_format) as store:
        station, not_recorded = _headless(
            store,
            lambda runner, listener: runner.start(
                args.recipe, args.source, listener, args.trigger, _progress, _outputs(args)
            ),
            InspectionRecorded,
            lambda event: console.verdict_line(event, as_json=args.json),
            args.max_parts,
            lambda uri: f"camera {uri}",
            _recipes_dir(args),
        )
    _progress(console.summary_line(station.stats))
    return _exit_status(station, not_recorded)


def _parts(args, settings) -> int:
    from inspector.addresses import shown_address
    from inspector.cli import console
    from inspector.station import PartInspected
    from inspector.station.runner import ViewPlan

    plans = [ViewPlan(name, source, recipe) for name, source, recipe in args.view]
    names = {shown_address(plan.source): plan.name for plan in plans}  # as sources name themselves
    with _open_store(settings) as store:
        station, not_recorded = _headless(
            store,
            lambda runner, listener: runner.start_views(
                plans, listener, args.trigger, _progress, outputs=_outputs(args)
            ),
            PartInspected,
            lambda event: console.part_line(event, as_json=args.json),
            args.max_parts,
            lambda uri: names.get(uri, uri),
            _recipes_dir(args),
        )
    _progress(console.parts_summary_line(station.stats))
    return _exit_status(station, not_recorded)


def _judge(args, settings) -> int:
    """Each image is read just before it is judged and let go once recorded (memory stays
    flat however many are given); one that cannot be read is an UNSURE line and record.
    A record the store cannot write stops the batch as it stops the station: FAULT with the
    cause, the record kept in the journal, the images left unjudged named, NOT_RECORDED_EXIT."""
    import json
    import textwrap
    from concurrent.futures import ThreadPoolExecutor

    from inspector.cameras.images import display_name
    from inspector.cli import console
    from inspector.station import inspection
    from inspector.station.runner import StationRunner, prepare_judge

    prepared = prepare_judge(_recipe_or_demo(args.recipe))
    recipe, chain = prepared.recipe, prepared.chain
    chain.load(_progress)
    fault: str | None = None
    not_recorded: list[str] = []
    with _open_store(settings, args.evidence_format) as store:
        StationRunner(store).replay_journal(_progress)  # what a FAULT kept, first, as `run` does
        version_id = store.recipe_version_id(recipe, prepared.references)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="evidence") as encoder:
            written = 0
            try:
                for sequence, path in enumerate(args.images, start=1):
                    frame = _still_frame(path, sequence)
                    judged = inspection.judge(chain, frame, store, encoder)
                    shown = display_name(path)
                    outcome = _record_still(store, recipe, version_id, judged, shown)
                    if isinstance(outcome, _StillNotRecorded):
                        fault, not_recorded = outcome.cause, [outcome.message]
                        _progress(f"FAULT: {fault}")
                        _progress(outcome.message)
                        _say_not_judged(args.images[sequence:], display_name)
                        break
                    inspection_id, timings = outcome
                    if not args.json:
                        line = console.judge_line(Path(shown), judged.verdict, timings)
                        print(line, flush=True)
                        continue
                    # One JSON array, written as it grows: the same text json.dumps(indent=2)
                    # gives for the whole list, without holding the list.
                    data = console.verdict_dict(
                        inspection_id, frame, judged.verdict, timings, shown
                    )
                    item = textwrap.indent(json.dumps(data, indent=2), "  ")
                    print(("[\n" if not written else ",\n") + item, end="", flush=True)
                    written += 1
            finally:
                if written:
                    print("\n]", flush=True)
    return _fault_exit(fault, not_recorded)


class _StillNotRecorded:
    """Why a still image's record is not in the store (`cause`), and where it is kept."""

    def __init__(self, cause: str, message: str) -> None:
        self.cause, self.message = cause, message


def _record_still(store, recipe, version_id: int, judged, shown: str):
    """(inspection_id, timings) once the record is committed; else _StillNotRecorded, the
    record kept in the journal as the station keeps it (station/pipeline.py `_record`)."""
    import logging

    from inspector.station import inspection
    from inspector.store import describe_failure

    log = logging.getLogger(__name__)
    name = f"part {judged.frame.part_id} ({shown})"
    try:
        record = inspection.pending(recipe, version_id, judged)
    except Exception as exc:  # the evidence image could not be encoded: nothing to keep
        log.warning("encoding the evidence of %s failed", shown, exc_info=True)
        return _StillNotRecorded(
            f"could not encode the evidence of {name}: {exc}",
            f"LOST {name}: no evidence image to keep: inspect this part again",
        )
    cause = store.disk_low()
    if cause is None:
        try:
            return store.record(record), record.timings
        except Exception as exc:  # the traceback to the log file; the cause to the operator
            log.warning("recording %s failed", shown, exc_info=True)
            cause = f"could not record {name}: {describe_failure(exc)}"
    try:
        path = store.keep_in_journal(record)
    except Exception as exc:
        log.warning("journaling %s failed", shown, exc_info=True)
        return _StillNotRecorded(
            cause,
            f"LOST {name}: not recorded, and the journal could not be written ({exc}): "
            "inspect this part again",
        )
    return _StillNotRecorded(
        cause, f"NOT RECORDED {name} ({record.verdict.outcome}): kept in the journal {path}"
    )


def _say_not_judged(rest: list[Path], display_name) -> None:
    """The images the FAULT left unjudged (no record, no journal): judge them again later."""
    if not rest:
        return
    first = display_name(rest[0])
    _progress(
        f"{len(rest)} images not judged (the first: {first}): "
        "judge them again once the fault is fixed"
    )


def _still_frame(path: Path, sequence: int):
    """A still image as the station's frame; an unreadable file as a frame that says why."""
    import time

    from inspector.cameras.images import (
        UnreadableImage,
        display_name,
        part_id_for,
        read_picture,
        unreadable_placeholder,
    )
    from inspector.domain import Frame, utc_now

    now, part_id = time.monotonic_ns(), part_id_for(path)
    try:
        picture = read_picture(path)
    except UnreadableImage as exc:
        why = f"{display_name(path)}: {exc}"
        placeholder = unreadable_placeholder()
        return Frame(placeholder, "judge", sequence, utc_now(), now, part_id, unreadable=why)
    return Frame(picture.view, "judge", sequence, utc_now(), now, part_id, native=picture.native)


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
        if args.min_free_disk_mb is not None:
            import dataclasses

            settings = dataclasses.replace(settings, min_free_disk_mb=args.min_free_disk_mb)
    source = args.source or profile.source or DEMO_SOURCE
    notice = None
    recipe = args.recipe or profile.recipe
    if not recipe:
        recipe, notice = demo_recipe()
    views = [ViewPlan(name, uri, path) for name, uri, path in args.view or ()]
    return run_window(
        settings, profile, source, recipe, autostart=not args.no_start, views=views, notice=notice
    )


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
    from inspector.station.doctor import (  # the doctor's probes
        QT_BINDING_FIX,
        QT_XCB_DEBS,
        qt_probe,
    )

    failure, fault = qt_probe()
    if failure is not None:
        from inspector.escapes import visible

        print(
            f"inspector: the window cannot start: {visible(failure)}\n"
            f"  On Debian or Ubuntu, Qt needs: sudo apt install {' '.join(QT_XCB_DEBS)}\n"
            "  (./installer/install.sh installs them); running the demo headless",
            file=sys.stderr,
        )
        return False
    if fault is not None:
        print(
            f"inspector: the window would not last: {fault}\n  Fix: {QT_BINDING_FIX}; "
            "running the demo headless",
            file=sys.stderr,
        )
        return False
    return True
