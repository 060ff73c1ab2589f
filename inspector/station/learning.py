"""Learning a recipe's learning engines (`texture`) from its good images: the one routine behind
`inspector learn RECIPE` and the recipe editor's Learn button.

Each learner's good images (the engine's `good:`, else the recipe's references), cut to the
recipe's ROI, are learnt and written as a versioned artefact `<folder>/<recipe>-v<version>-
<sha12>.npz`, where the station finds it for that recipe version at load; its SHA-256 is the
model revision on every attempt the engine judges. Nothing is written for a learning that fails
or is stopped: `progress` may raise (a Cancel) and the artefact is written only after it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from inspector.config import Settings
from inspector.errors import InputError
from inspector.judges.prompt import crop_to
from inspector.station.runner import prepare_judge

Step = Callable[[int, int, str], None]  # done, total, what: may raise to stop the learning


@dataclass(frozen=True)
class LearnedModel:
    recipe: str
    version: int
    path: Path
    sha256: str
    images: int
    patches: int  # good patches kept in memory
    seconds: float

    def describe(self) -> str:
        return (
            f"learned {self.recipe} v{self.version} from {self.images} good images in "
            f"{self.seconds:.1f} s: {self.path} ({self.path.stat().st_size / 1e6:.2f} MB, "
            f"{self.patches} good patches)"
        )


def learned_folder() -> Path:
    """Where the station's texture engine looks for artefacts: `<data>/learned`."""
    return Settings.from_env().data_dir / "learned"


def learns(engines: list[dict] | tuple[dict, ...]) -> bool:
    """Whether a chain of these engine entries has an engine that learns."""
    return any(entry.get("engine") == "texture" for entry in engines)


def learn_recipe(
    recipe_path: str | Path, folder: Path | None = None, progress: Step | None = None
) -> list[LearnedModel]:
    """Learn every `texture` engine of the recipe file; the artefacts written, in chain order."""
    from inspector.judges.engines import texture  # numpy-only, but only when learning

    prepared = prepare_judge(recipe_path)
    learners = [j for j in prepared.chain.judges if isinstance(j, texture.TextureJudge)]
    if not learners:
        raise InputError(
            f"recipe {recipe_path}: no engine learns (add `- engine: texture` to its `engines:`)"
        )
    recipe = prepared.recipe
    roi = recipe.roi.as_region() if recipe.roi else None
    folder = folder or learned_folder()
    done = []
    for judge in learners:
        images = [crop_to(image, roi)[0] for image in judge.good_images()]
        started = time.perf_counter()
        learned = texture.learn(
            images,
            judge.settings,
            meta={"recipe": recipe.name, "version": recipe.version},
            progress=progress,
        )
        path, sha256 = texture.save(learned, folder, recipe)
        done.append(
            LearnedModel(
                recipe.name,
                recipe.version,
                path,
                sha256,
                len(images),
                int(learned.meta["memory"]),
                time.perf_counter() - started,
            )
        )
    return done


def loads_for(recipe_path: str | Path, folder: Path | None = None) -> Path | None:
    """The artefact the station would load for this recipe file's version (the newest)."""
    from inspector.judges.engines import texture
    from inspector.recipes import load_recipe

    return texture.find_learned(load_recipe(recipe_path), folder or learned_folder())
