"""What every export writer shares: complete-or-absent output files, progress, file hashes."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

# Called with (records written so far, records in all or None when unknown).
Progress = Callable[[int, int | None], None]
PROGRESS_EVERY = 1000


@contextmanager
def atomic_file(path: Path, mode: str = "w", **open_args: Any) -> Iterator[IO]:
    """A file written under a temporary name beside `path`, renamed to it only when complete."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(handle, mode, **open_args) as out:
            yield out
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def counted(
    records: Iterable[dict], progress: Progress | None, total: int | None
) -> Iterator[dict]:
    """The records, reporting progress every PROGRESS_EVERY and at the end."""
    count = 0
    for record in records:
        yield record
        count += 1
        if progress is not None and count % PROGRESS_EVERY == 0:
            progress(count, total)
    if progress is not None and count % PROGRESS_EVERY:
        progress(count, total)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as source:
        while chunk := source.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
