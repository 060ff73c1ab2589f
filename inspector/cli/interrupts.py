"""Ctrl-C for the headless commands: the first stops after the part in progress, a second quits."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable

from inspector.escapes import visible


def say(message: str) -> None:
    print(f"inspector: {visible(message, keep_line_breaks=True)}", file=sys.stderr, flush=True)


def run_until_stopped(stop: Callable[[], None], done: threading.Event) -> None:
    """Wait for `done`; SIGINT or SIGTERM calls `stop` once, and a second one quits at once."""
    interrupts = 0

    def on_interrupt(signum, frame) -> None:
        nonlocal interrupts
        interrupts += 1
        if interrupts > 1:
            say("stopping now")
            raise KeyboardInterrupt
        say("stopping after the part in progress (Ctrl-C again to quit now)")
        stop()

    previous = signal.signal(signal.SIGINT, on_interrupt)
    previous_term = signal.signal(signal.SIGTERM, on_interrupt)
    try:
        while not done.wait(0.2):
            pass
    finally:
        signal.signal(signal.SIGINT, previous)
        signal.signal(signal.SIGTERM, previous_term)
