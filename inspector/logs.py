"""Logging: warnings to stderr, everything to a rotating file under the data directory."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path


def setup_logging(data_dir: Path, verbose: bool = False) -> Path | None:
    root = logging.getLogger()
    if getattr(root, "_inspector_configured", False):
        return None
    root.setLevel(logging.INFO)
    console = logging.StreamHandler()
    console.setLevel(logging.INFO if verbose else logging.ERROR)
    console.setFormatter(logging.Formatter("inspector: %(levelname)s %(name)s: %(message)s"))
    root.addHandler(console)
    path = data_dir / "logs" / "inspector.log"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        file_handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=10 << 20, backupCount=5, encoding="utf-8"
        )
    except OSError:
        return None
    file_handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s")
    )
    root.addHandler(file_handler)
    root._inspector_configured = True  # type: ignore[attr-defined]
    return path
