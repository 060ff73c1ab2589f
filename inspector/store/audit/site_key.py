"""The site's signing key: an Ed25519 key pair that signs what leaves the site (evidence bundles).

- Created with the first administrator, in the same transaction (users.add_user's bootstrap),
  or later by an administrator on a site set up before keys existed (`inspector audit site-key
  --create`).
- The public key is an audit entry (`site_key.created`, entity `site_key`, id its fingerprint):
  hash-linked like every entry, so it cannot be swapped unnoticed, and a bundle verified
  `--against-database` must carry a key the chain recorded.
- The private key is a PEM file (PKCS#8, unencrypted: a station signs unattended), created with
  mode 0600, by default `<data dir>/site-signing-key.pem`; INSPECTOR_SITE_KEY names another path.
  It never reaches the database, a log or an export. Stations sharing one PostgreSQL need a copy
  of that file to sign their own bundles.
- The latest recorded key signs. A file whose key is not the chain's latest is refused, so a key
  planted in the data directory cannot sign in the site's name.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection, Engine, select

from inspector.errors import InputError
from inspector.store.audit import trail as audit
from inspector.store.audit.audit_tables import AuditEntryRow
from inspector.store.durable import write_file

ALGORITHM = "Ed25519"
ACTION = "site_key.created"
FILE_NAME = "site-signing-key.pem"
ENVIRONMENT = "INSPECTOR_SITE_KEY"

_entries = AuditEntryRow.__table__


@dataclass(frozen=True)
class RecordedKey:
    """A public key as the audit chain recorded it."""

    seq: int
    at: datetime
    public_key: str  # the raw 32 bytes, hex
    fingerprint: str  # SHA-256 of the raw public key, hex


class Signer:
    """Signs with the site's private key; knows which recorded key it is."""

    def __init__(self, private_key, recorded: RecordedKey) -> None:
        self._private_key = private_key
        self.recorded = recorded

    @property
    def public_key(self) -> str:
        return self.recorded.public_key

    @property
    def fingerprint(self) -> str:
        return self.recorded.fingerprint

    def sign(self, message: bytes) -> str:
        """The signature of `message`, hex."""
        return self._private_key.sign(message).hex()

    def __repr__(self) -> str:  # never the key itself
        return f"Signer(sha256:{self.fingerprint})"


def default_path(data_dir: Path) -> Path:
    """Where the private key lives: INSPECTOR_SITE_KEY, else the data directory."""
    named = os.environ.get(ENVIRONMENT)
    return Path(named).expanduser() if named else Path(data_dir) / FILE_NAME


def fingerprint(public_key_hex: str) -> str:
    return hashlib.sha256(bytes.fromhex(public_key_hex)).hexdigest()


def create(connection: Connection, by: str, path: Path, reason: str = "") -> RecordedKey:
    """The site's key pair: the private key at `path` (0600), the public key an audit entry in
    the caller's transaction (which holds the chain's lock). Returns the recorded key.

    A key already at `path` is adopted rather than replaced: it may sign for another database
    (a data directory reused), and a key file is never destroyed by the application.
    """
    private = _existing(Path(path))
    if private is None:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        private = Ed25519PrivateKey.generate()
        # The file first: if the transaction then fails, the file is adopted next time. The
        # other order could leave a recorded key that nobody holds.
        try:
            _write_private(Path(path), private)
        except OSError as exc:
            raise InputError(
                f"cannot write the site's signing key at {path} ({exc.strerror or exc}); "
                f"name a writable path in {ENVIRONMENT}"
            ) from None
    public = _raw_public(private).hex()
    print_ = fingerprint(public)
    new = {"algorithm": ALGORITHM, "public_key": public, "sha256": print_}
    reason = reason or "site signing key, for exports"
    seq = audit.append(connection, by, ACTION, "site_key", print_, new=new, reason=reason)
    at = connection.execute(select(_entries.c.at).where(_entries.c.seq == seq)).scalar_one()
    return RecordedKey(seq, at, public, print_)


def _existing(path: Path):
    """The Ed25519 key in the file at `path`, None when there is no file; an unreadable file or
    another kind of key is an error (it is not overwritten)."""
    try:
        data = path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return None  # no key there (writing one says what is wrong with the place)
    except OSError as exc:
        raise InputError(f"the site's signing key at {path} cannot be read: {exc}") from None
    return _parse(path, data)


def _parse(path: Path, data: bytes):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        private = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise InputError(f"the site's signing key at {path} cannot be read: {exc}") from None
    if not isinstance(private, Ed25519PrivateKey):
        raise InputError(f"the site's signing key at {path} is not an {ALGORITHM} key")
    return private


def recorded_keys(bind: Engine | Connection) -> list[RecordedKey]:
    """Every key the chain recorded, oldest first."""
    query = (
        select(_entries.c.seq, _entries.c.at, _entries.c.new_value)
        .where(_entries.c.action == ACTION, _entries.c.entity_type == "site_key")
        .order_by(_entries.c.seq)
    )
    if isinstance(bind, Engine):
        with bind.connect() as connection:
            rows = connection.execute(query).all()
    else:
        rows = bind.execute(query).all()
    found = []
    for seq, at, text in rows:
        try:
            value = json.loads(text)
            public = str(value["public_key"])
            found.append(RecordedKey(seq, at, public, fingerprint(public)))
        except (ValueError, TypeError, KeyError):
            continue  # an edited entry: `audit verify` names it
    return found


def create_if_missing(engine: Engine, by: str, path: Path, reason: str) -> RecordedKey | None:
    """Create the site's key unless the chain has one; None when it had one already."""
    with audit.audited(engine) as connection:
        if recorded_keys(connection):
            return None
        return create(connection, by, path, reason)


def signer(engine: Engine, path: Path) -> Signer | None:
    """The signer of the chain's latest key, from the file at `path`; None: the site has no key.

    A recorded key whose file is missing, unreadable or holds another key is an error that says
    what to do: a bundle signed by the wrong key, or silently unsigned, is worse than none.
    """
    keys = recorded_keys(engine)
    if not keys:
        return None
    latest = keys[-1]
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError(
            f"the site's signing key (sha256:{latest.fingerprint[:16]}..., audit entry "
            f"#{latest.seq}) is not at {path}: copy it there from the station where it was "
            f"created, or name its path in {ENVIRONMENT}"
        ) from None
    except OSError as exc:
        raise InputError(f"the site's signing key at {path} cannot be read: {exc}") from None
    private = _parse(Path(path), data)
    if _raw_public(private).hex() != latest.public_key:
        raise InputError(
            f"the key at {path} is not the site's signing key recorded in audit entry "
            f"#{latest.seq} (sha256:{latest.fingerprint[:16]}...); nothing was signed with it"
        )
    return Signer(private, latest)


def signature_valid(public_key_hex: str, signature_hex: str, message: bytes) -> bool:
    """Whether `signature_hex` is the Ed25519 signature of `message` by that public key."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex))
        key.verify(bytes.fromhex(signature_hex), message)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def _raw_public(private) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )


def _write_private(path: Path, private) -> None:
    """Write the key readable by its owner only from its first byte: mkstemp creates the file
    with mode 0600, and the rename keeps it (no moment at 0644)."""
    from cryptography.hazmat.primitives import serialization

    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    write_file(path, pem)
