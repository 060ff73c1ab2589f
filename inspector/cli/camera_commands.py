"""`inspector cameras`: the cameras this station can open, each with the URI to use.

Only argparse at import; discovery (and the camera SDKs it asks) loads when the command runs.
"""

from __future__ import annotations

from pathlib import Path

from inspector.escapes import show


def register(commands) -> None:
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
    cameras.set_defaults(handler=_cameras)


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
        show(f"{camera.uri:<{width}}  {camera.description}")
    for note in notes:
        show(f"({note.family}: {note.message})")
    return 0
