"""Recipe files as the editor writes them (Qt-free): a reference shown relative to its recipe's
folder, and a new version written beside the old ones and put on record, never over one."""

from __future__ import annotations

import hashlib
from pathlib import Path

from inspector.errors import InputError
from inspector.recipe_file import recipe_text
from inspector.recipes import Recipe, load_recipe
from inspector.station.runner import read_image_or_explain
from inspector.store import Store
from inspector.store.audit.users import Identity, Permission


def shown_path(path: str | Path, recipe_dir: Path | None) -> str:
    """A reference as the form shows it: relative to the recipe's folder where it lies under
    it (as a recipe file writes it), else absolute. The recipe is parsed with that folder as
    its base, so each path is resolved exactly once (Qt-free, tested on its own)."""
    absolute = Path(path).resolve()
    if recipe_dir is not None:
        try:
            return absolute.relative_to(recipe_dir.resolve()).as_posix()
        except ValueError:
            pass
    return str(absolute)


def save_new_version(
    recipe: Recipe,
    recipes_dir: Path,
    store: Store,
    actor: Identity | None = None,
    reason: str = "",
    based_on: str | None = None,
    source: Path | None = None,
) -> tuple[Recipe, Path]:
    """Write the recipe as the next version of its name, references copied beside it; `reason`
    (why this version) goes into the audit trail with it. `based_on`: the name of the recipe
    the form was opened from; a recipe saved under a new name starts at version 1. `source`:
    the file it was opened from, whose comments and layout the new file keeps (only the
    fields that changed are rewritten: `inspector.recipe_file`)."""
    # Always above both the version it was based on and any recorded: an edit never reuses one.
    renamed = based_on is not None and based_on != recipe.name
    version = max(store.latest_version(recipe.name) or 0, 0 if renamed else recipe.version) + 1
    folder = recipes_dir / recipe.name
    references_dir = folder / "references"
    references_dir.mkdir(parents=True, exist_ok=True)
    copied = [
        Path("references") / _copy_keeping_name(Path(path), references_dir)
        for path in recipe.references
    ]
    saved = recipe.model_copy(update={"version": version, "references": tuple(copied)})
    target = folder / f"v{version}.yaml"
    if target.exists():
        raise InputError(f"recipe {target}: this version already exists; it is never overwritten")
    (actor or store.actor).require(Permission.SAVE_RECIPE)  # before anything is written
    target.write_text(recipe_text(saved, target, source), encoding="utf-8")
    try:
        recorded = load_recipe(target)  # what the station will read, references resolved
        images = [read_image_or_explain(p, "reference") for p in recorded.references]
        store.recipe_version_id(recorded, images, actor=actor, reason=reason)
    except BaseException:
        target.unlink(missing_ok=True)  # no file for a version the record does not have
        raise
    return recorded, target


def _copy_keeping_name(source: Path, folder: Path) -> str:
    """Copy a good part's image into the recipe's references folder under its own name (the
    name the engineer knows it by); where another image already has that name, the content's
    hash is added to it. An image already there with the same bytes is not copied again."""
    data = source.read_bytes()
    target = folder / source.name
    if target.exists() and target.read_bytes() != data:
        digest = hashlib.sha256(data).hexdigest()[:8]
        target = folder / f"{source.stem}-{digest}{source.suffix}"
    if not target.exists():
        target.write_bytes(data)
    return target.name
