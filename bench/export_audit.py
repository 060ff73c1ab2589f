"""Exports and the audit chain at scale, on SQLite: seconds and peak memory.

1. Export 100,000 inspections (each with a defect, two judge attempts, a few with a signed
   override) to CSV and JSON Lines through the real code (`Store.records` and
   inspector.export), each in a process of its own: wall seconds, records per second, and the
   process's peak resident memory, next to the same export of a tenth of the records. Memory that
   stays flat while the records grow tenfold is what "bounded" means.
2. `audit verify` over a chain of 1,000,000 entries (one per inspection, as a station writes
   them): seconds and entries per second; it checks each inspection's digest too.
3. What the audit entry costs on the line's critical path: Store.record_inspection with it and
   with the append skipped, in one run.

Rows are generated with bulk inserts (valid digests and hashes, computed by the same functions
the store uses), not through the station.

    .venv/bin/python bench/export_audit.py [--export 100000] [--chain 1000000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from inspector.config import Settings  # noqa: E402
from inspector.store import Store  # noqa: E402
from inspector.store.audit import digests  # noqa: E402
from inspector.store.audit import trail as audit  # noqa: E402
from inspector.store.audit.hash_chain import canonical_json, entry_hash  # noqa: E402

CHUNK = 5000
RAW = '{"outcome": "FAIL", "defects": [{"class": "scratch", "box": [10, 20, 110, 220]}]}'


def _settings(folder: Path) -> Settings:
    return Settings.from_env(data_dir=folder, database_url=None)


def bulk_insert(connection: sqlite3.Connection, table: str, rows: list[dict]) -> None:
    """Rows straight into the SQLite file, in the store's column formats (times as UTC text)."""
    if not rows:
        return
    columns = list(rows[0])
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    connection.executemany(sql, ([_sqlite_value(r[c]) for c in columns] for r in rows))


def _sqlite_value(value):
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def generate(folder: Path, count: int, with_overrides: bool = True) -> Store:
    """`count` inspections with their rows and audit entries, bulk-inserted with valid hashes.

    Overrides (one per thousand, for the exports to carry) get no audit entries here: the chain
    built for `verify` has none.
    """
    store = Store.open(_settings(folder))
    import numpy as np

    from inspector.recipes import parse_recipe

    recipe = parse_recipe({"name": "bench", "version": 1, "prompt": "Inspect."}, "bench")
    version_id = store.recipe_version_id(recipe, [])
    image = store.evidence.encode(np.full((48, 64, 3), 90, np.uint8))
    store.evidence.write(image)
    head = store.audit_head()
    seq, prev = head.seq, head.hash
    start = datetime(2026, 1, 1, tzinfo=UTC)
    started = time.perf_counter()
    signature_id = None
    database = _settings(folder).database_url.removeprefix("sqlite:///")
    if with_overrides:
        with sqlite3.connect(database) as connection:
            signature = {
                "user_name": "bench",
                "printed_name": "Bench Reviewer",
                "meaning": "reviewed",
                "signed_at": start,
                "subject_type": "inspection",
                "subject_id": "1",
                "statement": "bench",
            }
            bulk_insert(connection, "signatures", [signature])
            signature_id = connection.execute("SELECT max(id) FROM signatures").fetchone()[0]
    for first in range(1, count + 1, CHUNK):
        ids = range(first, min(first + CHUNK, count + 1))
        inspections, defects, attempts, entries, overrides = [], [], [], [], []
        for i in ids:
            captured = start + timedelta(seconds=i)
            row = {
                "id": i,
                "uid": str(uuid.UUID(int=i)),
                "camera_id": "cam-1",
                "sequence": i,
                "captured_at": captured,
                "recorded_at": captured + timedelta(milliseconds=40),
                "part_id": f"P-{i:07d}",
                "serial": None,
                "lot": f"L{i // 1000}",
                "recipe_version_id": version_id,
                "outcome": "FAIL" if i % 7 == 0 else "PASS",
                "reason": "a scratch" if i % 7 == 0 else "clean",
                "confidence": 0.9,
                "evidence_sha256": image.sha256,
                "evidence_format": image.format,
                "image_width": 64,
                "image_height": 48,
                "roi_x": None,
                "roi_y": None,
                "roi_width": None,
                "roi_height": None,
                "queue_ms": 1.5,
                "judge_ms": 410.0,
                "total_ms": 415.25,
                "image_left_site": False,
            }
            defect = {
                "inspection_id": i,
                "class_name": "scratch",
                "severity": "major",
                "x0": 10,
                "y0": 20,
                "x1": 110,
                "y1": 220,
                "confidence": 0.875,
                "note": "",
            }
            tries = [
                {
                    "inspection_id": i,
                    "position": p,
                    "engine": "transformers",
                    "model_id": "Qwen/Qwen2.5-VL-7B-Instruct",
                    "model_revision": "cc594898137f460bfe9f0759e9844b3ce807cfb5",
                    "prompt_hash": "f" * 64,
                    "started_at": captured,
                    "latency_ms": 400.0,
                    "raw_text": RAW,
                    "prompt_tokens": 1200,
                    "completion_tokens": 40,
                    "error": None,
                    "outcome": row["outcome"],
                    "image_left_site": False,
                }
                for p in range(2)
            ]
            inspections.append(row)
            defects.append(defect)
            attempts.extend(tries)
            seq += 1
            new = {"v": 1, "uid": row["uid"], "outcome": row["outcome"]}
            new["sha256"] = digests.inspection(row, [defect], tries)
            entry = {
                "seq": seq,
                "at": row["recorded_at"],
                "user_name": "station",
                "action": "inspection.recorded",
                "entity_type": "inspection",
                "entity_id": str(i),
                "old_value": None,
                "new_value": canonical_json(new),
                "reason": "",
                "signature_id": None,
                "prev_hash": prev,
            }
            entry["hash"] = prev = entry_hash(**entry)
            entries.append(entry)
            if with_overrides and i % 1000 == 0:
                overrides.append(
                    {
                        "inspection_id": i,
                        "previous_outcome": row["outcome"],
                        "outcome": "PASS",
                        "reason": "reviewed: dust",
                        "user_name": "bench",
                        "created_at": captured,
                        "signature_id": signature_id,
                    }
                )
        with sqlite3.connect(database) as connection:
            bulk_insert(connection, "inspections", inspections)
            bulk_insert(connection, "defects", defects)
            bulk_insert(connection, "judge_attempts", attempts)
            bulk_insert(connection, "audit_entries", entries)
            bulk_insert(connection, "overrides", overrides)
            connection.execute(f"UPDATE audit_head SET seq = {seq}, hash = '{prev}'")
        if (first // CHUNK) % 20 == 0:
            done = first + len(ids) - 1
            print(f"  generated {done} ({time.perf_counter() - started:.0f} s)", file=sys.stderr)
    return store


def child_export(kind: str, folder: str, out: str, limit: int, traced: bool) -> None:
    """Runs in its own process, so its peak memory is the export's own."""
    import tracemalloc

    from inspector.export.csv_file import write_csv
    from inspector.export.jsonl import write_jsonl
    from inspector.store import InspectionFilter, export_dict

    store = Store.open(_settings(Path(folder)))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    until = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=limit + 1)
    where = InspectionFilter(until=until)
    if traced:
        tracemalloc.start()
    started = time.perf_counter()
    stream = map(export_dict, store.records(where))
    write = write_csv if kind == "csv" else write_jsonl
    count = write(stream, Path(out))
    seconds = time.perf_counter() - started
    heap = tracemalloc.get_traced_memory()[1] if traced else 0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    figures = {"count": count, "seconds": seconds, "rss_before_kb": before, "peak_kb": peak}
    print(json.dumps({**figures, "heap_peak": heap}))


def export_figures(folder: Path, count: int) -> None:
    print("export, SQLite, each in its own process (records with a defect, 2 attempts):")
    for kind in ("csv", "jsonl"):
        results = {}
        for n in (count // 10, count):
            out = folder / f"out-{n}.{kind}"
            r = results[n] = _child(kind, folder, out, n, traced=False)
            r["heap_peak"] = _child(kind, folder, out, n, traced=True)["heap_peak"]
            size = out.stat().st_size / 2**20
            print(
                f"  {kind:<5} {r['count']:>7} records: {r['seconds']:6.1f} s "
                f"({r['count'] / r['seconds']:5.0f} records/s), {size:4.0f} MiB file; "
                f"peak RSS {r['peak_kb'] / 1024:4.0f} MiB (opened store alone "
                f"{r['rss_before_kb'] / 1024:.0f}); "
                f"Python heap peak {r['heap_peak'] / 2**20:.1f} MiB"
            )
            out.unlink()
        small, large = results[count // 10], results[count]
        print(
            f"  {kind:<5} 10x the records: {large['seconds'] / small['seconds']:.1f}x the time, "
            f"{large['peak_kb'] / small['peak_kb']:.2f}x the peak RSS, "
            f"{large['heap_peak'] / small['heap_peak']:.2f}x the heap peak"
        )


def _child(kind: str, folder: Path, out: Path, n: int, traced: bool) -> dict:
    command = [sys.executable, __file__, "--child", kind, str(folder), str(out), str(n)]
    if traced:
        command.append("--traced")
    run = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(run.stdout.strip().splitlines()[-1])


def verify_figures(folder: Path) -> None:

    with Store.open(_settings(folder)) as store:
        started = time.perf_counter()
        report = store.verify()
        seconds = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        assert report.ok, report.problems[:3]
        print(
            f"audit verify, SQLite: {report.entries} entries in {seconds:.1f} s "
            f"({report.entries / seconds:.0f} entries/s, each inspection's digest checked); "
            f"peak RSS of this process {peak:.0f} MiB"
        )


def append_cost(folder: Path, parts: int = 400) -> None:
    """record_inspection with its audit entry, and with the append skipped, alternating."""
    import numpy as np

    from inspector.domain import Frame, JudgeAttempt, Outcome, Verdict, utc_now
    from inspector.recipes import parse_recipe
    from inspector.store import Timings

    with Store.open(_settings(folder)) as store:
        version_id = store.recipe_version_id(
            parse_recipe({"name": "cost", "version": 1, "prompt": "Inspect."}, "bench"), []
        )
        attempt = JudgeAttempt(
            "transformers",
            "m",
            "r",
            "f" * 64,
            utc_now(),
            400.0,
            RAW,
            1200,
            40,
            outcome=Outcome.PASS,
        )
        verdict = Verdict(Outcome.PASS, "clean", (), 0.9, (attempt,))
        image = store.evidence.encode(np.full((48, 64, 3), 10, np.uint8))
        real = audit.record_inspection
        timings = {"with": [], "without": []}
        for n in range(parts):
            variant = "with" if n % 2 else "without"
            audit.record_inspection = real if variant == "with" else (lambda *a, **k: 0)
            frame = Frame(
                image=np.zeros((1, 1), np.uint8),
                camera_id="c",
                sequence=n,
                captured_at=utc_now(),
                captured_monotonic_ns=0,
            )
            started = time.perf_counter()
            store.record_inspection(frame, version_id, verdict, image, Timings(0, 1, 2))
            timings[variant].append((time.perf_counter() - started) * 1000)
        audit.record_inspection = real
        med = {k: float(np.median(v)) for k, v in timings.items()}
        p95 = {k: float(np.percentile(v, 95)) for k, v in timings.items()}
        print(
            f"record_inspection, SQLite: median {med['with']:.2f} ms with the audit entry, "
            f"{med['without']:.2f} ms without ({med['with'] / med['without']:.2f}x; "
            f"+{med['with'] - med['without']:.2f} ms); "
            f"p95 {p95['with']:.2f} / {p95['without']:.2f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--export", type=int, default=100_000, help="inspections to export")
    parser.add_argument("--chain", type=int, default=1_000_000, help="audit entries to verify")
    parser.add_argument("--keep", type=Path, help="build the databases here and keep them")
    parser.add_argument("--traced", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--child", nargs=4, metavar=("KIND", "DIR", "OUT", "N"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child:
        kind, folder, out, n = args.child
        child_export(kind, folder, out, int(n), args.traced)
        return
    with tempfile.TemporaryDirectory() as scratch:
        base = args.keep or Path(scratch)
        append_cost(base / "cost")
        exports = base / "export"
        if not (exports / "inspector.db").exists():
            print(f"generating {args.export} inspections ...", file=sys.stderr)
            generate(exports, args.export).close()
        export_figures(exports, args.export)
        chain = base / "chain"
        if not (chain / "inspector.db").exists():
            print(f"generating a chain of {args.chain} entries ...", file=sys.stderr)
            generate(
                chain, args.chain - 3, with_overrides=False
            ).close()  # + chain start, station, recipe saved
        verify_figures(chain)


if __name__ == "__main__":
    main()
