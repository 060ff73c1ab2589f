"""Stores opened at once from several threads of one process (the window's Doctor page checks
the database on a worker while the window opens its own store): each applies its migrations
without tripping over the others'. Alembic's `op` and `context` are process-wide proxies, so
two upgrades running at once break each other unless they take turns."""

from __future__ import annotations

import threading

from inspector.config import Settings
from inspector.store import Store


def test_stores_opened_at_once_from_many_threads_all_open(tmp_path):
    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def open_one(n: int) -> None:
        try:
            start.wait()
            with Store.open(Settings.from_env(data_dir=tmp_path / f"station-{n}")) as store:
                assert store.review_count() == 0
        except BaseException as exc:  # collected: the assertion below names them
            errors.append(exc)

    for _ in range(3):
        threads = [threading.Thread(target=open_one, args=(n,)) for n in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        tmp_path = tmp_path / "again"
    assert errors == []
