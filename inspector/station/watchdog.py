"""systemd's watchdog, fed by a running station: `READY=1` once it runs, `WATCHDOG=1` while it
is healthy, nothing once it is stuck or in FAULT, so systemd restarts it (installer/
inspector.service: `Type=notify`, `WatchdogSec=`).

The notify protocol (sd_notify(3)) is one datagram on the AF_UNIX socket named by
NOTIFY_SOCKET (a path, or `@name` in the abstract namespace); no library needed. Without
NOTIFY_SOCKET (any start not by systemd) nothing is sent and no thread runs. The feeding period
is half of WATCHDOG_USEC, which systemd sets from `WatchdogSec=`.

Healthy means: not in FAULT, and no part waiting longer than `stuck_after_s` for its record (a
frame seen and no part recorded since: a judge or a store that hangs). A camera that gives no
frame is not stuck (a triggered station waits for parts; a lost camera reconnects and says so).
INSPECTOR_STUCK_AFTER_S sets the limit (default 300 s, above a slow model's answer).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time

from inspector.station.events import FrameCaptured, PartInspected, StationEvent
from inspector.station.pipeline import Station

log = logging.getLogger(__name__)

DEFAULT_STUCK_AFTER_S = 300.0


class Notifier:
    """sd_notify: messages to the service manager's socket (none where it gave none)."""

    def __init__(self, address: str | None = None) -> None:
        self.address = address if address is not None else os.environ.get("NOTIFY_SOCKET", "")

    @property
    def enabled(self) -> bool:
        return self.address.startswith(("/", "@"))

    def send(self, *lines: str) -> bool:
        """One datagram of `KEY=value` lines; False where there is no manager to tell or the
        send failed (the station keeps running either way: systemd then restarts it)."""
        if not self.enabled:
            return False
        target = "\0" + self.address[1:] if self.address.startswith("@") else self.address
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as out:
                out.sendto("\n".join(lines).encode(), target)
        except OSError as exc:
            log.warning("could not notify the service manager at %s: %s", self.address, exc)
            return False
        return True


def watchdog_period_s() -> float | None:
    """How often to feed the watchdog (half its timeout), or None where none is armed for this
    process (WATCHDOG_PID, where set, names the process the manager watches)."""
    try:
        usec = int(os.environ.get("WATCHDOG_USEC", "0"))
    except ValueError:
        return None
    pid = os.environ.get("WATCHDOG_PID")
    if usec <= 0 or (pid and pid != str(os.getpid())):
        return None
    return usec / 2e6


def stuck_after_s() -> float:
    try:
        value = float(os.environ.get("INSPECTOR_STUCK_AFTER_S", DEFAULT_STUCK_AFTER_S))
    except ValueError:
        return DEFAULT_STUCK_AFTER_S
    return value if value > 0 else DEFAULT_STUCK_AFTER_S


class Watchdog:
    """Feeds the watchdog while `station` is healthy; `start` after the station started, `stop`
    once it has stopped."""

    def __init__(
        self,
        station: Station,
        notifier: Notifier | None = None,
        period_s: float | None = None,
        stuck_s: float | None = None,
    ) -> None:
        self.station = station
        self.notifier = notifier or Notifier()
        self.period_s = period_s if period_s is not None else watchdog_period_s()
        self.stuck_s = stuck_s if stuck_s is not None else stuck_after_s()
        self._lock = threading.Lock()
        self._waiting_since: float | None = None  # the first frame seen since the last part
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self.said: str | None = None  # the last STATUS sent

    def on_event(self, event: StationEvent) -> None:
        """The station's listener: which frames wait for a record."""
        with self._lock:
            if isinstance(event, PartInspected):
                self._waiting_since = None
            elif isinstance(event, FrameCaptured) and self._waiting_since is None:
                self._waiting_since = time.monotonic()

    def problem(self) -> str | None:
        """Why the station is not healthy, or None."""
        if self.station.fault is not None:
            return f"FAULT: {self.station.fault}"
        with self._lock:
            since = self._waiting_since
        if since is not None and time.monotonic() - since > self.stuck_s:
            return (
                f"stuck: a part has waited more than {self.stuck_s:g} s for its record "
                "(INSPECTOR_STUCK_AFTER_S)"
            )
        return None

    def start(self) -> Watchdog:
        if not self.notifier.enabled:
            return self
        self.station.subscribe(self.on_event)
        self._status("running")
        self.notifier.send("READY=1", f"STATUS={self.said}")
        if self.period_s:
            self._thread = threading.Thread(target=self._feed, name="watchdog", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """After the station stopped: why, where it was a FAULT (the process then exits 4 and
        systemd restarts it), and STOPPING=1."""
        self._stopped.set()
        if self._thread is not None:
            self._thread.join()
        if not self.notifier.enabled:
            return
        if self.station.fault is not None and not (self.said or "").startswith("FAULT"):
            self._status(f"FAULT: {self.station.fault}")
            self.notifier.send(f"STATUS={self.said}")
        self.notifier.send("STOPPING=1")

    def _feed(self) -> None:
        while not self._stopped.wait(self.period_s):
            problem = self.problem()
            if problem is None:
                if self.said != "running":
                    self._status("running")
                    self.notifier.send(f"STATUS={self.said}")
                self.notifier.send("WATCHDOG=1")
            elif " ".join(problem.split()) != self.said:  # said once; the watchdog runs out
                log.error("the station is not healthy, systemd's watchdog is not fed: %s", problem)
                self._status(problem)
                self.notifier.send(f"STATUS={problem}")

    def _status(self, text: str) -> None:
        self.said = " ".join(text.split())  # one line: the protocol's fields end at a newline
