"""An evaluation run for people: console lines, a comparison of two runs, HTML and PDF reports.

The HTML report is one self-contained file (the curve an inline SVG). The PDF is drawn with fpdf2
in the export PDF's shipped Unicode fonts (`export.pdf_report.add_unicode_fonts`, the one font
set-up), so every script a data set's or a class's name holds prints, never as `?`.
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Sequence
from pathlib import Path

from inspector.errors import InputError
from inspector.evaluation import target
from inspector.evaluation.worst import Example, jpeg
from inspector.store.evaluations.runs import EvaluationRun

_W, _H, _PAD = 560, 320, 48  # the curve's SVG canvas and margin


def pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} ms"


def title(run: EvaluationRun) -> str:
    return (
        f"evaluation run {run.short} ({run.status}): recipe {run.recipe} v{run.recipe_version}, "
        f"{run.chain}, data set {run.dataset}"
    )


def summary_lines(run: EvaluationRun, figures: dict) -> list[str]:
    lines = [title(run), *_figure_lines(run, figures)]
    lines += ["", "confusion (rows: truth; columns: verdict)"]
    lines.append(f"  {'':<8} {'PASS':>7} {'FAIL':>7} {'UNSURE':>7}")
    for row in _confusion_rows(figures):
        lines.append(f"  {row[0]:<8} {row[1]:>7} {row[2]:>7} {row[3]:>7}")
    lines += ["", f"  {'class':<24} {'images':>6} {'PASS':>6} {'FAIL':>6} {'UNSURE':>6} recall"]
    for c in _class_rows(figures):
        lines.append(f"  {c[0]:<24} {c[1]:>6} {c[2]:>6} {c[3]:>6} {c[4]:>6} {c[5]}")
    screen = _screen_line(figures)
    if screen:
        lines += ["", screen]
    return lines


def _figure_lines(run: EvaluationRun, figures: dict) -> list[str]:
    """The run's figures in words: images, rates, latency, cost, errors, engine calls."""
    f = figures
    lines = [
        f"images: {f['images']} of {run.image_count} ({f['good']} good, {f['defect']} defective)",
        f"accuracy {pct(f['accuracy'])}   miss rate {pct(f['miss_rate'])}   "
        f"overkill {pct(f['overkill'])}   UNSURE {pct(f['unsure_rate'])}",
        f"latency p50 {ms(f['latency_ms']['p50'])}   p95 {ms(f['latency_ms']['p95'])}",
    ]
    cost = f["cost"]
    if cost:
        lines.append(
            f"cost (estimate) {cost['total']:.4f} in all, {cost['per_image']:.5f} per image "
            f"({cost['priced_images']} images priced)"
        )
    else:
        lines.append("cost: no estimate (local engines, or no price given with --price)")
    if f["errors"]:
        lines.append(f"errors: {f['errors']} images (UNSURE; see the run's results)")
    if f["engine_calls"]:
        calls = ", ".join(f"{engine} {n}" for engine, n in f["engine_calls"].items())
        lines.append(f"engine calls: {calls}")
    return lines


def _target_lines(figures: dict) -> list[str]:
    """The operating point a target miss rate chose (`--target-miss`), where one was asked."""
    if not figures.get("target"):
        return []
    return ["", *target.describe(figures["target"])]


def _confusion_rows(figures: dict) -> list[tuple[str, int, int, int]]:
    return [
        (expected, row["PASS"], row["FAIL"], row["UNSURE"])
        for expected, row in figures["confusion"].items()
    ]


def _class_rows(figures: dict) -> list[tuple[str, int, int, int, int, str]]:
    return [
        (c["label"], c["count"], c["PASS"], c["FAIL"], c["UNSURE"], pct(c["recall"]))
        for c in figures["classes"]
    ]


def _screen_line(figures: dict) -> str | None:
    screen = figures["screen"]
    if not screen:
        return None
    return (
        f"screen score: AUROC {_num(screen['auroc'])} over {screen['scored']} scored images; "
        f"missing no defect up to threshold {_num(screen['zero_miss_threshold'])}, where "
        f"{pct(screen['zero_miss_handed_on'])} of frames go on to the next engine"
    )


def compare_lines(
    run_a: EvaluationRun, a: dict, run_b: EvaluationRun, b: dict, changed: int, common: int
) -> list[str]:
    rows = [
        ("accuracy", a["accuracy"], b["accuracy"], pct),
        ("miss rate", a["miss_rate"], b["miss_rate"], pct),
        ("overkill", a["overkill"], b["overkill"], pct),
        ("UNSURE rate", a["unsure_rate"], b["unsure_rate"], pct),
        ("latency p50", a["latency_ms"]["p50"], b["latency_ms"]["p50"], ms),
        ("latency p95", a["latency_ms"]["p95"], b["latency_ms"]["p95"], ms),
        ("cost", _cost(a), _cost(b), _num),
    ]
    lines = [f"A: {title(run_a)}", f"B: {title(run_b)}", ""]
    lines.append(f"  {'':<14} {'A':>12} {'B':>12} {'B - A':>12}")
    for name, x, y, show in rows:
        delta = "" if x is None or y is None else _delta(y - x, show)
        lines.append(f"  {name:<14} {show(x):>12} {show(y):>12} {delta:>12}")
    lines.append("")
    lines.append(f"images in both runs: {common}; judged differently: {changed}")
    return lines


def write(path: Path, run: EvaluationRun, figures: dict, examples: Sequence[Example] = ()) -> str:
    """Write the report as the suffix says (.html or .pdf), with the pictures of the worst misses
    and overkills (`worst.pick`); returns what was written."""
    suffix = path.suffix.lower()
    if suffix in (".html", ".htm"):
        path.write_text(html_report(run, figures, examples), encoding="utf-8")
        return "HTML"
    if suffix == ".pdf":
        pdf_report(path, run, figures, examples)
        return "PDF"
    raise InputError(f"--report {path}: give a file ending in .html or .pdf")


def html_report(run: EvaluationRun, figures: dict, examples: Sequence[Example] = ()) -> str:
    e = html.escape
    summary = "\n".join([*summary_lines(run, figures), *_target_lines(figures)])
    classes = "".join(
        f"<tr><td>{e(c['label'])}</td><td>{c['expected']}</td><td>{c['count']}</td>"
        f"<td>{c['PASS']}</td><td>{c['FAIL']}</td><td>{c['UNSURE']}</td>"
        f"<td>{pct(c['recall'])}</td></tr>"
        for c in figures["classes"]
    )
    screen = figures["screen"]
    curve = ""
    if screen:
        curve = (
            "<h2>Screen threshold</h2><p>Across thresholds of the screen's score: the miss rate "
            "(defective frames the screen passes), the overkill (good frames above the "
            "threshold, were the screen to judge alone) and the share of frames handed on to "
            "the next engine (the model calls that remain).</p>" + curve_svg(screen["curve"])
        )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{e(title(run))}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #222; max-width: 60em; }}
pre {{ background: #f6f6f6; padding: 1em; overflow-x: auto; }}
table {{ border-collapse: collapse; }}
td, th {{ border: 1px solid #ccc; padding: 0.2em 0.6em; text-align: right; }}
td:first-child {{ text-align: left; }}
figure {{ display: inline-block; margin: 0 1em 1em 0; max-width: 22em; vertical-align: top; }}
figure img {{ max-width: 100%; }}
figcaption {{ font-size: 0.85em; white-space: pre-wrap; overflow-wrap: anywhere; }}
</style></head><body>
<h1>Evaluation run {e(run.short)}</h1>
<pre>{e(summary)}</pre>
<h2>Per class</h2>
<table><tr><th>class</th><th>truth</th><th>images</th><th>PASS</th><th>FAIL</th>
<th>UNSURE</th><th>recall</th></tr>{classes}</table>
{curve}
{_html_examples(examples)}
</body></html>
"""


def curve_svg(curve: list[dict]) -> str:
    """Miss rate, overkill and share handed on against the threshold, as an inline SVG."""
    points = [p for p in curve if math.isfinite(p["threshold"])]
    if not points:
        return "<p>No frame was scored.</p>"
    low, high = points[0]["threshold"], points[-1]["threshold"]
    span = (high - low) or 1.0

    def x(t: float) -> float:
        return _PAD + (t - low) / span * (_W - 2 * _PAD)

    def y(v: float) -> float:
        return _H - _PAD - v * (_H - 2 * _PAD)

    series = (
        ("miss_rate", "#c0392b", "miss rate"),
        ("overkill", "#2980b9", "overkill"),
        ("handed_on", "#27ae60", "handed on"),
    )
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{_H}" '
        f'viewBox="0 0 {_W} {_H}" role="img" aria-label="threshold curve">',
        f'<rect x="{_PAD}" y="{_PAD}" width="{_W - 2 * _PAD}" height="{_H - 2 * _PAD}" '
        'fill="none" stroke="#999"/>',
    ]
    for v in (0.0, 0.5, 1.0):
        parts.append(
            f'<text x="{_PAD - 6}" y="{y(v) + 4:.1f}" font-size="11" text-anchor="end">'
            f"{int(v * 100)}%</text>"
        )
    for t in (low, (low + high) / 2, high):
        parts.append(
            f'<text x="{x(t):.1f}" y="{_H - _PAD + 16}" font-size="11" text-anchor="middle">'
            f"{t:.3g}</text>"
        )
    parts.append(
        f'<text x="{_W / 2}" y="{_H - 8}" font-size="12" text-anchor="middle">threshold</text>'
    )
    for i, (key, color, label) in enumerate(series):
        line = " ".join(
            f"{x(p['threshold']):.1f},{y(p[key]):.1f}" for p in points if p[key] is not None
        )
        if line:
            parts.append(
                f'<polyline points="{line}" fill="none" stroke="{color}" stroke-width="2"/>'
            )
        parts.append(
            f'<text x="{_PAD + 8 + 110 * i}" y="{_PAD - 12}" font-size="12" fill="{color}">'
            f"{label}</text>"
        )
    parts.append("</svg>")
    return "\n".join(parts)


def pdf_report(
    path: Path, run: EvaluationRun, figures: dict, examples: Sequence[Example] = ()
) -> None:
    """The report as a PDF (fpdf2), set in the shipped Unicode fonts of the export PDF, so a
    data set's or a class's name prints in any script the store holds."""
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    from inspector.export.pdf_report import FONT, add_unicode_fonts, pdf_text

    pdf = FPDF(format="A4")
    add_unicode_fonts(pdf)
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.set_title(pdf_text(f"Evaluation run {run.short}"))
    pdf.set_creator("inspector")
    pdf.add_page()
    pdf.set_font(FONT, "B", 15)
    pdf.cell(0, 9, pdf_text(f"Evaluation run {run.short}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=9)
    for line in [title(run), *_figure_lines(run, figures), *_target_lines(figures)]:
        pdf.multi_cell(0, 5, pdf_text(line), align="L", new_x="LMARGIN", new_y="NEXT")
    heading = FontFace(emphasis="BOLD", fill_color=(225, 225, 225))
    tables = (
        ("Confusion (rows: truth; columns: verdict)", ("truth", "PASS", "FAIL", "UNSURE"),
         _confusion_rows(figures)),
        ("Per class", ("class", "images", "PASS", "FAIL", "UNSURE", "recall"),
         _class_rows(figures)),
    )  # fmt: skip
    for caption, header, rows in tables:
        pdf.ln(3)
        pdf.set_font(FONT, "B", 11)
        pdf.cell(0, 7, caption, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FONT, size=9)
        widths = (3, *([1] * (len(header) - 1)))
        with pdf.table(col_widths=widths, headings_style=heading, text_align="LEFT") as table:
            table.row(header)
            for row in rows:
                table.row([pdf_text(cell) for cell in row])
    screen = _screen_line(figures)
    if screen:
        pdf.ln(3)
        pdf.multi_cell(0, 5, pdf_text(screen), align="L", new_x="LMARGIN", new_y="NEXT")
        _pdf_curve(pdf, run, figures["screen"]["curve"], FONT)
    for kind in ("miss", "overkill"):
        _pdf_examples(pdf, run, [e for e in examples if e.kind == kind], kind, figures, FONT)
    pdf.output(str(path))


_CURVES = (
    ("miss_rate", (192, 57, 43), "miss rate"),
    ("overkill", (41, 128, 185), "overkill"),
    ("handed_on", (39, 174, 96), "handed on to the next engine"),
)


def _pdf_curve(pdf, run: EvaluationRun, curve: list[dict], font: str) -> None:
    """Miss rate, overkill and share handed on against the screen's threshold, drawn as lines
    on a page of its own (the same curve as the HTML report's SVG)."""
    points = [p for p in curve if math.isfinite(p["threshold"])]
    pdf.add_page()
    pdf.set_font(font, "B", 11)
    pdf.cell(0, 7, f"Evaluation run {run.short}: screen threshold", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(font, size=8)
    if not points:
        pdf.cell(0, 6, "No frame was scored.", new_x="LMARGIN", new_y="NEXT")
        return
    left, top, width, height = 25.0, 40.0, 165.0, 100.0
    low, high = points[0]["threshold"], points[-1]["threshold"]
    span = (high - low) or 1.0

    def x(t: float) -> float:
        return left + (t - low) / span * width

    def y(v: float) -> float:
        return top + height - v * height

    pdf.set_draw_color(150, 150, 150)
    pdf.rect(left, top, width, height)
    for v in (0.0, 0.5, 1.0):
        pdf.text(left - 9, y(v) + 1, f"{int(v * 100)}%")
    for t in (low, (low + high) / 2, high):
        pdf.text(x(t) - 3, top + height + 5, f"{t:.3g}")
    pdf.text(left + width / 2 - 18, top + height + 11, "screen threshold (score)")
    pdf.set_line_width(0.5)
    for i, (key, colour, label) in enumerate(_CURVES):
        line = [(x(p["threshold"]), y(p[key])) for p in points if p[key] is not None]
        pdf.set_draw_color(*colour)
        pdf.set_text_color(*colour)
        if len(line) > 1:
            pdf.polyline(line)
        pdf.text(left + 55 * i, top - 4, label)
    pdf.set_text_color(0, 0, 0)
    pdf.set_draw_color(0, 0, 0)


_SECTIONS = {
    "miss": (
        "Worst misses",
        "Defective images judged PASS, lowest score first; then those closest to passing.",
        "defect",
    ),
    "overkill": (
        "Worst overkills",
        "Good images judged FAIL, highest score first; then those closest to failing.",
        "good",
    ),
}
_LEGEND = (
    "Heat map (where the judge draws one): blue where the image is as usual for itself, red "
    "where it stands out most (by at least one threshold). "
    "Magenta: the regions the verdict reported. Green: the defect as labelled (mask)."
)


def _pdf_examples(pdf, run: EvaluationRun, examples, kind: str, figures: dict, font: str) -> None:
    """A page of pictures, two by two, each captioned with its file, label, score and outcome."""
    heading, what, expected = _SECTIONS[kind]
    pdf.add_page()
    pdf.set_font(font, "B", 11)
    pdf.cell(0, 7, f"Evaluation run {run.short}: {heading.lower()}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(font, size=8)
    if not examples:
        none = "no defective images in the set" if expected == "defect" else "no good images"
        pdf.multi_cell(0, 5, f"{what} None: {none}.", new_x="LMARGIN", new_y="NEXT")
        return
    pdf.multi_cell(0, 4, f"{what} {_LEGEND}", new_x="LMARGIN", new_y="NEXT")
    from inspector.export.pdf_report import pdf_text

    left, top, column, gap = pdf.l_margin, pdf.get_y() + 3, 88.0, 6.0
    box_height, caption_height = 92.0, 22.0
    for index, example in enumerate(examples):
        if index and index % 4 == 0:
            pdf.add_page()
            top = pdf.t_margin
        x = left + (index % 2) * (column + gap)
        y = top + ((index % 4) // 2) * (box_height + caption_height)
        if example.picture is not None:
            height, width = example.picture.shape[:2]
            scale = min(column / width, box_height / height)
            pdf.image(
                io.BytesIO(jpeg(example.picture)), x=x, y=y, w=width * scale, h=height * scale
            )
        else:
            pdf.set_xy(x, y)
            pdf.multi_cell(column, 4, pdf_text(f"(no picture: {example.note})"))
        pdf.set_xy(x, y + box_height + 1)
        caption = example.caption + (
            f"\n{example.note}" if example.note and example.picture is not None else ""
        )
        pdf.multi_cell(column, 4, pdf_text(caption), align="L")
    pdf.set_xy(left, top + 2 * (box_height + caption_height))


def _html_examples(examples: Sequence[Example]) -> str:
    e = html.escape
    parts = []
    for kind in ("miss", "overkill"):
        heading, what, _ = _SECTIONS[kind]
        chosen = [x for x in examples if x.kind == kind]
        if not chosen:
            continue
        parts.append(f"<h2>{heading}</h2><p>{e(what)} {e(_LEGEND)}</p>")
        for example in chosen:
            if example.picture is not None:
                data = base64.b64encode(jpeg(example.picture)).decode()
                image = f'<img src="data:image/jpeg;base64,{data}" alt="{e(example.result.image)}">'
            else:
                image = f"<p>(no picture: {e(example.note)})</p>"
            parts.append(f"<figure>{image}<figcaption>{e(example.caption)}</figcaption></figure>")
    return "\n".join(parts)


def _cost(figures: dict) -> float | None:
    return figures["cost"]["total"] if figures["cost"] else None


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _delta(value: float, show) -> str:
    text = show(abs(value))
    return ("+" if value >= 0 else "-") + text
