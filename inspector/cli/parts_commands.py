"""`inspector parts`: one part seen by several cameras, one line per part.

    inspector parts --view top folder:/line/top recipes/top.yaml \\
                    --view side gige:192.168.1.20 recipes/side.yaml

Each view has its own source and recipe (prompt, ROI, defect classes, engines); the part FAILs if
any view fails, is UNSURE if any view is unsure or sent no frame, and PASSes only if all pass.
Only argparse at import; the command imports the station when it runs.
"""

from __future__ import annotations


def add_command(commands) -> None:
    parts = commands.add_parser(
        "parts",
        help="inspect parts seen by several cameras (top, side ...), one verdict per part",
    )
    parts.add_argument(
        "--view",
        nargs=3,
        action="append",
        required=True,
        metavar=("NAME", "SOURCE", "RECIPE"),
        help="a view: its name, its camera source and its recipe (give --view once per camera)",
    )
    parts.add_argument(
        "--trigger",
        choices=("auto", "free-run", "triggered"),
        default="auto",
        help="auto: triggered when every view is a file, a folder or a triggered camera",
    )
    parts.add_argument("--max-parts", type=int, default=0, metavar="N")
    parts.add_argument("--json", action="store_true", help="one JSON object per part")


def run(args, settings) -> int:
    import json
    import threading

    from inspector.cameras import open_source
    from inspector.cameras.settings import configure
    from inspector.cli.interrupts import run_until_stopped, say
    from inspector.station import TriggerPolicy
    from inspector.station.multiview import MultiViewStation, MultiViewStopped, PartInspected, View
    from inspector.station.runner import prepare_judge
    from inspector.store import Store

    store = Store.open(settings)
    opened = []
    try:
        prepared = [(name, source, prepare_judge(recipe)) for name, source, recipe in args.view]
        for name, uri, judge in prepared:
            source = open_source(
                uri, on_event=lambda e, n=name: say(f"{n}: {e.state}: {e.message}")
            )
            opened.append(source)
            judge.chain.load(lambda message, n=name: say(f"{n}: {message}"))
            opened[-1] = configure(source, judge.recipe.camera, lambda e: None)
        # Recorded only once every view is ready: a start that fails writes nothing.
        views = [
            View(
                name,
                source,
                judge.recipe,
                store.recipe_version_id(judge.recipe, judge.references),
                judge.chain,
            )
            for (name, _, judge), source in zip(prepared, opened, strict=True)
        ]
    except BaseException:
        for source in opened:
            source.close()
        store.close()
        raise
    if args.trigger == "auto":
        streams = any(v.source.live and not getattr(v.source, "triggered", False) for v in views)
        policy = TriggerPolicy.FREE_RUN if streams else TriggerPolicy.TRIGGERED
    else:
        policy = TriggerPolicy(args.trigger)
    station = MultiViewStation(views, store, policy)
    done = threading.Event()
    parts = 0

    def on_event(event) -> None:
        nonlocal parts
        if isinstance(event, PartInspected):
            parts += 1
            if args.json:
                print(json.dumps(_part_dict(event)), flush=True)
            else:
                views_text = "  ".join(
                    f"{r.view}={r.verdict.outcome.value if r.verdict else 'no frame'}"
                    for r in event.views
                )
                print(f"part {event.part_id}  {event.outcome.value:<6}  {views_text}", flush=True)
            if args.max_parts and parts >= args.max_parts:
                station.stop()
        elif isinstance(event, MultiViewStopped):
            done.set()

    station.subscribe(on_event)

    try:
        station.start()
        run_until_stopped(station.stop, done)
        station.wait()
    finally:
        store.close()
    stats = station.stats
    say(
        f"stopped: {stats.parts} parts, {stats.views_recorded} views recorded, "
        f"{stats.missing_views} views without a frame"
    )
    return 0


def _part_dict(event) -> dict:
    return {
        "part_id": event.part_id,
        "outcome": event.outcome.value,
        "reason": event.reason,
        "views": [
            {
                "view": r.view,
                "outcome": r.verdict.outcome.value if r.verdict else None,
                "inspection_id": r.inspection_id,
            }
            for r in event.views
        ],
    }
