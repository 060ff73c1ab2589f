"""`audit verify` with and without hashing the evidence files, on SQLite: seconds and the ratio.

N inspections (default 100,000), each with its own tiny evidence file (a few hundred bytes,
named by its SHA-256 as the store names them), a defect, one judge attempt and its audit entry,
are bulk-inserted with valid digests and hashes (the same functions the store uses), then:
1. `Store.verify(evidence=False)`: the chain and every record's digest;
2. `Store.verify()`: the same, then every evidence file hashed against its record;
3. the evidence pass alone with one hashing thread and with the default pool, to show what the
   threads buy on this machine.
Each is timed `--repeat` times (default 2), alternating, and the best is printed: on a shared
machine the best run is the one least disturbed by others. The files are in the page cache (just
written): this measures the verifier, not the disk.

    .venv/bin/python bench/audit_verify.py [--records 100000] [--repeat 2] [--keep DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import sqlite3
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.export_audit import bulk_insert  # noqa: E402
from inspector.config import Settings  # noqa: E402
from inspector.store import Store  # noqa: E402
from inspector.store.audit import digests  # noqa: E402
from inspector.store.audit import verify as audit_verify  # noqa: E402
from inspector.store.audit.hash_chain import canonical_json, entry_hash  # noqa: E402

CHUNK = 5000
EVIDENCE_BYTES = 300


def generate(folder: Path, count: int, size: int = EVIDENCE_BYTES) -> Store:
    settings = Settings.from_env(data_dir=folder, database_url=None)
    store = Store.open(settings)
    from inspector.recipes import parse_recipe

    recipe = parse_recipe({"name": "bench", "version": 1, "prompt": "Inspect."}, "bench")
    version_id = store.recipe_version_id(recipe, [])
    head = store.audit_head()
    seq, prev = head.seq, head.hash
    start = datetime(2026, 1, 1, tzinfo=UTC)
    database = settings.database_url.removeprefix("sqlite:///")
    began = time.perf_counter()
    for first in range(1, count + 1, CHUNK):
        inspections, defects, attempts, entries = [], [], [], []
        for i in range(first, min(first + CHUNK, count + 1)):
            line = f"evidence of part {i} ".encode()
            data = (line * (size // len(line) + 1))[:size]
            sha = hashlib.sha256(data).hexdigest()
            path = store.evidence.path_for(sha, "jpeg")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
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
                "reason": "bench",
                "confidence": 0.9,
                "evidence_sha256": sha,
                "evidence_format": "jpeg",
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
            attempt = {
                "inspection_id": i,
                "position": 0,
                "engine": "transformers",
                "model_id": "Qwen/Qwen2.5-VL-7B-Instruct",
                "model_revision": "main",
                "prompt_hash": "f" * 64,
                "started_at": captured,
                "latency_ms": 400.0,
                "raw_text": '{"outcome": "PASS", "defects": []}',
                "prompt_tokens": 1200,
                "completion_tokens": 40,
                "error": None,
                "outcome": row["outcome"],
                "image_left_site": False,
            }
            seq += 1
            new = {"v": 1, "uid": row["uid"], "outcome": row["outcome"]}
            new["sha256"] = digests.inspection(row, [defect], [attempt])
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
            inspections.append(row)
            defects.append(defect)
            attempts.append(attempt)
            entries.append(entry)
        with sqlite3.connect(database) as connection:
            bulk_insert(connection, "inspections", inspections)
            bulk_insert(connection, "defects", defects)
            bulk_insert(connection, "judge_attempts", attempts)
            bulk_insert(connection, "audit_entries", entries)
            connection.execute(f"UPDATE audit_head SET seq = {seq}, hash = '{prev}'")
    print(f"generated {count} records and files in {time.perf_counter() - began:.0f} s")
    return store


def timed(what, *args, **kwargs):
    began = time.perf_counter()
    result = what(*args, **kwargs)
    return result, time.perf_counter() - began


def best(repeat: int, what, *args, **kwargs):
    """The result and the shortest time of `repeat` runs."""
    runs = [timed(what, *args, **kwargs) for _ in range(repeat)]
    return runs[-1][0], min(seconds for _, seconds in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument(
        "--evidence-bytes",
        type=int,
        default=EVIDENCE_BYTES,
        help="size of each evidence file (a 1080p JPEG is about 100,000)",
    )
    parser.add_argument("--repeat", type=int, default=2, help="runs of each; the best counts")
    parser.add_argument("--keep", type=Path, help="generate into DIR and keep it")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="audit-verify-"))
    store = generate(folder, args.records, args.evidence_bytes)
    n = args.records
    chain_s = both_s = float("inf")
    for _ in range(args.repeat):  # alternating, so both see the same machine
        without, seconds = timed(store.verify, evidence=False)
        chain_s = min(chain_s, seconds)
        with_files, seconds = timed(store.verify)
        both_s = min(both_s, seconds)
    assert without.ok and with_files.ok, (without.first, with_files.first)
    assert with_files.evidence_files == n
    print(
        f"audit verify, {n} records, SQLite, evidence files of {args.evidence_bytes} bytes "
        f"in the page cache, best of {args.repeat}:"
    )
    print(f"  --no-evidence:           {chain_s:6.1f} s ({n / chain_s:7.0f} records/s)")
    print(f"  with evidence (default): {both_s:6.1f} s ({n / both_s:7.0f} records/s)")
    print(f"  ratio with / without:    {both_s / chain_s:6.2f}x")
    engine = store._engine  # the bench reaches the verifier's evidence pass alone
    for workers in (1, audit_verify.HASH_WORKERS):
        report = audit_verify.Report()
        _, seconds = best(
            args.repeat,
            audit_verify.verify_evidence,
            engine,
            store.evidence,
            report,
            workers=workers,
        )
        assert report.ok
        print(
            f"  evidence pass alone, {workers} hashing thread(s): {seconds:5.1f} s "
            f"({n / seconds:7.0f} files/s)"
        )
    store.close()
    if args.keep is None:
        import shutil

        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
