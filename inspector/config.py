"""Where the station keeps its data: one place, overridable by the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "inspector"
# The station stops (FAULT) when the data directory has less free space than this, before the
# disk is full: what is left holds the journal of the parts that could not be recorded.
DEFAULT_MIN_FREE_DISK_MB = 500
# The demo shipped with the code (its recipe names the demo's model): read by the commands, the
# doctor and the window's Models page.
ASSETS = Path(__file__).resolve().parents[1] / "assets"
DEMO_RECIPE = ASSETS / "demo" / "recipe.yaml"


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    min_free_disk_mb: int = DEFAULT_MIN_FREE_DISK_MB  # 0: no check

    @property
    def evidence_dir(self) -> Path:
        return self.data_dir / "evidence"

    @property
    def journal_dir(self) -> Path:
        """Records kept while the store could not take them (store/journal.py)."""
        return self.data_dir / "journal"

    @classmethod
    def from_env(
        cls,
        data_dir: str | Path | None = None,
        database_url: str | None = None,
        min_free_disk_mb: str | int | None = None,
    ) -> Settings:
        """INSPECTOR_DATA_DIR, INSPECTOR_DATABASE_URL and INSPECTOR_MIN_FREE_DISK_MB override
        the per-user defaults."""
        if data_dir is None:
            data_dir = os.environ.get("INSPECTOR_DATA_DIR") or _user_data_dir()
        data_dir = Path(data_dir).expanduser()
        url = database_url or os.environ.get("INSPECTOR_DATABASE_URL")
        if not url:
            url = f"sqlite:///{(data_dir / 'inspector.db').as_posix()}"
        if min_free_disk_mb is None or min_free_disk_mb == "":
            min_free_disk_mb = os.environ.get("INSPECTOR_MIN_FREE_DISK_MB") or (
                DEFAULT_MIN_FREE_DISK_MB
            )
        return cls(data_dir, url, _megabytes(min_free_disk_mb))


def _megabytes(value: str | int) -> int:
    from inspector.errors import InputError

    try:
        number = int(value)
    except (TypeError, ValueError):
        number = -1
    if number < 0:
        raise InputError(
            f"min_free_disk_mb {value!r}: give a whole number of megabytes (0 turns the check off)"
        )
    return number


def _user_data_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


@dataclass(frozen=True)
class StationProfile:
    """What the window starts with, kept between sessions: camera, recipe, trigger policy.

    Stored as YAML in the user's config directory (INSPECTOR_CONFIG names another file). The
    data directory and database URL are read from the environment first, then from here.
    `station` names the station on the line (MQTT topics, verdict messages; default: the host
    name); `outputs` lists the line outputs every run publishes to (`outputs: [mqtt://...]`),
    as `--output` does; `recipes_dir` is the folder a recipe selected from the line is found
    in (`--recipes`; default: the running recipe's folder).
    """

    source: str = ""
    recipe: str = ""
    trigger: str = "auto"
    data_dir: str = ""
    database_url: str = ""
    min_free_disk_mb: str = ""  # "" : the default (DEFAULT_MIN_FREE_DISK_MB)
    station: str = ""
    outputs: tuple[str, ...] = ()
    recipes_dir: str = ""
    # An older station's yield target. The target is a site setting now (the database, audited:
    # `inspector setting set yield_target 98.5`); this one is read only while the site has none,
    # and an admin's saving the site's target in the window removes it from the file.
    yield_target: str = ""

    @staticmethod
    def path() -> Path:
        override = os.environ.get("INSPECTOR_CONFIG")
        if override:
            return Path(override).expanduser()
        import platformdirs

        return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / "station.yaml"

    @classmethod
    def load(cls) -> StationProfile:
        import yaml

        path = cls.path()
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError):
            return cls()
        if not isinstance(data, dict):
            return cls()
        known = {k: str(v) for k, v in data.items() if k in cls.__dataclass_fields__ and v}
        outputs = data.get("outputs") or ()
        if isinstance(outputs, str):
            outputs = (outputs,)
        known["outputs"] = tuple(str(url) for url in outputs if url)
        return cls(**known)

    def save(self) -> Path:
        import dataclasses

        data = dataclasses.asdict(self)
        data["outputs"] = list(self.outputs)
        return self._write(data)

    @classmethod
    def update(cls, **fields: str | None) -> Path:
        """Write `fields` into the file as it is now, keeping every other key it holds (those
        this class does not know too): a page that edits some settings never drops the rest.
        A field given as None is removed from the file."""
        import yaml

        unknown = set(fields) - set(cls.__dataclass_fields__)
        if unknown:
            raise TypeError(f"not station settings: {', '.join(sorted(unknown))}")
        try:
            data = yaml.safe_load(cls.path().read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError):
            data = {}  # no file yet, or one that load() reads as empty: nothing to keep
        if not isinstance(data, dict):
            data = {}
        removed = {k for k, v in fields.items() if v is None}
        merged = {k: v for k, v in {**data, **fields}.items() if k not in removed}
        return cls._write(merged)

    @classmethod
    def _write(cls, data: dict) -> Path:
        """The file replaced at once (never half-written)."""
        import yaml

        path = cls.path()
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
        temporary.replace(path)
        return path

    def settings(self) -> Settings:
        return Settings.from_env(
            data_dir=os.environ.get("INSPECTOR_DATA_DIR") or self.data_dir or None,
            database_url=os.environ.get("INSPECTOR_DATABASE_URL") or self.database_url or None,
            min_free_disk_mb=os.environ.get("INSPECTOR_MIN_FREE_DISK_MB") or self.min_free_disk_mb,
        )


def station_name() -> str:
    """The station's name on the line: INSPECTOR_STATION, else station.yaml's `station`, else
    the host name."""
    import socket

    return (
        os.environ.get("INSPECTOR_STATION") or StationProfile.load().station or socket.gethostname()
    )
