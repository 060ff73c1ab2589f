"""`Store`: the one way into the record (inspections, evidence, audit trail, people, runs).

Every read and write of the database is a method here; the modules beside it (queries,
export_reads, audit/*, evaluations/*) take the SQLAlchemy engine only from a Store, so nothing
outside `inspector/store/` holds a SQLAlchemy object. `Store.open` brings the schema up to date
once; a Store is a context manager (`with Store.open(settings) as store:` closes it).
`record_inspection` writes the evidence file, then the inspection, its defects and its attempts
in one transaction, so a crash leaves either a whole record or none, and no row ever names a
missing file. Every text a writer here stores passes `text.storable` (NUL and lone surrogates
escaped visibly), so no string can cost a part its record. A record that cannot be written
anyway is kept in the journal (`keep_in_journal`) and written later by `replay_journal`, once,
under its own uid.
"""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from inspector.config import Settings
from inspector.domain import Frame, Outcome, Region, Verdict, utc_now
from inspector.errors import InputError, InspectorError
from inspector.recipes import Recipe
from inspector.store import database, export_reads, outbox, queries
from inspector.store.audit import audit_tables as _audit_tables  # noqa: F401 (on Base)
from inspector.store.audit import (
    export_log,
    overrides,
    password_policy,
    recipe_log,
    retention,
    signatures,
    site_key,
    site_settings,
    trail_query,
    users,
    verify,
)
from inspector.store.audit import trail as audit
from inspector.store.evaluations import evaluation_tables as _evaluation_tables  # noqa: F401 (on Base)
from inspector.store.evaluations import runs
from inspector.store.evidence import EncodedImage, EvidenceStore
from inspector.store.inspection_records import InspectionRecord
from inspector.store.journal import Journal, JournalEntry
from inspector.store.pending import PendingRecord, Timings
from inspector.store.selection import InspectionFilter
from inspector.store.tables import (
    DefectRow,
    InspectionRow,
    JudgeAttemptRow,
    RecipeVersionRow,
)
from inspector.store.text import column_limits, storable, storable_row

__all__ = ["JournalEntry", "PendingRecord", "ReplayReport", "Store", "StoreError", "Timings"]

_LIMITS = {table: column_limits(table) for table in (InspectionRow, DefectRow, JudgeAttemptRow)}


class StoreError(InspectorError):
    """The database cannot be opened or written; the message says which and why."""


def describe_failure(exc: BaseException) -> str:
    """One line on why a write failed: the driver's own message, without SQLAlchemy's noise."""
    cause = getattr(exc, "orig", None) or exc
    lines = str(cause).strip().splitlines()
    text = lines[0] if lines else ""
    return f"{type(cause).__name__}: {text}" if text else type(cause).__name__


@dataclass
class ReplayReport:
    """What a replay of the journal did."""

    written: int = 0  # records written to the store from the journal
    already: int = 0  # records already in the store (a replay cut short): not written again
    unreadable: list[str] = field(default_factory=list)  # files left in the journal, and why


class Store:
    def __init__(
        self,
        engine: Engine,
        evidence: EvidenceStore,
        actor: users.Identity | None = None,
        journal: Journal | None = None,
        min_free_disk_mb: int = 0,
        site_key_path: Path | None = None,
    ) -> None:
        self._engine = engine
        self.evidence = evidence
        self.journal = journal or Journal(evidence.root.parent / "journal")
        # The data directory (evidence, journal, a SQLite file) must keep this much free.
        self.min_free_disk_mb = min_free_disk_mb
        # The site's private signing key (audit/site_key.py); None: this store signs nothing.
        self.site_key_path = site_key_path
        # Who records inspections and recipe versions through this store (the audit trail's
        # user): the station's service account unless a logged-in person opened it.
        self.actor = actor or users.Identity(users.SERVICE_ACCOUNT, users.Role.SERVICE, "")

    @classmethod
    def open(
        cls,
        settings: Settings,
        evidence_format: str = "jpeg",
        actor: str | users.Identity = users.SERVICE_ACCOUNT,
    ) -> Store:
        """Connect, apply any migration not yet applied, and check the acting account."""
        try:
            engine = database.connect(settings.database_url)
            database.upgrade(engine)
            if isinstance(actor, str):
                actor = users.ensure_service_account(engine, actor)
        except SQLAlchemyError as exc:
            reason = str(exc.orig if getattr(exc, "orig", None) else exc).strip().splitlines()[0]
            raise StoreError(
                f"database {database.safe_url(settings.database_url)}: {reason}"
            ) from None
        return cls(
            engine,
            EvidenceStore(settings.evidence_dir, evidence_format),
            actor,
            Journal(settings.journal_dir),
            settings.min_free_disk_mb,
            site_key.default_path(settings.data_dir),
        )

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def url(self) -> str:
        """The database URL without its password, for the window's title and messages."""
        return self._engine.url.render_as_string(hide_password=True)

    def revisions(self) -> set[str]:
        """The schema revisions the database is at (`inspector db`)."""
        return database.current_revisions(self._engine)

    def schema_differences(self) -> list[str]:
        """Where the database's schema differs from the tables' definitions (none after open)."""
        return database.schema_differences(self._engine)

    def table_names(self) -> set[str]:
        return database.table_names(self._engine)

    def connection_pragmas(self) -> dict[str, object]:
        """What each SQLite connection runs with (journal mode, foreign keys); {} elsewhere."""
        return database.sqlite_pragmas(self._engine)

    def recipe_version_id(
        self,
        recipe: Recipe,
        references: list[np.ndarray],
        actor: users.Identity | None = None,
        reason: str = "",
    ) -> int:
        """The row of this exact recipe, created on first use with its reference images.

        Creating one takes the right to save recipes (`actor`, else the store's); it is audited,
        with `reason` (why a person made this version) where one is given.
        """
        content = storable(recipe.to_yaml())
        name = storable(recipe.name)
        encoded = [self.evidence.encode(image) for image in references]
        ref_hashes = " ".join(e.sha256 for e in encoded)
        digest = hashlib.sha256(f"{content}\0{ref_hashes}".encode()).hexdigest()
        with Session(self._engine) as session:
            row = session.scalar(select(RecipeVersionRow).where(RecipeVersionRow.sha256 == digest))
            if row is not None:
                return row.id
            clash = session.scalar(
                select(RecipeVersionRow).where(
                    RecipeVersionRow.name == name,
                    RecipeVersionRow.version == recipe.version,
                )
            )
            if clash is not None:
                raise InputError(
                    f"recipe {recipe.name!r} version {recipe.version} is already recorded with "
                    "different content; raise its `version` so both stay on record"
                )
            (actor or self.actor).require(users.Permission.SAVE_RECIPE)
            for image in encoded:
                self.evidence.write(image)
        row = {
            "name": name,
            "version": recipe.version,
            "sha256": digest,
            "content": content,
            "reference_sha256": ref_hashes,
            "created_at": utc_now(),
        }
        return recipe_log.save_recipe_version(
            self._engine, actor or self.actor, row, storable(reason)
        )

    def record_inspection(
        self,
        frame: Frame,
        recipe_version_id: int,
        verdict: Verdict,
        image: EncodedImage,
        timings: Timings,
        roi: Region | None = None,
        outbox_write: outbox.OutboxWrite | None = None,
    ) -> int:
        """Write the evidence file, then the whole record in one transaction; returns its id.

        With `outbox_write`, the verdict's message for each line output joins the same
        transaction (store/outbox.py): it is sent only once the record is committed."""
        return self.record(
            PendingRecord.of(frame, recipe_version_id, verdict, image, timings, roi), outbox_write
        )

    def record(self, pending: PendingRecord, outbox_write: outbox.OutboxWrite | None = None) -> int:
        """Write a record (evidence file, then its rows in one transaction); returns its id.
        With `outbox_write`, its line outputs' messages join the transaction."""
        image, verdict, roi, timings = pending.image, pending.verdict, pending.roi, pending.timings
        self.evidence.write(image)
        inspection = {
            "uid": pending.uid,
            "camera_id": pending.camera_id,
            "sequence": pending.sequence,
            "captured_at": pending.captured_at,
            "recorded_at": utc_now(),
            "part_id": pending.part_id,
            "serial": pending.serial,
            "lot": pending.lot,
            "recipe_version_id": pending.recipe_version_id,
            "outcome": verdict.outcome.value,
            "reason": verdict.reason,
            "confidence": verdict.confidence,
            "evidence_sha256": image.sha256,
            "evidence_format": image.format,
            "image_width": image.width,
            "image_height": image.height,
            "roi_x": roi.x if roi else None,
            "roi_y": roi.y if roi else None,
            "roi_width": roi.width if roi else None,
            "roi_height": roi.height if roi else None,
            "queue_ms": timings.queue_ms,
            "judge_ms": timings.judge_ms,
            "total_ms": timings.total_ms,
            "image_left_site": verdict.image_left_site,
        }
        defects = [
            {
                "class_name": d.class_name,
                "severity": d.severity.value if d.severity else None,
                "x0": d.box.x0 if d.box else None,
                "y0": d.box.y0 if d.box else None,
                "x1": d.box.x1 if d.box else None,
                "y1": d.box.y1 if d.box else None,
                "confidence": d.confidence,
                "note": d.note,
            }
            for d in verdict.defects
        ]
        attempts = [
            {
                "position": i,
                "engine": a.engine,
                "model_id": a.model_id,
                "model_revision": a.model_revision,
                "prompt_hash": a.prompt_hash,
                "started_at": a.started_at,
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
            for i, a in enumerate(verdict.attempts)
        ]
        # Text valid for both databases, and within each column's length; the audit digest
        # is taken of exactly what is stored.
        inspection = storable_row(inspection, _LIMITS[InspectionRow])
        defects = [storable_row(row, _LIMITS[DefectRow]) for row in defects]
        attempts = [storable_row(row, _LIMITS[JudgeAttemptRow]) for row in attempts]
        # Core inserts, not the ORM: this runs once per part on the line's critical path.
        with self._engine.begin() as connection:
            inspection_id = connection.execute(
                insert(InspectionRow).returning(InspectionRow.id), inspection
            ).scalar_one()
            for table, rows in ((DefectRow, defects), (JudgeAttemptRow, attempts)):
                if rows:
                    for row in rows:
                        row["inspection_id"] = inspection_id
                    connection.execute(insert(table), rows)
            audit.record_inspection(
                connection, self.actor.name, inspection_id, inspection, defects, attempts
            )
            if outbox_write is not None:
                outbox.write(
                    connection,
                    inspection_id,
                    inspection["uid"],
                    inspection["recorded_at"],
                    outbox_write,
                )
        return inspection_id

    # The journal: records the store could not write, kept on the station's disk (journal.py).

    def keep_in_journal(
        self, pending: PendingRecord, outbox_write: outbox.OutboxWrite | None = None
    ) -> Path:
        """Keep a record that could not be written, with its line outputs' message; returns its
        file. OSError where even the journal cannot be written (then the record is lost, and
        the caller must say so)."""
        return self.journal.keep(pending, outbox_write)

    def journal_entries(self) -> list[JournalEntry]:
        """The records waiting in the journal, oldest first."""
        return self.journal.entries()

    def replay_journal(
        self, progress: Callable[[PendingRecord], None] | None = None
    ) -> ReplayReport:
        """Write every journaled record to the store, oldest first, each once, with its outbox
        rows in the same transaction; a file is deleted only after its record is committed. The
        first record that still cannot be written stops the replay with a StoreError naming
        it (it and the rest stay in the journal)."""
        report = ReplayReport()
        for entry in self.journal.entries():
            if entry.record is None:
                report.unreadable.append(f"{entry.path}: {entry.problem}")
                continue
            try:
                stored = self.stored_uid(entry.record.uid)
                if not stored:
                    try:
                        self.record(entry.record, entry.outbox)
                    except IntegrityError:  # another replay wrote it just now
                        if not self.stored_uid(entry.record.uid):
                            raise
                        stored = True
            except (SQLAlchemyError, OSError) as exc:
                raise StoreError(
                    f"journal {entry.path}: {entry.record.describe()} still cannot be "
                    f"recorded: {describe_failure(exc)}"
                ) from None
            self.journal.remove(entry.path)
            if stored:
                report.already += 1
            else:
                report.written += 1
            if progress is not None:
                progress(entry.record)
        return report

    def stored_uid(self, uid: str) -> bool:
        """Whether a record with this uid is in the store."""
        with self._engine.connect() as connection:
            found = connection.scalar(select(InspectionRow.id).where(InspectionRow.uid == uid))
        return found is not None

    def disk_low(self) -> str | None:
        """Why the data directory is too full to record safely, or None while it is not: the
        station stops (FAULT) before the disk is full, leaving room for the journal."""
        if self.min_free_disk_mb <= 0:
            return None
        path = self.journal.root.parent
        while not path.exists() and path != path.parent:
            path = path.parent
        free = shutil.disk_usage(path).free
        if free >= self.min_free_disk_mb * 1024 * 1024:
            return None
        return (
            f"disk nearly full: {path} has {free} bytes free ({free / 2**20:.1f} MB), below the "
            f"station's minimum of {self.min_free_disk_mb} MB (setting min_free_disk_mb); "
            "free some space, then start the station again"
        )

    # The outbox of the line outputs: see outbox.py.

    def outbox_pending(self, output: str, limit: int = 500) -> list[outbox.OutboxMessage]:
        """The output's unsent verdict messages, oldest first."""
        return outbox.pending(self._engine, output, limit)

    def outbox_mark_sent(self, row_ids: list[int]) -> None:
        outbox.mark_sent(self._engine, row_ids)

    def outbox_mark_failed(self, row_id: int, error: str) -> None:
        outbox.mark_failed(self._engine, row_id, error)

    def outbox_count_pending(self, output: str | None = None) -> int:
        return outbox.count_pending(self._engine, output)

    def outbox_sent(self, output: str) -> list[tuple[int, datetime]]:
        """(inspection id, sent at) of what the output took, in sending order."""
        return outbox.sent_messages(self._engine, output)

    def history(
        self, limit: int = 50, where: InspectionFilter | None = None
    ) -> list[InspectionRecord]:
        """The newest inspections first (`inspector history`)."""
        return self.page(where or InspectionFilter(), limit)

    def count(self, where: InspectionFilter | None = None) -> int:
        """How many inspections match (all of them with no filter)."""
        return queries.count(self._engine, where or InspectionFilter())

    # Review screens (the window's History, Review and Statistics tabs): see queries.py.

    def page(
        self, where: InspectionFilter, limit: int = 200, before_id: int | None = None
    ) -> list[InspectionRecord]:
        """Newest first; pass the last id of a page as `before_id` for the next one."""
        return queries.page(self._engine, where, self.evidence, limit, before_id)

    def detail(self, inspection_id: int) -> InspectionRecord | None:
        """One inspection whole (defects, attempts, decisions), or None."""
        return queries.detail(self._engine, inspection_id, self.evidence)

    def recipe_names(self) -> list[str]:
        return queries.recipe_names(self._engine)

    def latest_version(self, name: str) -> int | None:
        """The highest recorded version of a recipe name, or None if it was never recorded."""
        return queries.latest_version(self._engine, name)

    def yield_series(
        self, where: InspectionFilter, bucket: timedelta = timedelta(hours=1)
    ) -> list[queries.YieldPoint]:
        return queries.yield_series(self._engine, where, bucket)

    def defect_pareto(self, where: InspectionFilter) -> list[tuple[str, int]]:
        return queries.defect_pareto(self._engine, where)

    def last_failed_parts(self, count: int) -> list[InspectionRecord]:
        """The newest `count` failed parts, newest first, each as its first failing view."""
        return queries.last_failed_parts(self._engine, self.evidence, count)

    def review_queue(self, limit: int = 200, after_id: int | None = None) -> list[InspectionRecord]:
        """FAIL and UNSURE inspections no person has decided yet, oldest first; pass the last
        id of a page as `after_id` for the next one."""
        return queries.review_queue(self._engine, self.evidence, limit, after_id)

    def review_count(self, after_id: int | None = None) -> int:
        """How many FAIL and UNSURE inspections wait for a person, all of them (with
        `after_id`: those recorded after it)."""
        return queries.review_count(self._engine, after_id)

    def effective_outcome(self, inspection_id: int) -> Outcome | None:
        """The latest override's outcome, else the model's; None: no such inspection."""
        with self._engine.connect() as connection:
            return overrides.effective_outcome(connection, inspection_id)

    # Exports and reports: see export_reads.py.

    def as_of(
        self, where: InspectionFilter | None = None
    ) -> tuple[audit.ChainHead, InspectionFilter]:
        """The chain head and the filter bounded to the records that exist now, read at once."""
        return export_reads.as_of(self._engine, where or InspectionFilter())

    def records(
        self, where: InspectionFilter | None = None, batch: int = export_reads.BATCH
    ) -> Iterator[InspectionRecord]:
        """Every matching record, oldest first, streamed in batches (`export_dict` for files)."""
        return export_reads.iter_records(
            self._engine, where or InspectionFilter(), self.evidence, batch
        )

    def summary(self, where: InspectionFilter | None = None) -> dict[str, Any]:
        """Counts over every matching record, for a report's first page."""
        return export_reads.summary(self._engine, where or InspectionFilter())

    def log_export(
        self,
        actor: users.Identity,
        kind: str,
        file_name: str,
        sha256: str,
        count: int,
        filters: dict,
        head: audit.ChainHead,
    ) -> int:
        """Append the `export.made` entry after the file is complete; returns its number."""
        return export_log.log_export(
            self._engine, actor, kind, storable(file_name), sha256, count, filters, head
        )

    # The audit trail: see audit/.

    def audit_head(self) -> audit.ChainHead:
        return audit.head(self._engine)

    def audit_entries(
        self, limit: int = 50, entity_type: str | None = None, entity_id: object = None
    ) -> list[audit.AuditEntry]:
        """The newest entries first, optionally of exactly one record (`audit_search` with an
        `AuditFilter` also lists an inspection's overrides, as `inspector audit log` does)."""
        where = trail_query.AuditFilter(
            entity_type=entity_type or "",
            entity_id="" if entity_id is None else str(entity_id),
            with_overrides=False,
        )
        return trail_query.search(self._engine, where, limit)

    def audit_search(
        self, where: trail_query.AuditFilter, limit: int = 50, offset: int = 0
    ) -> list[audit.AuditEntry]:
        """One page of the entries `where` selects, newest first (the window's audit view)."""
        return trail_query.search(self._engine, where, limit, offset)

    def audit_count(self, where: trail_query.AuditFilter) -> int:
        return trail_query.count(self._engine, where)

    def iter_audit_entries(self, where: trail_query.AuditFilter) -> Iterator[audit.AuditEntry]:
        """Every entry `where` selects, newest first, streamed in batches (exports)."""
        return trail_query.iter_entries(self._engine, where)

    def audit_actions(self) -> list[str]:
        """The actions the trail holds, sorted."""
        return trail_query.actions(self._engine)

    def audit_hash_of(self, seq: int) -> str | None:
        return audit.hash_of(self._engine, seq)

    def verify(
        self,
        anchor: tuple[int, str] | None = None,
        batch: int = verify.BATCH,
        progress: Callable[[int], None] | None = None,
        evidence: bool = True,
        evidence_progress: Callable[[int, int | None], None] | None = None,
    ) -> verify.Report:
        """Check the whole chain and the records it covers (`inspector audit verify`), and,
        unless `evidence` is False, hash every evidence file against its record."""
        files = self.evidence if evidence else None
        return verify.verify(self._engine, anchor, batch, progress, files, evidence_progress)

    def chain_facts(self, inspection_ids: list[int], through_seq: int) -> verify.ChainFacts:
        """The digests the chain recorded, up to entry `through_seq`, for these inspections and
        their overrides (`export verify --against-database` checks a bundle's records so)."""
        return verify.chain_facts(self._engine, inspection_ids, through_seq)

    # The site's signing key: see audit/site_key.py.

    def site_keys(self) -> list[site_key.RecordedKey]:
        """Every signing key the chain recorded, oldest first (the last one signs)."""
        return site_key.recorded_keys(self._engine)

    def site_signer(self) -> site_key.Signer | None:
        """The signer of the site's key; None: the site has none (or this store has no path)."""
        if self.site_key_path is None:
            return None
        return site_key.signer(self._engine, self.site_key_path)

    def create_site_key(self, actor: users.Identity, reason: str = "") -> site_key.RecordedKey:
        """The site's signing key for a site set up before keys existed (an administrator)."""
        actor.require(users.Permission.MANAGE_USERS)
        if self.site_key_path is None:
            raise InputError("this store has no place for a signing key (no data directory)")
        created = site_key.create_if_missing(
            self._engine, actor.name, self.site_key_path, reason or "created by an administrator"
        )
        if created is None:
            latest = self.site_keys()[-1]
            raise InputError(
                f"the site has a signing key already (sha256:{latest.fingerprint}, audit entry "
                f"#{latest.seq})"
            )
        return created

    # People, signatures, decisions, recipes, retention, site settings.

    def list_users(self) -> list[users.UserInfo]:
        return users.list_users(self._engine)

    def has_people(self) -> bool:
        """Whether any person has an account (then every session is someone's)."""
        return users.has_people(self._engine)

    def authenticate(self, name: str, password: str) -> users.Identity:
        return users.authenticate(self._engine, name, password)

    def check_signer(self, identity: users.Identity, password: str) -> None:
        users.check_signer(self._engine, identity, password)

    def add_user(
        self,
        actor: users.Identity | None,
        name: str,
        role: str,
        password: str | None,
        full_name: str = "",
        reason: str = "",
    ) -> users.Identity:
        """Add an account. With no actor, only the first administrator (bootstrap) may be added."""
        return users.add_user(
            self._engine,
            actor,
            storable(name),
            role,
            password,
            storable(full_name),
            storable(reason),
            self.site_key_path,
        )

    def disable_user(self, actor: users.Identity, name: str, reason: str = "") -> None:
        users.disable_user(self._engine, actor, name, storable(reason))

    def unlock_user(self, actor: users.Identity, name: str, reason: str = "") -> users.UserInfo:
        """Lift a lockout (an admin); returns the account as it was."""
        return users.unlock_user(self._engine, actor, name, reason)

    def change_own_password(
        self, name: str, current: str, new_password: str, reason: str = ""
    ) -> None:
        """A person's new password, proven by the current one."""
        users.change_own_password(self._engine, name, current, new_password, reason)

    def reset_password(
        self,
        actor: users.Identity,
        signature_password: str,
        name: str,
        new_password: str,
        reason: str = "",
    ) -> int:
        """An admin sets another user's password, signed; returns the signature's id."""
        return users.reset_password(
            self._engine, actor, signature_password, name, new_password, reason
        )

    def enable_user(self, actor: users.Identity, name: str, reason: str = "") -> None:
        """Give a disabled account back its use (an admin)."""
        users.enable_user(self._engine, actor, name, storable(reason))

    def set_user_role(
        self, actor: users.Identity, name: str, role: str, reason: str = ""
    ) -> users.Role:
        """Change a person's role (an admin); returns the role it had."""
        return users.set_role(self._engine, actor, name, role, storable(reason))

    def log_out(self, identity: users.Identity, reason: str = "") -> int:
        """A person's session ends (logout, switch of user): an audit entry, like the login."""
        return users.log_out(self._engine, identity, storable(reason))

    def last_logins(self) -> dict[str, datetime]:
        """When each user last logged in (from the audit trail)."""
        return trail_query.last_logins(self._engine)

    @staticmethod
    def password_problem(password: str, name: str, role: str) -> str | None:
        """The password rule a new password of `name` (with `role`) breaks, or None."""
        return password_policy.problem(password, name, admin=role == users.Role.ADMIN.value)

    def signatures_of(self, subject_type: str, subject_id: object) -> list[signatures.Signature]:
        return signatures.of_subject(self._engine, subject_type, subject_id)

    def override_verdict(
        self,
        actor: users.Identity,
        password: str,
        inspection_id: int,
        outcome: str,
        reason: str,
        meaning: str,
    ) -> overrides.Override:
        """Record a person's decision on an inspection, signed with the re-entered password."""
        return overrides.override_verdict(
            self._engine, actor, password, inspection_id, outcome, storable(reason), meaning
        )

    def recipe_versions(self, name: str | None = None) -> list[recipe_log.RecipeVersionInfo]:
        return recipe_log.list_versions(self._engine, name)

    def approve_recipe(
        self,
        actor: users.Identity,
        password: str,
        name: str,
        version: int,
        meaning: str,
        reason: str = "",
    ) -> int:
        """Sign a recipe version (approved / rejected / reviewed); returns the signature's id."""
        return recipe_log.approve_recipe(
            self._engine, actor, password, name, version, meaning, storable(reason)
        )

    def purge(
        self,
        actor: users.Identity,
        older_than_days: int | None = None,
        reason: str = "",
        progress: Callable[[int], None] | None = None,
    ) -> retention.PurgeResult:
        """Delete records captured more than `older_than_days` ago (default: the setting)."""
        return retention.purge(
            self._engine, self.evidence, actor, older_than_days, reason, progress=progress
        )

    def site_settings(self) -> site_settings.SiteSettings:
        return site_settings.load(self._engine)

    def set_setting(
        self, actor: users.Identity, key: str, value: str, reason: str = ""
    ) -> tuple[object, object]:
        """Change one site setting; returns (old value, new value)."""
        return site_settings.set_setting(self._engine, actor, key, value, storable(reason))

    # Evaluation runs: see evaluations/runs.py.

    def start_run(
        self,
        *,
        dataset: str,
        dataset_kind: str,
        reader: dict,
        image_count: int,
        recipe_version_id: int,
        chain: str,
    ) -> runs.EvaluationRun:
        """A new evaluation run, status running, with no results yet."""
        return runs.start_run(
            self._engine,
            dataset=storable(dataset),
            dataset_kind=dataset_kind,
            reader=reader,
            image_count=image_count,
            recipe_version_id=recipe_version_id,
            chain=chain,
        )

    def get_run(self, run_id: int) -> runs.EvaluationRun:
        return runs.get_run(self._engine, run_id)

    def find_run(self, ref: str) -> runs.EvaluationRun:
        return runs.find_run(self._engine, ref)

    def list_runs(self, limit: int = 20) -> list[runs.EvaluationRun]:
        return runs.list_runs(self._engine, limit)

    def judged_images(self, run_id: int) -> set[str]:
        return runs.judged_images(self._engine, run_id)

    def add_result(self, run_id: int, result: runs.EvaluationResult) -> None:
        text = {"image", "label", "reason", "error"}
        runs.add_result(
            self._engine,
            run_id,
            dataclasses.replace(result, **{k: storable(getattr(result, k)) for k in text}),
        )

    def set_run_status(self, run_id: int, status: str) -> None:
        runs.set_status(self._engine, run_id, status)

    def run_results(self, run_id: int) -> list[runs.EvaluationResult]:
        return runs.results(self._engine, run_id)
