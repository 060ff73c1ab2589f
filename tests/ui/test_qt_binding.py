"""The Qt binding keeps None's reference count: PySide6 6.12.0 drops one on every void call,
which under Python 3.11 (None not yet immortal) kills a long-running window with "Fatal Python
error: none_dealloc". pyproject.toml keeps that release off Python 3.11; this proves the
binding installed here is sound, and the doctor's probe agrees."""

from __future__ import annotations

import os
import sys

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PySide6")

from PySide6.QtWidgets import QLabel

from inspector.station.doctor import qt_binding_fault
from inspector.ui.app import application


def test_label_updates_keep_nones_reference_count(qtbot):
    application()
    label = QLabel()
    qtbot.addWidget(label)
    before = sys.getrefcount(None)
    for number in range(5000):
        label.setText(f"part {number}")
        label.setStyleSheet("color:#fff;")
    change = sys.getrefcount(None) - before
    # Other threads hold and drop None too; a leaking binding loses 10,000 here.
    assert change > -500, f"None's reference count fell by {-change} in 10,000 Qt calls"


def test_the_doctors_probe_finds_nothing_wrong_with_this_binding():
    assert qt_binding_fault() is None
