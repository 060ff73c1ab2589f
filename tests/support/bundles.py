"""A forger's tools for evidence bundles: rewrite members, recompute the manifest, the unkeyed
zip seal and (given a key) the signature, the way someone with a copy of the bundle and this
repository's source would. Written independently of inspector/export/bundle.py's writer, so a
test of `verify` does not lean on the code it checks.
"""

from __future__ import annotations

import hashlib
import json
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

SIGNED_PREFIX = b"inspector-bundle-2 manifest\n"


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def records(files: dict[str, bytes]) -> list[dict]:
    return [json.loads(line) for line in files["records.jsonl"].decode().splitlines()]


def forge(
    source: Path,
    out: Path,
    change: Callable[[list[dict]], None] | None = None,
    extra: dict[str, bytes] | None = None,
    key: Ed25519PrivateKey | None = None,
    manifest_change: Callable[[dict], None] | None = None,
) -> Path:
    """`source` rewritten: records changed by `change`, members added (`extra`), the manifest's
    hashes recomputed, signed again with `key` if given (else the old signature kept), and the
    seal recomputed."""
    files = members(source)
    manifest = json.loads(files["manifest.json"])
    if change is not None:
        found = records(files)
        change(found)
        text = "".join(
            json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n" for r in found
        )
        files["records.jsonl"] = text.encode()
    files.update(extra or {})
    manifest["files"] = {
        name: {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
        for name, data in files.items()
        if name not in ("manifest.json", "signature.json")
    }
    if key is not None:
        public = key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        manifest["signing_key"] = {
            **manifest.get("signing_key", {}),
            "public_key": public.hex(),
            "sha256": hashlib.sha256(public).hexdigest(),
        }
    if manifest_change is not None:
        manifest_change(manifest)
    files["manifest.json"] = json.dumps(manifest, indent=2, ensure_ascii=False).encode()
    if key is not None:
        signature = json.loads(files["signature.json"])
        signature["public_key"] = manifest["signing_key"]["public_key"]
        signature["signature"] = key.sign(SIGNED_PREFIX + files["manifest.json"]).hex()
        files["signature.json"] = json.dumps(signature).encode()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    reseal(out)
    return out


def reseal(path: Path) -> None:
    """Put the SHA-256 of every byte before the zip comment into the comment (the unkeyed seal)."""
    data = path.read_bytes()
    end = data.rfind(b"PK\x05\x06")
    body = data[: end + 20]  # the end record up to its comment length
    comment = f"inspector-bundle sha256={hashlib.sha256(body).hexdigest()}".encode()
    path.write_bytes(body + struct.pack("<H", len(comment)) + comment)


def site_private_key(data_dir: Path) -> Ed25519PrivateKey:
    """The site's own key from its data directory (for a forgery signed by the right key)."""
    pem = (Path(data_dir) / "site-signing-key.pem").read_bytes()
    return serialization.load_pem_private_key(pem, password=None)
