"""Site settings kept in the database, so every station sees the same; changes are audited."""

from __future__ import annotations

import json

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import Connection, Engine, insert, select, update

from inspector.domain import utc_now
from inspector.errors import InputError
from inspector.store.audit import digests
from inspector.store.audit import trail as audit
from inspector.store.audit.audit_tables import SiteSettingRow
from inspector.store.audit.users import Identity, Permission, acting

_settings = SiteSettingRow.__table__


class SiteSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # How long inspection records are kept; `inspector purge` with no --older-than uses it.
    # None: forever (nothing is purged unless asked for).
    retention_days: int | None = Field(default=None, ge=1)
    # Whether a station's service account may put a recipe version on record by running it.
    # False: only versions an engineer saved (`inspector recipe save`) can run.
    station_saves_recipes: bool = True
    # Wrong passwords in a row (logins, signatures, password changes) that lock an account,
    # and for how long; an admin lifts a lock sooner with `inspector user unlock`. Five and a
    # quarter of an hour: few enough to stop guessing, and a person who mistypes at the line
    # waits at most a break.
    lockout_attempts: int = Field(default=5, ge=1, le=100)
    lockout_minutes: int = Field(default=15, ge=1, le=24 * 60)
    # The share of parts the line should PASS, in percent (above 0, at most 100): a line on the
    # Statistics page, and the Station's Yield counter turns red below it. A site setting, so
    # every station and report measures against the same target. None: no target.
    yield_target: float | None = Field(default=None, gt=0, le=100)

    @field_validator("yield_target", mode="before")
    @classmethod
    def _percent(cls, value: object) -> object:
        """ "98.5 %" as typed reads as 98.5; anything else is checked as a number."""
        if isinstance(value, bool):  # `true` is no percentage (pydantic would read it as 1)
            value = str(value)
        if isinstance(value, str):
            value = value.strip().removesuffix("%").strip()
            if not value:
                return None
            try:
                return float(value)
            except ValueError:
                raise ValueError(
                    "give a percentage above 0 and at most 100, for example 98.5 (or none)"
                ) from None
        return value


def load(bind: Engine | Connection) -> SiteSettings:
    query = select(_settings.c.key, _settings.c.value)
    if isinstance(bind, Engine):
        with bind.connect() as connection:
            rows = connection.execute(query).all()
    else:
        rows = bind.execute(query).all()
    known = SiteSettings.model_fields
    return SiteSettings(**{k: json.loads(v) for k, v in rows if k in known})


def _parse(text: str) -> object:
    if text.strip().lower() in ("none", "null", ""):
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def set_setting(
    engine: Engine, actor: Identity, key: str, value: str, reason: str = ""
) -> tuple[object, object]:
    """Change one setting; returns (old value, new value)."""
    if key not in SiteSettings.model_fields:
        known = ", ".join(SiteSettings.model_fields)
        raise InputError(f"setting {key!r}: no such setting; the settings are {known}")
    actor.require(Permission.CHANGE_SETTINGS)
    with audit.audited(engine) as connection:
        by = acting(connection, actor, Permission.CHANGE_SETTINGS)
        current = load(connection)
        try:
            changed = SiteSettings(**{**current.model_dump(), key: _parse(value)})
        except ValidationError as exc:
            problem = exc.errors()[0]["msg"]
            raise InputError(f"setting {key} = {value!r}: {problem}") from None
        old, new = getattr(current, key), getattr(changed, key)
        row = {
            "key": key,
            "value": json.dumps(new),
            "changed_at": utc_now(),
            "changed_by": by.name,
        }
        exists = connection.execute(select(_settings.c.key).where(_settings.c.key == key)).first()
        if exists:
            connection.execute(update(_settings).where(_settings.c.key == key).values(**row))
        else:
            connection.execute(insert(_settings), row)
        audit.append(
            connection,
            by.name,
            "setting.changed",
            "setting",
            key,
            old={"value": old},
            new={"value": new, "sha256": digests.setting(row)},
            reason=reason,
        )
    return old, new
