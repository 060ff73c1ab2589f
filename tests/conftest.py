"""Fixtures every test shares: the shipped test data, settings on a blank SQLite file and a
fresh PostgreSQL schema, tiny real models, and an environment without the user's INSPECTOR_*
variables (INSPECTOR_TEST_POSTGRES, which names the test database, is read once at import).
Helpers a test imports live in tests/support/, never in a test file.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from inspector.config import Settings
from tests.support.paths import ROOT, TEST_DATA  # noqa: F401 - ROOT: for older imports
from tests.support.recipes import recipe_file  # noqa: F401 - for older imports

POSTGRES_URL = os.environ.get(
    "INSPECTOR_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(autouse=True)
def _no_inspector_environment(monkeypatch) -> None:
    """Tests never inherit the user's INSPECTOR_* variables (a developer's
    INSPECTOR_DATABASE_URL would send a test's records to their database); a test that wants
    one sets it itself. The CLI runner (tests/support/command_line.py) builds its children's
    environment without them too."""
    for name in [n for n in os.environ if n.startswith("INSPECTOR_")]:
        monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def test_data() -> Path:
    return TEST_DATA


def _postgres_schema_url() -> tuple[str, str]:
    """A fresh schema on the local PostgreSQL, or skip saying why."""
    psycopg = pytest.importorskip("psycopg")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    plain = POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://")
    try:
        with psycopg.connect(plain, connect_timeout=3, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}: {exc}".splitlines()[0])
    return f"{POSTGRES_URL}?options=-csearch_path%3D{schema}", schema


def _drop_schema(schema: str) -> None:
    import psycopg

    plain = POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=["sqlite", "postgresql"])
def settings(request, tmp_path) -> Settings:
    """Settings on a blank database: a SQLite file, and a fresh PostgreSQL schema."""
    data_dir = tmp_path / "data"
    if request.param == "sqlite":
        yield Settings.from_env(data_dir=data_dir, database_url=None)
        return
    url, schema = _postgres_schema_url()
    yield Settings(data_dir=data_dir, database_url=url)
    _drop_schema(schema)


@pytest.fixture
def sqlite_settings(tmp_path) -> Settings:
    return Settings.from_env(data_dir=tmp_path / "data", database_url=None)


# Tiny models answer in milliseconds on one thread; more threads only fight on a 2-core runner.
os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory) -> dict[str, Path]:
    """Tiny random-weight checkpoints of each real architecture, built once per session."""
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from tests.support.tiny_models import FAMILIES, build_tiny_model

    root = tmp_path_factory.mktemp("tiny-models")
    return {family: build_tiny_model(family, root / family) for family in FAMILIES}
