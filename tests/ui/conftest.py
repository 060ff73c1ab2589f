"""The window's tests need Qt (PySide6) and pytest-qt; without them (CI's run without Qt, a
core-only install) every test here is skipped, saying which is missing. Nothing outside
inspector/ui/ imports Qt, so the rest of the suite runs either way.
"""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # no display on CI
pytest.importorskip("PySide6", reason="Qt (PySide6) is not installed: pip install '.[ui]'")
pytest.importorskip("pytestqt", reason="pytest-qt is not installed: pip install '.[dev]'")
