"""Recipe files as the editor writes them (Qt-free): a reference shown relative to its recipe's
folder, a new version written beside the old ones and put on record, never over one, and a new
recipe's template (the demo's defaults; the station's engine, or the model-free one)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from inspector.errors import InputError
from inspector.judges.defect_classes import unlisted_classes
from inspector.recipe_file import recipe_text
from inspector.recipes import NAME_PATTERN, Recipe, load_recipe, parse_recipe
from inspector.station.runner import read_image_or_explain
from inspector.store import Store
from inspector.store.audit.users import Identity, Permission

RECIPE_NAME = re.compile(NAME_PATTERN)


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
    first: bool = False,
) -> tuple[Recipe, Path]:
    """Write the recipe as the next version of its name, references copied beside it; `reason`
    (why this version) goes into the audit trail with it. `based_on`: the name of the recipe
    the form was opened from; a recipe saved under a new name starts at version 1. `source`:
    the file it was opened from, whose comments and layout the new file keeps (only the
    fields that changed are rewritten: `inspector.recipe_file`). `first`: a new recipe, never
    saved: version 1 (above any of its name on record)."""
    # Always above both the version it was based on and any recorded: an edit never reuses one.
    renamed = first or (based_on is not None and based_on != recipe.name)
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


# A new recipe starts from the demo's way of asking, for any part: the prompt, defect classes
# most parts share, no good parts yet (added from the line), the demo's pass rule.
NEW_PROMPT = (
    "The image shows one part from the production line. Compare it with the images of good "
    "parts and look for defects: cracks, missing or extra features, scratches, dents and stains. "
    "Report each defect you see with its class and where it is."
)
NEW_DEFECTS = (
    ("crack", "critical", "the part broken or split"),
    ("missing feature", "critical", "a hole, tab, label or component that should be there"),
    ("scratch", "major", "a line scored into the surface"),
    ("dent", "major", "the surface pressed in or bent"),
    ("stain", "minor", "a mark or residue on the surface"),
)
MODEL_FREE = {"engine": "reference"}  # golden-image comparison: no model, any CPU
_PART_SPECIFIC = ("references", "good", "learned")  # another part's images and learned model


def new_recipe_template(name: str, engines: list[dict] | None = None) -> Recipe:
    """A new recipe called `name`, version 1: the demo's prompt style, defect classes and pass
    rule, no good parts yet, judged by `engines` (the station's, without another part's images
    or learned model) or the model-free engine; each class an engine reports is listed."""
    chain = [
        {k: v for k, v in entry.items() if k not in _PART_SPECIFIC} for entry in engines or []
    ] or [dict(MODEL_FREE)]
    defects = [{"name": n, "severity": s, "description": d} for n, s, d in NEW_DEFECTS]
    for unlisted in unlisted_classes(chain, [d["name"] for d in defects]):
        description = f"what the {unlisted.engine} engine flags"
        defects.insert(0, {"name": unlisted.name, "severity": "major", "description": description})
    data = {
        "name": name,
        "version": 1,
        "prompt": NEW_PROMPT,
        "defects": defects,
        "references": [],
        "engines": chain,
        "pass_rule": {"fail_severities": ["major", "critical"], "min_confidence": 0.5},
    }
    return parse_recipe(data, f"new recipe {name}")


def new_recipe_problem(name: str, folder: Path, store: Store) -> str:
    """Why a new recipe may not be called `name` in `folder` ("" when it may): a name is a
    recipe's identity on record, so one already used is opened, not started again."""
    name = name.strip()
    if not name:
        return "Give the new recipe a name."
    if len(name) > 100:
        return "A recipe's name is at most 100 characters."
    if not RECIPE_NAME.fullmatch(name):
        return (
            f"{name!r}: a recipe's name is letters, digits, spaces, '.', '_' or '-', starting "
            "with a letter or a digit."
        )
    latest = store.latest_version(name)
    if latest is not None:
        return (
            f"A recipe named {name} is on record already (v{latest}): open it (Open…) to make "
            "its next version, or give the new one another name."
        )
    if any((folder / name).glob("v*.yaml")):
        return f"{folder / name} holds versions of a recipe {name} already: choose another name."
    return ""


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
