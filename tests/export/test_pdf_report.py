"""The PDF report prints every script the store holds in its shipped fonts, and embeds an evidence
image only while its bytes are the ones on record."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from inspector.domain import Frame, utc_now
from inspector.export.pdf_report import FONTS
from inspector.store import Store, Timings, export_dict
from tests.support import command_line
from tests.support.records_data import PASSWORDS, inspector, make_users, populate, verdict

SIGNER = "Иван Петрович Сидоров"  # the signer's printed name, in Cyrillic
SIGNER_PASSWORD = "пароль оператора 1"
PART_IDS = ("部品-0001", "検査ロット甲", "零件-检验", "Ελληνικό-7", "חלק-12", "قطعة-9")


def _pdf(path: Path) -> tuple[str, int, set[str]]:
    """The report's text as pypdf extracts it, how many different images it embeds, and its
    fonts' names."""
    from pypdf import PdfReader

    reader = PdfReader(path)
    text = "\n".join(page.extract_text() for page in reader.pages)
    images = len({image.data for page in reader.pages for image in page.images})
    fonts = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            fonts.add(str(font.get_object()["/BaseFont"]))
    return text, images, fonts


def _render(path: Path, folder: Path) -> None:
    if shutil.which("pdftoppm") is None:
        return  # the text checks stand alone; installer/test.sh installs poppler-utils
    rendered = subprocess.run(
        ["pdftoppm", "-r", "30", "-png", str(path), str(folder / "page")],
        capture_output=True,
        text=True,
    )
    assert rendered.returncode == 0 and not rendered.stderr.strip(), rendered.stderr


def _record(store: Store, version_id: int, number: int, part_id: str) -> int:
    image = np.full((60, 80, 3), 40 + number, np.uint8)
    frame = Frame(image, "cam-1", number, utc_now(), time.monotonic_ns(), part_id=part_id)
    encoded = store.evidence.encode(image)
    timings = Timings(queue_ms=1, judge_ms=10, total_ms=12)
    return store.record_inspection(frame, version_id, verdict(number), encoded, timings, None)


def test_the_fonts_ship_with_their_licences():
    names = sorted(p.name for p in FONTS.iterdir())
    assert names == [
        "DejaVuSans-Bold.ttf",
        "DejaVuSans.ttf",
        "DroidSansFallback.ttf",
        "LICENSE-DejaVu.txt",
        "LICENSE-DroidSansFallback.txt",
    ]
    assert "Apache License" in (FONTS / "LICENSE-DroidSansFallback.txt").read_text()
    assert "Bitstream Vera" in (FONTS / "LICENSE-DejaVu.txt").read_text()
    pyproject = (FONTS.parents[2] / "pyproject.toml").read_text()
    assert '"inspector.export" = ["fonts/*.ttf", "fonts/LICENSE-*.txt"]' in pyproject


def test_cyrillic_japanese_chinese_greek_hebrew_and_arabic_print_as_themselves(
    sqlite_settings, tmp_path
):
    with Store.open(sqlite_settings) as store:
        people = make_users(store)
        ivan = store.add_user(people["ada"], "ivan", "operator", SIGNER_PASSWORD, SIGNER)
        version_id, _ = populate(store, 1)
        ids = [_record(store, version_id, n, p) for n, p in enumerate(PART_IDS, start=2)]
        reason = "пыль, не царапина"
        store.override_verdict(ivan, SIGNER_PASSWORD, ids[0], "PASS", reason, "reviewed")
    out = tmp_path / "report.pdf"
    acting = {"INSPECTOR_USER": "ivan", "INSPECTOR_PASSWORD": SIGNER_PASSWORD}
    result = command_line.inspector(
        "export", "pdf", str(out), data_dir=sqlite_settings.data_dir, env=acting, timeout=120
    )
    assert result.returncode == 0, result.stderr

    text, images, fonts = _pdf(out)
    flat = text.replace("\n", " ")
    assert f"{SIGNER} (ivan), reviewed" in flat  # the override's signature
    assert "пыль, не царапина" in flat
    for part_id in PART_IDS[:4]:  # left to right scripts: as written
        assert part_id in text, part_id
    # Right to left: set in visual order; the letters are all there, none replaced.
    for part_id in PART_IDS[4:]:
        letters = [c for c in part_id if c.isalpha()]
        assert all(c in text for c in letters), part_id
    assert "?" not in text  # nothing replaced by a question mark
    assert images == 1 + len(PART_IDS)
    assert any("DejaVuSans" in f for f in fonts) and any("DroidSansFallback" in f for f in fonts)
    assert out.stat().st_size < 1_000_000  # the fonts are embedded as subsets
    _render(out, tmp_path)


@pytest.fixture
def evidence_tampered(sqlite_settings):
    """Four inspections; the second's evidence file overwritten with another valid image (as a
    person would, with the wrong picture), the third's deleted."""
    with Store.open(sqlite_settings) as store:
        make_users(store)
        _, ids = populate(store, 4)
        records = {r.id: export_dict(r) for r in store.records()}
        root = store.evidence.root
    changed = root / records[ids[1]]["evidence_file"]
    shutil.copyfile(root / records[ids[3]]["evidence_file"], changed)
    (root / records[ids[2]]["evidence_file"]).unlink()
    return ids


def test_a_changed_or_missing_evidence_file_is_never_embedded_and_is_said(
    evidence_tampered, sqlite_settings, tmp_path
):
    ids = evidence_tampered
    out = tmp_path / "report.pdf"
    result = inspector(sqlite_settings, "export", "pdf", str(out), user="erin")
    assert result.returncode == 0, result.stderr
    assert PASSWORDS["erin"]  # acted as the engineer
    text, images, _ = _pdf(out)
    assert images == 2  # the two untouched files only: the wrong picture is not shown
    flat = text.replace("\n", " ")
    assert flat.count("EVIDENCE FILE CHANGED") == 1
    assert flat.count("EVIDENCE FILE MISSING") == 1
    assert f"#{ids[1]} changed, #{ids[2]} missing" in flat
    assert "2 evidence file(s) in this table are not as recorded" in flat
    _render(out, tmp_path)
