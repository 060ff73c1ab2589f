"""Statistics and the Station's strip count PARTS, not inspections nor regions (issue 13): a part
seen by several cameras is several inspections with one part id, and a judge may split one
defect into several regions. Written through the real store (SQLite and PostgreSQL), as a
station records a part's views: one after another, one part id, one camera each."""

from __future__ import annotations

import time
from datetime import timedelta

import numpy as np

from inspector.domain import Box, Defect, Frame, Outcome, Severity, Verdict, utc_now
from inspector.recipes import parse_recipe
from inspector.store import InspectionFilter, Store, Timings
from inspector.store.part_groups import PartGrouper
from tests.support.records_data import PASSWORDS, RECIPE, make_users


class Line:
    """Records parts as the station does: each view of a part an inspection of its own."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.version = store.recipe_version_id(parse_recipe(RECIPE, "test"), [])
        self.number = 0
        self.frames: dict[str, int] = {}  # each camera numbers its own frames
        self.when = utc_now() - timedelta(hours=1)

    def part(self, part_id: str | None, *views: tuple[str, Outcome, list[str]]) -> list[int]:
        """`views`: (camera, outcome, defect classes, one per region); returns their ids."""
        self.when += timedelta(seconds=5)
        for camera in {camera for camera, _, _ in views}:  # two views of one source: one frame
            self.frames[camera] = self.frames.get(camera, 0) + 1
        ids = []
        for camera, outcome, classes in views:
            self.number += 1
            image = np.full((40, 60, 3), self.number % 250, np.uint8)
            sequence = self.frames[camera]
            frame = Frame(image, camera, sequence, self.when, time.monotonic_ns(), part_id)
            defects = tuple(
                Defect(name, Severity.MAJOR, Box(1 + i, 1, 10 + i, 10), 0.9)
                for i, name in enumerate(classes)
            )
            verdict = Verdict(outcome, "judged", defects, 0.9)
            encoded = self.store.evidence.encode(image)
            timings = Timings(queue_ms=1, judge_ms=10, total_ms=12)
            ids.append(self.store.record_inspection(frame, self.version, verdict, encoded, timings))
        return ids


FAIL, PASS, UNSURE = Outcome.FAIL, Outcome.PASS, Outcome.UNSURE


def test_the_pareto_counts_failed_parts_once_per_class(settings):
    with Store.open(settings) as store:
        line = Line(store)
        # Two cameras see one part; both find scratches (seven regions in all): one part.
        line.part("B-1", ("top", FAIL, ["scratch"] * 4), ("side", FAIL, ["scratch"] * 3))
        # One camera fails it, the other passes it: still one part, one scratch and one dent.
        line.part("B-2", ("top", FAIL, ["scratch", "dent", "dent"]), ("side", PASS, []))
        # The same id on a later pass of the line (a looped folder): another part.
        line.part("B-1", ("top", FAIL, ["scratch"]), ("side", PASS, []))
        # Two views reading one source (the demo's folder twice): one frame, one part.
        line.part("B-5", ("folder", FAIL, ["scratch"]), ("folder", FAIL, ["scratch", "dent"]))
        # No part id: each inspection is a part of its own.
        line.part(None, ("top", FAIL, ["dent"]))
        line.part(None, ("top", FAIL, ["dent", "dent"]))
        # Regions on a part that did not fail are not why a part was rejected.
        line.part("B-3", ("top", UNSURE, ["scratch"]), ("side", PASS, ["dent"]))
        [overridden, _] = line.part("B-4", ("top", FAIL, ["dent"]), ("side", PASS, []))
        people = make_users(store)
        store.override_verdict(
            people["olly"], PASSWORDS["olly"], overridden, "PASS", "dust", "reviewed"
        )

        assert store.defect_pareto(InspectionFilter()) == [("dent", 4), ("scratch", 4)]
        # Inspections and regions would say otherwise: this is what the fix is about.
        regions = store.page(InspectionFilter(outcomes=(FAIL,)), 100)
        assert sum(d.class_name == "scratch" for r in regions for d in r.defects) == 11
        assert sum("scratch" in r.defect_names for r in regions) == 6
        # The filter still narrows it (here: the recipe's name).
        assert store.defect_pareto(InspectionFilter(recipe="another")) == []


def test_the_last_failed_parts_are_one_entry_per_part_newest_first(settings):
    with Store.open(settings) as store:
        line = Line(store)
        assert store.last_failed_parts(8) == []
        first = line.part("A-1", ("top", FAIL, ["scratch"]))
        second = line.part("A-2", ("top", PASS, []), ("side", FAIL, ["dent"]))
        third = line.part("A-3", ("top", FAIL, ["dent"]), ("side", FAIL, ["scratch"]))
        line.part("A-4", ("top", PASS, []), ("side", PASS, []))
        fourth = line.part("A-1", ("top", FAIL, ["dent"]))  # the same id, a later pass

        shown = store.last_failed_parts(8)
        # Each part once, by its first failing view, newest part first.
        assert [r.id for r in shown] == [fourth[0], third[0], second[1], first[0]]
        assert [r.id for r in store.last_failed_parts(2)] == [fourth[0], third[0]]
        assert store.last_failed_parts(2)[0].evidence_path.is_file()


def test_parts_are_grouped_by_id_camera_and_time():
    now = utc_now()
    parts = PartGrouper()
    a = parts.part_of(1, "P", "top", 7, now)
    assert parts.part_of(1, "P", "top", 7, now) is a  # another region of the same inspection
    assert parts.part_of(2, "P", "side", 3, now + timedelta(seconds=1)) is a
    assert parts.part_of(3, "P", "side", 3, now) is a  # another view of the same source
    b = parts.part_of(4, "P", "top", 8, now + timedelta(seconds=2))  # the next pass
    assert b is not a and parts.part_of(5, "P", "side", 4, now) is b
    late = parts.part_of(7, "Q", "side", 1, now + timedelta(minutes=5))
    assert parts.part_of(6, "Q", "top", 1, now) is not late
    assert parts.part_of(8, None, "top", 9, now) is not parts.part_of(9, None, "side", 9, now)
