"""The evidence bundle: one zip an auditor can check without the station or its database.

Inside: `records.jsonl` (every field of every record), `evidence/ab/<sha256>.<ext>` (each image
once, named by its SHA-256 as on the station), and `manifest.json`: the SHA-256 and size of
every other file, the audit chain's head when the bundle was made, who made it, with which
filters. The zip's comment holds the SHA-256 of every byte before it (the whole archive but its
own end record's comment), so a change to any byte, file contents or zip structure alike, fails
`verify`. Images are stored uncompressed (JPEG and PNG are compressed already); text is deflated.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from inspector.errors import InputError
from inspector.export.jsonl import write_lines
from inspector.export.output import Progress, atomic_file, counted

FORMAT = "inspector-bundle-1"
MANIFEST = "manifest.json"
RECORDS = "records.jsonl"
COMMENT = re.compile(rb"^inspector-bundle sha256=([0-9a-f]{64})$")
_END = b"PK\x05\x06"  # the zip's end-of-central-directory record
_END_SIZE = 22
# What reading a damaged archive raises (bad CRC, bad deflate stream, cut short, bad text).
# What a damaged archive raises; a changed header byte can even name an unknown compression
# method (NotImplementedError) or a missing codec (RuntimeError).
_DAMAGED = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    OSError,
    ValueError,
    NotImplementedError,
    RuntimeError,
)


@dataclass(frozen=True)
class BundleInfo:
    records: int
    images: int
    sha256: str  # the whole file


@dataclass
class BundleCheck:
    path: Path
    problems: list[str] = field(default_factory=list)
    manifest: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


def write_bundle(
    records: Iterable[dict],
    path: Path,
    evidence_root: Path,
    about: dict,
    progress: Progress | None = None,
    total: int | None = None,
) -> BundleInfo:
    """Write the bundle; `about` goes into the manifest (chain head, filters, who, when)."""
    files: dict[str, dict] = {}
    count = 0
    with atomic_file(path, "w+b") as raw:
        with zipfile.ZipFile(raw, "w") as archive, tempfile.TemporaryFile("w+b") as spool:
            # Records go to a spool file while their images go into the zip (a zip takes one
            # member at a time), then the spool goes in whole.
            text = io.TextIOWrapper(spool, encoding="utf-8", newline="\n")
            for record in write_lines(counted(records, progress, total), text):
                name = f"evidence/{record['evidence_file']}"
                if name not in files:
                    files[name] = _add_image(archive, evidence_root, record, name)
                count += 1
            text.flush()
            spool.seek(0)
            files[RECORDS] = _add_stream(archive, RECORDS, spool)
            text.detach()
            manifest = {"format": FORMAT, **about, "records": count, "files": files}
            data = json.dumps(manifest, indent=2, ensure_ascii=False).encode("utf-8")
            archive.writestr(MANIFEST, data, compress_type=zipfile.ZIP_DEFLATED)
        raw.flush()
        whole = _seal(raw)
    images = sum(1 for name in files if name.startswith("evidence/"))
    return BundleInfo(count, images, whole)


def _add_image(archive: zipfile.ZipFile, root: Path, record: dict, name: str) -> dict:
    source = root / record["evidence_file"]
    try:
        data = source.read_bytes()
    except OSError:
        raise InputError(
            f"evidence of inspection {record['inspection_id']}: no file at {source}; "
            "the bundle would be incomplete"
        ) from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != record["evidence_sha256"]:
        raise InputError(
            f"evidence of inspection {record['inspection_id']}: {source} does not match its "
            "SHA-256 (changed on disk); the bundle would carry a false image"
        )
    archive.writestr(name, data, compress_type=zipfile.ZIP_STORED)
    return {"sha256": digest, "size": len(data)}


def _add_stream(archive: zipfile.ZipFile, name: str, source) -> dict:
    digest, size = hashlib.sha256(), 0
    with archive.open(
        zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), "w", force_zip64=True
    ) as member:
        while chunk := source.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
            member.write(chunk)
    return {"sha256": digest.hexdigest(), "size": size}


def _seal(raw) -> str:
    """Put the SHA-256 of all bytes before the zip comment into the comment."""
    raw.seek(-_END_SIZE, 2)
    end = raw.read(_END_SIZE)
    if not end.startswith(_END):
        raise RuntimeError("zip end record not where expected")  # zipfile wrote a comment
    raw.seek(0)
    digest = hashlib.sha256()
    remaining = raw.seek(0, 2) - 2  # all but the comment-length field
    raw.seek(0)
    while remaining > 0:
        chunk = raw.read(min(1 << 20, remaining))
        digest.update(chunk)
        remaining -= len(chunk)
    comment = f"inspector-bundle sha256={digest.hexdigest()}".encode()
    raw.seek(-2, 2)
    raw.write(struct.pack("<H", len(comment)) + comment)
    raw.flush()
    raw.seek(0)
    whole = hashlib.sha256()
    while chunk := raw.read(1 << 20):
        whole.update(chunk)
    return whole.hexdigest()


def verify_bundle(path: Path) -> BundleCheck:
    """Check every byte and every file of a bundle; the problems say what differs."""
    check = BundleCheck(Path(path))
    try:
        _check_seal(check)
        with zipfile.ZipFile(path) as archive:
            _check_members(check, archive)
    except (*_DAMAGED, zipfile.LargeZipFile, KeyError) as exc:
        check.problems.append(f"not a readable bundle: {exc}")
    return check


def _check_seal(check: BundleCheck) -> None:
    with open(check.path, "rb") as source:
        size = source.seek(0, 2)
        tail_at = max(0, size - _END_SIZE - 0xFFFF)
        source.seek(tail_at)
        tail = source.read()
        start = tail.rfind(_END)
        if start < 0:
            check.problems.append("the zip end record is missing: the file is cut or damaged")
            return
        length = struct.unpack("<H", tail[start + 20 : start + 22])[0]
        comment = tail[start + 22 :]
        match = COMMENT.match(comment)
        if len(comment) != length or match is None:
            check.problems.append("the bundle's seal (zip comment) is missing or damaged")
            return
        digest = hashlib.sha256()
        remaining = tail_at + start + 20
        source.seek(0)
        while remaining > 0:
            chunk = source.read(min(1 << 20, remaining))
            digest.update(chunk)
            remaining -= len(chunk)
        if digest.hexdigest() != match.group(1).decode():
            check.problems.append("the bundle's bytes differ from its seal: changed after export")


def _check_members(check: BundleCheck, archive: zipfile.ZipFile) -> None:
    try:
        manifest = json.loads(archive.read(MANIFEST))
    except (KeyError, ValueError) as exc:
        check.problems.append(f"{MANIFEST}: missing or unreadable ({exc})")
        return
    check.manifest = manifest
    listed: dict = manifest.get("files", {})
    present = {info.filename for info in archive.infolist()} - {MANIFEST}
    for name in sorted(present - set(listed)):
        check.problems.append(f"{name}: in the bundle but not in the manifest (added)")
    for name in sorted(set(listed) - present):
        check.problems.append(f"{name}: in the manifest but not in the bundle (removed)")
    for name in sorted(present & set(listed)):
        digest, size = hashlib.sha256(), 0
        try:
            with archive.open(name) as member:
                while chunk := member.read(1 << 20):
                    digest.update(chunk)
                    size += len(chunk)
        except _DAMAGED as exc:
            check.problems.append(f"{name}: damaged ({exc})")
            continue
        expected = listed[name]
        if digest.hexdigest() != expected.get("sha256") or size != expected.get("size"):
            check.problems.append(f"{name}: SHA-256 differs from the manifest (changed)")
        elif name.startswith("evidence/") and Path(name).stem != digest.hexdigest():
            check.problems.append(f"{name}: its name is not its SHA-256")
    if RECORDS in present:
        _check_records(check, archive, present)


def _check_records(check: BundleCheck, archive: zipfile.ZipFile, present: set[str]) -> None:
    count = 0
    with archive.open(RECORDS) as member:
        for number, line in enumerate(io.TextIOWrapper(member, encoding="utf-8"), start=1):
            try:
                record = json.loads(line)
                name = f"evidence/{record['evidence_file']}"
            except (ValueError, KeyError, TypeError):
                check.problems.append(f"{RECORDS} line {number}: not a record")
                continue
            count += 1
            if name not in present:
                check.problems.append(f"{RECORDS} line {number}: its image {name} is missing")
    if count != check.manifest.get("records"):
        check.problems.append(
            f"{RECORDS}: {count} records, the manifest says {check.manifest.get('records')}"
        )
