"""`inspector eval --report x.pdf` prints every script: a data set and its classes named in
Cyrillic and Japanese are read back from the PDF (pypdf), set in the shipped Unicode fonts that
the export PDF embeds (one font set-up, `export.pdf_report.add_unicode_fonts`)."""

from __future__ import annotations

import cv2
import pytest

from tests.support.bad_images import part_image
from tests.support.command_line import inspector
from tests.support.recipes import recipe_file

pypdf = pytest.importorskip("pypdf")

DATASET = "партия-7 検査"  # a lot in Russian, "inspection" in Japanese
DEFECT = "царапина-傷"  # scratch


def _text(reader) -> str:
    return "".join(page.extract_text() for page in reader.pages).replace("\n", "")


def test_the_pdf_report_prints_cyrillic_and_japanese_names(tmp_path):
    folder = tmp_path / DATASET
    for label, value in (("good", 0), ("good", 1), (DEFECT, 9)):
        (folder / label).mkdir(parents=True, exist_ok=True)
        assert cv2.imwrite(str(folder / label / f"{value}.png"), part_image(value))
    references = tmp_path / "recipe"
    references.mkdir()
    assert cv2.imwrite(str(references / "good.png"), part_image(0))
    recipe = recipe_file(references, [{"engine": "reference"}], references=["good.png"])
    report = tmp_path / "report.pdf"

    done = inspector(
        "eval", str(folder), "--recipe", str(recipe), "--report", str(report),
        data_dir=tmp_path / "data",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr

    reader = pypdf.PdfReader(report)
    text = _text(reader)
    assert DATASET in text and DEFECT in text
    assert "?" not in text  # nothing set as "?"
    assert "confusion" in text.lower() and "miss rate" in text
    fonts = {
        str(font["/BaseFont"])
        for page in reader.pages
        for font in page["/Resources"]["/Font"].values()
    }
    assert any("DejaVuSans" in name for name in fonts), fonts
    assert any("DroidSansFallback" in name for name in fonts), fonts  # the Japanese glyphs
    assert not any(name.endswith(("Helvetica", "Courier", "Times-Roman")) for name in fonts)
    # The figures, the screen's threshold curve, the worst misses and the worst overkills.
    assert len(reader.pages) == 4
