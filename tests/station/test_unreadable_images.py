"""The station on the inputs a line gives on a bad day, with the real store (SQLite and
PostgreSQL), real folders and the scripted and reference judges through the registry:
unreadable files are UNSURE parts and the station goes on; 16-bit frames are judged by their
depth and kept at it."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
import pytest

import tests.support.scripted_judge  # noqa: F401  (registers the `scripted` engine)
from inspector.cameras import open_source
from inspector.cameras.base import FrameNumbering
from inspector.cameras.images import unreadable_placeholder
from inspector.cameras.pixels import to_frame_pixels
from inspector.domain import Outcome
from inspector.export.pdf_report import thumbnail
from inspector.judges import build_chain
from inspector.recipes import load_recipe
from inspector.station import InspectionRecorded, Station, TriggerPolicy, View
from inspector.station.inspection import inspect
from inspector.station.runner import prepare_judge
from inspector.store import Store
from tests.support.bad_images import (
    NON_UTF8_PART_ID,
    nearly_black_twins,
    part_image,
    write_bad_files,
    write_non_utf8_named,
)
from tests.support.recipes import recipe_file


def _run_folder(tmp_path, settings, folder, engines, **recipe_fields):
    prepared = prepare_judge(recipe_file(tmp_path, engines, **recipe_fields))
    recipe, chain = prepared.recipe, prepared.chain
    chain.load(None)
    store = Store.open(settings)
    version = store.recipe_version_id(recipe, prepared.references)
    events = []
    source = open_source(f"folder:{folder}", on_event=events.append)
    station = Station(
        [View("camera", source, recipe, version, chain)], store, TriggerPolicy.TRIGGERED
    )
    station.subscribe(events.append)
    station.start()
    assert station.wait(timeout=60)
    return station, store, [e for e in events if isinstance(e, InspectionRecorded)], chain


def test_unreadable_files_are_unsure_parts_and_the_folder_goes_on(tmp_path, settings):
    folder = tmp_path / "frames"
    folder.mkdir()
    cv2.imwrite(str(folder / "a-good.png"), part_image(0))
    reasons = write_bad_files(folder)
    write_non_utf8_named(folder, part_image(5))
    cv2.imwrite(str(folder / "z-good.png"), part_image(9))

    station, store, recorded, chain = _run_folder(
        tmp_path, settings, folder, [{"engine": "scripted"}]
    )

    # Every file is a part with a record; the judge saw only the readable ones.
    assert station.stats.recorded == 7 and station.stats.record_failures == 0
    assert chain.judges[0].calls == 3
    # Counted as what they were: 3 judged, 4 unreadable (UNSURE without a judge).
    assert (station.stats.judged, station.stats.unreadable) == (3, 4)
    by_part = {e.frame.part_id: e for e in recorded}
    assert list(by_part) == [
        "a-good",
        "b-empty",
        "c-cut",
        "d-cut",
        "e-text",
        NON_UTF8_PART_ID,
        "z-good",
    ]
    for name, words in reasons.items():
        verdict = by_part[name.rsplit(".", 1)[0]].verdict
        assert verdict.outcome is Outcome.UNSURE and not verdict.attempts
        assert verdict.reason.startswith(f"unreadable image: {name}: ") and words in verdict.reason
    for part in ("a-good", NON_UTF8_PART_ID, "z-good"):
        assert by_part[part].verdict.outcome is Outcome.PASS

    # The record holds the same, read back from the database, with an evidence image each.
    records = {r.part_id: r for r in store.history(limit=20)}
    assert set(records) == set(by_part)
    placeholder = unreadable_placeholder()
    for part_id, record in records.items():
        evidence = cv2.imread(str(record.evidence_path), cv2.IMREAD_UNCHANGED)
        assert evidence is not None, f"no evidence for {part_id}"
        if part_id in {"b-empty", "c-cut", "d-cut", "e-text"}:
            assert record.outcome is Outcome.UNSURE
            assert record.reason.startswith("unreadable image: ")
            assert record.attempts == ()
            assert evidence.shape == placeholder.shape  # the grey card, never a part's pixels
            assert np.abs(evidence.astype(int) - placeholder).mean() < 3  # JPEG, near enough
        else:
            assert record.outcome is Outcome.PASS and evidence.shape == (120, 160, 3)
    store.close()


@pytest.mark.parametrize("good_parts", ["recipe", "engine"])
def test_a_nearly_black_16_bit_frame_is_judged_like_its_8_bit_twin(
    tmp_path, sqlite_settings, good_parts
):
    good, dark8, dark16 = nearly_black_twins()
    folder = tmp_path / "frames"
    folder.mkdir()
    cv2.imwrite(str(folder / "dark-08bit.png"), dark8)
    cv2.imwrite(str(folder / "dark-16bit.png"), dark16)
    cv2.imwrite(str(folder / "good-16bit.png"), good.astype(np.uint16) * 257)

    engines = [{"engine": "reference", "defect_class": "scratch"}]
    fields = {}
    if good_parts == "recipe":  # the recipe's references, in 8 bits
        cv2.imwrite(str(tmp_path / "good.png"), good)
        fields["references"] = ["good.png"]
    else:  # the engine's own golden images, in 16 bits: scaled by depth as well
        cv2.imwrite(str(tmp_path / "good16.png"), good.astype(np.uint16) * 257)
        engines[0]["references"] = [str(tmp_path / "good16.png")]
    _, store, recorded, _ = _run_folder(tmp_path, sqlite_settings, folder, engines, **fields)

    verdicts = {e.frame.part_id: e.verdict for e in recorded}
    # Stretched by its brightest pixel the dark 16-bit frame would match the good part and
    # PASS; by its depth it is as dark as its twin, and judged the same.
    assert verdicts["dark-08bit"].outcome is Outcome.FAIL
    assert verdicts["dark-16bit"].outcome is Outcome.FAIL
    assert verdicts["dark-16bit"].reason == verdicts["dark-08bit"].reason
    assert verdicts["good-16bit"].outcome is Outcome.PASS  # a full-range 16-bit good part

    # The evidence keeps the camera's depth: a 16-bit PNG with the very pixels, though the
    # store writes JPEG for 8-bit frames.
    records = {r.part_id: r for r in store.history(limit=10)}
    assert records["dark-08bit"].evidence_format == "jpeg"
    kept = records["dark-16bit"]
    assert kept.evidence_format == "png" and kept.evidence_path.suffix == ".png"
    back = cv2.imread(str(kept.evidence_path), cv2.IMREAD_UNCHANGED)
    assert back.dtype == np.uint16 and np.array_equal(back, dark16)
    assert store.evidence.verify(kept.evidence_sha256, kept.evidence_format)
    # The PDF report's thumbnail shows it as judged (by depth), not clipped to white.
    shown = np.asarray(thumbnail(kept.evidence_path, []))
    assert np.abs(shown.astype(int) - cv2.cvtColor(dark8, cv2.COLOR_BGR2RGB)).max() <= 1
    store.close()


def test_a_16_bit_camera_frame_is_judged_at_8_bits_and_kept_at_16(tmp_path, sqlite_settings):
    """A Mono12 frame as a GenICam camera delivers it, through the inspect step."""
    _, dark8, dark16 = nearly_black_twins()
    mono12 = (dark16[..., 0] >> 4).astype("<u2")  # the sensor's 12 bits in 16-bit words
    view, native = to_frame_pixels(mono12.tobytes(), "Mono12", 160, 120)
    frame = FrameNumbering("gentl:test").frame(view, native=native)
    path = recipe_file(tmp_path, [{"engine": "scripted"}])
    recipe = load_recipe(path)
    chain = build_chain(recipe, str(path))
    store = Store.open(sqlite_settings)
    version = store.recipe_version_id(recipe, [])
    with ThreadPoolExecutor(max_workers=1) as encoder:
        inspection_id, _, _ = inspect(chain, recipe, version, frame, store, encoder)
    assert np.array_equal(frame.image, dark8[..., 0])  # the judge's view: the top 8 bits
    record = store.detail(inspection_id)
    back = cv2.imread(str(record.evidence_path), cv2.IMREAD_UNCHANGED)
    assert record.evidence_format == "png" and back.dtype == np.uint16
    assert np.array_equal(back >> 4, mono12)  # the camera's 12 bits, every one
    # The PDF report's thumbnail of 16-bit grey shows it as judged, not clipped to white.
    shown = np.asarray(thumbnail(record.evidence_path, []))
    assert np.abs(shown.astype(int) - dark8[..., :1]).max() <= 1
    store.close()
