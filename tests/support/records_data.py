"""Records for the audit, user and export tests: written through the real store, as a station does.

Verdicts vary the way real ones do: defects with and without boxes, unlisted classes, chains of
attempts with errors and fallbacks, missing fields, text outside ASCII, and backdated captures
(for retention).
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
from sqlalchemy.engine import make_url

from inspector.config import Settings
from inspector.domain import (
    Box,
    Defect,
    Frame,
    JudgeAttempt,
    Outcome,
    Region,
    Severity,
    Verdict,
    utc_now,
)
from inspector.recipes import parse_recipe
from inspector.store import Store, Timings
from inspector.store.audit import users

ROOT = Path(__file__).resolve().parents[2]
RECIPE = {
    "name": "bracket",
    "version": 1,
    "prompt": "Inspect the bracket.",
    "defects": [{"name": "scratch", "severity": "major"}, {"name": "dent", "severity": "minor"}],
}
PASSWORDS = {"ada": "admin password 1", "erin": "engineer password", "olly": "operator password"}


def make_users(store: Store) -> dict[str, users.Identity]:
    """An admin (the bootstrap), an engineer and an operator."""
    ada = users.add_user(store.engine, None, "ada", "admin", PASSWORDS["ada"], "Ada Lovelace")
    erin = users.add_user(store.engine, ada, "erin", "engineer", PASSWORDS["erin"], "Erin Engineer")
    olly = users.add_user(store.engine, ada, "olly", "operator", PASSWORDS["olly"], "Olly Ørsted")
    return {"ada": ada, "erin": erin, "olly": olly}


def _image(number: int) -> np.ndarray:
    image = np.full((60, 80, 3), 40, np.uint8)
    image[10:30, 20 + number % 30 : 40 + number % 30] = (0, 0, 255)
    image[0, 0] = (number % 256, number // 256 % 256, 7)  # a different file per record
    return image


def verdict(number: int) -> Verdict:
    """Outcomes in turn FAIL, PASS, UNSURE, each with its own attempt chain."""
    started = utc_now()
    kind = number % 3
    first = JudgeAttempt(
        engine="transformers",
        model_id="Qwen/Qwen2.5-VL-3B-Instruct",
        model_revision=f"rev-{number % 2}",
        prompt_hash=f"{number:064x}",
        started_at=started,
        latency_ms=12.25 + number,
        raw_text='{"outcome": "FAIL", "defects": [{"class": "scratch"}]} — fin',
        prompt_tokens=300 + number,
        completion_tokens=20,
        outcome=Outcome.FAIL,
    )
    if kind == 0:
        defects = (
            Defect("scratch", Severity.MAJOR, Box(3, 4, 30, 40), 0.875, "along the edge"),
            Defect("rust", None, None, None, "not in the recipe"),
        )
        return Verdict(Outcome.FAIL, "a scratch", defects, 0.9, (first,))
    if kind == 1:
        answer = '{"outcome": "PASS", "defects": [], "confidence": 0.97}'
        passed = JudgeAttempt(**{**first.__dict__, "raw_text": answer, "outcome": Outcome.PASS})
        return Verdict(Outcome.PASS, "clean", (), 0.97, (passed,))
    failed = JudgeAttempt(
        engine="openai-compatible",
        model_id="served-model",
        model_revision=None,
        prompt_hash="e" * 64,
        started_at=started,
        latency_ms=5000.0,
        error="timeout after 5 s",
        image_left_site=True,
    )
    return Verdict(
        Outcome.UNSURE, "the model timed out; a person must look", (), None, (first, failed)
    )


def record(store: Store, version_id: int, number: int, days_ago: float = 0, lot: str = "L1"):
    captured = utc_now() - timedelta(days=days_ago)
    frame = Frame(
        _image(number),
        "cam-1",
        number,
        captured,
        time.monotonic_ns(),
        part_id=f"P-{number:04d}",
        serial=f"S{number}" if number % 2 else None,
        lot=lot,
    )
    encoded = store.evidence.encode(frame.image)
    timings = Timings(queue_ms=1, judge_ms=12.5 + number, total_ms=20.125)
    roi = Region(0, 0, 80, 60) if number % 2 else None
    return store.record_inspection(frame, version_id, verdict(number), encoded, timings, roi)


def populate(store: Store, count: int = 6, **kwargs) -> tuple[int, list[int]]:
    """The recipe version (saved by the station) and `count` inspections."""
    version_id = store.recipe_version_id(parse_recipe(RECIPE, "test"), [])
    return version_id, [record(store, version_id, n, **kwargs) for n in range(1, count + 1)]


def plain_sql(settings: Settings, *statements: str) -> None:
    """Change the database behind the application's back, as someone with a SQL client would."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        with sqlite3.connect(url.database) as connection:
            for statement in statements:
                connection.execute(statement)
        return
    import psycopg

    with psycopg.connect(
        host=url.host,
        port=url.port,
        user=url.username,
        password=url.password,
        dbname=url.database,
        options=url.query.get("options"),
    ) as connection:
        for statement in statements:
            connection.execute(statement)


def inspector(settings: Settings, *args: str, user: str | None = None, stdin: str | None = None):
    """The CLI in a process of its own, on these settings, acting as `user` when given."""
    env = {
        **os.environ,
        "INSPECTOR_DATA_DIR": str(settings.data_dir),
        "INSPECTOR_DATABASE_URL": settings.database_url,
    }
    env.pop("INSPECTOR_USER", None)
    env.pop("INSPECTOR_PASSWORD", None)
    if user is not None:
        env["INSPECTOR_USER"] = user
        env["INSPECTOR_PASSWORD"] = PASSWORDS.get(user, "")
    return subprocess.run(
        [sys.executable, "-m", "inspector", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=ROOT,
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
    )
