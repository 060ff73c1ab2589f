"""JSON Lines: one JSON object per inspection, every field as the store gives it, UTF-8."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

from inspector.export.output import Progress, atomic_file, counted


def write_lines(records: Iterable[dict], out: IO[str]) -> Iterator[dict]:
    """Write each record as one line to `out`, passing it on (the bundle hashes as it goes)."""
    for record in records:
        out.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")))
        out.write("\n")
        yield record


def write_jsonl(
    records: Iterable[dict],
    path: Path,
    progress: Progress | None = None,
    total: int | None = None,
) -> int:
    count = 0
    with atomic_file(path, "w", encoding="utf-8") as out:
        for _ in write_lines(counted(records, progress, total), out):
            count += 1
    return count


def read_jsonl(path: Path) -> Iterator[dict]:
    with open(path, encoding="utf-8") as source:
        for line in source:
            if line.strip():
                yield json.loads(line)
