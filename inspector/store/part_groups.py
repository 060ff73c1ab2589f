"""Which recorded inspections are one part, for the reads that count or show PARTS (the Pareto,
the Station's strip of the last failed parts).

The record has a row per inspection: a part seen by several cameras is several rows with one
part id (station/pipeline.py gives every view of a part the part's id, and the one record thread
writes them one after another). A part id alone is not enough: a folder that loops, a re-run of
the same board or a PLC counter that wraps gives the same id to another pass of the line. So a
part is:

- one part id,
- each camera's frame at most once: another frame of a camera already in the part (another
  sequence number) is the next pass; the same frame again is another view reading the same
  source (two views of one folder, as the demo does) and joins the part;
- captured within `PART_WINDOW` of the part's first view (the views of one trigger are taken
  within the station's sync window, well under a second);

and an inspection with no part id is a part of its own. Rows may come in either order (oldest
or newest first) and from several stations at once (one PostgreSQL): each part id has its own
open part, so interleaved rows of two stations do not split each other's parts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

PART_WINDOW = timedelta(seconds=60)
_PRUNE_EVERY = 10_000  # rows between sweeps of the parts no later row can join


@dataclass
class Part:
    """One part as grouped so far: its inspections and cameras, and what a reader keeps on it
    (the Pareto: the defect classes already counted for it)."""

    first_captured: datetime
    inspection_ids: list[int] = field(default_factory=list)
    frames: dict[str, int] = field(default_factory=dict)  # camera id -> its frame's sequence
    classes: set[str] = field(default_factory=set)


class PartGrouper:
    """Feed it inspections (several rows of one inspection in a row are one inspection); it
    says which `Part` each belongs to."""

    def __init__(self, window: timedelta = PART_WINDOW) -> None:
        self._window = window
        self._open: dict[str, Part] = {}
        self._last: tuple[int, Part] | None = None
        self._rows = 0

    def part_of(
        self,
        inspection_id: int,
        part_id: str | None,
        camera_id: str,
        sequence: int,
        captured_at: datetime,
    ) -> Part:
        if self._last is not None and self._last[0] == inspection_id:
            return self._last[1]  # another defect row of the same inspection
        self._rows += 1
        if self._rows % _PRUNE_EVERY == 0:
            self._prune(captured_at)
        if not part_id:
            part = Part(captured_at)
        else:
            part = self._open.get(part_id)
            if (
                part is None
                or part.frames.get(camera_id, sequence) != sequence
                or abs(captured_at - part.first_captured) > self._window
            ):
                part = self._open[part_id] = Part(captured_at)
        part.inspection_ids.append(inspection_id)
        part.frames[camera_id] = sequence
        self._last = (inspection_id, part)
        return part

    def _prune(self, now: datetime) -> None:
        """Forget the parts no later row can join (memory stays bounded over a year's rows)."""
        self._open = {
            key: part
            for key, part in self._open.items()
            if abs(now - part.first_captured) <= 2 * self._window
        }
