"""The audit chain recomputed from a database dump in a few lines, as the README promises anyone
can: the recipe is written out here by hand (inspector/store/audit/hash_chain.py says it in
words), never by calling the code that hashed the entries."""

from __future__ import annotations

import hashlib
import json
import sqlite3

from tests.support.command_line import inspector
from tests.support.paths import ROOT

IMAGE = ROOT / "assets" / "demo" / "camera" / "01_00041000_test.jpg"
RECIPE = ROOT / "assets" / "demo" / "recipe-reference.yaml"


def _recomputed(seq, at, user, action, entity_type, entity_id, old, new, reason, signature, prev):
    """SHA-256 of a compact JSON array: the format tag, the fields in order, the previous hash
    last; the time as UTC ISO 8601 with microseconds and Z; old and new values as stored."""
    when = at.replace(" ", "T") + "Z"  # SQLite keeps "2026-03-01 12:00:00.000000" (UTC)
    fields = ["inspector-audit-1", seq, when, user, action, entity_type, entity_id,
              old, new, reason, signature, prev]  # fmt: skip
    text = json.dumps(fields, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def test_every_entry_hash_is_recomputed_from_the_dump(tmp_path):
    data = tmp_path / "data"
    added = inspector("--data-dir", str(data), "user", "add", "asa", "--role", "admin",
                      "--full-name", "Åsa Öberg", "--password-stdin",
                      input="a password of hers, 2026\n")  # fmt: skip
    assert added.returncode == 0, added.stderr
    judged = inspector("--data-dir", str(data), "judge", str(IMAGE), "--recipe", str(RECIPE))
    assert judged.returncode == 0, judged.stderr
    with sqlite3.connect(data / "inspector.db") as db:
        entries = db.execute(
            "SELECT seq, at, user_name, action, entity_type, entity_id, old_value, new_value, "
            "reason, signature_id, prev_hash, hash FROM audit_entries ORDER BY seq"
        ).fetchall()
        head = db.execute("SELECT seq, hash FROM audit_head").fetchone()
    actions = [e[3] for e in entries]
    assert {"chain.started", "user.added", "recipe.saved", "inspection.recorded"} <= set(actions)
    assert any("Åsa Öberg" in (e[7] or "") for e in entries)  # UTF-8 hashed as is
    previous = "0" * 64  # entry 1 follows 64 zeros
    for *fields, prev_hash, stored in entries:
        assert prev_hash == previous, fields[0]
        assert _recomputed(*fields, prev_hash) == stored, fields[0]
        previous = stored
    assert head == (entries[-1][0], previous)
    assert [e[0] for e in entries] == list(range(1, len(entries) + 1))
