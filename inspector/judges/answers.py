"""The model-answer parser: from a model's raw text to a verdict, defensively.

Every engine's answer goes through `read_verdict` (the `Verdict` type itself is the domain's).
It finds the JSON verdict wherever the model put it (fences, prose, after a thinking block),
maps boxes from the model family's convention (`BoxConvention`) back to source-image pixels
through the `ImageGeometry` of what was sent, and applies the recipe's pass rule. Anything it
cannot read with certainty becomes UNSURE with the reason said: a part is never passed by
default.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from enum import StrEnum

from inspector.domain import Box, Defect, Outcome, Region, Verdict, unsure
from inspector.recipes import PassRule, Recipe


class BoxConvention(StrEnum):
    # [x0, y0, x1, y1] in pixels of the image as the model saw it (Qwen2.5-VL: the resized input)
    PIXELS = "pixels"
    # [x0, y0, x1, y1] scaled to 0..1000 of the image (InternVL <box>, and what other models are
    # asked for)
    XYXY_1000 = "xyxy_1000"
    # [y0, x0, y1, x1] scaled to 0..1000 (Gemini's box_2d)
    YXYX_1000 = "yxyx_1000"


@dataclass(frozen=True)
class ImageGeometry:
    """Where the image the model judged came from, to map its boxes back to the source."""

    source_width: int
    source_height: int
    crop: Region  # the part of the source image that was sent (the ROI, or all of it)
    model_width: int | None = None  # size the model saw after its own resizing, when known
    model_height: int | None = None

    @classmethod
    def whole(cls, width: int, height: int) -> ImageGeometry:
        return cls(width, height, Region(0, 0, width, height))


_THINK_BLOCKS = (("◁think▷", "◁/think▷"), ("<think>", "</think>"), ("<thinking>", "</thinking>"))
_FENCE = re.compile(r"```(?:json|JSON)?\s*\n?(.*?)```", re.DOTALL)
_INTERNVL_BOX = re.compile(r"<box>\s*\[*\s*([-\d.,\s]+?)\s*\]*\s*</box>")
_INTERNVL_REF_BOX = re.compile(r"<ref>\s*(.+?)\s*</ref>\s*(<box>.*?</box>)", re.DOTALL)
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_OUTCOME_WORDS = {"PASS": Outcome.PASS, "FAIL": Outcome.FAIL, "UNSURE": Outcome.UNSURE}
_CLASS_KEYS = ("class", "class_name", "name", "type", "label", "defect")
_BOX_KEYS = ("box", "bbox", "bbox_2d", "box_2d")


def strip_thinking(text: str) -> str | None:
    """The answer outside thinking blocks; None when the text ends inside one (no answer yet)."""
    for opening, closing in _THINK_BLOCKS:
        if closing in text:
            # Templates may put the opening tag in the prompt: keep what follows the last close.
            text = text.rsplit(closing, 1)[1]
        if opening in text:  # a block opened after the last close (or never closed)
            return None
    return text


def find_verdict_objects(text: str) -> list[dict]:
    """JSON objects in the text that look like a verdict (they have an `outcome`)."""
    found: list[dict] = []
    for block in _FENCE.findall(text):
        found.extend(_json_objects(block))
    if not found:
        found = _json_objects(text)
    return [o for o in found if isinstance(o, dict) and _outcome_key(o) is not None]


def read_verdict(
    raw_text: str,
    recipe: Recipe,
    geometry: ImageGeometry,
    convention: BoxConvention,
) -> Verdict:
    """Read a model's raw answer into a verdict under the recipe's pass rule (attempts empty)."""
    answer = strip_thinking(raw_text)
    if answer is None:
        return unsure("the model's answer ended inside its thinking block, without a verdict")
    candidates = find_verdict_objects(answer)
    if not candidates:
        return unsure("the model's answer holds no JSON verdict with an `outcome`")
    words = (str(c[_outcome_key(c)]).strip() for c in candidates)
    # Only ASCII is upper-cased: "paſſ".upper() == "PASS", and no look-alike passes a part.
    outcomes = {w.upper() if w.isascii() else w for w in words}
    if len(outcomes) > 1:
        return unsure(
            f"the model's answer holds conflicting verdicts: {', '.join(sorted(outcomes))}"
        )
    obj = candidates[-1]
    model_outcome = _OUTCOME_WORDS.get(outcomes.pop())
    if model_outcome is None:
        return unsure(f"the model's outcome {obj[_outcome_key(obj)]!r} is not PASS, FAIL or UNSURE")
    reason = str(obj.get("reason") or obj.get("explanation") or "").strip()
    confidence = _confidence(obj.get("confidence"))
    if confidence is None and obj.get("confidence") is not None:
        return unsure(f"the model's confidence {obj['confidence']!r:.60} cannot be read")
    raw_defects = obj.get("defects") or []
    if not isinstance(raw_defects, list):
        return unsure("the model's `defects` is not a list")
    grounded = {name.lower(): box for name, box in _INTERNVL_REF_BOX.findall(answer)}
    defects = []
    for item in raw_defects:
        defect = _defect(item, recipe, geometry, convention, grounded)
        if defect is None:
            return unsure(f"the model listed a defect that cannot be read: {item!r:.120}")
        defects.append(defect)
    return apply_pass_rule(model_outcome, tuple(defects), confidence, reason, recipe.pass_rule)


def apply_pass_rule(
    model_outcome: Outcome,
    defects: tuple[Defect, ...],
    confidence: float | None,
    reason: str,
    rule: PassRule,
) -> Verdict:
    """The recipe decides, not the model alone; any doubt goes to a person."""

    def verdict(outcome: Outcome, why: str) -> Verdict:
        text = f"{reason} ({why})" if reason and why else (reason or why)
        return Verdict(outcome=outcome, reason=text, defects=defects, confidence=confidence)

    def sure(value: float | None) -> bool:
        return value is None or value >= rule.min_confidence

    if model_outcome is Outcome.UNSURE:
        return verdict(Outcome.UNSURE, "the model was unsure")
    failing = [d for d in defects if d.severity in rule.fail_severities]
    unknown = [d for d in defects if d.severity is None]
    if any(sure(d.confidence) for d in failing):
        return verdict(Outcome.FAIL, "")
    if unknown:
        names = ", ".join(sorted({d.class_name for d in unknown}))
        if rule.unknown_defect == "fail" and any(sure(d.confidence) for d in unknown):
            return verdict(Outcome.FAIL, f"defect class not in the recipe: {names}")
        return verdict(Outcome.UNSURE, f"defect class not in the recipe: {names}")
    if failing:
        return verdict(Outcome.UNSURE, "failing defects below the confidence threshold")
    if not sure(confidence):
        return verdict(Outcome.UNSURE, f"confidence {confidence:.2f} below {rule.min_confidence}")
    if model_outcome is Outcome.FAIL:
        if defects:
            return verdict(
                Outcome.UNSURE, "the model failed the part for defects the recipe passes"
            )
        return verdict(Outcome.FAIL, "")
    return verdict(Outcome.PASS, "")


def map_box(values: list[float], convention: BoxConvention, geometry: ImageGeometry) -> Box | None:
    """Four numbers in the model's convention to a box in source pixels, clipped; None if absurd."""
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        return None
    crop = geometry.crop
    if convention is BoxConvention.YXYX_1000:
        y0, x0, y1, x1 = values
        sx, sy = crop.width / 1000.0, crop.height / 1000.0
    elif convention is BoxConvention.XYXY_1000:
        x0, y0, x1, y1 = values
        sx, sy = crop.width / 1000.0, crop.height / 1000.0
    else:
        x0, y0, x1, y1 = values
        sx = crop.width / (geometry.model_width or crop.width)
        sy = crop.height / (geometry.model_height or crop.height)
    x0, x1 = sorted((x0, x1))
    y0, y1 = sorted((y0, y1))
    left = _clip(crop.x + x0 * sx, crop.x, crop.x + crop.width)
    right = _clip(crop.x + x1 * sx, crop.x, crop.x + crop.width)
    top = _clip(crop.y + y0 * sy, crop.y, crop.y + crop.height)
    bottom = _clip(crop.y + y1 * sy, crop.y, crop.y + crop.height)
    box = Box(math.floor(left), math.floor(top), math.ceil(right), math.ceil(bottom))
    if box.width <= 0 or box.height <= 0:
        return None
    return box


def _defect(
    item: object,
    recipe: Recipe,
    geometry: ImageGeometry,
    convention: BoxConvention,
    grounded: dict[str, str],
) -> Defect | None:
    """One listed defect; a box given as InternVL `<ref>name</ref><box>` in prose is used too."""
    if isinstance(item, str) and item.strip():
        item = {"class": item}
    if not isinstance(item, dict):
        return None
    name = next((str(item[k]).strip() for k in _CLASS_KEYS if item.get(k)), "")
    if not name:
        return None
    known = recipe.defect_class(name)
    note = ""
    box = None
    key = next((k for k in _BOX_KEYS if k in item and item[k] is not None), None)
    if key is None and name.lower() in grounded:
        item, key, convention = {"box": grounded[name.lower()]}, "box", BoxConvention.XYXY_1000
    if key is not None:
        values = _box_numbers(item[key])
        box_convention = BoxConvention.YXYX_1000 if key == "box_2d" else convention
        box = map_box(values, box_convention, geometry) if values else None
        if box is None:
            note = f"unreadable box {item[key]!r:.60}"
    return Defect(
        class_name=known.name if known else name,
        severity=known.severity if known else None,
        box=box,
        confidence=_confidence(item.get("confidence")),
        note=note,
    )


def _box_numbers(value: object) -> list[float] | None:
    if isinstance(value, str):
        match = _INTERNVL_BOX.search(value)
        value = [float(n) for n in _NUMBER.findall(match.group(1) if match else value)]
    if isinstance(value, dict):
        keys = ("x0", "y0", "x1", "y1") if "x0" in value else ("xmin", "ymin", "xmax", "ymax")
        value = [value.get(k) for k in keys]
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], list):
        value = value[0]
    if not isinstance(value, list) or len(value) != 4:
        return None
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value):
        return None
    try:
        return [float(v) for v in value]
    except OverflowError:  # an integer beyond the float range: as absurd as inf
        return None


def _confidence(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(str(value).strip().rstrip("%"))
    except ValueError:
        return None
    if not math.isfinite(number) or number < 0:
        return None
    if number > 1.0:
        number = number / 100.0 if number <= 100.0 else math.nan
    return None if math.isnan(number) else number


def _outcome_key(obj: dict) -> str | None:
    return next((k for k in ("outcome", "verdict", "result") if k in obj), None)


def _json_objects(text: str) -> list[object]:
    decoder = json.JSONDecoder()
    objects = []
    index = text.find("{")
    while index != -1:
        try:
            obj, end = decoder.raw_decode(text, index)
        except (ValueError, RecursionError):  # nesting deeper than the stack
            obj, end = None, -1
            repaired = _without_trailing_commas(text, index)
            if repaired is not None:
                obj, length = repaired
                end = index + length
        if obj is None:
            index = text.find("{", index + 1)
            continue
        objects.append(obj)
        index = text.find("{", end)
    return objects


def _without_trailing_commas(text: str, start: int) -> tuple[object, int] | None:
    """Models often write `[1, 2,]`: retry the balanced span with trailing commas removed."""
    depth, in_string, escaped = 0, False, False
    for i in range(start, len(text)):
        ch = text[i]
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
            continue
        if ch == '"':
            in_string = True
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                span = text[start : i + 1]
                try:
                    return json.loads(re.sub(r",\s*([}\]])", r"\1", span)), i + 1 - start
                except (ValueError, RecursionError):
                    return None
    return None


def _clip(value: float, low: float, high: float) -> float:
    return min(max(value, low), high)
