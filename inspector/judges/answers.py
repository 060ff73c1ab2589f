"""The model-answer parser: from a model's raw text to a verdict, defensively.

Every engine's answer goes through `read_verdict` (the `Verdict` type itself is the domain's).
It finds the JSON verdict wherever the model put it (fences, prose, after a thinking block),
maps boxes from the model family's convention (`BoxConvention`) back to source-image pixels
through the `ImageGeometry` of what was sent, and applies the recipe's pass rule. Anything it
cannot read with certainty becomes UNSURE with the reason said: a part is never passed by
default.

An answer cannot be argued into PASS: every JSON object in it counts, fenced or not, at any
depth, and so does every `outcome: WORD` written in its prose. A key given twice in one object,
verdict words that disagree (`outcome` beside `verdict`, one object beside another, a nested
object, `"passed": false`), defect lists that disagree, or `defects` that is not a list: UNSURE,
with what was contradictory. The whole read is linear in the answer's length
(inspector.judges.answer_json; bench/answer_parser.py shows it).

`cap_raw_text` is how much of an answer the record keeps (the judge chain applies it to every
attempt): the full answer's length and SHA-256 stay in the capped text.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re
from dataclasses import dataclass
from enum import StrEnum

from inspector.domain import Box, Defect, Outcome, Region, Verdict, unsure
from inspector.judges.answer_json import JsonObject, scan_objects
from inspector.recipes import PassRule, Recipe

# Characters of a model's answer the record keeps. An answer asked for is a JSON object of a
# few hundred characters (20 defects with boxes: about 2,000); the default 512 new tokens are
# about 2,000 characters, and a thinking model's reasoning rarely passes 30,000. 64 Ki keeps
# every honest answer whole, while 100,000 records of hostile 50 MB answers cost at most about
# 6.5 GB (UTF-8 worst case 4x) instead of 5 TB. Head and tail are kept: the verdict of a
# thinking model is at the end.
RAW_TEXT_LIMIT = 64 * 1024


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
# No lazy spans and no two runs that match the same characters: linear on any text.
_INTERNVL_BOX = re.compile(r"<box>([^<]*)</box>")
_INTERNVL_REF_BOX = re.compile(r"<ref>([^<]*)</ref>\s*(<box>[^<]*</box>)")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_OUTCOME_WORDS = {"PASS": Outcome.PASS, "FAIL": Outcome.FAIL, "UNSURE": Outcome.UNSURE}
_OUTCOME_KEYS = ("outcome", "verdict", "result")
# Yes/no keys models add beside the outcome: the word each value stands for.
_YES_NO_KEYS = {
    **{k: ("PASS", "FAIL") for k in ("pass", "passed", "ok", "is_ok", "good", "is_good")},
    **{
        k: ("FAIL", "PASS")
        for k in ("defective", "is_defective", "has_defects", "has_defect", "reject", "rejected")
    },
}
# Every key that lists defects: all of them, wherever they are, must list the same.
_DEFECT_LIST_KEYS = ("defects", "defect_list", "issues", "findings", "anomalies")
# A verdict written in prose, in broken JSON or quoted inside a JSON string ("Verdict: FAIL",
# `"outcome": "PASS"`, `\"result\": \"fail\"`); JSON strings are read again decoded. One
# pattern per key and word, each led by a literal and searched once in the lower-cased text:
# milliseconds for a megabyte, however many times the answer repeats a verdict.
_PROSE_VERDICTS = tuple(
    (word, re.compile(key + r"\b[\"'\\\s]*[:=][\"'\\\s]*(?:" + spellings + r")\b", re.ASCII))
    for key in _OUTCOME_KEYS
    for word, spellings in (
        ("PASS", "pass|passed"),
        ("FAIL", "fail|failed|reject|rejected"),
        ("UNSURE", "unsure|uncertain"),
    )
)
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
    """JSON objects in the text that look like a verdict (they have an `outcome`), at any depth."""
    return [o for o in _walk(scan_objects(text).objects) if _outcome_key(o) is not None]


def read_verdict(
    raw_text: str,
    recipe: Recipe,
    geometry: ImageGeometry,
    convention: BoxConvention,
    measured_confidence: float | None = None,
) -> Verdict:
    """Read a model's raw answer into a verdict under the recipe's pass rule (attempts empty).

    `measured_confidence`, the outcome's probability from the model's own token probabilities
    (inspector.judges.measured), is what the pass rule's `min_confidence` applies to when given;
    the self-reported one is kept beside it."""
    answer = strip_thinking(raw_text)
    if answer is None:
        return unsure("the model's answer ended inside its thinking block, without a verdict")
    scan = scan_objects(answer)
    if scan.unread:
        return unsure(f"the model's answer cannot be read whole: {scan.unread}")
    if scan.duplicates:
        keys = ", ".join(f"`{k}`" for k in sorted(set(scan.duplicates)))
        return unsure(f"the model's answer is contradictory: one JSON object gives {keys} twice")
    objects = list(_walk(scan.objects))
    candidates = [o for o in objects if _outcome_key(o) is not None]
    if not candidates:
        return unsure("the model's answer holds no JSON verdict with an `outcome`")
    words = _verdict_words(scan.objects, answer)
    if len({word for word, _ in words}) > 1:
        first: dict[str, str] = {}  # where each word is first said
        for word, where in words:
            first.setdefault(word, where)
        said = ", ".join(f"{word} ({where})" for word, where in first.items())
        return unsure(f"the model's answer holds conflicting verdicts: {said:.300}")
    contradiction = _disagreement(objects, candidates)
    if contradiction:
        return unsure(f"the model's answer is contradictory: {contradiction}")
    # The outermost verdicts speak for the answer (a nested one agrees, or we stopped above).
    outermost = [o for o in scan.objects if _outcome_key(o) is not None] or candidates
    obj = outermost[-1]
    model_outcome = _OUTCOME_WORDS.get(words[0][0])
    if model_outcome is None:
        return unsure(
            f"the model's outcome {obj[_outcome_key(obj)]!r:.60} is not PASS, FAIL or UNSURE"
        )
    reason = next((_reason(o) for o in reversed(outermost) if _reason(o)), "")
    raw_confidence = next(
        (o["confidence"] for o in outermost + candidates if "confidence" in o), None
    )
    confidence = _confidence(raw_confidence)
    if confidence is None and raw_confidence is not None:
        return unsure(f"the model's confidence {raw_confidence!r:.60} cannot be read")
    raw_defects = next((o[k] for o in objects for k in _DEFECT_LIST_KEYS if k in o), [])
    grounded = {n.strip().lower(): box for n, box in _INTERNVL_REF_BOX.findall(answer)}
    defects = []
    for item in raw_defects:
        defect = _defect(item, recipe, geometry, convention, grounded)
        if defect is None:
            return unsure(f"the model listed a defect that cannot be read: {item!r:.120}")
        defects.append(defect)
    if measured_confidence is None:
        return apply_pass_rule(model_outcome, tuple(defects), confidence, reason, recipe.pass_rule)
    verdict = apply_pass_rule(
        model_outcome, tuple(defects), measured_confidence, reason, recipe.pass_rule, "measured "
    )
    return dataclasses.replace(
        verdict, confidence=confidence, measured_confidence=measured_confidence
    )


def cap_raw_text(text: str, limit: int = RAW_TEXT_LIMIT) -> str:
    """The answer as the record keeps it: whole up to `limit` characters; past that its head
    and tail, with a marker naming the full answer's length and SHA-256 (of its UTF-8, lone
    surrogates as they are) where the middle was cut. A capped text is not capped again."""
    if len(text) <= limit:
        return text
    data = text.encode("utf-8", "surrogatepass")
    marker = (
        f"\n[answer truncated: {len(text)} characters, sha256 {hashlib.sha256(data).hexdigest()}"
        "; the middle {} characters left out]\n"
    )
    kept = max(limit - len(marker) - 12, 0)  # room for the count in the marker
    head = kept * 3 // 4
    tail = kept - head
    return text[:head] + marker.format(len(text) - kept) + (text[-tail:] if tail else "")


def apply_pass_rule(
    model_outcome: Outcome,
    defects: tuple[Defect, ...],
    confidence: float | None,
    reason: str,
    rule: PassRule,
    confidence_kind: str = "",
) -> Verdict:
    """The recipe decides, not the model alone; any doubt goes to a person.

    `confidence_kind` names the confidence in the reason ("measured ": from the model's token
    probabilities)."""

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
        if model_outcome is Outcome.PASS:  # the recipe overrules the word: say so
            names = ", ".join(sorted({d.class_name for d in failing}))
            return verdict(Outcome.FAIL, f"the model said PASS but listed {names}")
        return verdict(Outcome.FAIL, "")
    if unknown:
        names = ", ".join(sorted({d.class_name for d in unknown}))
        if rule.unknown_defect == "fail" and any(sure(d.confidence) for d in unknown):
            return verdict(Outcome.FAIL, f"defect class not in the recipe: {names}")
        return verdict(Outcome.UNSURE, f"defect class not in the recipe: {names}")
    if failing:
        return verdict(Outcome.UNSURE, "failing defects below the confidence threshold")
    if not sure(confidence):
        return verdict(
            Outcome.UNSURE,
            f"{confidence_kind}confidence {confidence:.2f} below {rule.min_confidence}",
        )
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
    return next((k for k in _OUTCOME_KEYS if k in obj), None)


def _walk(objects: list[JsonObject]):
    """Every object in the decoded answer, outermost first, in the order written."""
    for _, _, obj in _walk_where(objects):
        yield obj


def _walk_where(objects: list[JsonObject]):
    """(number of the outermost object, whether nested, object) for every object."""
    pending: list[tuple[int, bool, object]] = [(n, False, o) for n, o in enumerate(objects, 1)]
    pending.reverse()
    while pending:
        number, nested, value = pending.pop()
        if isinstance(value, dict):
            yield number, nested, value
            pending.extend((number, True, v) for v in reversed(list(value.values())))
        elif isinstance(value, list):
            pending.extend((number, True, v) for v in reversed(value))


def _verdict_words(objects: list[JsonObject], answer: str) -> list[tuple[str, str]]:
    """(word, where it was said) for every verdict in the answer: outcome keys and yes/no keys
    of every object at any depth, and verdicts written in prose."""
    words: list[tuple[str, str]] = []
    several = len(objects) > 1
    for number, nested, obj in _walk_where(objects):
        place = (
            ("nested in " if nested else "of ") + f"object {number}" if several or nested else ""
        )
        for key in _OUTCOME_KEYS:
            if key in obj:
                words.append((_word(obj[key]), f"`{key}` {place}".strip()))
        for key, (yes, no) in _YES_NO_KEYS.items():
            if isinstance(obj.get(key), bool):
                value = str(obj[key]).lower()
                words.append((yes if obj[key] else no, f"`{key}: {value}` {place}".strip()))
    # Decoded strings joined by a NUL, which no pattern crosses: `\u0046AIL`, `\noutcome: FAIL`.
    for text in (answer, "\x00".join(_strings(objects))):
        lowered = text.lower()
        for word, pattern in _PROSE_VERDICTS:
            match = pattern.search(lowered)
            if match is not None:
                said = text[match.start() : match.end()] if len(text) == len(lowered) else ""
                words.append((word, f"the text {said or match.group(0)!r:.40}"))
    return words


def _strings(objects: list[JsonObject]):
    pending: list[object] = list(objects)
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)


def _word(value: object) -> str:
    # Only ASCII is upper-cased: "paſſ".upper() == "PASS", and no look-alike passes a part.
    if isinstance(value, str):
        word = value.strip()
        return word.upper() if word.isascii() else repr(word)
    return json.dumps(value)[:40]


def _disagreement(objects: list[dict], candidates: list[dict]) -> str:
    """What the answer's objects disagree on beyond the verdict word; empty when nothing."""
    lists: dict[str, str] = {}
    for obj in objects:
        for key in _DEFECT_LIST_KEYS:
            if key not in obj:
                continue
            value = obj[key]
            if not isinstance(value, list):
                return f"`{key}` is {json.dumps(value)[:40]}, not a list"
            lists.setdefault(json.dumps(value, sort_keys=True), key)
    if len(lists) > 1:
        return "its objects list different defects"
    given = [o["confidence"] for o in candidates if "confidence" in o]
    if len({json.dumps(v) if _confidence(v) is None else _confidence(v) for v in given}) > 1:
        return "its objects give different confidences"
    return ""


def _reason(obj: dict) -> str:
    return str(obj.get("reason") or obj.get("explanation") or "").strip()


def _clip(value: float, low: float, high: float) -> float:
    return min(max(value, low), high)
