"""A recipe as edited, tried on one image with the models the station already holds.

An engine the station has loaded with the same settings is shared (`Judge.for_recipe`: the same
weights, judging under the edited prompt, defects and pass rule), so a try never puts a second
copy of a model in memory beside the station's. Only an engine nobody holds is loaded here, and
the progress says so, naming it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from inspector.judges import JudgeChain, make_judge
from inspector.judges.judge import EngineSettings, Judge, Progress
from inspector.recipes import Recipe
from inspector.station.runner import read_image_or_explain

LoadedJudge = Callable[[EngineSettings], Judge | None]


@dataclass(frozen=True)
class TrialChain:
    chain: JudgeChain
    shared: tuple[str, ...]  # "engine model" of each engine taken from the station
    loaded: tuple[str, ...]  # ... and of each loaded for this try


def trial_chain(
    recipe: Recipe,
    source: str,
    loaded_judge: LoadedJudge | None = None,
    progress: Progress | None = None,
) -> TrialChain:
    """The recipe's chain, ready to judge; `loaded_judge` gives the station's loaded judge with
    given settings (None: none). `source` names the recipe in messages."""
    judges, shared, loaded = [], [], []
    references = [
        read_image_or_explain(p, f"recipe {source}: reference") for p in recipe.references
    ]
    for i, entry in enumerate(recipe.engines):
        fresh = make_judge(entry, recipe, f"recipe {source}: engines.{i}")
        running = loaded_judge(fresh.settings) if loaded_judge is not None else None
        name = f"{fresh.engine} {fresh.model_id}"
        twin = running.for_recipe(recipe) if type(running) is type(fresh) else None
        if twin is not None:
            judge = twin
            judge.set_references(references)
            shared.append(name)
            if progress:
                progress(f"{name}: the station's loaded model, shared")
        else:
            judge = fresh
            judge.set_references(references)
            if progress:
                progress(f"{name}: not loaded in the station; loading it for this try…")
            JudgeChain([judge], recipe.chain).load(progress)  # privacy refusals as the chain's
            loaded.append(name)
        judges.append(judge)
    return TrialChain(JudgeChain(judges, recipe.chain), tuple(shared), tuple(loaded))
