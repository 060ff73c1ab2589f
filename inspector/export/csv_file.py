"""CSV: one row per inspection, every field; nested lists as JSON in their cell.

Conventions, so a spreadsheet reads it and a program reads it back exactly (`read_csv`):
UTF-8 with a header row; times in UTC ISO 8601 with microseconds and Z; an empty cell is
"no value" (null); true/false for yes/no; defects, attempts, overrides (with their signatures)
and the region of interest as JSON; `signatures` repeats the override signatures in words.

Formula injection (OWASP "CSV Injection"): a spreadsheet runs a cell that begins with `=`, `+`,
`-`, `@`, a tab or a carriage return, and a part id, a file name or a model's reason can begin
with any of them. Such a cell is written with a leading `'`, which spreadsheets take as "this
is text" and do not show; every cell is quoted (OWASP's alternative rule, and it keeps a `;` or
`,` inside a cell from starting a new cell in a spreadsheet that splits on another separator).
A cell that is a plain number (`-12.5`, `-3e-4`) is kept as it is: a spreadsheet reads it as a
number, never as a formula, and a negative confidence or time stays readable. A cell that
already begins with `'` gets another, so `read_csv` can take exactly one off and give back the
value as it was.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from inspector.export.output import Progress, atomic_file, counted


def _text(value: str) -> str:
    return value


def _bool(value: str) -> bool:
    return value == "true"


# (column, how a cell reads back, whether an empty cell is null rather than "")
COLUMNS: tuple[tuple[str, Callable[[str], Any], bool], ...] = (
    ("inspection_id", int, False),
    ("uid", _text, False),
    ("captured_at", _text, False),
    ("recorded_at", _text, False),
    ("camera_id", _text, False),
    ("sequence", int, False),
    ("part_id", _text, True),
    ("serial", _text, True),
    ("lot", _text, True),
    ("recipe", _text, False),
    ("recipe_version", int, False),
    ("recipe_sha256", _text, False),
    ("outcome", _text, False),
    ("final_outcome", _text, False),
    ("reason", _text, False),
    ("confidence", float, True),
    ("engine", _text, True),
    ("model_id", _text, True),
    ("model_revision", _text, True),
    ("prompt_hash", _text, True),
    ("raw_answer", _text, True),
    ("evidence_sha256", _text, False),
    ("evidence_file", _text, False),
    ("image_width", int, False),
    ("image_height", int, False),
    ("roi", json.loads, True),
    ("queue_ms", float, False),
    ("judge_ms", float, False),
    ("total_ms", float, False),
    ("image_left_site", _bool, False),
    ("defects", json.loads, False),
    ("attempts", json.loads, False),
    ("overrides", json.loads, False),
    ("record_sha256", _text, False),
)
DERIVED = ("signatures",)  # written for people; read back from `overrides`
HEADER = [name for name, _, _ in COLUMNS] + list(DERIVED)


# OWASP's characters that make a spreadsheet read a cell as a formula, and the text marker.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
TEXT_MARK = "'"
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def neutralised(text: str) -> str:
    """The cell as a spreadsheet may open it: never a formula (see the module's docstring)."""
    if text.startswith(TEXT_MARK):
        return TEXT_MARK + text
    if text.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(text):
        return TEXT_MARK + text
    return text


def restored(cell: str) -> str:
    """The value `neutralised` was given."""
    return cell[1:] if cell.startswith(TEXT_MARK) else cell


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _signatures(record: dict) -> str:
    lines = []
    for override in record["overrides"]:
        s = override.get("signature")
        if s:
            lines.append(f"{s['printed_name']} ({s['user']}), {s['meaning']}, {s['signed_at']}")
    return "; ".join(lines)


def write_csv(
    records: Iterable[dict],
    path: Path,
    progress: Progress | None = None,
    total: int | None = None,
) -> int:
    """Write the records; returns how many."""
    count = 0
    with atomic_file(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, quoting=csv.QUOTE_ALL)
        writer.writerow(HEADER)
        for record in counted(records, progress, total):
            row = [_cell(record[name]) for name, _, _ in COLUMNS]
            writer.writerow([neutralised(cell) for cell in (*row, _signatures(record))])
            count += 1
    return count


def read_csv(path: Path) -> Iterator[dict]:
    """The records of a file `write_csv` wrote, typed as they were exported."""
    with open(path, newline="", encoding="utf-8") as source:
        reader = csv.DictReader(source)
        for row in reader:
            record = {}
            for name, parse, nullable in COLUMNS:
                cell = restored(row[name])
                if cell == "" and (nullable or parse is not _text):
                    record[name] = None
                else:
                    record[name] = parse(cell)
            yield record
