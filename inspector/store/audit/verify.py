"""`inspector audit verify`: walk the chain, and check each record against what the chain says.

The walk reads entries in batches by number, so memory stays bounded however long the chain
is. It finds:
- an entry edited (its hash no longer matches its fields),
- an entry deleted (a gap in the numbers, or the head beyond the last entry),
- an entry inserted or moved (it does not follow the one before; where it belongs is named),
- a record changed or deleted behind the chain's back: an inspection, override, recipe version
  or signature whose digest differs from its entry's, or that is gone without a purge entry
  naming it; a user or setting whose state differs from the last entry about it;
- a record with no entry at all (inserted with plain SQL);
- an evidence file (an inspection's image, a recipe's reference image) missing, or whose bytes
  no longer hash to the SHA-256 its record holds (`verify_evidence`, after the walk).
Problems are reported in chain order; the first names the first entry that went wrong; evidence
problems come after those of the chain (they name no entry: the record is right, the file is not).
"""

from __future__ import annotations

import bisect
import hashlib
import json
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection, Engine, String, and_, cast, exists, func, select

from inspector.store.audit import digests
from inspector.store.audit import trail as audit
from inspector.store.audit.audit_tables import (
    AuditEntryRow,
    AuditHeadRow,
    OverrideRow,
    SignatureRow,
    SiteSettingRow,
    UserRow,
)
from inspector.store.audit.hash_chain import GENESIS, entry_hash
from inspector.store.evidence import FORMATS, EvidenceStore
from inspector.store.tables import DefectRow, InspectionRow, JudgeAttemptRow, RecipeVersionRow

_e = AuditEntryRow.__table__
_i = InspectionRow.__table__
_o = OverrideRow.__table__
_r = RecipeVersionRow.__table__
_s = SignatureRow.__table__
_h = AuditHeadRow.__table__
BATCH = 1000
KEPT = 200  # problems kept for the report; all are counted
DIAGNOSED = 20  # problems for which where an entry belongs is searched (a full scan each)
EVIDENCE_BATCH = 2000
# Hashing threads: reading a file and hashlib (over 2 KiB) both release the GIL, so threads
# overlap the disk's latency even on two cores; more than 8 only queue on the same disk.
HASH_WORKERS = min(8, (os.cpu_count() or 1) * 2)


@dataclass(frozen=True)
class Problem:
    seq: int | None  # the entry it concerns; None: a record with no entry
    message: str


@dataclass
class Report:
    entries: int = 0
    head: audit.ChainHead | None = None
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    evidence_files: int | None = None  # files hashed; None: evidence not checked
    evidence_problems: int = 0  # of problem_count, files missing or changed

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    @property
    def first(self) -> Problem | None:
        return self.problems[0] if self.problems else None

    def add(self, seq: int | None, message: str) -> None:
        self.problem_count += 1
        if len(self.problems) < KEPT:
            self.problems.append(Problem(seq, message))


class _Ranges:
    """Id ranges named by purge entries."""

    def __init__(self, spans: Iterable[list[int]]) -> None:
        self.spans = sorted((lo, hi) for lo, hi in spans)
        self.starts = [lo for lo, _ in self.spans]

    def __contains__(self, value: int) -> bool:
        i = bisect.bisect_right(self.starts, value) - 1
        return i >= 0 and self.spans[i][0] <= value <= self.spans[i][1]


def verify(
    engine: Engine,
    anchor: tuple[int, str] | None = None,
    batch: int = BATCH,
    progress: Callable[[int], None] | None = None,
    evidence: EvidenceStore | None = None,
    evidence_progress: Callable[[int, int | None], None] | None = None,
) -> Report:
    """Check the whole chain and the records it covers; `anchor` (number, hash) is an entry's
    hash known from outside (an export, a printout), which a rewritten chain cannot match.
    With `evidence`, every evidence file is hashed too (`verify_evidence`)."""
    # Stations keep appending while this runs: the walk covers the chain up to the head as it
    # was now, and entries appended since are left for the next run.
    report = Report(head=audit.head(engine))
    with engine.connect() as connection:
        purged = _purged(connection)
        walk = _Walk(connection, report, purged)
        last_seq = 0
        while True:
            rows = (
                connection.execute(
                    select(_e)
                    .where(_e.c.seq > last_seq, _e.c.seq <= report.head.seq)
                    .order_by(_e.c.seq)
                    .limit(batch)
                )
                .mappings()
                .all()
            )
            if not rows:
                break
            walk.entries(rows)
            last_seq = rows[-1]["seq"]
            if progress is not None:
                progress(report.entries)
        walk.finish()
        if anchor is not None:
            _check_anchor(connection, report, *anchor)
    report.problems.sort(key=lambda p: (p.seq is None, p.seq or 0))
    if evidence is not None:
        verify_evidence(engine, evidence, report, evidence_progress)
    return report


def _purged(connection: Connection) -> dict[str, _Ranges]:
    spans: dict[str, list] = {"inspections": [], "overrides": []}
    query = select(_e.c.new_value).where(_e.c.action == "records.purged")
    for (text,) in connection.execute(query):
        try:
            value = json.loads(text)
            for kind, found in spans.items():
                found.extend(value.get(kind, []))
        except (ValueError, TypeError, AttributeError):
            continue  # a damaged purge entry is reported by the walk
    return {kind: _Ranges(found) for kind, found in spans.items()}


class _Walk:
    def __init__(self, connection: Connection, report: Report, purged: dict[str, _Ranges]):
        self.connection = connection
        self.report = report
        self.purged = purged
        self.prev_seq = 0
        self.prev_hash = GENESIS
        self.diagnosed = 0
        self.users: dict[str, tuple[int, str]] = {}  # name -> (entry, digest it left)
        self.settings: dict[str, tuple[int, str]] = {}
        self.signed: set[int] = set()
        self.before = {"inspections": 0, "recipe_versions": 0}

    # -- the chain itself --------------------------------------------------------------------
    def entries(self, rows) -> None:
        checks: dict[str, list[tuple[int, int, str]]] = {
            "inspection": [],
            "override": [],
            "recipe_version": [],
            "signature": [],
        }
        for row in rows:
            self.report.entries += 1
            seq = row["seq"]
            self._link(row)
            new = self._new(row)
            if new is None:
                continue
            if seq == 1 and row["action"] == "chain.started":
                self.before = {k: int(new.get(f"{k}_before", 0)) for k in self.before}
            kind = row["entity_type"]
            if kind in checks and "sha256" in new and row["entity_id"].isdigit():
                checks[kind].append((seq, int(row["entity_id"]), new["sha256"]))
            if row["signature_id"] is not None:
                self.signed.add(row["signature_id"])
                checks["signature"].append(
                    (seq, row["signature_id"], new.get("signature_sha256", ""))
                )
            if kind == "user" and "sha256" in new:
                self.users[row["entity_id"]] = (seq, new["sha256"])
            if kind == "setting" and "sha256" in new:
                self.settings[row["entity_id"]] = (seq, new["sha256"])
        self._inspections(checks["inspection"])
        self._rows(checks["override"], _o, digests.override, "override", "overrides")
        self._rows(checks["recipe_version"], _r, digests.recipe_version, "recipe version", None)
        self._rows(checks["signature"], _s, digests.signature, "signature", None)

    def _link(self, row) -> None:
        seq = row["seq"]
        expected = self.prev_seq + 1
        recomputed = entry_hash(
            seq,
            row["at"],
            row["user_name"],
            row["action"],
            row["entity_type"],
            row["entity_id"],
            row["old_value"],
            row["new_value"],
            row["reason"],
            row["signature_id"],
            row["prev_hash"],
        )
        what = f"entry #{seq} ({row['action']} {row['entity_type']} {row['entity_id']})"
        if seq != expected:
            gone = f"#{expected}" if seq == expected + 1 else f"#{expected} to #{seq - 1}"
            self.report.add(expected, f"entry {gone} missing: deleted from the chain")
        elif row["prev_hash"] != self.prev_hash:
            self.report.add(seq, self._misplaced(what, row["prev_hash"]))
        elif recomputed != row["hash"]:
            self.report.add(seq, f"{what} was changed after it was written")
        self.prev_seq, self.prev_hash = seq, row["hash"]

    def _misplaced(self, what: str, prev_hash: str) -> str:
        if self.diagnosed < DIAGNOSED:
            self.diagnosed += 1
            after = self.connection.execute(select(_e.c.seq).where(_e.c.hash == prev_hash)).first()
            if after is not None:
                return f"{what} is out of order: it was written after entry #{after[0]} (moved)"
        return (
            f"{what} does not follow the entry before it: an entry was inserted, replaced "
            "or moved here"
        )

    def _new(self, row) -> dict | None:
        needed = (
            row["signature_id"] is not None
            or row["entity_type"]
            in (
                "inspection",
                "override",
                "recipe_version",
                "user",
                "setting",
            )
            or row["seq"] == 1
        )
        if not needed or row["new_value"] is None:
            return None
        try:
            value = json.loads(row["new_value"])
        except ValueError:
            return None  # changed text: the hash check has reported it
        return value if isinstance(value, dict) else None

    # -- the records the entries describe ---------------------------------------------------
    def _inspections(self, checks: list[tuple[int, int, str]]) -> None:
        if not checks:
            return
        ids = [entity for _, entity, _ in checks]
        # Tuples of exactly the digest's columns: this runs for every inspection on record.
        columns = [_i.c[name] for name, _ in digests.INSPECTION]
        rows = {r[0]: r for r in self.connection.execute(select(*columns).where(_i.c.id.in_(ids)))}
        defects = _by_inspection(self.connection, DefectRow.__table__, digests.DEFECT, ids)
        attempts = _by_inspection(self.connection, JudgeAttemptRow.__table__, digests.ATTEMPT, ids)
        for seq, entity, expected in checks:
            row = rows.get(entity)
            if row is None:
                if entity not in self.purged["inspections"]:
                    self.report.add(
                        seq, f"entry #{seq}: inspection {entity} was deleted outside a purge"
                    )
                continue
            actual = digests.inspection_ordered(
                row, defects.get(entity, ()), attempts.get(entity, ())
            )
            if actual != expected:
                self.report.add(
                    seq,
                    f"entry #{seq}: inspection {entity} was changed after it was recorded "
                    "(verdict, defects, attempts or evidence differ from its digest)",
                )

    def _rows(self, checks, table, digest, noun: str, purged_kind: str | None) -> None:
        if not checks:
            return
        ids = [entity for _, entity, _ in checks]
        key = table.c.id
        rows = {
            r["id"]: r
            for r in self.connection.execute(select(table).where(key.in_(ids))).mappings()
        }
        for seq, entity, expected in checks:
            row = rows.get(entity)
            if row is None:
                if purged_kind is None or entity not in self.purged[purged_kind]:
                    self.report.add(seq, f"entry #{seq}: {noun} {entity} was deleted")
            elif digest(row) != expected:
                self.report.add(seq, f"entry #{seq}: {noun} {entity} was changed after it")

    # -- after the walk -----------------------------------------------------------------------
    def finish(self) -> None:
        head = self.report.head
        if head is not None:
            if head.seq > self.prev_seq:
                self.report.add(
                    self.prev_seq + 1,
                    f"entries #{self.prev_seq + 1} to #{head.seq} missing: deleted from the end "
                    "of the chain",
                )
            elif head.hash != self.prev_hash:
                self.report.add(head.seq, f"the chain head does not match entry #{head.seq}")
        # One statement, so one snapshot: an append moves the head in the same transaction.
        current_head = select(_h.c.seq).where(_h.c.id == audit.HEAD_ID).scalar_subquery()
        beyond = select(_e.c.seq).where(_e.c.seq > current_head).order_by(_e.c.seq).limit(10)
        for (seq,) in self.connection.execute(beyond):
            self.report.add(seq, f"entry #{seq} is past the chain head: inserted")
        self._states(UserRow.__table__, "name", digests.user, self.users, "user")
        self._states(SiteSettingRow.__table__, "key", digests.setting, self.settings, "setting")
        self._orphans()

    def _states(self, table, key: str, digest, audited: dict, noun: str) -> None:
        seen = set()
        for row in self.connection.execute(select(table)).mappings():
            name = row[key]
            seen.add(name)
            if self._changed_since(noun, name):
                continue  # changed while this ran: the next run checks it
            if name not in audited:
                self.report.add(None, f"{noun} {name} has no audit entry: added behind the trail")
            elif digest(row) != audited[name][1]:
                seq = audited[name][0]
                self.report.add(seq, f"entry #{seq}: {noun} {name} was changed after it")
        for name, (seq, _) in audited.items():
            if name not in seen:
                self.report.add(seq, f"entry #{seq}: {noun} {name} was deleted")

    def _changed_since(self, noun: str, name: str) -> bool:
        later = select(_e.c.seq).where(
            _e.c.entity_type == noun, _e.c.entity_id == name, _e.c.seq > self.report.head.seq
        )
        return self.connection.execute(later.limit(1)).first() is not None

    def _orphans(self) -> None:
        for table, kind, before in (
            (_i, "inspection", self.before["inspections"]),
            (_o, "override", 0),
            (_r, "recipe_version", self.before["recipe_versions"]),
        ):
            entry = exists().where(
                and_(_e.c.entity_type == kind, _e.c.entity_id == cast(table.c.id, String))
            )
            query = select(table.c.id).where(table.c.id > before, ~entry).order_by(table.c.id)
            for (orphan,) in self.connection.execute(query.limit(10)):
                noun = kind.replace("_", " ")
                self.report.add(None, f"{noun} {orphan} has no audit entry: written behind it")
        for (orphan,) in self.connection.execute(select(_s.c.id).order_by(_s.c.id)):
            if orphan not in self.signed:
                self.report.add(None, f"signature {orphan} has no audit entry: written behind it")


def _by_inspection(connection: Connection, table, fields, ids: list[int]) -> dict[int, list]:
    grouped: dict[int, list] = {}
    columns = [table.c[name] for name, _ in fields]
    query = select(table.c.inspection_id, *columns).where(table.c.inspection_id.in_(ids))
    for row in connection.execute(query):
        grouped.setdefault(row[0], []).append(row[1:])
    return grouped


def _check_anchor(connection: Connection, report: Report, seq: int, expected: str) -> None:
    found = connection.execute(select(_e.c.hash).where(_e.c.seq == seq)).scalar()
    if found is None:
        report.add(seq, f"anchor: entry #{seq} is not in the chain")
    elif found != expected.lower():
        report.add(seq, f"anchor: entry #{seq} has another hash than the anchor: chain rewritten")


def verify_evidence(
    engine: Engine,
    evidence: EvidenceStore,
    report: Report,
    progress: Callable[[int, int | None], None] | None = None,
    batch: int = EVIDENCE_BATCH,
    workers: int = HASH_WORKERS,
) -> None:
    """Hash every evidence file its record names; a missing or changed file is a problem that
    names the inspection (or recipe version) and the path.

    Inspections are read in batches by id, up to the last id that existed when this started (a
    station recording meanwhile is checked next time); files are hashed by a thread pool, each
    distinct file of a batch once.
    """
    with engine.connect() as connection:
        last = connection.execute(select(func.max(_i.c.id))).scalar() or 0
        total = connection.execute(select(func.count()).select_from(_i)).scalar() or 0
        references = connection.execute(
            select(_r.c.id, _r.c.name, _r.c.version, _r.c.reference_sha256)
        ).all()
    total += sum(len((hashes or "").split()) for *_, hashes in references)
    checked = 0
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for version_id, name, version, hashes in references:
            for sha in (hashes or "").split():
                state, path = _reference_state(evidence, sha)
                checked += 1
                if state:
                    what = f"recipe {name} version {version} (#{version_id}): reference image"
                    report.add(None, f"{what} {path} {state}")
                    report.evidence_problems += 1
        after = 0
        with engine.connect() as connection:
            while after < last:
                rows = connection.execute(
                    select(_i.c.id, _i.c.evidence_sha256, _i.c.evidence_format)
                    .where(_i.c.id > after, _i.c.id <= last)
                    .order_by(_i.c.id)
                    .limit(batch)
                ).all()
                if not rows:
                    break
                after = rows[-1][0]
                states = _hash_all(evidence, {(sha, fmt) for _, sha, fmt in rows}, pool, workers)
                for inspection_id, sha, fmt in rows:
                    state = states[(sha, fmt)]
                    if state:
                        path = evidence.path_for(sha, fmt) if fmt in FORMATS else sha
                        what = f"inspection {inspection_id}: evidence file {path}"
                        report.add(None, f"{what} {state}")
                        report.evidence_problems += 1
                checked += len(rows)
                if progress is not None:
                    progress(checked, total)
    report.evidence_files = checked


def _hash_all(evidence: EvidenceStore, files: set[tuple[str, str]], pool, workers: int) -> dict:
    """The state of each (sha256, format) file: None when it hashes to its name.

    One task per thread, each a slice of the files: a task per file costs more in futures
    than hashing a small image does.
    """
    root = str(evidence.root)
    items = [
        (key, f"{root}/{key[0][:2]}/{key[0]}{FORMATS[key[1]][0]}" if key[1] in FORMATS else None)
        for key in files
    ]
    slices = [items[i::workers] for i in range(workers)] if workers > 1 else [items]
    states: dict = {}
    for found in pool.map(_states, slices):
        states.update(found)
    return states


def _states(items: list[tuple[tuple[str, str], str | None]]) -> list:
    found = []
    for key, path in items:
        if path is None:
            found.append((key, f"has an unknown format {key[1]!r} in its record"))
        else:
            found.append((key, _hash_state(path, key[0])))
    return found


def _reference_state(evidence: EvidenceStore, sha256: str) -> tuple[str | None, Path]:
    # A recipe's references were written in the store's format of the day; the row keeps only
    # the hash, so the file is whichever of the known suffixes exists.
    paths = [evidence.path_for(sha256, fmt) for fmt in FORMATS]
    for path in paths:
        if path.exists():
            return _hash_state(path, sha256), path
    return "is missing (deleted)", paths[0]


def _hash_state(path: Path | str, sha256: str) -> str | None:
    """None when the file hashes to `sha256`; else what is wrong, in words. Plain os calls:
    for a small image, Python's buffered file object costs more than the hashing."""
    try:
        handle = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return "is missing (deleted)"
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    try:
        digest = hashlib.sha256()
        while chunk := os.read(handle, 1 << 20):
            digest.update(chunk)
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    finally:
        os.close(handle)
    actual = digest.hexdigest()
    if actual != sha256:
        return f"was changed: its bytes hash to {actual[:16]}..., the record says {sha256[:16]}..."
    return None


@dataclass(frozen=True)
class ChainFacts:
    """What the chain says some inspections were, for checking a copy of them (a bundle)."""

    inspections: dict[int, str]  # inspection id -> the digest its entry holds
    overrides: dict[int, tuple[int, str]]  # override id -> (its inspection id, its digest)


def chain_facts(engine: Engine, inspection_ids: list[int], through_seq: int) -> ChainFacts:
    """The digests the chain recorded, up to entry `through_seq`, for these inspections and the
    overrides of them, read in batches of ids. A record the chain never named is absent."""
    inspections: dict[int, str] = {}
    decided: dict[int, tuple[int, str]] = {}
    with engine.connect() as connection:
        for start in range(0, len(inspection_ids), BATCH):
            ids = inspection_ids[start : start + BATCH]
            for entity_id, value in _recorded(connection, "inspection", ids, through_seq):
                inspections[entity_id] = value["sha256"]
            override_ids = [
                o for (o,) in connection.execute(select(_o.c.id).where(_o.c.inspection_id.in_(ids)))
            ]
            for entity_id, value in _recorded(connection, "override", override_ids, through_seq):
                decided[entity_id] = (int(value["inspection_id"]), value["sha256"])
    return ChainFacts(inspections, decided)


def _recorded(connection: Connection, kind: str, ids: list[int], through_seq: int):
    if not ids:
        return
    query = (
        select(_e.c.entity_id, _e.c.new_value)
        .where(
            _e.c.entity_type == kind,
            _e.c.entity_id.in_([str(i) for i in ids]),
            _e.c.seq <= through_seq,
        )
        .order_by(_e.c.seq)
    )
    for entity_id, text in connection.execute(query):
        try:
            value = json.loads(text)
            if "sha256" in value:
                yield int(entity_id), value
        except (ValueError, TypeError):
            continue  # an edited entry: `audit verify` names it
