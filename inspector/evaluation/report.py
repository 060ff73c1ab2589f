"""An evaluation run for people: console lines, a comparison of two runs, HTML and PDF reports.

The HTML report is one self-contained file (the curve an inline SVG). The PDF is drawn with
matplotlib (the `report` extra), imported only when a PDF is asked for.
"""

from __future__ import annotations

import html
import math
from pathlib import Path

from inspector.errors import InputError
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
    f = figures
    lines = [
        title(run),
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
    lines += ["", "confusion (rows: truth; columns: verdict)"]
    lines.append(f"  {'':<8} {'PASS':>7} {'FAIL':>7} {'UNSURE':>7}")
    for expected, row in f["confusion"].items():
        lines.append(f"  {expected:<8} {row['PASS']:>7} {row['FAIL']:>7} {row['UNSURE']:>7}")
    lines += ["", f"  {'class':<24} {'images':>6} {'PASS':>6} {'FAIL':>6} {'UNSURE':>6} recall"]
    for c in f["classes"]:
        lines.append(
            f"  {c['label']:<24} {c['count']:>6} {c['PASS']:>6} {c['FAIL']:>6} {c['UNSURE']:>6} "
            f"{pct(c['recall'])}"
        )
    screen = f["screen"]
    if screen:
        lines += [
            "",
            f"screen score: AUROC {_num(screen['auroc'])} over {screen['scored']} scored images; "
            f"missing no defect up to threshold {_num(screen['zero_miss_threshold'])}, where "
            f"{pct(screen['zero_miss_handed_on'])} of frames go on to the next engine",
        ]
    return lines


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


def write(path: Path, run: EvaluationRun, figures: dict) -> str:
    """Write the report as the suffix says (.html or .pdf); returns what was written."""
    suffix = path.suffix.lower()
    if suffix in (".html", ".htm"):
        path.write_text(html_report(run, figures), encoding="utf-8")
        return "HTML"
    if suffix == ".pdf":
        pdf_report(path, run, figures)
        return "PDF"
    raise InputError(f"--report {path}: give a file ending in .html or .pdf")


def html_report(run: EvaluationRun, figures: dict) -> str:
    e = html.escape
    summary = "\n".join(summary_lines(run, figures))
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
</style></head><body>
<h1>Evaluation run {e(run.short)}</h1>
<pre>{e(summary)}</pre>
<h2>Per class</h2>
<table><tr><th>class</th><th>truth</th><th>images</th><th>PASS</th><th>FAIL</th>
<th>UNSURE</th><th>recall</th></tr>{classes}</table>
{curve}
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


def pdf_report(path: Path, run: EvaluationRun, figures: dict) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib import pyplot as plt
        from matplotlib.backends.backend_pdf import PdfPages
    except ImportError:
        raise InputError(
            f"--report {path}: a PDF report needs matplotlib (pip install 'inspector[report]'); "
            "an .html report needs nothing more"
        ) from None
    with PdfPages(path) as pdf:
        page = plt.figure(figsize=(8.27, 11.69))
        page.text(
            0.05,
            0.97,
            "\n".join(summary_lines(run, figures)),
            family="monospace",
            fontsize=6.5,
            va="top",
            wrap=True,
        )
        pdf.savefig(page)
        plt.close(page)
        screen = figures["screen"]
        if screen:
            points = [p for p in screen["curve"] if math.isfinite(p["threshold"])]
            figure, axes = plt.subplots(figsize=(8.27, 5.5))
            for key, label in (
                ("miss_rate", "miss rate"),
                ("overkill", "overkill"),
                ("handed_on", "handed on to the next engine"),
            ):
                pairs = [(p["threshold"], p[key]) for p in points if p[key] is not None]
                if pairs:
                    axes.plot(*zip(*pairs, strict=True), label=label)
            axes.set_xlabel("screen threshold (score)")
            axes.set_ylabel("share")
            axes.set_title(f"evaluation run {run.short}: screen threshold")
            axes.legend()
            pdf.savefig(figure)
            plt.close(figure)


def _cost(figures: dict) -> float | None:
    return figures["cost"]["total"] if figures["cost"] else None


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _delta(value: float, show) -> str:
    text = show(abs(value))
    return ("+" if value >= 0 else "-") + text
