"""Preparing and running a station from a recipe file and a source URI, for the CLI and the window.

Preparation checks everything before anything is recorded: the recipe, its reference images,
the camera, the model. Only then is the recipe version written, so a start that fails leaves no
trace in the record. A loaded judge chain is kept and reused while the recipe file is unchanged.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inspector.cameras import Source, SourceEvent, open_source
from inspector.cameras.images import UnreadableImage, read_image
from inspector.cameras.settings import configure
from inspector.errors import InputError
from inspector.judges import JudgeChain, build_chain
from inspector.judges.judge import Progress
from inspector.recipes import Recipe, load_recipe
from inspector.station.pipeline import Listener, Station, StationStopped, TriggerPolicy
from inspector.store import Store


def read_image_or_explain(path: Path, what: str) -> np.ndarray:
    try:
        return read_image(path)
    except UnreadableImage as exc:
        raise InputError(f"{what} {path}: {exc}") from None


@dataclass
class PreparedJudge:
    recipe_path: Path
    recipe: Recipe
    chain: JudgeChain
    references: list[np.ndarray]
    stamp: tuple[float, int]  # the recipe file's mtime and size when read


def prepare_judge(recipe_path: str | Path) -> PreparedJudge:
    """Recipe, judge chain and reference images; the model is not loaded yet."""
    path = Path(recipe_path)
    recipe = load_recipe(path)
    chain = build_chain(recipe, str(path))
    references = [read_image_or_explain(p, f"recipe {path}: reference") for p in recipe.references]
    chain.set_references(references)
    stat = path.stat()
    return PreparedJudge(path, recipe, chain, references, (stat.st_mtime, stat.st_size))


class StationRunner:
    """One station at a time over one store; start, stop, switch recipe or camera."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.station: Station | None = None
        self.prepared: PreparedJudge | None = None
        self._lock = threading.Lock()

    def load(self, recipe_path: str | Path, progress: Progress | None = None) -> PreparedJudge:
        """Prepare and load the recipe's models, reusing them if the file has not changed."""
        path = Path(recipe_path)
        current = self.prepared
        if current is not None and current.recipe_path == path:
            stat = path.stat()
            if current.stamp == (stat.st_mtime, stat.st_size):
                return current
        prepared = prepare_judge(path)
        prepared.chain.load(progress)
        self.prepared = prepared
        return prepared

    def start(
        self,
        recipe_path: str | Path,
        source_uri: str,
        listener: Listener,
        trigger: str = "auto",
        progress: Progress | None = None,
    ) -> Station:
        with self._lock:
            if self.station is not None:
                raise InputError("the station is already running; stop it first")
            early: list[SourceEvent] = []
            forward: list[Callable[[SourceEvent], None]] = [early.append]
            source: Source = open_source(source_uri, on_event=lambda event: forward[0](event))
            try:
                prepared = self.load(recipe_path, progress)
                # The recipe's camera settings, before the first frame; one not taken stops here.
                source = configure(source, prepared.recipe.camera, lambda e: forward[0](e))
                # Recorded only once everything is ready: a start that fails writes nothing.
                version_id = self.store.recipe_version_id(prepared.recipe, prepared.references)
            except BaseException:
                source.close()
                raise
            if trigger == "auto":
                # A camera that takes a picture per trigger gives parts, not a stream.
                streams = source.live and not getattr(source, "triggered", False)
                policy = TriggerPolicy.FREE_RUN if streams else TriggerPolicy.TRIGGERED
            else:
                policy = TriggerPolicy(trigger)
            station = Station(
                source, prepared.chain, prepared.recipe, version_id, self.store, policy
            )
            station.subscribe(listener)
            station.subscribe(lambda event: self._forget(station, event))
            for event in early:
                listener(event)
            forward[0] = station.on_source_event
            station.start()
            self.station = station
            return station

    def _forget(self, station: Station, event) -> None:
        """A station that stopped on its own (the file ended) frees the runner."""
        if isinstance(event, StationStopped):
            with self._lock:
                if self.station is station:
                    self.station = None

    def stop(self, wait: bool = True) -> None:
        """Stop the station; with `wait`, return once its last part is recorded."""
        with self._lock:
            station = self.station
        if station is None:
            return
        station.stop()
        if wait:
            station.wait()
            with self._lock:
                if self.station is station:
                    self.station = None
