"""A recipe's next version with the threshold an evaluation chose (`inspector eval --target-miss
--write-version`, and the window's Evaluation tab): the same file beside the old one, on record
with the evaluation run as its justification.

The scoring engines (`reference`, `texture`, alone or as a screen) get the threshold; a
`texture` engine is pinned to the learned model that was evaluated (`learned:`), so the new
version judges with exactly that model. The run's id is written at the top of the file and as
the reason of the recipe's entry in the audit trail; the rest of the file is the old one, its
comments and layout kept (`inspector.recipe_file`). Versions are never overwritten: a file of
that name already there, or a version number already on record with other content, is refused.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from inspector.errors import InputError
from inspector.recipe_file import recipe_text
from inspector.recipes import Recipe, load_recipe, parse_recipe
from inspector.station.runner import read_image_or_explain
from inspector.store import Store
from inspector.store.audit.users import Identity

SCORING = ("reference", "texture")


def justification(point: dict) -> str:
    """Why this version: the threshold, the run that chose it, and the target it meets."""
    return (
        f"threshold {point['threshold']:.6g} chosen by evaluation run {point['run']} for a miss "
        f"rate of at most {point['target_miss']:.2%} (measured {point['misses']}/"
        f"{point['defects']} missed, overkill {point['overkill']:.2%})"
    )


def write_version(
    store: Store,
    recipe_path: str | Path,
    point: dict,
    data_dir: Path,
    actor: Identity | None = None,
) -> Path:
    """Write and record the next version of the recipe at `recipe_path` with the threshold of
    `point` (`target.target_threshold`, with the run's id under "run"); returns its file."""
    source = Path(recipe_path)
    recipe = load_recipe(source)
    engines = []
    for entry in recipe.engines:
        entry = dict(entry)
        if entry.get("engine") in SCORING:
            entry["threshold"] = float(f"{point['threshold']:.6g}")
            if entry["engine"] == "texture" and not entry.get("learned"):
                entry["learned"] = str(_learned_for(recipe, data_dir))  # the model evaluated
        engines.append(entry)
    if engines == list(recipe.engines):
        raise InputError(f"recipe {source}: no `reference` or `texture` engine to set a threshold")
    version = max(store.latest_version(recipe.name) or 0, recipe.version) + 1
    data = recipe.model_copy(update={"version": version, "engines": tuple(engines)})
    target = version_file(source, version)
    if target.exists():
        raise InputError(f"recipe {target}: exists already; versions are never overwritten")
    new = parse_recipe(_yaml_data(data), str(target))
    references = [read_image_or_explain(p, f"recipe {target}: reference") for p in new.references]
    reason = justification(point)
    # The file it was made from, comments and layout kept, only the changed fields rewritten.
    text = recipe_text(new, target, source)
    target.write_text(f"# version {version}: {reason}\n" + text, encoding="utf-8")
    try:
        store.recipe_version_id(new, references, actor=actor, reason=reason)
    except BaseException:
        target.unlink(missing_ok=True)  # no file for a version the record does not have
        raise
    return target


def version_file(source: Path, version: int) -> Path:
    """Where version `version` of the recipe at `source` is written: beside it, named as its
    versions are (`v3.yaml` after `v2.yaml`, as the window's recipes folder names them, else
    `part-v3.yaml` after `part.yaml` or `part-v2.yaml`)."""
    if re.fullmatch(r"v\d+", source.stem):
        return source.with_name(f"v{version}.yaml")
    stem = re.sub(r"-v\d+$", "", source.stem)
    return source.with_name(f"{stem}-v{version}.yaml")


def _yaml_data(recipe: Recipe) -> dict:
    return yaml.safe_load(recipe.to_yaml())


def _learned_for(recipe: Recipe, data_dir: Path) -> Path:
    from inspector.judges.engines.texture import find_learned

    folder = data_dir / "learned"
    found = find_learned(recipe, folder)
    if found is None:
        raise InputError(
            f"recipe {recipe.name} v{recipe.version}: no learned model in {folder}; run "
            "`inspector learn RECIPE.yaml` first"
        )
    return found.resolve()
