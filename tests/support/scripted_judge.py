"""A judge engine that answers from a script, for testing the station, the store and the CLI.

It goes through the real registry and the real base class (prompt, parser, attempt record);
only the model is replaced. Engines themselves are tested against tiny real models.
"""

from __future__ import annotations

import itertools
import threading
import time
from typing import Literal

from inspector.judges import register
from inspector.judges.answers import BoxConvention
from inspector.judges.judge import EngineSettings, Generation, Judge
from inspector.judges.measured import TokenLogprob
from inspector.judges.prompt import Prompt

PASS_ANSWER = '{"outcome": "PASS", "defects": [], "confidence": 0.95, "reason": "clean"}'
FAIL_ANSWER = (
    '{"outcome": "FAIL", "defects": [{"class": "scratch", "box": [100, 100, 200, 200], '
    '"confidence": 0.9}], "confidence": 0.9, "reason": "a scratch"}'
)


class ScriptedSettings(EngineSettings):
    engine: Literal["scripted"] = "scripted"
    model: str = "script"
    answers: tuple[str, ...] = (PASS_ANSWER,)
    delay_s: float = 0.0
    fail_every: int = 0  # raise on every n-th call (0: never)
    # Log-probability of each character of the answer, as an engine exposing token
    # probabilities gives them (one token per character); None: the engine exposes none.
    token_logprob: float | None = None


class ScriptedJudge(Judge):
    engine = "scripted"
    samples_vary = True  # its script gives the next answer, whatever the temperature
    Settings = ScriptedSettings
    settings: ScriptedSettings

    def __init__(self, settings, recipe) -> None:
        super().__init__(settings, recipe)
        self._answers = itertools.cycle(settings.answers)
        self.calls = 0
        self.temperatures: list[float | None] = []  # each call's, as the prompt asked
        self.gate: threading.Event | None = None  # a test may hold the judge mid-call

    def _generate(self, prompt: Prompt, convention: BoxConvention) -> Generation:
        self.calls += 1
        self.temperatures.append(prompt.temperature)
        if self.gate is not None:
            self.gate.wait(10)
        if self.settings.delay_s:
            time.sleep(self.settings.delay_s)
        if self.settings.fail_every and self.calls % self.settings.fail_every == 0:
            raise RuntimeError("scripted model crash")
        text = next(self._answers)
        tokens = None
        if self.settings.token_logprob is not None:
            logprob = self.settings.token_logprob
            tokens = tuple(TokenLogprob(c.encode(), logprob) for c in text)
        return Generation(text=text, prompt_tokens=10, completion_tokens=5, token_logprobs=tokens)


register("scripted", "tests.support.scripted_judge:ScriptedJudge")


def run_scripted(*args: str, data_dir, timeout: float = 120):
    """`inspector ARGS` in a process of its own with the scripted engine registered (a recipe
    names it as `engine: scripted`); stdout and stderr captured as text."""
    from tests.support import command_line

    code = (
        "import sys\n"
        "import tests.support.scripted_judge\n"
        "from inspector.cli import main\n"
        f"sys.exit(main({list(args)!r}))\n"
    )
    return command_line.python(code, data_dir=data_dir, timeout=timeout)
