"""What every judge engine is: one method to implement, everything else shared.

An engine turns a `Prompt` into text (`_generate`). The base class builds the prompt from the
recipe, applies the privacy rule to engines whose calls leave the site, attaches the verdict's
JSON schema for engines that can constrain their answer (`supports_schema`), times the call,
reads the answer with the one parser, and records the attempt, so that every engine is logged
and judged the same way. A failed call is an attempt with an error and an UNSURE verdict, never
an exception into the station.
"""

from __future__ import annotations

import copy
import dataclasses
import importlib.util
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from inspector.domain import JudgeAttempt, Outcome, Region, Verdict, unsure, utc_now
from inspector.judges.agreement import agree, sample_label
from inspector.judges.answers import BoxConvention, ImageGeometry, read_verdict
from inspector.judges.failures import CallFailed, describe
from inspector.judges.families import family_of
from inspector.judges.measured import TokenLogprob, outcome_probability
from inspector.judges.privacy import outbound
from inspector.judges.prompt import (
    Example,
    Prompt,
    Reference,
    build_prompt,
    crop_to,
    read_examples,
)
from inspector.judges.structured import verdict_schema
from inspector.judges.tiles import merge_views, tile_count_problem, tile_regions, view_label
from inspector.judges.zoom import Suspects, zoom_label, zoom_regions
from inspector.recipes import Recipe

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


class EngineSettings(BaseModel):
    """Settings common to every engine; each engine subclasses it with its own `engine` literal."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    engine: str
    model: str
    max_new_tokens: int = Field(default=512, gt=0, le=32768)
    box_convention: BoxConvention | None = None  # None: the model family's own
    timeout_s: float | None = Field(default=None, gt=0)  # None: the recipe's `chain.timeout_s`


@dataclass(frozen=True)
class Generation:
    """What an engine returns: the raw text, what it cost, and how it saw the image."""

    text: str
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    model_width: int | None = None  # the part image's size after the engine's own resizing
    model_height: int | None = None
    cost_usd: float | None = None  # estimated, where the engine knows a price
    # Each generated token's bytes and log-probability, where the engine exposes them: the
    # outcome's probability is measured from them (inspector.judges.measured).
    token_logprobs: tuple[TokenLogprob, ...] | None = None


@dataclass(frozen=True)
class _View:
    """One way of showing the part: its image, the region of it (None: the recipe's ROI), how
    the prompt names it, and what is said before it."""

    label: str
    region: Region | None
    image: np.ndarray = field(repr=False)
    hint: str = ""
    temperature: float | None = None  # a sampled look (agreement); None: the engine's own
    sample: int = 1  # which of the view's samples
    references: list[Reference] | None = None  # None: the judge's own good references


class Judge:
    """An engine: its name, its settings class and what it needs are class attributes.

    Subclasses implement `_generate` (and `load` where there is something to load); the
    registry (inspector.judges.registry) checks `engine` and `Settings` when it first uses one.
    """

    engine: ClassVar[str]  # the name recipes use; the registry's key
    Settings: ClassVar[type[EngineSettings]]  # with `engine: Literal[<engine>]`
    leaves_site: ClassVar[bool] = False  # True for cloud engines: the image leaves the plant
    # Packages it imports when it loads (import names), and the `inspector[...]` extra that
    # installs them: `inspector models --check` says which one is missing.
    requires: ClassVar[tuple[str, ...]] = ()
    extra: ClassVar[str] = ""
    # Whether it can constrain its answer to a JSON schema (structured output, guided decoding,
    # a tool's input): the base then puts the verdict's schema in `prompt.schema`.
    supports_schema: ClassVar[bool] = False
    schema_box_key: ClassVar[str] = "box"  # the boxes' key in that schema (Gemini: box_2d)
    # Whether this is a model shown views and examples: a recipe's `tiles`, a screen's zooms
    # and the defect examples apply (a vision-language model's input is shrunk); an engine
    # that compares pixels itself (reference) sees them all already, and examples of defects
    # are no good parts to it.
    judges_tiles: ClassVar[bool] = True
    # Whether it honours a prompt's `temperature`, so that a recipe's `agreement.samples` ask
    # it for different answers; one that does not (greedy only) is asked once.
    samples_vary: ClassVar[bool] = False

    def __init__(self, settings: EngineSettings, recipe: Recipe) -> None:
        self.settings = settings
        self.recipe = recipe
        self.model_id = settings.model
        self.model_revision: str | None = None
        self.endpoint: str | None = None  # the server an engine calls, recorded per attempt
        self._references: list[Reference] | None = None
        self._examples: list[Example] | None = None
        structured = self.supports_schema and self.structured_output() != "none"
        self._schema = verdict_schema(recipe, self.schema_box_key) if structured else None

    @classmethod
    def missing_package(cls) -> str | None:
        """Which package this engine lacks here, and the extra to install; None when none."""
        for name in cls.requires:
            try:
                found = importlib.util.find_spec(name) is not None
            except (ImportError, ValueError):  # a parent package that is not there
                found = False
            if not found:
                return f"package {name} is not installed: pip install 'inspector[{cls.extra}]'"
        return None

    # Engines implement these two.
    def load(self, progress: Progress | None = None) -> None:
        """Make the engine ready (load weights, check the server); raise EngineUnavailable."""

    def _generate(self, prompt: Prompt, convention: BoxConvention) -> Generation:
        raise NotImplementedError

    def structured_output(self) -> Literal["auto", "json_schema", "none"]:
        """Whether calls carry the verdict's schema: always, never, or `auto`: until a server
        refuses it. Always where the engine supports one; engines with a recipe setting for it
        override this. A class that does not support a schema gets none, whatever this says."""
        return "json_schema" if self.supports_schema else "none"

    def box_convention(self) -> BoxConvention:
        return self.settings.box_convention or BoxConvention.XYXY_1000

    def check(self) -> str | None:
        """Why this engine cannot run here, found without loading a model; None if it can.

        `inspector models --check` asks it (after checking the engine's packages); engines add
        what they know: no GPU, no API key, a server that does not answer.
        """
        return None

    def timeout_s(self) -> float | None:
        """Seconds one attempt may take: the engine entry's, else the recipe chain's."""
        return self.settings.timeout_s or self.recipe.chain.timeout_s

    def set_references(self, images: list[np.ndarray]) -> None:
        self._references = [Reference.of(image) for image in images]

    def aligned_references(self, image: np.ndarray) -> tuple[np.ndarray, ...]:
        """Good parts warped onto `image`'s pixels, where this judge (a screen) aligned them to
        it last; () where it does not align: zoomed crops then cut the references as they are."""
        return ()

    def for_recipe(self, recipe: Recipe) -> Judge | None:
        """This loaded engine judging under another recipe (an edit tried in the window): the
        model, its lock and its caches are shared, not copied, so no second copy of the weights
        is made; what comes from the recipe (prompt, schema, examples) is the new recipe's, and
        its references are set next, as for a new judge. None where what was loaded does not
        hold for that recipe (the caller loads its own); engines whose loaded state depends on
        the recipe override it."""
        twin = copy.copy(self)
        twin.recipe = recipe
        twin._references = None
        twin._examples = None
        structured = twin.supports_schema and twin.structured_output() != "none"
        twin._schema = verdict_schema(recipe, twin.schema_box_key) if structured else None
        return twin

    def _defect_examples(self) -> list[Example]:
        """The recipe's defect examples, read on first use (none for engines that compare
        pixels: they are no good part)."""
        if not self.judges_tiles:
            return []
        if self._examples is None:
            self._examples = read_examples(self.recipe)
        return self._examples

    def judge(self, image: np.ndarray) -> Verdict:
        """Judge one image of a part under the recipe: one attempt, recorded whatever happens."""
        return self.judge_once(image)[0]

    def judge_once(
        self, image: np.ndarray, hint: str = "", suspects: Suspects | None = None
    ) -> tuple[Verdict, Exception | None]:
        """`judge`, and the exception that ended the attempt (the chain retries some).

        `hint` is said to the model just before the part's image (a screen's marks, say). Under
        a recipe's `tiles` the part is judged whole and in tiles (inspector.judges.tiles); with
        a screen's `suspects`, also in full-resolution crops of them (inspector.judges.zoom);
        the views merge by the pass rule.
        """
        views = [_View("", None, image, hint)]
        if self.judges_tiles:
            problem = self._add_tiles(views, image)
            if problem is not None:  # a recipe error: said, and no model time spent on it
                return unsure(f"recipe {self.recipe.name}: {problem}"), None
            if suspects is not None and suspects.boxes:
                roi = self.recipe.roi.as_region() if self.recipe.roi else None
                area = crop_to(suspects.image, roi)[1]
                family = family_of(self.model_id)
                crops = zoom_regions(suspects.boxes, area, self.recipe.zoom, family)
                # The screen's good part aligned to this one, where it aligned them; else the
                # references as they are, cut at the same place.
                aligned = [Reference.of(r) for r in suspects.references] if crops else []
                for i, region in enumerate(crops, 1):
                    label = zoom_label(i, len(crops), region)
                    views.append(
                        _View(label, region, suspects.image, "", references=aligned or None)
                    )
        samples = self._samples()
        looks = [
            dataclasses.replace(view, temperature=None if n == 1 else temperature, sample=n)
            for view in views
            for n, temperature in self._sampling(samples)
        ]
        results = self._judge_views(looks)
        if len(results) == 1:
            return results[0]
        nms_iou = self.recipe.tiles.nms_iou if self.recipe.tiles else 0.5
        per_view: list[tuple[str, Verdict]] = []
        for i, view in enumerate(views):
            label = view.label or "whole"
            if samples == 1:
                per_view.append((label, results[i][0]))
                continue
            mine = range(i * samples, (i + 1) * samples)
            named = [(sample_label(label, looks[k].sample, samples), results[k][0]) for k in mine]
            per_view.append((label, agree(named, nms_iou)))
        if len(per_view) == 1:
            merged = per_view[0][1]
        elif self.recipe.agreement.views:
            merged = agree(per_view, nms_iou)
        else:
            merged, _ = merge_views(per_view, nms_iou)
        # A failed call matters (the chain retries, falls back) unless a view failed the part.
        failure = next((exc for _, exc in results if exc is not None), None)
        return merged, None if merged.outcome is Outcome.FAIL else failure

    def _samples(self) -> int:
        """How many answers each view gets: the recipe's `agreement.samples` where this engine
        can give different ones."""
        wanted = self.recipe.agreement.samples
        if wanted > 1 and not (self.samples_vary and self.judges_tiles):
            if not getattr(self, "_said_no_samples", False):
                self._said_no_samples = True
                log.warning(
                    "%s answers greedily: the recipe's agreement.samples (%d) asks it once",
                    self.engine,
                    wanted,
                )
            return 1
        return wanted

    def _sampling(self, samples: int) -> list[tuple[int, float | None]]:
        return [(n, self.recipe.agreement.temperature) for n in range(1, samples + 1)]

    def _add_tiles(self, views: list[_View], image: np.ndarray) -> str | None:
        """The recipe's tiles as views (the whole first, unless left out); why not, if too
        many."""
        tiles = self.recipe.tiles
        if tiles is None:
            return None
        area = crop_to(image, self.recipe.roi.as_region() if self.recipe.roi else None)[1]
        problem = tile_count_problem(area, tiles)
        if problem is not None:
            return problem
        regions = tile_regions(area, tiles)
        if not regions:
            return None
        whole = views.pop(0)
        if tiles.whole:
            views.append(dataclasses.replace(whole, label="whole"))
        for i, region in enumerate(regions, 1):
            views.append(_View(view_label(i, len(regions), region), region, image, whole.hint))
        return None

    def _judge_views(self, views: list[_View]) -> list[tuple[Verdict, Exception | None]]:
        """Each view of the part (the ROI; or the whole, its tiles, its zooms) judged: one
        prompt each, generated as one batch where the engine batches. Each is an attempt of its
        own; a batch's attempts share its time (their latency is the batch's)."""
        started_at = utc_now()
        start = time.perf_counter()
        convention = self.box_convention()
        prompts: list[Prompt | Exception] = []
        for view in views:
            try:
                prompt = build_prompt(
                    self.recipe,
                    view.image,
                    view.references if view.references is not None else self._references or [],
                    convention,
                    view.hint,
                    region=view.region,
                    view=view.label if view.region is not None else "",
                    examples=self._defect_examples(),
                )
                if self.leaves_site:  # here, so that no engine can send more than allowed
                    prompt = outbound(prompt, self.recipe.privacy)
                if view.temperature is not None:
                    prompt = dataclasses.replace(prompt, temperature=view.temperature)
                prompts.append(prompt)
            except Exception as exc:  # a bad ROI, a privacy refusal: this view is UNSURE
                prompts.append(exc)
        ready = [p for p in prompts if isinstance(p, Prompt)]
        generations = iter(self._generate_batch(ready, convention) if ready else [])
        results = []
        for prompt in prompts:
            sent = isinstance(prompt, Prompt)
            prompt_hash = prompt.sha256() if sent else ""
            outcome = next(generations) if sent else prompt
            if isinstance(outcome, Exception):
                exc = outcome
                log.warning("%s %s failed: %s", self.engine, self.model_id, exc, exc_info=exc)
                attempt = self._attempt(started_at, start, prompt_hash, sent, error=describe(exc))
                verdict = unsure(f"{self.engine} could not judge: {describe(exc)}", (attempt,))
                results.append((verdict, exc))
            else:
                verdict = self._read(prompt, outcome, convention, started_at, start)
                results.append((verdict, None))
        return results

    def _read(
        self, prompt: Prompt, generation: Generation, convention: BoxConvention, started_at, start
    ) -> Verdict:
        """One generation read into a verdict with its attempt."""
        geometry = prompt.geometry
        if generation.model_width and generation.model_height:
            geometry = ImageGeometry(
                geometry.source_width,
                geometry.source_height,
                geometry.crop,
                generation.model_width,
                generation.model_height,
            )
        measured = None
        if generation.token_logprobs:
            measured = outcome_probability(generation.token_logprobs)
        verdict = read_verdict(generation.text, self.recipe, geometry, convention, measured)
        attempt = self._attempt(
            started_at,
            start,
            prompt.sha256(),
            True,
            raw_text=generation.text,
            prompt_tokens=generation.prompt_tokens,
            completion_tokens=generation.completion_tokens,
            outcome=verdict.outcome,
            cost_usd=generation.cost_usd,
            measured_confidence=verdict.measured_confidence,
        )
        return verdict.with_attempts((attempt,))

    def _generate_batch(
        self, prompts: list[Prompt], convention: BoxConvention
    ) -> list[Generation | Exception]:
        """A generation (or the exception that ended it) for each prompt, in order. One by one
        here; engines that can batch (transformers) override it."""
        results: list[Generation | Exception] = []
        for prompt in prompts:
            try:
                results.append(self._generate_structured(prompt, convention))
            except Exception as exc:  # a model crash is a verdict for a person
                results.append(exc)
        return results

    def _generate_structured(self, prompt: Prompt, convention: BoxConvention) -> Generation:
        """`_generate`, with the verdict's schema where this engine asks for one.

        Under `auto`, a server that refuses the schema (HTTP 400 or 422) is asked once more
        without it, the prompt alone describing the answer, and from then on never with it.
        """
        schema = self._schema
        if schema is None:
            return self._generate(prompt, convention)
        try:
            return self._generate(dataclasses.replace(prompt, schema=schema), convention)
        except CallFailed as exc:
            if self.structured_output() != "auto" or exc.status not in (400, 422):
                raise
            generation = self._generate(prompt, convention)
            # The plain request went through: it was the schema the server refused.
            log.info("%s refuses JSON-schema output (%s); asking in the prompt", self.endpoint, exc)
            self._schema = None
            return generation

    def _attempt(
        self, started_at, start: float, prompt_hash: str, sent: bool, **fields: object
    ) -> JudgeAttempt:
        return JudgeAttempt(
            engine=self.engine,
            model_id=self.model_id,
            model_revision=self.model_revision,
            prompt_hash=prompt_hash,
            started_at=started_at,
            latency_ms=(time.perf_counter() - start) * 1000.0,
            # Once the engine was called the request went out, answered or not.
            image_left_site=self.leaves_site and sent,
            endpoint=self.endpoint,
            **fields,  # type: ignore[arg-type]
        )
