"""Exports: every field survives CSV and JSON Lines, the PDF renders and holds the records, and a
bundle with any byte changed fails verification."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from inspector.domain import Outcome
from inspector.errors import InputError
from inspector.export.bundle import verify_bundle, write_bundle
from inspector.export.csv_file import read_csv, write_csv
from inspector.export.jsonl import read_jsonl, write_jsonl
from inspector.store import InspectionFilter, Store, export_dict
from tests.support.records_data import PASSWORDS, inspector, make_users, populate, record, verdict


@pytest.fixture
def exported(settings):
    """Six inspections of every kind, a second lot, an override and a recipe approval."""
    yield from _records(settings)


@pytest.fixture
def exported_sqlite(sqlite_settings):
    """The same on SQLite only, for the tests of a file format (the queries are tested on both)."""
    yield from _records(sqlite_settings)


def _records(settings):
    with Store.open(settings) as store:
        people = make_users(store)
        version_id, ids = populate(store, 6)
        ids.append(record(store, version_id, 7, lot="L2"))
        erin = store.authenticate("erin", PASSWORDS["erin"])
        store.approve_recipe(erin, PASSWORDS["erin"], "bracket", 1, "approved")
        store.override_verdict(
            people["olly"], PASSWORDS["olly"], ids[2], "PASS", "dust", "reviewed"
        )
        yield store, ids


def test_records_carry_every_field_and_csv_and_jsonl_round_trip_them(exported, tmp_path):
    store, ids = exported
    found = [export_dict(r) for r in store.records(batch=3)]  # keyset pages of 3
    assert [r["inspection_id"] for r in found] == ids
    for number, rec in enumerate(found, start=1):
        expected = verdict(number)
        decided = expected.decided_by
        assert rec["outcome"] == expected.outcome.value
        assert (rec["recipe"], rec["recipe_version"]) == ("bracket", 1)
        assert rec["engine"] == decided.engine
        assert (rec["model_id"], rec["model_revision"]) == (
            decided.model_id,
            decided.model_revision,
        )
        assert rec["prompt_hash"] == decided.prompt_hash
        assert rec["raw_answer"] == decided.raw_text
        assert [a["engine"] for a in rec["attempts"]] == [a.engine for a in expected.attempts]
        assert [a["error"] for a in rec["attempts"]] == [a.error for a in expected.attempts]
        assert [d["class"] for d in rec["defects"]] == [d.class_name for d in expected.defects]
        assert rec["part_id"] == f"P-{number:04d}"
        assert rec["image_left_site"] == expected.image_left_site
        [entry] = store.audit_entries(1, "inspection", rec["inspection_id"])
        assert rec["record_sha256"] == entry.new["sha256"]  # the export matches the chain
    overridden = found[2]
    assert (overridden["outcome"], overridden["final_outcome"]) == ("FAIL", "PASS")
    [override] = overridden["overrides"]
    assert override["reason"] == "dust"
    assert override["signature"]["printed_name"] == "Olly Ørsted"
    assert override["signature"]["meaning"] == "reviewed"
    assert found[5]["defects"][0]["box"] == [3, 4, 30, 40]
    assert found[5]["defects"][1] == {
        "class": "rust",
        "severity": None,
        "box": None,
        "confidence": None,
        "note": "not in the recipe",
    }

    csv_path, jsonl_path = tmp_path / "out.csv", tmp_path / "out.jsonl"
    assert write_csv(iter(found), csv_path) == len(found)
    assert write_jsonl(iter(found), jsonl_path) == len(found)
    assert list(read_csv(csv_path)) == found
    assert list(read_jsonl(jsonl_path)) == found
    with open(csv_path, newline="", encoding="utf-8") as text:
        header = next(csv.reader(text))
    assert header[-1] == "signatures" and "raw_answer" in header and "model_revision" in header


def test_exports_filter_and_each_is_an_audited_event(exported, settings, tmp_path):
    store, ids = exported
    failed = InspectionFilter(outcomes=(Outcome.FAIL,))  # final outcome: the override counts
    assert [r.id for r in store.records(failed)] == [ids[5]]
    lot = InspectionFilter(lot_or_serial="L2")
    assert store.count(lot) == 1
    # Lot, serial or part id, by its beginning: parts P-0001..P-0007, serials S1, S3, S5, S7.
    assert store.count(InspectionFilter(lot_or_serial="P-000")) == 7
    assert [r.id for r in store.records(InspectionFilter(lot_or_serial="S"))] == ids[0::2]
    assert store.count(InspectionFilter(lot_or_serial="p-000")) == 0  # case counts, everywhere
    # Two final outcomes and an engine: records 2 and 5 are UNSURE after the served model timed
    # out (openai-compatible); 3 and 6 failed, but 3 was overridden to PASS.
    unsure_or_fail = InspectionFilter(outcomes=(Outcome.FAIL, Outcome.UNSURE))
    assert [r.id for r in store.records(unsure_or_fail)] == [ids[1], ids[4], ids[5]]
    served = InspectionFilter(outcomes=(Outcome.FAIL, Outcome.UNSURE), engine="openai-compatible")
    assert [r.id for r in store.records(served)] == [ids[1], ids[4]]
    # A report's counts under an outcome filter (the override's own table joined too).
    passed = store.summary(InspectionFilter(outcomes=(Outcome.PASS,)))
    assert passed["final_outcomes"] == {"PASS": 4, "FAIL": 0, "UNSURE": 0}
    assert passed["recorded_outcomes"] == {"PASS": 3, "FAIL": 1, "UNSURE": 0}
    assert passed["overridden"] == 1
    summary = store.summary()
    assert summary["final_outcomes"] == {"PASS": 4, "FAIL": 1, "UNSURE": 2}
    assert summary["recorded_outcomes"] == {"PASS": 3, "FAIL": 2, "UNSURE": 2}
    assert summary["overridden"] == 1

    out = tmp_path / "fails.jsonl"
    result = inspector(settings, "export", "jsonl", str(out), "--outcome", "fail", user="olly")
    assert result.returncode == 0, result.stderr
    assert [r["inspection_id"] for r in read_jsonl(out)] == [ids[5]]
    assert "inspector: exported 1 / 1" in result.stderr  # progress on stderr
    [entry] = store.audit_entries(1, "export", "jsonl")
    assert entry.user_name == "olly" and entry.new["records"] == 1
    assert entry.new["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert entry.new["filters"] == {"outcome": "FAIL"}


def _pdf_text(path: Path) -> tuple[int, str, int]:
    from pypdf import PdfReader

    reader = PdfReader(path)
    text = "\n".join(page.extract_text() for page in reader.pages)
    images = sum(len(page.images) for page in reader.pages)
    return len(reader.pages), text, images


def test_the_pdf_report_renders_and_holds_the_records(exported_sqlite, sqlite_settings, tmp_path):
    store, ids = exported_sqlite
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm not installed (Debian poppler-utils; installer/test.sh installs it)")
    out = tmp_path / "report.pdf"
    result = inspector(sqlite_settings, "export", "pdf", str(out), user="erin")
    assert result.returncode == 0, result.stderr
    head = store.audit_entries(1, "export", "pdf")[0].new["chain_head"]

    pages, text, images = _pdf_text(out)
    rendered = subprocess.run(
        ["pdftoppm", "-r", "40", "-png", str(out), str(tmp_path / "page")],
        capture_output=True,
        text=True,
    )
    assert rendered.returncode == 0, rendered.stderr
    pngs = sorted(tmp_path.glob("page-*.png"))
    assert len(pngs) == pages >= 2
    import cv2

    first = cv2.imread(str(pngs[1]))
    assert first is not None and first.std() > 10  # a page with a table and images on it

    assert images >= len(ids)  # one thumbnail per inspection
    for number, inspection_id in enumerate(ids, start=1):
        assert f"#{inspection_id}" in text
        assert f"P-{number:04d}" in text
    assert "Olly Ørsted (olly), reviewed" in text  # the override's signature
    assert "Erin Engineer (erin), approved" in text  # the recipe's approval
    assert head["hash"] in text.replace("\n", "")
    assert "Inspections 7" in text or "Inspections\n7" in text


def test_a_bundle_verifies_and_any_changed_byte_fails(exported_sqlite, sqlite_settings, tmp_path):
    _, ids = exported_sqlite
    out = tmp_path / "evidence.zip"
    result = inspector(sqlite_settings, "export", "bundle", str(out), user="olly")
    assert result.returncode == 0, result.stderr
    check = verify_bundle(out)
    assert check.ok, check.problems
    assert check.manifest["records"] == len(ids)
    assert len([n for n in check.manifest["files"] if n.startswith("evidence/")]) == len(ids)
    ok = inspector(sqlite_settings, "export", "verify", str(out), "--against-database")
    assert ok.returncode == 0 and ok.stdout.startswith("bundle intact: 7 records")

    data = out.read_bytes()
    positions = sorted(
        {*range(0, len(data), max(1, len(data) // 300)), *range(len(data) - 90, len(data))}
    )
    changed = tmp_path / "changed.zip"
    for position in positions:
        flipped = bytearray(data)
        flipped[position] ^= 0x01
        changed.write_bytes(flipped)
        assert not verify_bundle(changed).ok, f"byte {position} of {len(data)} changed unnoticed"
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0x20
    changed.write_bytes(flipped)
    failed = inspector(sqlite_settings, "export", "verify", str(changed))
    assert failed.returncode == 1 and failed.stdout.startswith("bundle FAILS verification: ")


def test_a_bundle_refuses_an_evidence_file_changed_on_disk(exported_sqlite, tmp_path):
    store, _ = exported_sqlite
    [victim] = [r for r in store.history(1)]
    victim.evidence_path.write_bytes(victim.evidence_path.read_bytes() + b"\0")
    about = {"chain_head": {"seq": 1, "hash": "0" * 64}}
    with pytest.raises(InputError, match="does not match its SHA-256"):
        write_bundle(
            map(export_dict, store.records()), tmp_path / "b.zip", store.evidence.root, about
        )
    assert not (tmp_path / "b.zip").exists()  # nothing half-written is left


def test_a_bundle_names_what_changed_inside(exported_sqlite, tmp_path):
    """Rebuilt with one image changed, the seal is gone and the manifest names the image."""
    import zipfile

    store, _ = exported_sqlite
    about = {"chain_head": {"seq": 1, "hash": "0" * 64}}
    out = tmp_path / "b.zip"
    write_bundle(map(export_dict, store.records()), out, store.evidence.root, about)
    rebuilt = tmp_path / "rebuilt.zip"
    changed = None
    with zipfile.ZipFile(out) as source, zipfile.ZipFile(rebuilt, "w") as target:
        for info in source.infolist():
            payload = source.read(info)
            if changed is None and info.filename.startswith("evidence/"):
                changed, payload = info.filename, payload[:-1] + bytes([payload[-1] ^ 1])
            target.writestr(info, payload)
    check = verify_bundle(rebuilt)
    assert f"{changed}: SHA-256 differs from the manifest (changed)" in check.problems
    assert "the bundle's seal (zip comment) is missing or damaged" in check.problems
    assert json.loads(zipfile.ZipFile(out).read("manifest.json"))["format"] == "inspector-bundle-2"


def test_an_export_holds_the_records_as_of_its_chain_head(exported):
    """Stations keep recording while an export runs: the export stays at the head it printed."""
    store, ids = exported
    head, bounded = store.as_of()
    later = record(store, 1, 8)
    people = {"olly": store.authenticate("olly", PASSWORDS["olly"])}
    store.override_verdict(people["olly"], PASSWORDS["olly"], ids[0], "FAIL", "late", "rejected")
    found = [export_dict(r) for r in store.records(bounded)]
    assert [r["inspection_id"] for r in found] == ids and later not in ids
    assert found[0]["overrides"] == [] and found[0]["final_outcome"] == "PASS"
    assert store.summary(bounded)["overridden"] == 1
    assert store.audit_head().seq > head.seq
    [entry] = store.audit_entries(1, "inspection", ids[-1])
    assert entry.seq <= head.seq  # every exported record is covered by the head
