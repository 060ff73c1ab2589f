"""What the command line prints: one line per verdict or per part, tables, and JSON shapes.

Every line that carries text from outside (a model's class or reason, a part id, a file name)
passes through `visible` (cli/escapes.py), so an escape sequence in it is shown, not obeyed.
The JSON shapes need nothing: `json.dumps` escapes every control and non-ASCII character (where
JSON keeps every script readable, `escapes.json_visible` escapes what a terminal would obey).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from inspector.domain import Frame, Verdict
from inspector.escapes import visible
from inspector.station import InspectionRecorded, PartInspected, StationStats
from inspector.store import InspectionRecord, Timings


def _time(frame_or_record) -> str:
    return frame_or_record.captured_at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _defects(verdict: Verdict) -> str:
    return _count_names(d.class_name for d in verdict.defects)


def _count_names(names) -> str:
    """`open, short x3`: each class once, with how often it was found."""
    counts = Counter(names)
    return ", ".join(f"{n} x{c}" if c > 1 else n for n, c in counts.items()) or "-"


def verdict_dict(
    inspection_id: int, frame: Frame, verdict: Verdict, timings: Timings, image: str | None = None
) -> dict:
    decided = verdict.decided_by
    data = {
        "inspection_id": inspection_id,
        "time": _time(frame),
        "camera": frame.camera_id,
        "sequence": frame.sequence,
        "part_id": frame.part_id,
        "outcome": verdict.outcome.value,
        "reason": verdict.reason,
        "confidence": verdict.confidence,
        "defects": [
            {
                "class": d.class_name,
                "severity": d.severity.value if d.severity else None,
                "box": d.box.as_list() if d.box else None,
                "confidence": d.confidence,
            }
            for d in verdict.defects
        ],
        "engine": decided.engine if decided else None,
        "model": decided.model_id if decided else None,
        "attempts": len(verdict.attempts),
        "judge_ms": round(timings.judge_ms, 1),
        "total_ms": round(timings.total_ms, 1),
    }
    if image is not None:
        data["image"] = image
    return data


def verdict_line(event: InspectionRecorded, as_json: bool = False) -> str:
    if as_json:
        data = verdict_dict(event.inspection_id, event.frame, event.verdict, event.timings)
        return json.dumps(data)
    v, f = event.verdict, event.frame
    part = f"  part {f.part_id}" if f.part_id else ""
    return visible(
        f"{_time(f)}  #{f.sequence:<5} {v.outcome.value:<6}  {_defects(v):<24} "
        f"{event.timings.judge_ms:7.0f} ms{part}"
    )


def judge_line(path: Path, verdict: Verdict, timings: Timings) -> str:
    line = f"{path}: {verdict.outcome.value}  {_defects(verdict)}  {timings.judge_ms:.0f} ms"
    return visible(f"{line}  ({verdict.reason})" if verdict.reason else line)


def summary_line(stats: StationStats) -> str:
    parts = [
        f"{stats.captured} frames captured",
        f"{stats.judged} judged",
        *([f"{stats.unreadable} unreadable (UNSURE, not judged)"] if stats.unreadable else []),
        f"{stats.recorded} recorded",
    ]
    if stats.dropped:
        parts.append(f"{stats.dropped} dropped (free-run: the judge took newer frames)")
    if stats.backpressure_waits:
        parts.append(f"camera waited {stats.backpressure_waits} times for the judge")
    if stats.not_judged:
        parts.append(
            f"{stats.not_judged} not inspected (the station stopped before judging them; "
            "recorded, not for review)"
        )
    if stats.record_failures:
        parts.append(_not_recorded(stats))
    return "stopped: " + ", ".join(parts)


def _not_recorded(stats: StationStats) -> str:
    lost = stats.record_failures - stats.journaled
    text = f"{stats.record_failures} NOT RECORDED ({stats.journaled} kept in the journal"
    return text + (f", {lost} LOST)" if lost else ")")


def fault_report(fault: str | None, not_recorded: list[str]) -> list[str]:
    """What the operator reads after a FAULT: the cause, each part not recorded, what to do."""
    lines = [f"FAULT: the station stopped: {fault}"] if fault else []
    if not_recorded:
        lines.append(f"{len(not_recorded)} inspections seen but NOT RECORDED:")
        lines.extend(f"  {message}" for message in not_recorded)
    if any("kept in the journal" in m for m in not_recorded):
        lines.append(
            "fix the cause, then start the station again or run `inspector journal replay`: "
            "the journal is written to the store first"
        )
    return lines


def part_dict(event: PartInspected) -> dict:
    return {
        "part_id": event.part_id,
        "outcome": event.outcome.value,
        "reason": event.reason,
        "views": [
            {
                "view": r.view,
                "outcome": r.verdict.outcome.value if r.verdict else None,
                "inspection_id": r.inspection_id,
            }
            for r in event.views
        ],
    }


def part_line(event: PartInspected, as_json: bool = False) -> str:
    """One part seen by several views: its outcome, then each view's."""
    if as_json:
        return json.dumps(part_dict(event))
    views = "  ".join(
        f"{r.view}={r.verdict.outcome.value if r.verdict else 'no frame'}"
        + (" NOT RECORDED" if r.frame is not None and r.inspection_id is None else "")
        for r in event.views
    )
    return visible(f"part {event.part_id}  {event.outcome.value:<6}  {views}")


def parts_summary_line(stats: StationStats) -> str:
    line = (
        f"stopped: {stats.parts} parts, {stats.recorded} views recorded, "
        f"{stats.missing_views} views without a frame"
    )
    return line + (f", {_not_recorded(stats)}" if stats.record_failures else "")


def record_dict(record: InspectionRecord) -> dict:
    return {
        "inspection_id": record.id,
        "uid": record.uid,
        "time": _time(record),
        "camera": record.camera_id,
        "sequence": record.sequence,
        "part_id": record.part_id,
        "recipe": record.recipe,
        "recipe_version": record.recipe_version,
        "outcome": record.outcome.value,
        "reason": record.reason,
        "defects": list(record.defect_names),
        "engine": record.engine,
        "model": record.model_id,
        "judge_ms": round(record.judge_ms, 1),
        "total_ms": round(record.total_ms, 1),
        "evidence": str(record.evidence_path),
    }


def history_table(records: list[InspectionRecord]) -> list[str]:
    if not records:
        return ["no inspections recorded yet"]
    lines = [f"{'id':>6}  {'time (UTC)':<24} {'outcome':<7} {'recipe':<20} {'defects':<24} part"]
    for r in records:
        recipe = f"{r.recipe} v{r.recipe_version}"
        defects = _count_names(r.defect_names)
        lines.append(
            visible(
                f"{r.id:>6}  {_time(r):<24} {r.outcome.value:<7} {recipe:<20} {defects:<24} "
                f"{r.part_id or ''}"
            )
        )
    return lines
