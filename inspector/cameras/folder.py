"""`folder:DIR[?loop=1&fps=N]`: the images of a folder in name order, each one a part."""

from __future__ import annotations

import threading
from pathlib import Path

from inspector.cameras.base import (
    EventSink,
    FrameNumbering,
    Pacer,
    SourceEvent,
    SourceState,
)
from inspector.cameras.images import UnreadableImage, read_image
from inspector.domain import Frame
from inspector.errors import InputError

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".pgm"})


class FolderSource:
    live = False

    def __init__(
        self, uri: str, folder: Path, on_event: EventSink, loop: bool = False, fps: float = 0.0
    ) -> None:
        if not folder.is_dir():
            raise InputError(f"source {uri}: no folder at {folder}")
        self.uri = uri
        self.camera_id = uri
        self._paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not self._paths:
            kinds = ", ".join(sorted(IMAGE_SUFFIXES))
            raise InputError(f"source {uri}: no images in {folder} (looked for {kinds})")
        self._on_event = on_event
        self._loop = loop
        self._closed = threading.Event()
        self._pacer = Pacer(fps, self._closed)
        self._numbering = FrameNumbering(self.camera_id)
        self._index = 0

    def read(self) -> Frame | None:
        while not self._closed.is_set():
            if self._index >= len(self._paths):
                if not self._loop:
                    self._on_event(SourceEvent(self.uri, SourceState.ENDED, "end of folder"))
                    return None
                self._index = 0
            path = self._paths[self._index]
            self._index += 1
            try:
                image = read_image(path)
            except UnreadableImage as exc:
                message = f"skipped {path.name}: {exc}"
                self._on_event(SourceEvent(self.uri, SourceState.SKIPPED, message))
                continue
            self._pacer.wait()
            return self._numbering.frame(image, part_id=path.stem)
        return None

    def close(self) -> None:
        self._closed.set()
