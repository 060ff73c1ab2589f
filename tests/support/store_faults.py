"""Real conditions under which a record cannot be written, made and undone by a test:

- a database that refuses every new inspection (a trigger that raises, created and dropped with
  a plain SQL client behind the application's back, on SQLite and PostgreSQL alike);
- a small real filesystem (tmpfs) for the data directory, which fills up for real and can be
  grown again (`mount -o remount,size=`): needs root and `mount`; the test is skipped otherwise;
- strings that neither database, nor UTF-8, can hold as they are.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from inspector.config import Settings
from tests.support.records_data import plain_sql

REFUSAL = "the test database refuses new inspections"

# Lone surrogates (a model's answer cut inside a pair; os.fsdecode of a byte that is not
# UTF-8), NUL, and ordinary text beside them, which must come back unchanged.
HOSTILE = "ok \ud800 then NUL\x00 and \udcff end, ünïcödé 検査"
HOSTILE_STORED = "ok \\ud800 then NUL\\x00 and \\udcff end, ünïcödé 検査"


def refuse_inspections(settings: Settings) -> None:
    """From now on every insert into `inspections` fails inside the database."""
    if settings.database_url.startswith("sqlite:"):
        plain_sql(
            settings,
            "CREATE TRIGGER refuse_inspections BEFORE INSERT ON inspections "
            f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END",
        )
        return
    plain_sql(
        settings,
        "CREATE FUNCTION refuse_inspections() RETURNS trigger AS $$ BEGIN "
        f"RAISE EXCEPTION '{REFUSAL}'; END $$ LANGUAGE plpgsql",
        "CREATE TRIGGER refuse_inspections BEFORE INSERT ON inspections "
        "FOR EACH ROW EXECUTE FUNCTION refuse_inspections()",
    )


def accept_inspections(settings: Settings) -> None:
    """The fault clears: inserts work again."""
    if settings.database_url.startswith("sqlite:"):
        plain_sql(settings, "DROP TRIGGER refuse_inspections")
        return
    plain_sql(
        settings,
        "DROP TRIGGER refuse_inspections ON inspections",
        "DROP FUNCTION refuse_inspections()",
    )


@contextlib.contextmanager
def small_disk(path: Path, size_mb: float) -> Iterator[Path]:
    """A real filesystem of `size_mb` mounted at `path` (tmpfs) for the test's duration."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("a small real filesystem needs root and mount (tmpfs)")
    path.mkdir(parents=True, exist_ok=True)
    size = f"size={int(size_mb * 1024)}k"
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", size, "tmpfs", str(path)], capture_output=True, text=True
    )
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def grow(path: Path, size_mb: float) -> None:
    """Free space on the small filesystem: the disk-full fault clears."""
    size = f"remount,size={int(size_mb * 1024)}k"
    subprocess.run(["mount", "-o", size, str(path)], check=True)
