"""The evidence bundle: one zip an auditor can check without the station or its database.

Inside: `records.jsonl` (every field of every record, with the digest the audit chain holds for
it), `evidence/ab/<sha256>.<ext>` (each image once, named by its SHA-256 as on the station),
`manifest.json`: the SHA-256 and size of every other file, the audit chain's head when the bundle
was made, who made it, with which filters and the site's public key; and `signature.json`: the
site's Ed25519 signature of the manifest's bytes (store/audit/site_key.py).

What each layer stops:
- the signature: a forger who rewrites a record and recomputes every hash cannot sign the new
  manifest without the site's private key; re-signed with another key, the bundle names a key
  the site's audit chain never recorded (`export verify --against-database`, or compare the
  fingerprint `verify` prints with the site's);
- each record's digest, recomputed with the chain's own function (record_digests.py): a record
  edited without its digest is named; with `--against-database`, each digest is compared with the
  one the chain recorded, which no one can recompute into a forgery;
- the zip comment (an unkeyed SHA-256 of every byte before it): accidental damage to the zip's
  structure, which the manifest alone would not see.
Member names are checked before anything is read: `..` or an absolute path is refused, naming
the member, so no tool that unpacks a checked bundle writes outside its folder.

A bundle without a signature (written before sites had keys, format 1) fails `verify` unless
the auditor accepts it (`allow_unsigned`): a forger could otherwise strip the signature and
fall back to the unkeyed checks. Images are stored uncompressed; text is deflated.
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
from inspector.export.record_digests import inspection_digest
from inspector.store.audit import site_key

FORMAT = "inspector-bundle-2"  # 1: unsigned, and records without the digest's every input
FORMATS = ("inspector-bundle-1", FORMAT)
MANIFEST = "manifest.json"
RECORDS = "records.jsonl"
SIGNATURE = "signature.json"
# What is signed: this prefix and the manifest's bytes (a signature of a manifest can never be
# taken for the site's signature of anything else).
SIGNED_PREFIX = b"inspector-bundle-2 manifest\n"
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
    warnings: list[str] = field(default_factory=list)
    manifest: dict = field(default_factory=dict)
    signed_by: str | None = None  # the public key (hex) whose valid signature the bundle holds

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def fingerprint(self) -> str | None:
        return site_key.fingerprint(self.signed_by) if self.signed_by else None


def write_bundle(
    records: Iterable[dict],
    path: Path,
    evidence_root: Path,
    about: dict,
    progress: Progress | None = None,
    total: int | None = None,
    signer: site_key.Signer | None = None,
) -> BundleInfo:
    """Write the bundle; `about` goes into the manifest (chain head, filters, who, when); with
    a `signer`, its public key goes in too and the manifest is signed."""
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
            if signer is not None:
                manifest["signing_key"] = {
                    "algorithm": site_key.ALGORITHM,
                    "public_key": signer.public_key,
                    "sha256": signer.fingerprint,
                    "audit_seq": signer.recorded.seq,
                }
            data = json.dumps(manifest, indent=2, ensure_ascii=False).encode("utf-8")
            archive.writestr(MANIFEST, data, compress_type=zipfile.ZIP_DEFLATED)
            if signer is not None:
                signature = {
                    "algorithm": site_key.ALGORITHM,
                    "public_key": signer.public_key,
                    "signature": signer.sign(SIGNED_PREFIX + data),
                    "signs": MANIFEST,
                }
                text_ = json.dumps(signature, indent=2).encode("utf-8")
                archive.writestr(SIGNATURE, text_, compress_type=zipfile.ZIP_DEFLATED)
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


def verify_bundle(path: Path, allow_unsigned: bool = False) -> BundleCheck:
    """Check every byte and every file of a bundle, its signature and each record's digest; the
    problems say what differs. Unsigned passes only with `allow_unsigned` (then a warning)."""
    check = BundleCheck(Path(path))
    try:
        _check_seal(check)
        with zipfile.ZipFile(path) as archive:
            if _check_names(check, archive):
                _check_members(check, archive, allow_unsigned)
    except (*_DAMAGED, zipfile.LargeZipFile, KeyError) as exc:
        check.problems.append(f"not a readable bundle: {exc}")
    return check


def unsafe_name(name: str) -> bool:
    """Whether a member's name would reach outside the folder it is unpacked into."""
    parts = name.replace("\\", "/").split("/")
    return (
        name.startswith(("/", "\\"))
        or ".." in parts
        or re.match(r"^[A-Za-z]:", name) is not None
        or "\0" in name
    )


def _check_names(check: BundleCheck, archive: zipfile.ZipFile) -> bool:
    """Refuse members named with `..` or an absolute path (each named); True when none is."""
    unsafe = [info.filename for info in archive.infolist() if unsafe_name(info.filename)]
    for name in unsafe:
        check.problems.append(
            f"member {name!r}: a path outside the bundle (.. or absolute); bundle refused"
        )
    return not unsafe


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


def _check_members(check: BundleCheck, archive: zipfile.ZipFile, allow_unsigned: bool) -> None:
    try:
        raw_manifest = archive.read(MANIFEST)
        manifest = json.loads(raw_manifest)
        if not isinstance(manifest, dict):
            raise ValueError("not a JSON object")
    except (KeyError, ValueError) as exc:
        check.problems.append(f"{MANIFEST}: missing or unreadable ({exc})")
        return
    check.manifest = manifest
    present = {info.filename for info in archive.infolist()} - {MANIFEST, SIGNATURE}
    _check_signature(check, archive, raw_manifest, manifest, allow_unsigned)
    listed = manifest.get("files")
    if not isinstance(listed, dict):
        check.problems.append(f"{MANIFEST}: no list of files")
        return
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
        expected = listed[name] if isinstance(listed[name], dict) else {}
        if digest.hexdigest() != expected.get("sha256") or size != expected.get("size"):
            check.problems.append(f"{name}: SHA-256 differs from the manifest (changed)")
        elif name.startswith("evidence/") and Path(name).stem != digest.hexdigest():
            check.problems.append(f"{name}: its name is not its SHA-256")
    if RECORDS in present:
        _check_records(check, archive, present)


def _check_signature(
    check: BundleCheck,
    archive: zipfile.ZipFile,
    raw_manifest: bytes,
    manifest: dict,
    allow_unsigned: bool,
) -> None:
    if manifest.get("format") not in FORMATS:
        check.problems.append(f"{MANIFEST}: unknown format {manifest.get('format')!r}")
    names = {info.filename for info in archive.infolist()}
    if SIGNATURE not in names:
        if "signing_key" in manifest:
            check.problems.append(f"{SIGNATURE}: missing, though the manifest names a signing key")
            return
        message = (
            "UNSIGNED: the bundle carries no site signature, so anyone could have rewritten it "
            "and recomputed its hashes; only --against-database can vouch for its records"
        )
        (check.warnings if allow_unsigned else check.problems).append(message)
        return
    try:
        signature = json.loads(archive.read(SIGNATURE))
        public_key, value = str(signature["public_key"]), str(signature["signature"])
    except (KeyError, ValueError, TypeError) as exc:
        check.problems.append(f"{SIGNATURE}: unreadable ({exc})")
        return
    named = manifest.get("signing_key")
    if not isinstance(named, dict) or named.get("public_key") != public_key:
        check.problems.append(
            f"{SIGNATURE}: signed by another key than the one the manifest names (replaced)"
        )
        return
    if not site_key.signature_valid(public_key, value, SIGNED_PREFIX + raw_manifest):
        check.problems.append(
            f"{SIGNATURE}: the signature does not match {MANIFEST}: the manifest was changed "
            "after the site signed it"
        )
        return
    check.signed_by = public_key


def _check_records(check: BundleCheck, archive: zipfile.ZipFile, present: set[str]) -> None:
    count = 0
    unchecked = 0
    old_format = check.manifest.get("format") == FORMATS[0]
    with archive.open(RECORDS) as member:
        for number, record in _numbered(member):
            if record is None:
                check.problems.append(f"{RECORDS} line {number}: not a record")
                continue
            count += 1
            name = f"evidence/{record['evidence_file']}"
            what = record_name(number, record)
            if name not in present:
                check.problems.append(f"{what}: its image {name} is missing")
            try:
                digest = inspection_digest(record)
            except (ValueError, TypeError, AttributeError) as exc:
                if old_format and "recipe_version_id" not in record:
                    unchecked += 1  # format 1: the digest's inputs were not all exported
                else:
                    check.problems.append(f"{what}: cannot recompute its digest ({exc})")
                continue
            if digest != record.get("record_sha256"):
                check.problems.append(
                    f"{what}: its fields do not match its record_sha256 (changed after export)"
                )
            final = _final_outcome(record)
            if final is not None and final != record.get("final_outcome"):
                check.problems.append(
                    f"{what}: final_outcome {record.get('final_outcome')} is not the outcome "
                    f"its overrides give ({final})"
                )
    if unchecked:
        check.warnings.append(
            f"{unchecked} record(s) of a format-1 bundle carry no recipe_version_id: "
            "their digests could not be recomputed"
        )
    if count != check.manifest.get("records"):
        check.problems.append(
            f"{RECORDS}: {count} records, the manifest says {check.manifest.get('records')}"
        )


def record_name(number: int, record: dict) -> str:
    """How a problem names a record: its line, inspection id and part."""
    part = f", part {record['part_id']}" if record.get("part_id") else ""
    return f"{RECORDS} line {number}: inspection {record.get('inspection_id')}{part}"


def _final_outcome(record: dict) -> str | None:
    overrides = record.get("overrides")
    if not isinstance(overrides, list):
        return None
    last = overrides[-1] if overrides else None
    return last.get("outcome") if isinstance(last, dict) else record.get("outcome")


def _numbered(member):
    """(line number, record or None when the line is not one), for each line."""
    for number, line in enumerate(io.TextIOWrapper(member, encoding="utf-8"), start=1):
        try:
            record = json.loads(line)
            if not isinstance(record, dict) or not isinstance(record["evidence_file"], str):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            record = None
        yield number, record


def records_of(path: Path, batch: int = 1000):
    """The records of a bundle in batches of (line number, record) (for checks against a
    database; call after `verify_bundle`, which names the lines that are not records)."""
    with zipfile.ZipFile(path) as archive, archive.open(RECORDS) as member:
        chunk = []
        for number, record in _numbered(member):
            if record is not None:
                chunk.append((number, record))
            if len(chunk) >= batch:
                yield chunk
                chunk = []
        if chunk:
            yield chunk
