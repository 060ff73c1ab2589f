"""The schema's head revisions, read from the migration files as a person would read them: the
revisions that no other migration names as its `down_revision`. Independent of alembic and of
inspector.store.database, so a test can check the code's answer against it."""

from __future__ import annotations

import re
from pathlib import Path

VERSIONS = Path(__file__).resolve().parents[2] / "inspector" / "store" / "migrations" / "versions"


def migration_heads() -> set[str]:
    revisions, parents = set(), set()
    for path in VERSIONS.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        revisions.add(re.search(r'^revision = "([^"]+)"', text, re.MULTILINE).group(1))
        down = re.search(r"^down_revision = (.+)$", text, re.MULTILINE).group(1)
        parents.update(re.findall(r'"([^"]+)"', down))  # None, "0001" or ("0002", "0003")
    return revisions - parents
