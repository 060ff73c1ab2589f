"""Preparing and running a station from views (a name, a source URI, a recipe file each), for
the CLI and the window; a single camera is one view.

Preparation checks everything before anything is recorded: every view's recipe, its reference
images, its camera, its model. Only then are the recipe versions written, so a start that fails
leaves no trace in the record. Before anything else, records kept in the journal while the store
failed (a FAULT) are written to the store, and the start says so; if they still cannot be
written, the station does not start. A loaded judge chain is kept and reused while its recipe
file is unchanged (views that share a recipe file share its chain: the judge thread runs one at
a time).

A running station switches recipe by name (`select_recipe`, for the line's commands: MQTT,
OPC UA): the name resolves to a YAML file in the recipes folder (`recipes_dir`: station.yaml,
`--recipes DIR`; default: the folder of the recipe running); the recipe, its references and its
judge chain are loaded first, on the caller's thread, never the judge's; its version is
recorded (`Store.recipe_version_id`); only then does the station swap it in, between parts.
A recipe that cannot be found or loaded is refused with the reason, and the station keeps the
recipe it has.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inspector.cameras import Source, SourceEvent, open_source
from inspector.cameras.images import UnreadableImage, read_image
from inspector.cameras.settings import configure
from inspector.errors import InputError, InspectorError
from inspector.judges import JudgeChain, build_chain
from inspector.judges.defect_classes import recipe_warnings
from inspector.judges.judge import EngineSettings, Judge, Progress
from inspector.recipes import Recipe, check_roi_fits, load_recipe
from inspector.station.events import Listener, StationStopped, TriggerPolicy
from inspector.station.inspection import SINGLE_VIEW, View
from inspector.station.line import LineOutputs, LineTriggered, is_plc_output
from inspector.station.pipeline import Station
from inspector.station.publishing import Publishing
from inspector.store import Store

log = logging.getLogger(__name__)


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
    for warning in recipe_warnings(recipe):  # it judges, but not as meant: said at each load
        log.warning("recipe %s: %s", path, warning)
    references = [read_image_or_explain(p, f"recipe {path}: reference") for p in recipe.references]
    for reference_path, image in zip(recipe.references, references, strict=True):
        height, width = image.shape[:2]
        check_roi_fits(recipe, width, height, str(path), f"reference {reference_path}")
    chain.set_references(references)
    stat = path.stat()
    return PreparedJudge(path, recipe, chain, references, (stat.st_mtime, stat.st_size))


@dataclass(frozen=True)
class ViewPlan:
    """A view as the user names it: which camera, judged by which recipe."""

    name: str
    source: str
    recipe: str | Path


def choose_policy(views: Sequence[View], trigger: str = "auto") -> TriggerPolicy:
    """`auto`: free-run where any camera streams, else triggered (files, folders, and cameras
    that take a picture per trigger give parts, not a stream). `plc`: the line's PLC triggers
    each part (station/line.py), which is triggered."""
    if trigger == "plc":
        return TriggerPolicy.TRIGGERED
    if trigger != "auto":
        return TriggerPolicy(trigger)
    streams = any(v.source.live and not getattr(v.source, "triggered", False) for v in views)
    return TriggerPolicy.FREE_RUN if streams else TriggerPolicy.TRIGGERED


RECIPE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


def find_recipe(folder: Path, name: str) -> Path:
    """The recipe file a name selects in `folder`: NAME.yaml (or .yml), else the file whose
    recipe is named NAME. A name is a plain file name (no folders), so a command from the line
    reads nothing outside the recipes folder."""
    if not RECIPE_NAME.fullmatch(name or ""):
        raise InputError(
            f"recipe name {name!r}: use letters, digits, '.', '_' or '-' (a file in {folder})"
        )
    for suffix in (".yaml", ".yml"):
        path = folder / f"{name}{suffix}"
        if path.is_file():
            return path
    import yaml

    found = sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]) if folder.is_dir() else []
    for path in found:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue
        if isinstance(data, dict) and data.get("name") == name:
            return path
    names = ", ".join(p.stem for p in found) or "none"
    raise InputError(f"no recipe {name!r} in {folder} (the recipes there: {names})")


class StationRunner:
    """One station at a time over one store; start, stop, switch recipe or cameras."""

    def __init__(
        self,
        store: Store,
        recipes_dir: str | Path | None = None,
        line_selects_recipes: bool = False,
    ) -> None:
        """`line_selects_recipes`: the line's commands (MQTT `recipe`, OPC UA SelectRecipe) may
        switch the running recipe (the headless station, and the window, which follows each
        switch through the station's `RecipeSwapped`); off, they are refused."""
        self.store = store
        self.recipes_dir = Path(recipes_dir).expanduser() if recipes_dir else None
        self.line_selects_recipes = line_selects_recipes
        self.station: Station | None = None
        self.line_outputs: LineOutputs | None = None
        self._prepared: dict[Path, PreparedJudge] = {}
        self._recipe_paths: dict[str, Path] = {}  # the running recipe file of each view
        self._lock = threading.Lock()
        self._selecting = threading.Lock()

    def load(self, recipe_path: str | Path, progress: Progress | None = None) -> PreparedJudge:
        """Prepare and load the recipe's models, reusing them if the file has not changed."""
        path = Path(recipe_path)
        current = self._prepared.get(path)
        if current is not None:
            stat = path.stat()
            if current.stamp == (stat.st_mtime, stat.st_size):
                return current
        prepared = prepare_judge(path)
        prepared.chain.load(progress)
        self._prepared[path] = prepared
        return prepared

    def start(
        self,
        recipe_path: str | Path,
        source_uri: str,
        listener: Listener,
        trigger: str = "auto",
        progress: Progress | None = None,
        outputs: Sequence[str] = (),
    ) -> Station:
        """A single-camera station."""
        plan = ViewPlan(SINGLE_VIEW, source_uri, recipe_path)
        return self.start_views([plan], listener, trigger, progress, outputs=outputs)

    def start_views(
        self,
        plans: Sequence[ViewPlan],
        listener: Listener,
        trigger: str = "auto",
        progress: Progress | None = None,
        sync_window_s: float = 0.5,
        outputs: Sequence[str] = (),
    ) -> Station:
        """A station over these views; nothing is recorded unless every view is ready.

        `outputs`: line output URLs, checked before anything else: publishers (mqtt://,
        http(s)://) are fed from the outbox, started with the station and closed once it has
        stopped; PLC servers (opcua://, modbus://) serve the handshake (station/line.py), and
        with `trigger` "plc" the PLC triggers the parts."""
        with self._lock:
            if self.station is not None:
                raise InputError("the station is already running; stop it first")
            line_outputs = _line_outputs(self.store, outputs, trigger, len(plans))
            self.replay_journal(progress)
            early: list[SourceEvent] = []
            forward: list[Callable[[SourceEvent], None]] = [early.append]

            def on_event(event: SourceEvent) -> None:
                forward[0](event)

            several = len(plans) > 1
            sources: list[Source] = []
            publishers = [url for url in outputs if not is_plc_output(url)]
            servers = line_outputs.servers if line_outputs is not None else []
            publishing = (
                Publishing.open(self.store, publishers, servers=servers)
                if publishers or servers
                else None
            )
            try:
                prepared = []
                for plan in plans:
                    sources.append(open_source(plan.source, on_event=on_event))
                    said = _named(progress, plan.name) if several else progress
                    judge = self.load(plan.recipe, said)
                    prepared.append(judge)
                    # The recipe's camera settings, before the first frame; one not taken stops.
                    sources[-1] = configure(sources[-1], judge.recipe.camera, on_event)
                    _check_roi_on_first_image(judge.recipe, plan, sources[-1])
                    if trigger == "plc":  # one part per PLC trigger
                        sources[-1] = LineTriggered(sources[-1], on_event)
                if line_outputs is not None:  # the PLC's ports, before anything is recorded
                    line_outputs.start()
                # Recorded only once everything is ready: a start that fails writes nothing.
                views = [
                    View(
                        plan.name,
                        source,
                        judge.recipe,
                        self.store.recipe_version_id(judge.recipe, judge.references),
                        judge.chain,
                    )
                    for plan, source, judge in zip(plans, sources, prepared, strict=True)
                ]
                station = Station(
                    views,
                    self.store,
                    choose_policy(views, trigger),
                    sync_window_s=sync_window_s,
                    publishing=publishing,
                )
                if line_outputs is not None:
                    line_outputs.attach(station, plc=trigger == "plc")
            except BaseException:
                for source in sources:
                    source.close()
                if line_outputs is not None:
                    line_outputs.close()
                raise
            self._recipe_paths = {plan.name: Path(plan.recipe) for plan in plans}
            self.line_outputs = line_outputs
            if self.line_selects_recipes:
                station.select_recipe = self.select_recipe  # the line's commands (MQTT)
                if line_outputs is not None:  # OPC UA's SelectRecipe
                    line_outputs.handshake.on_select_recipe = self.select_recipe
            station.subscribe(listener)
            station.subscribe(lambda event: self._forget(station, event))
            for event in early:
                listener(event)
            forward[0] = station.on_source_event
            station.start()
            self.station = station
            return station

    def select_recipe(
        self, name: str, view: str | None = None, progress: Progress | None = None
    ) -> str:
        """Switch a running view (the only one, unless named) to the recipe `name` from the
        recipes folder; returns what was selected. InputError, with the reason, where the
        recipe cannot be found or loaded: the view keeps its recipe."""

        def named(view_name: str) -> Path:
            running = self._recipe_paths[view_name]
            return find_recipe(self.recipes_dir or running.parent, name)

        return self._select(view, named, progress)

    def select_recipe_file(
        self, path: str | Path, view: str | None = None, progress: Progress | None = None
    ) -> str:
        """`select_recipe` for a recipe file named by the person at the window (a version the
        recipe editor just saved), not by the line: loaded first, swapped between parts."""
        return self._select(view, lambda _: Path(path), progress)

    def _select(
        self, view: str | None, recipe_for: Callable[[str], Path], progress: Progress | None
    ) -> str:
        """One switch at a time, of a view that runs here, to the recipe `recipe_for(view)`."""
        station = self.station
        if station is None:
            raise InputError("no station is running")
        if not self._selecting.acquire(blocking=False):
            raise InputError("another recipe is being selected; try again once it is done")
        try:
            if view is None:
                if len(station.views) != 1:
                    names = ", ".join(v.name for v in station.views)
                    raise InputError(f"this station has several views ({names}): name one")
                view = station.views[0].name
            if view not in self._recipe_paths:
                raise InputError(f"no view {view!r} runs here")
            return self._switch(station, view, recipe_for(view), progress)
        finally:
            self._selecting.release()

    def loaded_judge(self, settings: EngineSettings) -> Judge | None:
        """A judge this runner holds loaded (a running recipe's, or one kept for the next
        start) whose settings are exactly these; None where it holds none."""
        for prepared in list(self._prepared.values()):
            for judge in prepared.chain.judges:
                if judge.settings == settings:
                    return judge
        return None

    def _switch(self, station: Station, view: str, path: Path, progress: Progress | None) -> str:
        """Load the recipe at `path`, record its version, swap it into `view`."""
        try:
            prepared = self.load(path, progress)  # the models load here, not on the judge's
        except InspectorError:
            raise
        except Exception as exc:  # an engine's own error: the reason, not a traceback
            log.warning("loading recipe %s failed", path, exc_info=True)
            raise InputError(f"recipe {path} cannot be loaded: {exc}") from None
        recipe = prepared.recipe
        version_id = self.store.recipe_version_id(recipe, prepared.references)
        self._recipe_paths[view] = path
        station.swap_recipe(view, recipe, version_id, prepared.chain, source=str(path))
        line = self.line_outputs.line if self.line_outputs is not None else None
        if line is not None:
            line.set_recipe(recipe)
        said = f"recipe {recipe.name} version {recipe.version} selected ({path.name})"
        log.info("view %s: %s", view, said)
        return said

    def replay_journal(self, progress: Progress | None = None) -> None:
        """Write what the journal holds to the store, saying so; StoreError where it cannot."""
        waiting = self.store.journal_entries()
        if not waiting:
            return
        say = progress or (lambda message: log.info("%s", message))
        say(f"journal: writing {len(waiting)} records kept while the store failed…")
        report = self.store.replay_journal()
        said = f"journal: {report.written} records written to the store"
        if report.already:
            said += f", {report.already} were already there"
        if report.unreadable:
            said += f"; {len(report.unreadable)} files could not be read and stay in the journal: "
            said += "; ".join(report.unreadable)
        say(said)

    def _forget(self, station: Station, event) -> None:
        """A station that stopped on its own (the files ended) frees the runner."""
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


def _check_roi_on_first_image(recipe: Recipe, plan: ViewPlan, source: Source) -> None:
    """Where the source knows its image size before the first part (a folder), a ROI off the
    image is a recipe error now, not an UNSURE record for every part."""
    image_size = getattr(source, "image_size", None)
    size = image_size() if image_size is not None else None
    if size is not None:
        width, height, name = size
        check_roi_fits(recipe, width, height, str(plan.recipe), f"{name} of {plan.source}")


def _line_outputs(store: Store, outputs: Sequence[str], trigger: str, views: int):
    """The PLC servers among the outputs (not started); `--trigger plc` needs one, on one view."""
    plc = [url for url in outputs if is_plc_output(url)]
    if trigger == "plc" and not plc:
        raise InputError(
            "--trigger plc needs a PLC to listen to: add --output opcua://HOST:PORT "
            "or --output modbus://HOST:PORT"
        )
    if trigger == "plc" and views != 1:
        raise InputError("--trigger plc takes one camera (one view)")
    return LineOutputs.open(store, plc) if plc else None


def _named(progress: Progress | None, name: str) -> Progress | None:
    """A view's progress messages, prefixed with its name."""
    if progress is None:
        return None
    return lambda message: progress(f"{name}: {message}")
