"""Where the station keeps its data: one place, overridable by the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "inspector"


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str

    @property
    def evidence_dir(self) -> Path:
        return self.data_dir / "evidence"

    @classmethod
    def from_env(
        cls, data_dir: str | Path | None = None, database_url: str | None = None
    ) -> Settings:
        """INSPECTOR_DATA_DIR and INSPECTOR_DATABASE_URL override the per-user defaults."""
        if data_dir is None:
            data_dir = os.environ.get("INSPECTOR_DATA_DIR") or _user_data_dir()
        data_dir = Path(data_dir).expanduser()
        url = database_url or os.environ.get("INSPECTOR_DATABASE_URL")
        if not url:
            url = f"sqlite:///{(data_dir / 'inspector.db').as_posix()}"
        return cls(data_dir=data_dir, database_url=url)


def _user_data_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
