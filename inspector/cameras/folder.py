"""`folder:DIR[?loop=1&fps=N]`: the images of a folder in name order, each one a part.

Every file is a part, readable or not: a file that cannot be read (empty, cut short, not an
image) becomes a frame that says why (`Frame.unreadable`), over a placeholder image, and the
station records it UNSURE without a judge; the folder goes on. Part ids come from file names
as valid text whatever their bytes (`\\xff` for a byte that is not UTF-8).

Looping, a pass that found nothing readable waits before the next (0.25 s, doubling up to 4 s,
one event per wait) instead of replaying unreadable files as fast as they fail.
"""

from __future__ import annotations

import threading
from pathlib import Path

from inspector.cameras.base import (
    Backoff,
    EventSink,
    FrameNumbering,
    Pacer,
    SourceEvent,
    SourceState,
)
from inspector.cameras.images import (
    UnreadableImage,
    display_name,
    part_id_for,
    read_picture,
    unreadable_placeholder,
)
from inspector.domain import Frame
from inspector.errors import InputError

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".pgm"})
# Between passes of a looping folder where nothing was readable.
IDLE_BACKOFF = Backoff(first_s=0.25, cap_s=4.0)
_SIZE_PROBES = 8  # files tried for the folder's image size


class FolderSource:
    live = False

    def __init__(
        self,
        uri: str,
        folder: Path,
        on_event: EventSink,
        loop: bool = False,
        fps: float = 0.0,
        backoff: Backoff = IDLE_BACKOFF,
    ) -> None:
        if not folder.is_dir():
            raise InputError(f"source {uri}: no folder at {folder}")
        self.uri = uri
        self.camera_id = uri
        self._folder = folder
        self._paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not self._paths:
            kinds = ", ".join(sorted(IMAGE_SUFFIXES))
            raise InputError(f"source {uri}: no images in {folder} (looked for {kinds})")
        self._on_event = on_event
        self._loop = loop
        self._closed = threading.Event()
        self._pacer = Pacer(fps, self._closed)
        self._numbering = FrameNumbering(self.camera_id)
        self._backoff = backoff
        self._index = 0
        self._readable_this_pass = False
        self._idle_passes = 0  # passes in a row with nothing readable

    def read(self) -> Frame | None:
        if self._index >= len(self._paths):
            if not self._loop:
                self._on_event(SourceEvent(self.uri, SourceState.ENDED, "end of folder"))
                return None
            self._next_pass()
        if self._closed.is_set():
            return None
        path = self._paths[self._index]
        self._index += 1
        frame = self._read(path)
        self._pacer.wait()
        return None if self._closed.is_set() else frame

    def close(self) -> None:
        self._closed.set()

    def image_size(self) -> tuple[int, int, str] | None:
        """Width, height and name of the folder's first readable image (of the first few), for
        checking a recipe against it before the first part; None if none of them is readable."""
        for path in self._paths[:_SIZE_PROBES]:
            try:
                image = read_picture(path).view
            except UnreadableImage:
                continue
            return image.shape[1], image.shape[0], display_name(path)
        return None

    def _read(self, path: Path) -> Frame:
        part_id = part_id_for(path)
        try:
            picture = read_picture(path)
        except UnreadableImage as exc:
            why = f"{display_name(path.name)}: {exc}"
            return self._numbering.frame(unreadable_placeholder(), part_id, unreadable=why)
        self._readable_this_pass = True
        return self._numbering.frame(picture.view, part_id, native=picture.native)

    def _next_pass(self) -> None:
        """Back to the first file; after a pass with nothing readable, wait first."""
        self._idle_passes = 0 if self._readable_this_pass else self._idle_passes + 1
        self._readable_this_pass = False
        self._index = 0
        if self._idle_passes:
            delay = self._backoff.delay(self._idle_passes)
            message = (
                f"nothing readable in {display_name(self._folder)} "
                f"({len(self._paths)} files); looking again in {delay:g} s"
            )
            self._on_event(SourceEvent(self.uri, SourceState.SKIPPED, message, self._idle_passes))
            self._closed.wait(delay)
