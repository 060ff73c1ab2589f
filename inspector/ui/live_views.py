"""The cameras' live images: one image, or several views side by side, each with its name and
its last outcome. The station view decides what to show; this only lays it out."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from inspector.domain import Outcome
from inspector.ui.image_view import ImageView, Overlay

# The live area's minimum width, shared by its views (each at least VIEW_MIN_PX): two or three
# cameras side by side still leave the panel its width on a 1024 x 768 panel PC.
LIVE_MIN_PX = 320
VIEW_MIN_PX = 100

CAPTION_COLOURS = {
    Outcome.PASS: "#1f8f3a",
    Outcome.FAIL: "#c62828",
    Outcome.UNSURE: "#e0a800",
    Outcome.UNJUDGED: "#3a3f47",
    None: "#3a3f47",
}


class LiveViews(QWidget):
    def __init__(self, placeholder: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._placeholder = placeholder
        self._row = QHBoxLayout(self)
        self._row.setContentsMargins(0, 0, 0, 0)
        self.images: dict[str, ImageView] = {}
        self.captions: dict[str, QLabel] = {}
        self.set_views([""])

    def set_views(self, names: Sequence[str]) -> None:
        """One image per view; a single view shows no caption (it is the camera)."""
        if list(self.images) == list(names):
            return
        while self._row.count():
            self._row.takeAt(0).widget().deleteLater()
        self.images, self.captions = {}, {}
        for name in names:
            column = QWidget()
            layout = QVBoxLayout(column)
            layout.setContentsMargins(0, 0, 0, 0)
            if len(names) > 1:
                caption = QLabel(name)
                caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
                caption.setStyleSheet(f"background:{CAPTION_COLOURS[None]}; color:white;")
                layout.addWidget(caption)
                self.captions[name] = caption
            image = ImageView(placeholder=self._placeholder)
            image.setMinimumWidth(max(VIEW_MIN_PX, LIVE_MIN_PX // len(names)))
            layout.addWidget(image, 1)
            self.images[name] = image
            self._row.addWidget(column, 1)

    @property
    def first(self) -> ImageView:
        return next(iter(self.images.values()))

    def show_image(self, name: str, image: np.ndarray, overlay: Overlay) -> None:
        view = self.images.get(name)
        if view is not None:
            view.set_image(image, overlay)

    def set_outcome(self, name: str, outcome: Outcome | None, text: str) -> None:
        caption = self.captions.get(name)
        if caption is not None:
            caption.setText(f"{name}: {text}")
            colour = CAPTION_COLOURS[outcome]
            caption.setStyleSheet(f"background:{colour}; color:white; font-weight:bold;")
