"""Connecting to the database, bringing its schema up to date, and what the Store tells of it.

Only `Store` (record_store.py) calls these with an engine; the URL helpers (`safe_url`,
`is_database_url`) take text, so the window can check a typed address without SQLAlchemy.
"""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

MIGRATIONS = Path(__file__).parent / "migrations"


def connect(url: str) -> Engine:
    """An engine for any SQLAlchemy URL; SQLite gets WAL, foreign keys and a busy timeout."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # In WAL mode NORMAL survives a crash of the process (kill -9) with every committed row;
    # only a power loss can drop the last commits, and never corrupts the file.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


# Alembic's `op` and `context` are process-wide proxies: two upgrades at once in one process
# (a window opening its store while its Doctor page checks the database) clear each other's.
_MIGRATING = threading.Lock()


def _alembic_config(engine: Engine):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine) -> set[str]:
    """Apply every migration not yet applied; returns the revisions the database is at.

    Features add their tables in migrations of their own that may branch from a common parent,
    so the database can have several heads: all of them are applied.
    """
    from alembic import command

    with _MIGRATING, engine.begin() as connection:
        config = _alembic_config(engine)
        config.attributes["connection"] = connection
        command.upgrade(config, "heads")
    return current_revisions(engine)


def current_revisions(engine: Engine) -> set[str]:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())


def migrate(url: str, revision: str = "heads") -> None:
    """Bring the database at `url` to `revision` (an older one only to test upgrades from it)."""
    from alembic import command

    engine = connect(url)
    try:
        with _MIGRATING, engine.begin() as connection:
            config = _alembic_config(engine)
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        engine.dispose()


def schema_differences(engine: Engine) -> list[str]:
    """Where the database's schema differs from the tables' definitions, one line each."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from inspector.store.tables import Base

    with engine.connect() as connection:
        return [
            str(d) for d in compare_metadata(MigrationContext.configure(connection), Base.metadata)
        ]


def sqlite_pragmas(engine: Engine) -> dict[str, object]:
    """The journal mode and foreign-key switch a SQLite connection runs with; {} elsewhere."""
    if engine.dialect.name != "sqlite":
        return {}
    with engine.connect() as connection:
        return {
            name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "foreign_keys")
        }


def table_names(engine: Engine) -> set[str]:
    from sqlalchemy import inspect

    return set(inspect(engine).get_table_names())


def is_database_url(text: str) -> bool:
    """Whether `text` parses as a database address (a SQLAlchemy URL)."""
    from sqlalchemy.exc import ArgumentError

    try:
        make_url(text)
    except ArgumentError:
        return False
    return True


def safe_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    return make_url(url).render_as_string(hide_password=True)
