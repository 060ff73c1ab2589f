"""Judges: the engines that turn a part's image into a verdict, and the machinery they share.

The machinery sits at this level, one concept a module:
- `judge`: what every engine is (`Judge`, its settings, what it returns); the one method an
  engine implements, and everything it shares (prompt, privacy, schema, parsing, the record);
- `registry`: the one door for engines, built-in or third-party, and the factory from a recipe;
- `chain`: the fallback chain (timeouts, retries, circuit `breaker`, privacy, the screen);
- `prompt`: the one inspection prompt; `structured`: the verdict as a JSON schema;
- `answers`: the one parser of a model's answer into a verdict;
- `privacy`: what may leave the site; `keys`: API keys; `failures`: a failed call, retryable
  or not;
- `remote`: what server engines share (client, key, errors, usage and cost); `local_model` and
  `gpu`: what in-process engines share;
- `presets`: the models users name, with their prices; `golden`: the reference engine's
  variation model.
Each engine is one file under `engines/`, registered by one line in `registry.BUILT_IN`.
"""

from __future__ import annotations

from inspector.judges.chain import JudgeChain
from inspector.judges.judge import Judge
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
