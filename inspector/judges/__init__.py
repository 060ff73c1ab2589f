"""Judges: the engines that turn a part's image into a verdict, and what they share.

The machinery sits here, one concept a module: `base` (what every engine is), `registry` (the one
door for engines, and the factory), `chain` (the fallback chain), `prompt`, `answers` (the one
parser of a model's answer), `structured` (the verdict's JSON schema), `privacy`, `failures`,
`breaker`, `keys`, `presets`, `remote` (what server engines share), `local_model` and `gpu`
(what in-process engines share), `golden` (the reference engine's variation model). Each
engine is one file under `engines/`.
"""

from __future__ import annotations

from inspector.judges.base import Judge
from inspector.judges.chain import JudgeChain
from inspector.judges.registry import ENGINES, build_chain, engine_class, make_judge, register

__all__ = [
    "ENGINES",
    "Judge",
    "JudgeChain",
    "build_chain",
    "engine_class",
    "make_judge",
    "register",
]
