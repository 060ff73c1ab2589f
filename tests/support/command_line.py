"""The `inspector` command as a user runs it, in a process of its own: the one CLI runner.

Invariants:
- the child's environment never carries the caller's INSPECTOR_* variables (a developer's
  INSPECTOR_DATABASE_URL must not send a test's records to their database); a test names
  what it wants (`data_dir`, `database_url`, `env`);
- no model hub is reached (HF_HUB_OFFLINE=1);
- it runs from the repository root with this interpreter (`python -m inspector`), so the copy
  of `inspector` under test is the one that runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.paths import ROOT


def environment(
    data_dir: Path | str | None = None,
    database_url: str | None = None,
    env: dict[str, str | None] | None = None,
) -> dict[str, str]:
    """os.environ without any INSPECTOR_* variable, plus what the test names (`env`: a value
    of None removes the variable)."""
    result = {k: v for k, v in os.environ.items() if not k.startswith("INSPECTOR_")}
    result["HF_HUB_OFFLINE"] = "1"
    if data_dir is not None:
        result["INSPECTOR_DATA_DIR"] = str(data_dir)
    if database_url is not None:
        result["INSPECTOR_DATABASE_URL"] = database_url
    for name, value in (env or {}).items():
        if value is None:
            result.pop(name, None)
        else:
            result[name] = value
    return result


def inspector(
    *args: str,
    data_dir: Path | str | None = None,
    database_url: str | None = None,
    env: dict[str, str | None] | None = None,
    timeout: float = 180,
    input: str | None = None,
    **popen,
) -> subprocess.CompletedProcess:
    """Run `inspector ARGS` to the end; stdout and stderr captured as text. Without `input`,
    stdin is empty (a prompt for a password fails at once instead of waiting)."""
    return subprocess.run(
        [sys.executable, "-m", "inspector", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=environment(data_dir, database_url, env),
        cwd=ROOT,
        input=input,
        stdin=None if input is not None else subprocess.DEVNULL,
        **popen,
    )


def start(
    *args: str,
    data_dir: Path | str | None = None,
    database_url: str | None = None,
    env: dict[str, str | None] | None = None,
    **popen,
) -> subprocess.Popen:
    """Start `inspector ARGS` and return at once (to read its output live, or signal it);
    stdout and stderr are text pipes unless the test says otherwise."""
    options = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True, **popen}
    return subprocess.Popen(
        [sys.executable, "-m", "inspector", *args],
        stdin=subprocess.DEVNULL,
        env=environment(data_dir, database_url, env),
        cwd=ROOT,
        **options,
    )


def python(
    code: str,
    data_dir: Path | str | None = None,
    env: dict[str, str | None] | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess:
    """Run `python -c CODE` in the same environment as the command (e.g. to call
    `inspector.cli.main` and look at what it imported)."""
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=environment(data_dir, None, env),
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
    )
