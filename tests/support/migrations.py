"""The schema's head revisions, read from the migration files as a person would read them: the
revisions that no other migration names as its `down_revision` or `depends_on`. Independent of
alembic and of inspector.store.database, so a test can check the code's answer against it."""

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
        # A revision another one `depends_on` is applied before it: no longer a head either.
        needs = re.search(r"^depends_on = ([^#\n]+)", text, re.MULTILINE)
        if needs:
            parents.update(re.findall(r'"([^"]+)"', needs.group(1)))
    return revisions - parents
