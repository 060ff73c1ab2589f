"""Recipe versions put on record, and signed approvals of them; both audited."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, select

from inspector.errors import InputError
from inspector.store.audit import digests, signatures, site_settings
from inspector.store.audit import trail as audit
from inspector.store.audit.signatures import Signature
from inspector.store.audit.users import (
    Identity,
    Permission,
    PermissionDenied,
    Role,
    acting,
    check_signer,
)
from inspector.store.tables import RecipeVersionRow

_versions = RecipeVersionRow.__table__


@dataclass(frozen=True)
class RecipeVersionInfo:
    id: int
    name: str
    version: int
    sha256: str
    created_at: datetime
    signatures: tuple[Signature, ...]

    @property
    def status(self) -> str:
        """The meaning of the latest approval signature, or "not approved"."""
        decisive = [s for s in self.signatures if s.meaning != signatures.Meaning.REVIEWED]
        return decisive[-1].meaning if decisive else "not approved"


def save_recipe_version(
    engine: Engine, actor: Identity, row: Mapping[str, Any], reason: str = ""
) -> int:
    """Put a recipe version on record (the row as Store.recipe_version_id builds it), with the
    reason a person gave for it in the audit entry."""
    actor.require(Permission.SAVE_RECIPE)
    with audit.audited(engine) as connection:
        existing = connection.execute(
            select(_versions.c.id).where(_versions.c.sha256 == row["sha256"])
        ).scalar()
        if existing is not None:  # another station put the same version on record meanwhile
            return existing
        by = acting(connection, actor, Permission.SAVE_RECIPE)
        if by.role is Role.SERVICE and not site_settings.load(connection).station_saves_recipes:
            raise PermissionDenied(
                f"recipe {row['name']!r} version {row['version']} is not on record and this site "
                "lets only engineers save recipes: `inspector recipe save RECIPE.yaml` first"
            )
        version_id = connection.execute(
            insert(_versions).returning(_versions.c.id), dict(row)
        ).scalar_one()
        new = {
            "v": digests.VERSION,
            "name": row["name"],
            "version": row["version"],
            "recipe_sha256": row["sha256"],
            "sha256": digests.recipe_version({**row, "id": version_id}),
        }
        audit.append(
            connection,
            by.name,
            "recipe.saved",
            "recipe_version",
            version_id,
            new=new,
            reason=reason,
        )
        return version_id


def _version_row(connection: Connection, name: str, version: int) -> dict:
    row = (
        connection.execute(
            select(_versions).where(_versions.c.name == name, _versions.c.version == version)
        )
        .mappings()
        .first()
    )
    if row is None:
        raise InputError(
            f"recipe {name!r} version {version}: not on record (see `inspector recipe list`)"
        )
    return dict(row)


def approve_recipe(
    engine: Engine,
    actor: Identity,
    password: str,
    name: str,
    version: int,
    meaning: str,
    reason: str = "",
) -> int:
    """Sign a recipe version (approved / rejected / reviewed); returns the signature's id."""
    meaning_ = signatures.meaning(meaning)
    actor.require(Permission.APPROVE_RECIPE)
    check_signer(engine, actor, password)
    with audit.audited(engine) as connection:
        signer = acting(connection, actor, Permission.APPROVE_RECIPE)
        row = _version_row(connection, name, version)
        statement = (
            f"{signer.full_name} ({signer.name}) {meaning_.value} recipe {name!r} version "
            f"{version} (sha256 {row['sha256']})" + (f". Reason: {reason}" if reason else "")
        )
        signature_id, signature_sha = signatures.sign(
            connection, signer, meaning_, "recipe_version", row["id"], statement
        )
        new = {
            "v": digests.VERSION,
            "name": name,
            "version": version,
            "recipe_sha256": row["sha256"],
            "meaning": meaning_.value,
            "sha256": digests.recipe_version(row),
            "signature_sha256": signature_sha,
        }
        audit.append(
            connection,
            signer.name,
            f"recipe.{meaning_.value}",
            "recipe_version",
            row["id"],
            new=new,
            reason=reason,
            signature_id=signature_id,
        )
    return signature_id


def list_versions(engine: Engine, name: str | None = None) -> list[RecipeVersionInfo]:
    query = select(_versions).order_by(_versions.c.name, _versions.c.version)
    if name is not None:
        query = query.where(_versions.c.name == name)
    with engine.connect() as connection:
        rows = connection.execute(query).mappings().all()
    infos = []
    for r in rows:
        signed = signatures.of_subject(engine, "recipe_version", r["id"])
        infos.append(
            RecipeVersionInfo(
                r["id"], r["name"], r["version"], r["sha256"], r["created_at"], tuple(signed)
            )
        )
    return infos
