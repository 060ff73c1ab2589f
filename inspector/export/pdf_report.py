"""The PDF report: summary, a table of inspections with their evidence, signatures, chain head.

Made with fpdf2 (pure Python). A report is a document for people: its table holds at most
`max_rows` inspections (stated on the page when there are more; CSV, JSON Lines and the bundle
hold them all), while the summary counts every matching record. Thumbnails show the evidence
image with each defect's box drawn in red. Text uses the PDF core fonts, so characters outside
Latin-1 print as "?" (the JSON and CSV exports keep them).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from inspector.export.output import Progress, atomic_file, counted

THUMB_PX = 240
BOX_COLOUR = (220, 30, 30)


def _t(value: object, limit: int | None = None) -> str:
    text = "" if value is None else str(value)
    if limit is not None and len(text) > limit:
        text = text[: limit - 3] + "..."
    return text.encode("latin-1", "replace").decode("latin-1")


def thumbnail(path: Path, defects: list[dict]):
    """The evidence image, boxes drawn, scaled to THUMB_PX; None if it cannot be read."""
    from PIL import Image, ImageDraw

    try:
        with Image.open(path) as opened:
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
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.set_title("Inspection report")
    pdf.set_creator("inspector")
    pdf.add_page()
    pdf.set_font("helvetica", "B", 16)
    pdf.cell(0, 10, "Inspection report", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", size=9)
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
    pdf.set_font("helvetica", "B", 12)
    pdf.cell(0, 8, "Summary", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", size=9)
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
    pdf.set_font("helvetica", "B", 12)
    pdf.cell(0, 8, "Inspections", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", size=7)
    shown = 0
    signatures: list[dict] = []
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
            image = thumbnail(evidence_root / record["evidence_file"], record["defects"])
            if image is None:
                row.cell("image missing")
            else:
                row.cell(img=image, img_fill_width=True)
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
        pdf.set_font("helvetica", "I", 8)
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

    pdf.ln(4)
    pdf.set_font("helvetica", "B", 12)
    pdf.cell(0, 8, "Signatures", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", size=8)
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
    pdf.set_font("helvetica", "B", 8)
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
