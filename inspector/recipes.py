"""Inspection recipes: what to look for, where, with which models, and how to decide.

A recipe is a YAML file validated here. Every problem is reported with the file, the field and
what is wrong, so the engineer who wrote it can fix it without reading a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from inspector.domain import Region, Severity
from inspector.errors import InputError

DEFAULT_MODEL = "Qwen/Qwen2.5-VL-3B-Instruct"
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\- ]*$"  # a recipe's name: also its versions' folder


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DefectExample(_Strict):
    """An image of a part with this defect, shown to the model as a labelled example."""

    image: Path  # relative to the recipe file's folder
    box: tuple[int, int, int, int] | None = None  # x0, y0, x1, y1 in the example's pixels

    @field_validator("box")
    @classmethod
    def _ordered(cls, box: tuple[int, int, int, int] | None) -> tuple[int, int, int, int] | None:
        if box is not None and not (0 <= box[0] < box[2] and 0 <= box[1] < box[3]):
            raise ValueError("a box is [x0, y0, x1, y1] in pixels with x0 < x1 and y0 < y1")
        return box


class DefectClass(_Strict):
    name: str = Field(min_length=1, max_length=64)
    severity: Severity = Severity.MAJOR
    description: str = ""
    # A few images of this defect (issue 15), after the good references in the prompt.
    examples: tuple[DefectExample, ...] = Field(default=(), max_length=8)


class RegionOfInterest(_Strict):
    x: int = Field(ge=0)
    y: int = Field(ge=0)
    width: int = Field(gt=0)
    height: int = Field(gt=0)

    def as_region(self) -> Region:
        return Region(self.x, self.y, self.width, self.height)


class PassRule(_Strict):
    """How a model's answer becomes PASS / FAIL / UNSURE."""

    # Defects of these severities fail the part; lesser ones are recorded and the part passes.
    fail_severities: tuple[Severity, ...] = (Severity.MAJOR, Severity.CRITICAL)
    # An answer (or a failing defect) less confident than this goes to a person.
    min_confidence: float = Field(default=0.5, ge=0.0, le=1.0)
    # A defect class the recipe does not list: a person decides, or the part fails.
    unknown_defect: Literal["unsure", "fail"] = "unsure"


class ChainPolicy(_Strict):
    """How the judge chain tries its engines: timeouts, fallback, retries, circuit breaker."""

    # Seconds one attempt may take; unset: the engine's own limit (a server engine waits 60 s,
    # an in-process model as long as it needs). An engine entry's `timeout_s` overrides it.
    timeout_s: float | None = Field(default=None, gt=0)
    # What makes the chain try the next engine; anything else ends the chain there (UNSURE).
    fallback_on: tuple[Literal["error", "timeout", "unsure"], ...] = ("error", "timeout", "unsure")
    # Tries again after a 429, a 5xx or a lost connection, waiting backoff_s, then twice that...
    retries: int = Field(default=2, ge=0, le=10)
    backoff_s: float = Field(default=1.0, ge=0)
    # A server that asks for a longer wait (Retry-After) is not waited for: the chain falls back.
    max_wait_s: float = Field(default=20.0, ge=0)
    # After this many failed attempts in a row an engine is skipped for breaker_cooldown_s.
    breaker_failures: int = Field(default=3, ge=1)
    breaker_cooldown_s: float = Field(default=60.0, gt=0)
    # A screen (the `reference` engine with `screen: true`) that did not clear a part: `veto`,
    # a later PASS is UNSURE for a person; `advisory`, the model's PASS stands (both recorded).
    screen: Literal["veto", "advisory"] = "veto"


class Privacy(_Strict):
    """Whether, and how much of, a part's image may leave the site (to a cloud model)."""

    images_may_leave: bool = False  # the default: never
    roi_only: bool = False  # only the region of interest leaves (the recipe needs `roi`)
    max_side: int | None = Field(default=None, ge=32)  # downscale to this longest side first
    references_may_leave: bool = False  # the images of good parts, too


class CameraTrigger(_Strict):
    """What makes the camera take a picture."""

    # free-run: the camera's own clock; software: the station's trigger (a button, a key, an
    # integration); hardware: an input line of the camera, on the edge given.
    mode: Literal["free-run", "software", "hardware"] = "free-run"
    line: str = Field(default="Line0", min_length=1)  # as the camera names it (TriggerSource)
    edge: Literal["rising", "falling", "any"] = "rising"


class CameraSettings(_Strict):
    """Applied to the camera on start; a setting the camera does not offer stops the start."""

    exposure_us: float | None = Field(default=None, gt=0)
    gain_db: float | None = Field(default=None, ge=0)
    # mono8: 8-bit grey; color: a colour format of the camera (RGB, BGR, Bayer...), judged as BGR.
    pixel_format: Literal["mono8", "color"] | None = None
    roi: RegionOfInterest | None = None  # on the sensor; the recipe's `roi` is then within it
    frame_rate: float | None = Field(default=None, gt=0)
    trigger: CameraTrigger = CameraTrigger()


class LineSettings(_Strict):
    """What the line's PLC is told when the judge cannot give a verdict in time."""

    # The time from the PLC's trigger to the reject gate; unset: the PLC waits for the verdict.
    deadline_ms: int | None = Field(default=None, gt=0)
    # What an UNSURE part means on the line: reject (the PLC gets the FAIL code, the part goes
    # to the reject bin) or divert (the PLC gets the UNSURE code, for a review lane).
    unsure: Literal["reject", "divert"] = "reject"


# --- What the vision-language model is shown: tiles, zoom, defect examples (issue 15) -------


class Tiles(_Strict):
    """Judge the part in overlapping tiles at the model's native resolution, as well as whole:
    a defect of a few pixels in a 5-20 MP frame survives, where the whole image shrunk to the
    model's input loses it. Each tile is one more model call (one batch where the engine
    batches): the cost grows with the number of tiles."""

    size: int = Field(default=896, ge=64, le=8192)  # a tile's side in camera pixels
    overlap: float = Field(default=0.15, ge=0.0, le=0.5)  # of a tile's side, shared by neighbours
    whole: bool = True  # judge the whole ROI as well (context the tiles lack)
    # Boxes of one defect class overlapping more than this (IoU), from neighbouring tiles, are
    # one defect: the most confident box is kept.
    nms_iou: float = Field(default=0.5, gt=0.0, le=1.0)
    max_tiles: int = Field(default=16, ge=1, le=256)  # a recipe error beyond it, not a slow line

    def starts(self, length: int) -> list[int]:
        """Where tiles start along one side of `length`, neighbours sharing at least `overlap`
        of a tile, the last flush with the end; one start where a tile covers the side."""
        if length <= self.size:
            return [0]
        stride = max(1, int(self.size * (1.0 - self.overlap)))
        count = -(-(length - self.size) // stride) + 1  # ceil: enough tiles to reach the end
        last = length - self.size
        # Spread evenly between 0 and the last start: the overlap is at least the one asked.
        return [round(i * last / (count - 1)) for i in range(count)]

    def count_problem(self, width: int, height: int) -> str | None:
        """Why tiling a width x height region costs more calls than allowed; None if it fits."""
        count = len(self.starts(width)) * len(self.starts(height))
        if count <= self.max_tiles or (width <= self.size and height <= self.size):
            return None
        return (
            f"tiles of {self.size} px over the {width}x{height} region make {count} tiles, "
            f"over `tiles.max_tiles` ({self.max_tiles}); give a larger `tiles.size` or "
            "`tiles.max_tiles`, or a smaller `roi`"
        )


class PromptBudget(_Strict):
    """What the prompt may cost, checked when the recipe loads: the good references, the defect
    examples, the part (and its zooms) as image tokens, plus the text and the answer, within
    the model's context length. Figures per image are the model family's at its usual input
    (Qwen2.5-VL about 1,300 tokens for a 1 MP image, Gemma 3 256, InternVL3 256 a tile)."""

    context_tokens: int = Field(default=32768, ge=1024)  # the model's context length
    tokens_per_image: int = Field(default=1280, ge=1)
    answer_tokens: int = Field(default=512, ge=1)


class Zoom(_Strict):
    """After a screen flags regions: the model also sees each one at full resolution (a crop
    of the camera image with context around it, beside the same crop of the references).
    Unset `max_crops` / `min_size` take the model family's (inspector.judges.families)."""

    max_crops: int | None = Field(default=None, ge=0, le=16)  # 0: no zoom, the outlined whole
    min_size: int | None = Field(default=None, ge=32, le=4096)  # a crop's least side, camera px
    context: float = Field(default=0.5, ge=0.0, le=4.0)  # margin a side, of the region's size


class Agreement(_Strict):
    """A verdict only where independent looks at the part agree, else UNSURE with every answer
    kept: `samples` answers to the same prompt (the first at the engine's own temperature, the
    others sampled at `temperature`, so that a model's doubt shows as different answers), and
    with `views`, the whole, its tiles and its zoomed crops must say the same."""

    samples: int = Field(default=1, ge=1, le=8)
    temperature: float = Field(default=0.7, gt=0.0, le=2.0)
    views: bool = False


class Recipe(_Strict):
    name: str = Field(min_length=1, max_length=100, pattern=NAME_PATTERN)
    version: int = Field(ge=1)
    product: str = ""
    prompt: str = Field(min_length=1)
    defects: tuple[DefectClass, ...] = ()
    roi: RegionOfInterest | None = None
    # Images of good parts shown to the model before the part (few-shot). Relative paths are
    # read from the recipe file's folder.
    references: tuple[Path, ...] = ()
    # The judge chain, tried in order. Each entry names an engine and that engine's settings;
    # the engine validates its own settings (inspector.judges).
    engines: tuple[dict[str, Any], ...] = Field(
        default=({"engine": "transformers", "model": DEFAULT_MODEL},), min_length=1
    )
    pass_rule: PassRule = PassRule()
    chain: ChainPolicy = ChainPolicy()
    privacy: Privacy = Privacy()
    camera: CameraSettings | None = None  # for cameras; files and folders are taken as they are
    line: LineSettings = LineSettings()  # the PLC handshake's deadline and fail-safe answer
    tiles: Tiles | None = None  # judge in overlapping tiles too (vision-language engines)
    zoom: Zoom = Zoom()  # full-resolution crops of what a screen flagged
    agreement: Agreement = Agreement()  # looks that must agree (samples, views)
    budget: PromptBudget = PromptBudget()  # the prompt's tokens against the context length
    # The folder of the file it was read from (None for data): engines read their own relative
    # image paths (`good:`, `references:`) from there first. Not part of the recorded content.
    _folder: Path | None = PrivateAttr(default=None)

    @property
    def folder(self) -> Path | None:
        return self._folder

    def __eq__(self, other: object) -> bool:
        """Equal by content, as recorded: where the file lies (`folder`) is no part of it."""
        if not isinstance(other, Recipe):
            return NotImplemented
        return type(self) is type(other) and self.__dict__ == other.__dict__

    __hash__ = None  # as before: its engines are dicts, which do not hash

    @field_validator("engines")
    @classmethod
    def _each_engine_is_named(cls, engines: tuple[dict[str, Any], ...]) -> tuple[dict, ...]:
        for entry in engines:
            if not isinstance(entry.get("engine"), str):
                raise ValueError("each entry needs `engine:` (for example `engine: transformers`)")
        return engines

    @field_validator("defects")
    @classmethod
    def _unique_defect_names(cls, defects: tuple[DefectClass, ...]) -> tuple[DefectClass, ...]:
        names = [d.name.lower() for d in defects]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"defect classes listed twice: {', '.join(duplicates)}")
        return defects

    @field_validator("privacy")
    @classmethod
    def _roi_only_needs_a_roi(cls, privacy: Privacy, info: ValidationInfo) -> Privacy:
        if privacy.roi_only and info.data.get("roi") is None:
            raise ValueError("`roi_only: true` needs the recipe's `roi`: the region that may leave")
        return privacy

    @field_validator("tiles")
    @classmethod
    def _tiles_fit_the_roi(cls, tiles: Tiles | None, info: ValidationInfo) -> Tiles | None:
        roi = info.data.get("roi")
        if tiles is None or roi is None:
            return tiles
        problem = tiles.count_problem(roi.width, roi.height)
        if problem:
            raise ValueError(problem)
        return tiles

    @model_validator(mode="after")
    def _prompt_fits_the_context(self) -> Recipe:
        # Checked where the recipe shows defect examples or sets a budget: a recipe of many
        # golden images for the `reference` engine alone has no model context to fit.
        examples = any(d.examples for d in self.defects)
        if not examples and "budget" not in self.model_fields_set:
            return self
        problem = prompt_budget_problem(self)
        if problem:
            raise ValueError(problem)
        return self

    def defect_class(self, name: str) -> DefectClass | None:
        wanted = name.strip().lower()
        return next((d for d in self.defects if d.name.lower() == wanted), None)

    def to_yaml(self) -> str:
        data = self.model_dump(mode="json")
        # Settings left at their defaults are not written: a recipe recorded before they
        # existed keeps its content, and so its recorded version.
        for key, default in (
            ("chain", ChainPolicy()),
            ("privacy", Privacy()),
            ("camera", None),
            ("line", LineSettings()),
            ("tiles", None),
            ("zoom", Zoom()),
            ("agreement", Agreement()),
            ("budget", PromptBudget()),
        ):
            if getattr(self, key) == default:
                del data[key]
        for defect in data.get("defects", []):
            if not defect.get("examples"):
                defect.pop("examples", None)
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def parse_recipe(data: object, source: str, base_dir: Path | None = None) -> Recipe:
    """Validate recipe data; `source` names it in messages (a file path, usually)."""
    if not isinstance(data, dict):
        raise InputError(f"recipe {source}: expected a mapping of fields, found {_kind(data)}")
    try:
        recipe = Recipe.model_validate(data)
    except ValidationError as exc:
        raise InputError(_describe(exc, source)) from None
    if base_dir is not None:
        resolved = tuple(p if p.is_absolute() else (base_dir / p) for p in recipe.references)
        recipe = recipe.model_copy(update={"references": resolved})
    if base_dir is not None and any(d.examples for d in recipe.defects):
        recipe = recipe.model_copy(update={"defects": _resolved_examples(recipe, base_dir)})
    for d, defect in enumerate(recipe.defects):
        for e, example in enumerate(defect.examples):
            if not example.image.is_file():
                raise InputError(
                    f"recipe {source}: field `defects.{d}.examples.{e}.image`: no image at "
                    f"{example.image}; give a path to an image of this defect (relative to the "
                    "recipe file)"
                )
    for i, path in enumerate(recipe.references):
        if not path.is_file():
            raise InputError(
                f"recipe {source}: field `references.{i}`: no image at {path}; "
                "give a path to an image of a good part (relative to the recipe file)"
            )
    if base_dir is not None:
        recipe._folder = base_dir
    return recipe


def prompt_budget_problem(recipe: Recipe) -> str | None:
    """Why one prompt of this recipe would not fit the model's context; None when it does.

    One prompt holds the references, every defect example and one view of the part (tiles and
    zooms are prompts of their own); text is counted at 3 characters a token (less than most
    tokenizers give: the estimate errs on the safe side)."""
    budget = recipe.budget
    examples = sum(len(d.examples) for d in recipe.defects)
    images = len(recipe.references) + examples + 1
    text = len(recipe.prompt) + sum(len(d.description) + 40 for d in recipe.defects) + 1500
    tokens = images * budget.tokens_per_image + text // 3 + budget.answer_tokens
    if tokens <= budget.context_tokens:
        return None
    return (
        f"the prompt would need about {tokens} tokens ({len(recipe.references)} references, "
        f"{examples} defect examples and the part at {budget.tokens_per_image} tokens an image, "
        f"the text and {budget.answer_tokens} for the answer), more than the model's context of "
        f"{budget.context_tokens} (`budget.context_tokens`); show fewer examples or references"
    )


def load_recipe(path: str | Path) -> Recipe:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"recipe {path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"recipe {path}: cannot read it ({exc})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" at line {where.line + 1}" if where is not None else ""
        raise InputError(f"recipe {path}: not valid YAML{line}") from None
    return parse_recipe(data, str(path), base_dir=path.parent)


def _resolved_examples(recipe: Recipe, base_dir: Path) -> tuple[DefectClass, ...]:
    def resolved(example: DefectExample) -> DefectExample:
        path = example.image if example.image.is_absolute() else base_dir / example.image
        return example.model_copy(update={"image": path})

    return tuple(
        d.model_copy(update={"examples": tuple(resolved(e) for e in d.examples)})
        for d in recipe.defects
    )


def _describe(exc: ValidationError, source: str) -> str:
    problems = []
    for error in exc.errors():
        field = ".".join(str(p) for p in error["loc"]) or "(top level)"
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = "unknown field; check its spelling"
        problems.append(f"field `{field}`: {message}")
    return f"recipe {source}: " + "; ".join(problems)


def _kind(data: object) -> str:
    return "nothing" if data is None else type(data).__name__


def check_roi_fits(recipe: Recipe, width: int, height: int, source: str, image: str) -> None:
    """A clear recipe error, at load, where the recipe's ROI does not lie within an image of
    its camera (`image` names it: a reference, the first file of a folder); else nothing."""
    roi = recipe.roi
    if roi is None or (roi.x + roi.width <= width and roi.y + roi.height <= height):
        return
    where = "lies outside" if roi.x >= width or roi.y >= height else "reaches past the edge of"
    raise InputError(
        f"recipe {source}: roi ({roi.x},{roi.y},{roi.width},{roi.height}) {where} the "
        f"{width}×{height} image ({image}); give a roi within it (x + width <= {width} and "
        f"y + height <= {height}), or leave `roi` out to judge the whole image"
    )
