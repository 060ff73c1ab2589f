"""The local models recipes name: which the station lacks, and which recipes use each one.

Read from the recipe files as YAML (not validated: a recipe that does not load yet still names
its model), so `inspector doctor`, the demo's first start and the window's Models page agree on
what a recipe needs. Only the in-process engines (transformers, ovis2) load a model from this
station's disk; a server or cloud engine names a model the station never holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from inspector.config import DEMO_RECIPE, Settings, StationProfile

LOCAL_ENGINES = ("transformers", "ovis2")


@dataclass(frozen=True)
class NamedModel:
    model: str  # an id in the store, a hub id, or a folder
    revision: str | None


def local_models(recipe: Path | str) -> list[NamedModel]:
    """The models the recipe's in-process engines load, in its order; raises OSError or
    yaml.YAMLError for a file that cannot be read."""
    import yaml

    with open(recipe, encoding="utf-8") as handle:
        body = yaml.safe_load(handle) or {}
    engines = body.get("engines") if isinstance(body, dict) else None
    return [
        NamedModel(str(e["model"]), e.get("revision"))
        for e in engines or []
        if isinstance(e, dict) and e.get("engine") in LOCAL_ENGINES and e.get("model")
    ]


def missing_local_models(recipe: Path | str) -> list[str]:
    """The models the recipe loads that are not on this station (store, folder or hub cache)."""
    from inspector.judges.local_model import installed

    return [m.model for m in local_models(recipe) if not installed(m.model, m.revision)]


def recipe_files(settings: Settings, profile: StationProfile) -> list[Path]:
    """The recipes this station knows: its recipe, its recipes folder (station.yaml's
    `recipes_dir`, and `<data>/recipes` where the window saves them), and the demo's."""
    found: list[Path] = []
    if profile.recipe:
        found.append(Path(profile.recipe).expanduser())
    for folder in (profile.recipes_dir, settings.data_dir / "recipes"):
        if folder and Path(folder).expanduser().is_dir():
            found += sorted(Path(folder).expanduser().glob("*.y*ml"))
    found.append(DEMO_RECIPE)
    unique: dict[Path, None] = {}
    for path in found:
        unique.setdefault(path.resolve(), None)
    return list(unique)


def recipes_using(recipes: list[Path]) -> dict[str, list[Path]]:
    """Per model id, the recipes whose local engines load it; a recipe that cannot be read is
    left out (the recipe editor and `inspector doctor` say what is wrong with it)."""
    import yaml

    using: dict[str, list[Path]] = {}
    for recipe in recipes:
        try:
            named = local_models(recipe)
        except (OSError, yaml.YAMLError):
            continue
        for model in dict.fromkeys(m.model for m in named):
            using.setdefault(model, []).append(recipe)
    return using
