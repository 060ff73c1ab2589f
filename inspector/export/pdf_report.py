"""The PDF report: summary, a table of inspections with their evidence, signatures, chain head.

Made with fpdf2 (pure Python). A report is a document for people: its table holds at most
`max_rows` inspections (stated on the page when there are more; CSV, JSON Lines and the bundle
hold them all), while the summary counts every matching record. Thumbnails show the evidence
image with each defect's box drawn in red.

Every script the store can hold prints: the text is set in DejaVu Sans (Latin, Cyrillic, Greek,
Arabic, Hebrew ...) with Droid Sans Fallback behind it for Chinese, Japanese and Korean, both
shipped in `export/fonts/` with their licences and embedded as subsets (only the glyphs used).
Right-to-left text is put in visual order by fpdf2's pure-Python bidi algorithm; Arabic letters
then print in their isolated forms, readable though not joined (joining needs HarfBuzz,
`uharfbuzz`, which this package does not require).

An evidence image is embedded only if its bytes still have the SHA-256 its record names: the
file is read once, hashed, and the thumbnail made from those same bytes, so what the report
shows is what was recorded. A changed or missing file prints as a red box that says so, and
the report lists those inspections after its table.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from inspector.export.output import Progress, atomic_file, counted

THUMB_PX = 240
BOX_COLOUR = (220, 30, 30)
FONTS = Path(__file__).with_name("fonts")
FONT = "dejavu"
CJK_FONT = "droid-fallback"
# Hebrew, Arabic (with Syriac, Thaana, N'Ko ...) and their presentation forms: text holding any
# of them is put in visual order before it is set.
_RIGHT_TO_LEFT = ((0x0590, 0x08FF), (0xFB1D, 0xFDFF), (0xFE70, 0xFEFF))


def _right_to_left(text: str) -> bool:
    return any(low <= ord(c) <= high for c in text for low, high in _RIGHT_TO_LEFT)


def _visual_order(line: str) -> str:
    from fpdf.bidi import BidiParagraph, auto_detect_base_direction

    paragraph = BidiParagraph(text=line, base_direction=auto_detect_base_direction(line))
    return paragraph.get_reordered_string()


def pdf_text(value: object, limit: int | None = None) -> str:
    """Any stored text as the shipped fonts can set it (cut to `limit`, in visual order)."""
    text = "" if value is None else str(value)
    if limit is not None and len(text) > limit:
        text = text[: limit - 3] + "..."
    # A lone surrogate (a legacy record) cannot be set in any font: shown as U+FFFD.
    text = text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    if _right_to_left(text):
        text = "\n".join(_visual_order(line) for line in text.split("\n"))
    return text


_t = pdf_text  # the short name the tables below use


def add_unicode_fonts(pdf) -> None:
    """The shipped Unicode fonts on an `fpdf.FPDF`, set in `FONT` (bold too) with CJK behind it:
    the one font set-up of every PDF this package writes (the evaluation report uses it too)."""
    pdf.add_font(FONT, "", FONTS / "DejaVuSans.ttf")
    pdf.add_font(FONT, "B", FONTS / "DejaVuSans-Bold.ttf")
    pdf.add_font(CJK_FONT, "", FONTS / "DroidSansFallback.ttf")
    # A character DejaVu lacks is set in the fallback, bold text too (it has no bold).
    pdf.set_fallback_fonts([CJK_FONT], exact_match=False)


@dataclass(frozen=True)
class Evidence:
    """An evidence image ready for the report, or why it is not."""

    image: object | None  # a PIL image with the defects' boxes drawn
    problem: str | None  # "changed", "missing" or "unreadable"


def evidence(path: Path, sha256: str, defects: list[dict]) -> Evidence:
    """The evidence at `path` if its bytes have the SHA-256 `sha256` its record names."""
    try:
        data = path.read_bytes()
    except OSError:
        return Evidence(None, "missing")
    if hashlib.sha256(data).hexdigest() != sha256:
        return Evidence(None, "changed")
    image = thumbnail(io.BytesIO(data), defects)
    return Evidence(image, None if image is not None else "unreadable")


def thumbnail(source: Path | io.BytesIO, defects: list[dict]):
    """The image, boxes drawn, scaled to THUMB_PX; None if it cannot be read."""
    from PIL import Image, ImageDraw

    try:
        with Image.open(source) as opened:
            if opened.mode.startswith("I"):  # 16-bit grey evidence: its top 8 bits, as judged
                opened = opened.convert("I").point(lambda value: value * (1 / 256))
            image = opened.convert("RGB")
    except OSError:
        return None
    draw = ImageDraw.Draw(image)
    width = max(2, round(max(image.size) / THUMB_PX * 2))
    for defect in defects:
        box = defect.get("box")
        if box:
            x0, y0, x1, y1 = box
            draw.rectangle(
                [x0, y0, max(x0, x1 - 1), max(y0, y1 - 1)], outline=BOX_COLOUR, width=width
            )
    image.thumbnail((THUMB_PX, THUMB_PX))
    return image


def _evidence_box(problem: str, sha256: str) -> str:
    what = {
        "changed": "EVIDENCE FILE CHANGED\nits bytes no longer have the SHA-256 on record",
        "missing": "EVIDENCE FILE MISSING\nno file where the record names it",
        "unreadable": "EVIDENCE FILE UNREADABLE\nas recorded, but not an image",
    }[problem]
    return f"{what}\nrecorded sha256 {sha256[:16]}...\nimage not shown"


def _when(iso: str | None) -> str:
    """2026-03-01T12:00:00.123456Z -> 2026-03-01 12:00:00 UTC (the exports keep microseconds)."""
    return f"{iso[:10]} {iso[11:19]} UTC" if iso else "-"


def _signature_line(s: dict) -> str:
    return f"{s['printed_name']} ({s['user']}), {s['meaning']}, {_when(s['signed_at'])}"


def write_pdf(
    records: Iterable[dict],
    path: Path,
    evidence_root: Path,
    summary: dict,
    about: dict,
    recipe_signatures: Iterable[dict] = (),
    max_rows: int = 500,
    progress: Progress | None = None,
) -> int:
    """Write the report; returns how many inspections its table shows.

    `about`: created_at, created_by, filters (dict), chain_head ({seq, hash}).
    `recipe_signatures`: per recipe version in the report, {name, version, signatures}.
    """
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    pdf = FPDF(orientation="landscape", format="A4")
    add_unicode_fonts(pdf)
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.set_title("Inspection report")
    pdf.set_creator("inspector")
    pdf.add_page()
    pdf.set_font(FONT, "B", 16)
    pdf.cell(0, 10, "Inspection report", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=9)
    head = about["chain_head"]
    filters = ", ".join(f"{k} {v}" for k, v in about.get("filters", {}).items()) or "none"
    for line in (
        f"Generated {_when(about['created_at'])} by {about['created_by']}",
        f"Filters: {filters}",
        f"Audit chain head: entry #{head['seq']}  sha256 {head['hash']}",
    ):
        pdf.cell(0, 5, _t(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)

    heading = FontFace(emphasis="BOLD", fill_color=(225, 225, 225))
    pdf.set_font(FONT, "B", 12)
    pdf.cell(0, 8, "Summary", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=9)
    final, recorded = summary["final_outcomes"], summary["recorded_outcomes"]
    rows = [
        ("Inspections", summary["total"]),
        (
            "Final outcome PASS / FAIL / UNSURE",
            f"{final['PASS']} / {final['FAIL']} / {final['UNSURE']}",
        ),
        (
            "Model verdict PASS / FAIL / UNSURE",
            f"{recorded['PASS']} / {recorded['FAIL']} / {recorded['UNSURE']}",
        ),
        ("Overridden by a person", summary["overridden"]),
        ("Images sent off site", summary["images_left_site"]),
        (
            "First / last captured (UTC)",
            f"{_when(summary['first_captured_at'])} / {_when(summary['last_captured_at'])}",
        ),
    ]
    with pdf.table(
        col_widths=(70, 120), width=190, align="LEFT", first_row_as_headings=False
    ) as table:
        for label, value in rows:
            row = table.row()
            row.cell(_t(label))
            row.cell(_t(value))
    pdf.ln(3)
    approvals = {(r["name"], r["version"]): r["signatures"] for r in recipe_signatures}
    with pdf.table(
        col_widths=(60, 20, 25, 170), headings_style=heading, align="LEFT", width=275
    ) as table:
        table.row(["Recipe", "Version", "Inspections", "Approval signatures"])
        for recipe in summary["recipes"]:
            signed = approvals.get((recipe["name"], recipe["version"]), [])
            text = "; ".join(_signature_line(s) for s in signed) or "not signed"
            table.row([_t(recipe["name"]), str(recipe["version"]), str(recipe["count"]), _t(text)])

    pdf.add_page()
    pdf.set_font(FONT, "B", 12)
    pdf.cell(0, 8, "Inspections", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=7)
    shown = 0
    signatures: list[dict] = []
    untrue: list[tuple[int, str]] = []  # (inspection, what is wrong with its evidence file)
    warning = FontFace(emphasis="BOLD", color=(170, 0, 0), fill_color=(255, 225, 225))
    with pdf.table(
        col_widths=(34, 30, 34, 26, 24, 44, 40, 45),
        headings_style=heading,
        line_height=3.5,
        text_align="LEFT",
        width=277,
        align="LEFT",
    ) as table:
        table.row(
            [
                "Evidence",
                "Inspection",
                "Part",
                "Recipe",
                "Verdict",
                "Defects",
                "Model",
                "Override / signature",
            ]
        )
        for record in counted(records, progress, None):
            if shown >= max_rows:
                break
            shown += 1
            row = table.row()
            found = evidence(
                evidence_root / record["evidence_file"],
                record["evidence_sha256"],
                record["defects"],
            )
            if found.problem is None:
                row.cell(img=found.image, img_fill_width=True)
            else:
                untrue.append((record["inspection_id"], found.problem))
                row.cell(_evidence_box(found.problem, record["evidence_sha256"]), style=warning)
            where = f"{record['camera_id']} seq {record['sequence']}"
            row.cell(_t(f"#{record['inspection_id']}\n{_when(record['captured_at'])}\n{where}"))
            part = [
                f"part {record['part_id']}" if record["part_id"] else "",
                f"lot {record['lot']}" if record["lot"] else "",
                f"serial {record['serial']}" if record["serial"] else "",
            ]
            row.cell(_t("\n".join(p for p in part if p) or "-"))
            row.cell(_t(f"{record['recipe']} v{record['recipe_version']}"))
            verdict = record["outcome"]
            if record["final_outcome"] != record["outcome"]:
                verdict += f" -> {record['final_outcome']}"
            row.cell(_t(f"{verdict}\n{record['reason']}", 160))
            defects = "\n".join(
                f"{d['class']} ({d['severity'] or 'unlisted'})"
                + (f" {d['box']}" if d["box"] else "")
                for d in record["defects"]
            )
            row.cell(_t(defects or "-", 300))
            model = f"{record['engine'] or '-'}\n{record['model_id'] or ''}"
            if record["model_revision"]:
                model += f"\nrev {record['model_revision']}"
            row.cell(_t(model, 200))
            lines = []
            for override in record["overrides"]:
                lines.append(
                    f"{override['previous_outcome']} -> {override['outcome']}: {override['reason']}"
                )
                if override.get("signature"):
                    signatures.append(override["signature"])
                    lines.append(_signature_line(override["signature"]))
            row.cell(_t("\n".join(lines) or "-", 400))
    if shown < summary["total"]:
        pdf.set_font(FONT, "", 8)
        pdf.cell(
            0,
            6,
            _t(
                f"This table shows the first {shown} of {summary['total']} inspections; the CSV, "
                "JSON Lines and bundle exports hold every one."
            ),
            new_x="LMARGIN",
            new_y="NEXT",
        )

    if untrue:
        pdf.ln(2)
        pdf.set_font(FONT, "B", 9)
        pdf.set_text_color(170, 0, 0)
        listed = ", ".join(f"#{number} {problem}" for number, problem in untrue)
        pdf.multi_cell(
            0,
            5,
            _t(
                f"{len(untrue)} evidence file(s) in this table are not as recorded and are not "
                f"shown: {listed}. `inspector audit verify` names every such file."
            ),
            new_x="LMARGIN",
            new_y="NEXT",
        )
        pdf.set_text_color(0, 0, 0)

    pdf.ln(4)
    pdf.set_font(FONT, "B", 12)
    pdf.cell(0, 8, "Signatures", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=8)
    for signed in approvals.values():
        signatures.extend(signed)
    if not signatures:
        pdf.cell(0, 5, "No electronic signatures on these records.", new_x="LMARGIN", new_y="NEXT")
    for s in signatures:
        pdf.multi_cell(
            0, 4, _t(f"{_signature_line(s)}: {s['statement']}"), new_x="LMARGIN", new_y="NEXT"
        )
        pdf.ln(1)
    pdf.ln(3)
    pdf.set_font(FONT, "B", 8)
    pdf.multi_cell(
        0,
        4,
        _t(
            f"Records as of audit chain entry #{head['seq']}, sha256 {head['hash']}. "
            "`inspector audit verify --anchor SEQ:HASH` on the station's database confirms the "
            "trail has not been rewritten since."
        ),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    with atomic_file(path, "wb") as out:
        out.write(pdf.output())
    return shown
