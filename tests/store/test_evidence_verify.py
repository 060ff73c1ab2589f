"""`audit verify` hashes every evidence file against its record: an image overwritten or deleted
on disk is named (inspection and path) and the command exits 1; `--no-evidence` skips it."""

from __future__ import annotations

import numpy as np

from inspector.recipes import parse_recipe
from inspector.store import Store
from tests.support.records_data import RECIPE, inspector, populate, record


def _paths(store: Store) -> dict[int, object]:
    return {r.id: r.evidence_path for r in store.history(100)}


def test_an_overwritten_and_a_deleted_evidence_file_are_named(settings):
    with Store.open(settings) as store:
        _, ids = populate(store, 6)
        report = store.verify()
        assert report.ok and report.evidence_files == 6
        paths = _paths(store)
        overwritten, deleted = paths[ids[1]], paths[ids[4]]
        overwritten.write_bytes(b"another image entirely")  # same name, other bytes
        deleted.unlink()
        report = store.verify()
        assert not report.ok and report.problem_count == 2
        messages = [p.message for p in report.problems]
        assert any(
            m.startswith(f"inspection {ids[1]}: evidence file {overwritten} was changed")
            for m in messages
        ), messages
        assert f"inspection {ids[4]}: evidence file {deleted} is missing (deleted)" in messages
        assert store.verify(evidence=False).ok  # the chain itself is intact

    result = inspector(settings, "audit", "verify")
    assert result.returncode == 1
    assert result.stdout.startswith("evidence FAILS: inspection ")  # the chain itself is whole
    assert "2 problem(s) in " in result.stdout
    assert f"inspection {ids[1]}: evidence file {overwritten} was changed" in result.stdout
    assert f"inspection {ids[4]}: evidence file {deleted} is missing" in result.stdout
    assert "inspector: checked 6 evidence files" in result.stderr  # not a terminal: one line
    assert "\r" not in result.stderr
    skipped = inspector(settings, "audit", "verify", "--no-evidence")
    assert skipped.returncode == 0, skipped.stdout
    assert "evidence not checked (--no-evidence)" in skipped.stdout


def test_intact_evidence_is_counted_and_a_changed_reference_image_named(sqlite_settings):
    with Store.open(sqlite_settings) as store:
        reference = np.full((20, 20, 3), 200, np.uint8)
        store.recipe_version_id(parse_recipe({**RECIPE, "version": 2}, "test"), [reference])
        populate(store, 3)
        ok = inspector(sqlite_settings, "audit", "verify")
        assert ok.returncode == 0, ok.stdout
        assert "4 evidence files match their records" in ok.stdout  # 3 images, 1 reference
        encoded = store.evidence.encode(reference)
        path = store.evidence.path_for(encoded.sha256, encoded.format)
        path.write_bytes(path.read_bytes()[:-10])  # cut short
        [problem] = store.verify().problems
        assert problem.message.startswith(
            f"recipe bracket version 2 (#1): reference image {path} was changed"
        )


def test_many_records_share_one_file_and_every_one_is_named(sqlite_settings):
    """Identical frames are stored once; a change to that file is a problem for each record."""
    with Store.open(sqlite_settings) as store:
        _, ids = populate(store, 2)
        first = _paths(store)[ids[0]]
        # Record number 1 again: the same image bytes, the same file.
        again = record(store, 1, 1)
        assert _paths(store)[again] == first
        first.unlink()
        report = store.verify(batch=1)
        names = sorted(p.message.split(":")[0] for p in report.problems)
        assert names == sorted([f"inspection {ids[0]}", f"inspection {again}"])


def test_on_a_terminal_the_progress_is_a_bar_redrawn_in_place(sqlite_settings):
    import os
    import pty

    from tests.support import command_line

    with Store.open(sqlite_settings) as store:
        populate(store, 3)
    leader, follower = pty.openpty()
    try:
        process = command_line.start(
            "audit", "verify", data_dir=sqlite_settings.data_dir, stderr=follower
        )
        os.close(follower)
        follower = None
        out, _ = process.communicate(timeout=120)
        drawn = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the terminal's other end closed: all is read
                break
            if not chunk:
                break
            drawn += chunk
    finally:
        os.close(leader)
        if follower is not None:
            os.close(follower)
    assert process.returncode == 0, out
    text = drawn.decode()
    assert "inspector: [" + "#" * 30 + "] 100% 3/3 evidence files" in text, text
    assert "\r\x1b[Kinspector: checked 3 evidence files" in text.replace("\r\n", "\n"), text
