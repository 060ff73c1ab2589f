"""Errors as an operator reads them: one plain sentence, the details one click away."""

from __future__ import annotations

import traceback

from PySide6.QtWidgets import QMessageBox, QWidget

from inspector.errors import InspectorError


def plain(exc: BaseException) -> str:
    if isinstance(exc, InspectorError):
        return str(exc)
    return f"Something went wrong: {type(exc).__name__}: {exc}"


def show_error(parent: QWidget | None, title: str, exc: BaseException) -> QMessageBox:
    box = QMessageBox(QMessageBox.Icon.Warning, title, plain(exc), parent=parent)
    box.setDetailedText("".join(traceback.format_exception(exc)))
    box.setModal(False)
    box.show()
    return box
