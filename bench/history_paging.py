"""History over a million inspections: what the window's table pays per page.

Fills a SQLite store with N inspection rows in bulk, then times what the History tab does:
count with a filter, the first page, a page deep in the table (keyset, `before_id`), and for
comparison the same deep page by OFFSET, which a list-in-memory or offset model would cost.

    .venv/bin/python bench/history_paging.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.export_audit import bulk_insert
from inspector.config import Settings
from inspector.domain import Outcome
from inspector.recipes import parse_recipe
from inspector.store import InspectionFilter, Store

OUTCOMES = [Outcome.PASS.value] * 8 + [Outcome.FAIL.value, Outcome.UNSURE.value]


def fill(store: Store, database: Path, rows: int) -> None:
    version = store.recipe_version_id(
        parse_recipe({"name": "b", "version": 1, "prompt": "p"}, "b"), []
    )
    start = datetime(2026, 1, 1, tzinfo=UTC)
    batch = []
    with sqlite3.connect(database) as connection:
        for i in range(rows):
            batch.append(
                {
                    "uid": f"{i:036d}",
                    "camera_id": "cam",
                    "sequence": i,
                    "captured_at": start + timedelta(seconds=i),
                    "recorded_at": start + timedelta(seconds=i),
                    "part_id": f"p{i}",
                    "lot": f"lot{i // 1000}",
                    "recipe_version_id": version,
                    "outcome": OUTCOMES[i % 10],
                    "reason": "",
                    "evidence_sha256": "0" * 64,
                    "evidence_format": "jpeg",
                    "image_width": 640,
                    "image_height": 480,
                    "queue_ms": 0.0,
                    "judge_ms": 100.0,
                    "total_ms": 101.0,
                    "image_left_site": False,
                }
            )
            if len(batch) == 20000:
                bulk_insert(connection, "inspections", batch)
                batch = []
        bulk_insert(connection, "inspections", batch)


def timed(label: str, work) -> float:
    start = time.perf_counter()
    result = work()
    ms = (time.perf_counter() - start) * 1000
    print(f"  {label:46} {ms:8.1f} ms   ({result})")
    return ms


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings.from_env(data_dir=folder, database_url=None)
        database = Path(folder) / "inspector.db"
        with Store.open(settings) as store, sqlite3.connect(database) as plain:
            start = time.perf_counter()
            fill(store, database, args.rows)
            print(f"filled {args.rows} inspections in {time.perf_counter() - start:.1f} s")
            everything = InspectionFilter()
            failing = InspectionFilter(outcomes=(Outcome.FAIL, Outcome.UNSURE))
            timed("count, no filter", lambda: store.count(everything))
            timed("count, FAIL or UNSURE", lambda: store.count(failing))
            timed("first page (200 rows)", lambda: len(store.page(everything)))
            deep_id = args.rows // 10  # 90 % of the way down the newest-first table
            timed(
                "page 90 % down, whole records (the table)",
                lambda: len(store.page(everything, before_id=deep_id)),
            )
            # How the page is found, apart from loading its records: by id, or by OFFSET.
            by_id = "SELECT id FROM inspections WHERE id < ? ORDER BY id DESC LIMIT 200"
            keyset = timed(
                "  its 200 ids by keyset (before_id)",
                lambda: len(plain.execute(by_id, (deep_id,)).fetchall()),
            )
            by_offset = "SELECT id FROM inspections ORDER BY id DESC LIMIT 200 OFFSET ?"
            offset = timed(
                "  its 200 ids by OFFSET",
                lambda: len(plain.execute(by_offset, (args.rows - deep_id,)).fetchall()),
            )
            timed(
                "lot filter, first page",
                lambda: len(store.page(InspectionFilter(lot_or_serial="lot500"))),
            )
            print(f"finding a deep page: OFFSET / keyset = {offset / keyset:.1f}")


if __name__ == "__main__":
    main()
