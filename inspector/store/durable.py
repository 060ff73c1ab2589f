"""A file written whole or not at all, and on disk before the call returns.

For what the record cannot lose: a journaled record (journal.py), the site's signing key
(audit/site_key.py). The bytes go to a temporary file in the same folder (mkstemp: mode 0600
from its first byte), are flushed to disk, then renamed over the target, so a reader sees the
old file or the new one, never half of one.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_file(path: Path, data: bytes) -> None:
    """Write `data` to `path` atomically and durably; the folder must exist."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
