"""Contradictory and hostile model answers, generated: none of them may ever read as PASS.

`hostile(choose)` builds one answer: a family of contradiction (a duplicate key, objects that
disagree, a nested verdict, `defects` of the wrong type ...) dressed in what honest answers wear
(fences, prose, thinking blocks, indentation, key spellings the parser folds together).
`clean_pass(choose)` dresses an honest PASS the same way: it must read as PASS, so the hostile
corpus's UNSURE is owed to the contradiction, not to the dress.

`choose(options)` makes every choice: hypothesis draws them in the property tests (a failure
shrinks to a small answer), a seeded `random.Random` in the 10,000-answer corpus.

Answers are written by hand (`Obj` keeps key order and duplicates, which a dict cannot).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

Choose = Callable[[Sequence[Any]], Any]

NOT_PASS = ("FAIL", "fail", "Fail", " FAIL ", "UNSURE", "unsure", "Unsure\n")
PASS_WORDS = ("PASS", "pass", "Pass", " PASS ", "PASS\n")
# Defects a PASS may not carry under the tests' recipe: major, critical, unknown class.
FAILING_DEFECTS = (
    {"class": "dent"},
    {"class": "scratch", "box": [10, 20, 300, 400], "confidence": 0.9},
    "dent",
    "Scratch",
    {"label": "crack"},
    {"name": "dent", "bbox_2d": [1, 2, 30, 40]},
    {"class": "burr", "confidence": 0.95},
)
WRONG_DEFECTS = ({}, False, 0, None, True, 1.5, "none", "[]", "", {"class": "dent"}, {"0": "dent"})
PROSE = (
    "",
    "The bracket was inspected.",
    "Here is my answer:",
    "Looking at the image carefully.",
    "I compared it with the reference images.",
    "Note: lighting is even.",
)
FAMILIES = (
    "duplicate-outcome",
    "duplicate-defects",
    "objects-disagree",
    "keys-disagree",
    "nested-verdict",
    "nested-defects",
    "defects-wrong-type",
    "pass-with-defects",
    "prose-verdict",
    "yes-no-key",
    "other-defect-key",
    "truncated-second",
    "python-dict",
    "quoted-in-reason",
    "escaped-word",
    "list-of-verdicts",
    "confidences-disagree",
    "look-alike",
    "too-deep",
    "brace-flood",
)


class Obj(list):
    """A JSON object as (key, value) pairs: order and duplicate keys as written."""


def dump(value: Any, choose: Choose, indent: int = 0) -> str:
    if isinstance(value, Obj):
        spacing = choose(["", " ", "\n" + " " * (indent + 2)])
        items = [f"{spacing}{_key(k, choose)}: {dump(v, choose, indent + 2)}" for k, v in value]
        return "{" + ",".join(items) + choose(["", " ", "\n"]) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(dump(v, choose, indent + 2) for v in value) + "]"
    if isinstance(value, dict):
        return dump(Obj(value.items()), choose, indent)
    return json.dumps(value)


def _key(name: str, choose: Choose) -> str:
    """A spelling of the key that the parser reads as `name` (case, spaces, a \\u escape)."""
    spelled = choose([name, name, name.upper(), name.capitalize(), f" {name}", f"{name} "])
    if choose([False, False, True]):
        return '"' + f"\\u{ord(spelled[0]):04x}" + json.dumps(spelled)[2:]
    return json.dumps(spelled)


def _outcome_key(choose: Choose) -> str:
    return choose(["outcome", "outcome", "verdict", "result"])


def _pass(choose: Choose, **extra: Any) -> Obj:
    obj = Obj([(_outcome_key(choose), choose(PASS_WORDS))])
    if choose([True, False]):
        obj.append(("defects", []))
    if choose([True, False]):
        obj.append(("confidence", choose([0.9, 0.95, "95%", 1])))
    if choose([True, False]):
        obj.append(("reason", choose(["clean", "no defects seen", "the part looks good"])))
    obj.extend(extra.items())
    return obj


def _not_pass(choose: Choose) -> Obj:
    obj = Obj([(_outcome_key(choose), choose(NOT_PASS))])
    if choose([True, False]):
        obj.append(("defects", [choose(FAILING_DEFECTS)]))
    return obj


def _shuffled(items: list, choose: Choose) -> list:
    return items if choose([True, False]) else list(reversed(items))


def _body(family: str, choose: Choose) -> list[str]:
    """The answer's parts for one family, each a piece of JSON or text."""
    if family == "duplicate-outcome":
        key = _outcome_key(choose)
        pairs = _shuffled([(key, choose(NOT_PASS)), (key, choose(PASS_WORDS))], choose)
        return [dump(Obj([*pairs, ("defects", [])]), choose)]
    if family == "duplicate-defects":
        pairs = _shuffled([("defects", [choose(FAILING_DEFECTS)]), ("defects", [])], choose)
        return [dump(Obj([(_outcome_key(choose), choose(PASS_WORDS)), *pairs]), choose)]
    if family == "objects-disagree":
        return [dump(o, choose) for o in _shuffled([_pass(choose), _not_pass(choose)], choose)]
    if family == "keys-disagree":
        other = choose([k for k in ("outcome", "verdict", "result")])
        first = _outcome_key(choose)
        if other == first:
            other = "verdict" if first == "outcome" else "outcome"
        pairs = _shuffled([(first, choose(PASS_WORDS)), (other, choose(NOT_PASS))], choose)
        return [dump(Obj([*pairs, ("defects", [])]), choose)]
    if family == "nested-verdict":
        inner: Any = _not_pass(choose)
        for _ in range(choose([1, 2, 3])):
            inner = choose([Obj([("details", inner)]), [inner], Obj([("notes", [inner])])])
        key = choose(["details", "analysis", "previous", "x"])
        return [dump(_pass(choose, **{key: inner}), choose)]
    if family == "nested-defects":
        inner = Obj([("outcome", choose(PASS_WORDS)), ("defects", [choose(FAILING_DEFECTS)])])
        return [dump(Obj([("outcome", "PASS"), ("defects", []), ("details", inner)]), choose)]
    if family == "defects-wrong-type":
        obj = Obj([(_outcome_key(choose), choose(PASS_WORDS)), ("defects", choose(WRONG_DEFECTS))])
        return [dump(obj, choose)]
    if family == "pass-with-defects":
        defects = [choose(FAILING_DEFECTS) for _ in range(choose([1, 2, 3]))]
        return [
            dump(Obj([(_outcome_key(choose), choose(PASS_WORDS)), ("defects", defects)]), choose)
        ]
    if family == "prose-verdict":
        said = choose(["Verdict: FAIL", "Result = failed", "outcome: 'FAIL'", "VERDICT : Unsure"])
        return _shuffled([said + ".", dump(_pass(choose), choose)], choose)
    if family == "yes-no-key":
        key, value = choose(
            [
                *[("passed", False), ("pass", False), ("ok", False), ("defective", True)],
                *[("has_defects", True), ("is_defective", True), ("rejected", True)],
            ]
        )
        return [dump(_pass(choose, **{key: value}), choose)]
    if family == "other-defect-key":
        key = choose(["issues", "findings", "anomalies", "defect_list"])
        return [dump(_pass(choose, defects=[], **{key: [choose(FAILING_DEFECTS)]}), choose)]
    if family == "truncated-second":  # a second verdict the model never finished
        word = choose(NOT_PASS).strip()
        cut = choose(["", ', "defects": [', ', "defects": [{"class": "dent"'])
        truncated = f'{{"{_outcome_key(choose)}": "{word}"{cut}'
        return _shuffled([dump(_pass(choose), choose), truncated], choose)
    if family == "python-dict":
        said = choose(["{'outcome': 'FAIL'}", "{'verdict': 'fail', 'defects': ['dent']}"])
        return _shuffled([dump(_pass(choose), choose), said], choose)
    if family == "quoted-in-reason":
        quoted = choose(['{"outcome": "FAIL"}', "verdict: fail", "\nresult: FAIL"])
        return [dump(_pass(choose, reason=f"an earlier check said {quoted}"), choose)]
    if family == "escaped-word":
        text = dump(_pass(choose, defects=[]), choose)
        return [text, '{"outcome": "\\u0046AIL", "defects": ["dent"]}']
    if family == "list-of-verdicts":
        items = _shuffled([_pass(choose), _not_pass(choose)], choose)
        return [dump(items, choose)]
    if family == "confidences-disagree":
        low = choose([0.1, "10%", 0.3])
        objs = _shuffled([_pass(choose), Obj([("outcome", "PASS"), ("confidence", low)])], choose)
        return [dump(o, choose) for o in objs]
    if family == "look-alike":
        word = choose(["paſſ", "ＰＡＳＳ", "PASS.", "PAS S", "P\u0410SS", "PASSED", "OK", "true"])
        return [dump(Obj([(_outcome_key(choose), word), ("defects", [])]), choose)]
    if family == "too-deep":
        depth = choose([1100, 1500, 3000])
        return ['{"a": ' * depth + dump(_pass(choose), choose) + "}" * depth]
    if family == "brace-flood":
        return [dump(_pass(choose), choose), "{" * choose([20_001, 30_000])]
    raise ValueError(family)


def _dress(parts: list[str], choose: Choose) -> str:
    """The parts with what honest answers wear around them (none of it says a verdict)."""
    pieces = []
    for part in parts:
        fenced = part.startswith(("{", "[")) and choose([False, True])
        pieces.append(f"```{choose(['json', 'JSON', ''])}\n{part}\n```" if fenced else part)
        pieces.append(choose(PROSE))
    text = choose(["\n", " ", "\n\n"]).join([choose(PROSE), *pieces])
    thought = choose(["", '<think>hmm, a scratch? {"outcome": "FAIL"} no.</think>\n'])
    return thought + choose(["", "◁think▷looking◁/think▷"]) + text


def hostile(choose: Choose) -> tuple[str, str]:
    """(family, answer): an answer that contradicts itself or attacks the parser."""
    family = choose(FAMILIES)
    return family, _dress(_body(family, choose), choose)


def clean_pass(choose: Choose) -> str:
    """An honest PASS, dressed like the hostile answers: it must read as PASS."""
    return _dress([dump(_pass(choose), choose)], choose)
