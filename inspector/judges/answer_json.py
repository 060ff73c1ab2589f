"""The JSON objects in a model's answer, found in time linear in the answer's length.

A model's answer is untrusted text: prose, fences, several objects, objects nested in objects,
duplicate keys, megabytes of braces. `scan_objects` finds the balanced `{...}` spans in one
pass (string-aware inside braces, jumping between the characters that matter with C-speed
searches, never re-reading what it has passed), decodes each candidate span once (and once more
without trailing commas), and descends into a span that does not decode to find the objects
inside it. Every decoded object's keys are normalised (stripped, case-folded) so that
`"Outcome"` and `"outcome"` are the same key, and a key given twice in one object is reported,
never silently resolved. What it could not read (more tokens than a verdict needs, more
nesting than the budget allows) is reported too: the caller then trusts none of it.

Nothing here decides a verdict: inspector.judges.answers does, from what this finds.
"""

from __future__ import annotations

import json
import re
from collections import deque
from dataclasses import dataclass, field
from functools import partial

# Braces plus strings inside braces. A verdict with 20 boxed defects holds about 130, one with
# 100 about 600: past this many, the text is not an answer to read but a load to refuse (which
# keeps a megabyte of `{`, `"` or objects about as fast to read as a few kilobytes).
MAX_TOKENS = 4_000
# Objects inside objects: a verdict needs 3 (answer, defect, box as an object). Deeper is refused
# here, the same on every machine, rather than wherever the JSON decoder's recursion ends.
MAX_DEPTH = 64

_SIGNIFICANT = re.compile(r'[{}"]')
# The rest of a JSON string after its opening quote, to its closing quote (unrolled: linear,
# no backtracking); no match means the string runs to the end of the text.
_STRING_REST = re.compile(r'[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_TRAILING_COMMA = re.compile(r",\s*([}\]])")


class JsonObject(dict):
    """A decoded JSON object, its keys normalised (stripped, case-folded)."""


@dataclass
class Scan:
    objects: list[JsonObject] = field(default_factory=list)  # outermost decoded, in text order
    duplicates: list[str] = field(default_factory=list)  # keys given twice in one object
    unread: str = ""  # why part of the answer was not read; then nothing in it can be trusted


def normal_key(key: str) -> str:
    return key.strip().casefold()


def scan_objects(text: str) -> Scan:
    """Every outermost JSON object in the text, decoded, with what could not be read."""
    scan = Scan()
    pairs, unmatched, scan.unread = _balanced_spans(text)
    if scan.unread:
        return scan
    children: dict[int | None, list[tuple[int, int]]] = {}
    for start, end, parent in pairs:
        children.setdefault(parent, []).append((start, end))
    # Outermost: spans inside nothing, or inside a `{` that never closes (a stray brace in prose).
    queue = deque(sorted(s for p in (None, *unmatched) for s in children.get(p, [])))
    budget = 4 * len(text) + 4096  # characters decoded in all: descending stays linear
    found: list[tuple[int, JsonObject]] = []
    while queue:
        start, end = queue.popleft()
        budget -= end - start
        if budget < 0:
            scan.unread = "braces nested deeper than a verdict needs"
            return scan
        value = _decode(text[start:end], scan.duplicates)
        if value is None:  # not JSON: the objects inside it may be
            queue.extend(sorted(children.get(start, [])))
        else:
            found.append((start, value))
    scan.objects = [value for _, value in sorted(found, key=lambda item: item[0])]
    return scan


def _balanced_spans(text: str) -> tuple[list[tuple[int, int, int | None]], set[int], str]:
    """(start, end, enclosing start) of every balanced brace pair; the `{` left open; overflow.

    Outside braces, quotes are prose and ignored; inside, a string's braces do not count.
    """
    pairs: list[tuple[int, int, int | None]] = []
    stack: list[int] = []
    tokens = 0
    position = 0
    while True:
        if not stack:
            position = text.find("{", position)
            if position < 0:
                break
            stack.append(position)
            position += 1
            tokens += 1
            continue
        match = _SIGNIFICANT.search(text, position)
        if match is None:
            break
        tokens += 1
        if tokens > MAX_TOKENS:
            return pairs, set(stack), f"more than {MAX_TOKENS} braces and strings"
        char, index = match.group(), match.start()
        if char == "{":
            stack.append(index)
            position = index + 1
            if len(stack) > MAX_DEPTH:
                return pairs, set(stack), f"objects nested more than {MAX_DEPTH} deep"
        elif char == "}":
            opened = stack.pop()
            pairs.append((opened, index + 1, stack[-1] if stack else None))
            position = index + 1
        else:
            rest = _STRING_REST.match(text, index + 1)
            if rest is None:  # a string that never closes: nothing after it is structure
                break
            position = rest.end()
    return pairs, set(stack), ""


def _decode(span: str, duplicates: list[str]) -> JsonObject | None:
    """The span as one JSON object, or None; duplicate keys found in it are added."""
    for candidate in (span, None):
        seen: list[str] = []
        try:
            if candidate is None:  # models often write `[1, 2,]`: once more without those commas
                candidate = _TRAILING_COMMA.sub(r"\1", span)
                if candidate == span:
                    return None
            value = json.loads(candidate, object_pairs_hook=partial(_object, seen))
        except RecursionError:  # nesting deeper than the stack: no trailing comma explains it
            return None
        except ValueError:
            continue
        duplicates.extend(seen)
        return value if isinstance(value, JsonObject) else None
    return None


def _object(duplicates: list[str], pairs: list[tuple[str, object]]) -> JsonObject:
    obj = JsonObject()
    for key, value in pairs:
        name = normal_key(key)
        if name in obj:
            duplicates.append(name)
        obj[name] = value
    return obj
