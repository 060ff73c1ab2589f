"""`inspector doctor`: what this station needs, checked one line each, with what to do.

The checks live in station/doctor.py (the window's Doctor page shows the same ones); here they
are printed, or written as JSON for IT. Exit 1 when any is FAIL (the station cannot work as set
up); WARN: it works with less.
"""

from __future__ import annotations

from dataclasses import asdict


def register(commands) -> None:
    doctor = commands.add_parser(
        "doctor",
        help="check what this station needs, one line each, with what to do",
        description="Checks Python, the installed extras, the window (Qt and a display), the "
        "data directory and its free space, the clock, the database, the models the station's "
        "recipe needs, GPUs, camera libraries and the line outputs' libraries. Each line is OK, "
        "WARN (works with less) or FAIL (cannot work as set up: exit 1).",
    )
    doctor.add_argument("--json", action="store_true", help="print JSON (for IT)")
    doctor.set_defaults(handler=_doctor)


def _doctor(args, settings) -> int:
    from inspector.config import StationProfile
    from inspector.station.doctor import FAIL, run_checks

    results = run_checks(settings, StationProfile.load())
    from inspector.escapes import json_visible, show

    if args.json:
        print(json_visible([asdict(r) for r in results], indent=2))
    else:
        for r in results:  # paths, URLs and errors from outside: shown, never obeyed
            fix = f" -> {r.fix}" if r.fix else ""
            show(f"{r.status:4}  {r.name:9} {r.found}{fix}")
    return 1 if any(r.status == FAIL for r in results) else 0
