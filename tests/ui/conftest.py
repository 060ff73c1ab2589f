"""The window's tests need Qt (PySide6) and pytest-qt. Without them (CI's run without Qt, a
core-only install) every test module here is skipped, saying what is missing, before it is
imported. Nothing outside inspector/ui/ imports Qt, so the rest of the suite runs either way.

A conftest cannot skip itself (pytest reports that as an error, not a skip), so it hands pytest
a module that skips when collected instead of the real one.
"""

from __future__ import annotations

import importlib.util
import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # no display on CI

MISSING = [
    what
    for module, what in (("PySide6", "Qt (PySide6, the `ui` extra)"), ("pytestqt", "pytest-qt"))
    if importlib.util.find_spec(module) is None
]


class _SkippedModule(pytest.Module):
    def collect(self):
        pytest.skip(f"{' and '.join(MISSING)} not installed", allow_module_level=True)


if MISSING:

    def pytest_pycollect_makemodule(module_path, parent):
        return _SkippedModule.from_parent(parent, path=module_path)


@pytest.fixture(autouse=True)
def _qt_garbage_dies_on_the_gui_thread():
    """After each window test (its widgets closed by pytest-qt), collect its cyclic garbage here,
    on the GUI thread, so no later worker thread (a model load that calls gc.collect) destroys a
    Qt object (see inspector/ui/gui_thread_gc.py)."""
    yield
    import gc

    gc.collect()
