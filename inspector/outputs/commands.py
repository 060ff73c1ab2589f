"""Commands from the line's systems (MQTT today): trigger, start, stop, select a recipe.

A command is JSON: `{"command": "trigger" | "start" | "stop" | "recipe", "recipe": NAME
(for "recipe"), "id": ANY (echoed in the reply)}`. `parse_command` turns a payload into a
`Command` or raises `MalformedCommand` saying what is wrong; the station decides what a command
does (`CommandHandler`), and its answer or refusal goes back to the sender.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from inspector.outputs.base import OutputError

COMMANDS = ("trigger", "start", "stop", "recipe")


class MalformedCommand(OutputError):
    """A command message that is not one of COMMANDS as JSON; the message says what is wrong."""


class CommandRefused(OutputError):
    """A well-formed command the station will not carry out; the message says why."""


@dataclass(frozen=True)
class Command:
    name: str
    recipe: str | None = None
    id: Any = None  # the sender's correlation id, echoed in the reply


# Carries out a command and returns what to tell the sender; raises CommandRefused.
CommandHandler = Callable[[Command], str]


def parse_command(payload: bytes) -> Command:
    try:
        data = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedCommand(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise MalformedCommand('expected a JSON object such as {"command": "trigger"}')
    name = data.get("command")
    if name not in COMMANDS:
        raise MalformedCommand(f"unknown command {name!r}; expected one of {', '.join(COMMANDS)}")
    recipe = data.get("recipe")
    if name == "recipe" and (not isinstance(recipe, str) or not recipe.strip()):
        raise MalformedCommand(
            '"recipe" needs the recipe to select: {"command": "recipe", "recipe": "NAME"}'
        )
    unknown = set(data) - {"command", "recipe", "id"}
    if unknown:
        raise MalformedCommand(f"unknown field(s) {', '.join(sorted(unknown))}")
    return Command(name, recipe if name == "recipe" else None, data.get("id"))


def no_commands(command: Command) -> str:
    """The handler of a publisher nobody gave one: every command is refused."""
    raise CommandRefused(f"this station does not take {command.name!r} commands")
