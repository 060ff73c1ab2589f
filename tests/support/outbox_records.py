"""Verdicts recorded as the station records them when outputs are configured: through the real
store, each with its outbox messages in the record's transaction (Publishing.outbox_for), then
the drains woken. For the publishing tests and the MQTT benchmark."""

from __future__ import annotations

import time

import numpy as np

from inspector.domain import Frame, utc_now
from inspector.recipes import parse_recipe
from inspector.station.inspection import Judged, View
from inspector.station.publishing import Publishing
from inspector.store import Store, Timings
from tests.support.records_data import RECIPE, verdict

_IMAGE = np.full((16, 16, 3), 90, np.uint8)


class Recorder:
    """Records numbered verdicts of one view into `store`, queued for `publishing`'s outputs."""

    def __init__(self, store: Store, publishing: Publishing, view: str = "camera") -> None:
        self.store = store
        self.publishing = publishing
        recipe = parse_recipe(RECIPE, "test")
        version_id = store.recipe_version_id(recipe, [])
        # The view's camera and chain are not needed to build its messages.
        self.view = View(view, None, recipe, version_id, None)  # type: ignore[arg-type]
        self.image = store.evidence.encode(_IMAGE)
        self.count = 0

    def record(self) -> int:
        self.count += 1
        number = self.count
        frame = Frame(
            _IMAGE, "cam-1", number, utc_now(), time.monotonic_ns(), part_id=f"P-{number:05d}"
        )
        now = time.monotonic_ns()
        judged = Judged(frame, verdict(number), now - 2_000_000, now, None)  # type: ignore[arg-type]
        inspection_id = self.store.record_inspection(
            frame,
            self.view.recipe_version_id,
            judged.verdict,
            self.image,
            Timings(queue_ms=0.5, judge_ms=2.0, total_ms=3.0),
            None,
            self.publishing.outbox_for(self.view, judged),
        )
        self.publishing.wake()
        return inspection_id
