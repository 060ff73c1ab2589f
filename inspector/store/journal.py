"""The local journal: records the store could not write, kept until it can.

When a part's record cannot be written (the database is down, the disk is full, anything), the
station stops in FAULT and keeps the record here, in `<data>/journal/`, one file per record:
its fields, its verdict with every attempt, and the evidence image's bytes. Each file is
written to a temporary name, flushed to the disk (fsync), then renamed into place and the
folder synced, so a file in the journal is always whole; a crash leaves at most a stray
`.incoming-*` file, which is ignored.

A record whose verdict was to reach line outputs (MQTT, webhook) keeps its outbox entry with it
(the outputs' names and the message built without its id, uid and time recorded), so the replay
writes the outbox rows in the record's transaction and the verdict is published like any other.

Files are named `<time in ns>-<uid>.json`, so replaying in name order writes records in the
order they were seen. Replay (`Store.replay_journal`) writes each under its own uid and deletes
the file only after the commit; a record whose uid is already in the store (a replay that
stopped between the commit and the delete) is not written again.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from inspector.domain import Box, Defect, JudgeAttempt, Outcome, Region, Severity, Verdict
from inspector.store.durable import write_file
from inspector.store.evidence import EncodedImage
from inspector.store.outbox import OutboxWrite
from inspector.store.pending import PendingRecord, Timings

FORMAT = 1


@dataclass(frozen=True)
class JournalEntry:
    path: Path
    record: PendingRecord | None  # None: the file cannot be read (see `problem`)
    problem: str | None = None
    outbox: OutboxWrite | None = None  # the line outputs' message, written with the record


class Journal:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def keep(self, record: PendingRecord, outbox: OutboxWrite | None = None) -> Path:
        """Write the record (and its outbox entry) durably; returns its file. Raises OSError
        where even this fails."""
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / f"{time.time_ns():020d}-{record.uid}.json"
        kept = _to_json(record)
        kept["outbox"] = outbox.kept() if outbox is not None and outbox.outputs else None
        write_file(path, json.dumps(kept).encode("utf-8"))
        _sync_folder(self.root)
        return path

    def entries(self) -> list[JournalEntry]:
        """Every kept record, oldest first."""
        if not self.root.is_dir():
            return []
        found = []
        for path in sorted(self.root.glob("*.json")):
            try:
                data = json.loads(path.read_bytes())
                outbox = data.get("outbox")
                outbox = OutboxWrite.from_kept(outbox) if outbox is not None else None
                found.append(JournalEntry(path, _from_json(data), outbox=outbox))
            except (OSError, ValueError, KeyError, TypeError) as exc:
                found.append(JournalEntry(path, None, f"{type(exc).__name__}: {exc}"))
        return found

    def remove(self, path: Path) -> None:
        path.unlink(missing_ok=True)
        _sync_folder(self.root)


def _sync_folder(folder: Path) -> None:
    """Make a rename or delete in the folder durable (POSIX; a no-op where folders can't open)."""
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


# Python strings go through JSON as they are (json escapes lone surrogates as \udXXX and reads
# them back), so a record is journaled exactly as the station had it; the store makes it
# storable when it is written.


def _to_json(record: PendingRecord) -> dict:
    verdict, image, roi = record.verdict, record.image, record.roi
    return {
        "format": FORMAT,
        "uid": record.uid,
        "camera_id": record.camera_id,
        "sequence": record.sequence,
        "captured_at": record.captured_at.isoformat(),
        "part_id": record.part_id,
        "serial": record.serial,
        "lot": record.lot,
        "recipe_version_id": record.recipe_version_id,
        "timings": [record.timings.queue_ms, record.timings.judge_ms, record.timings.total_ms],
        "roi": [roi.x, roi.y, roi.width, roi.height] if roi else None,
        "verdict": {
            "outcome": verdict.outcome.value,
            "reason": verdict.reason,
            "confidence": verdict.confidence,
            "defects": [
                {
                    "class_name": d.class_name,
                    "severity": d.severity.value if d.severity else None,
                    "box": d.box.as_list() if d.box else None,
                    "confidence": d.confidence,
                    "note": d.note,
                }
                for d in verdict.defects
            ],
            "attempts": [
                {
                    "engine": a.engine,
                    "model_id": a.model_id,
                    "model_revision": a.model_revision,
                    "prompt_hash": a.prompt_hash,
                    "started_at": a.started_at.isoformat(),
                    "latency_ms": a.latency_ms,
                    "raw_text": a.raw_text,
                    "prompt_tokens": a.prompt_tokens,
                    "completion_tokens": a.completion_tokens,
                    "error": a.error,
                    "outcome": a.outcome.value if a.outcome else None,
                    "image_left_site": a.image_left_site,
                    "cost_usd": a.cost_usd,
                    "endpoint": a.endpoint,
                    "measured_confidence": a.measured_confidence,
                }
                for a in verdict.attempts
            ],
        },
        "image": {
            "sha256": image.sha256,
            "format": image.format,
            "width": image.width,
            "height": image.height,
            "data": base64.b64encode(image.data).decode("ascii"),
        },
    }


def _from_json(data: dict) -> PendingRecord:
    if data.get("format") != FORMAT:
        raise ValueError(f"journal format {data.get('format')!r}, expected {FORMAT}")
    v = data["verdict"]
    verdict = Verdict(
        outcome=Outcome(v["outcome"]),
        reason=v["reason"],
        confidence=v["confidence"],
        defects=tuple(
            Defect(
                d["class_name"],
                Severity(d["severity"]) if d["severity"] else None,
                Box(*d["box"]) if d["box"] else None,
                d["confidence"],
                d["note"],
            )
            for d in v["defects"]
        ),
        attempts=tuple(
            JudgeAttempt(
                engine=a["engine"],
                model_id=a["model_id"],
                model_revision=a["model_revision"],
                prompt_hash=a["prompt_hash"],
                started_at=datetime.fromisoformat(a["started_at"]),
                latency_ms=a["latency_ms"],
                raw_text=a["raw_text"],
                prompt_tokens=a["prompt_tokens"],
                completion_tokens=a["completion_tokens"],
                error=a["error"],
                outcome=Outcome(a["outcome"]) if a["outcome"] else None,
                image_left_site=a["image_left_site"],
                cost_usd=a["cost_usd"],
                endpoint=a["endpoint"],
                measured_confidence=a.get("measured_confidence"),  # journals before 0008
            )
            for a in v["attempts"]
        ),
    )
    i = data["image"]
    image = EncodedImage(
        i["sha256"], base64.b64decode(i["data"]), i["format"], i["width"], i["height"]
    )
    if hashlib.sha256(image.data).hexdigest() != image.sha256:
        raise ValueError("the evidence image's bytes do not match its SHA-256")
    return PendingRecord(
        camera_id=data["camera_id"],
        sequence=data["sequence"],
        captured_at=datetime.fromisoformat(data["captured_at"]),
        part_id=data["part_id"],
        serial=data["serial"],
        lot=data["lot"],
        recipe_version_id=data["recipe_version_id"],
        verdict=verdict,
        image=image,
        timings=Timings(*data["timings"]),
        roi=Region(*data["roi"]) if data["roi"] else None,
        uid=data["uid"],
    )
