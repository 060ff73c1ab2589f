"""The station's model store: model folders kept by id, each with a SHA-256 manifest.

Layout: `<root>/<slug>/manifest.json` and `<root>/<slug>/files/...` (the model folder a recipe's
engine loads), where `<root>` is INSPECTOR_MODEL_STORE (a site path) or `<data>/models`, and the
slug is the id with `/` written `--`. A bundle (`export`) is a tar or a folder holding
`manifest.json`, `SHA256SUMS` (checkable with `sha256sum -c`) and `files/`.

Invariants:
- nothing enters the store unverified: `import_bundle` hashes every file while copying it into a
  hidden folder beside the store and moves it into place only when every file matches the
  manifest; a changed, missing or extra file is refused by name;
- a model's revision (what a verdict records) is its manifest's digest: the SHA-256 of the
  `SHA256SUMS` text, so two stations with the same files record the same revision;
- no torch import here; `huggingface_hub` only inside `pull`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import tarfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from inspector.errors import EngineUnavailable, InputError

FORMAT = "inspector-model/1"
MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
FILES = "files"
_CHUNK = 1 << 20
# Left out of a model's manifest: the hub client's download bookkeeping.
_SKIPPED_DIRS = frozenset({".cache", ".git"})

Progress = Callable[[int], None]  # bytes done since the last call


@dataclass(frozen=True)
class ModelFile:
    path: str  # relative, POSIX
    size: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    model_id: str
    revision: str | None  # the hub commit it was pulled at, where known
    files: tuple[ModelFile, ...]

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)

    def sums(self) -> str:
        return "".join(f"{f.sha256}  {f.path}\n" for f in self.files)

    @property
    def digest(self) -> str:
        """What a verdict records as the model's revision."""
        return "sha256:" + hashlib.sha256(self.sums().encode()).hexdigest()

    def to_json(self) -> str:
        files = [{"path": f.path, "size": f.size, "sha256": f.sha256} for f in self.files]
        body = {"format": FORMAT, "id": self.model_id, "revision": self.revision, "files": files}
        return json.dumps(body, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str, where: str) -> Manifest:
        try:
            body = json.loads(text)
            if body.get("format") != FORMAT:
                raise ValueError(f"format {body.get('format')!r}, expected {FORMAT}")
            files = tuple(
                ModelFile(_safe_path(f["path"], where), int(f["size"]), str(f["sha256"]).lower())
                for f in body["files"]
            )
            model_id = str(body["id"])
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise InputError(f"{where}: not a model manifest ({exc})") from None
        return cls(model_id, body.get("revision"), files)


@dataclass(frozen=True)
class Installed:
    manifest: Manifest
    folder: Path  # the model folder an engine loads
    verified: str | None  # when the last full check passed (UTC, ISO), None: never or failed

    @property
    def model_id(self) -> str:
        return self.manifest.model_id


_data_dir: Path | None = None  # the data directory this process runs on (set_data_dir)


def set_data_dir(data_dir: Path) -> None:
    """The data directory the command runs on (`--data-dir`), so that an engine resolving a
    recipe's model id looks in that station's store."""
    global _data_dir
    _data_dir = Path(data_dir)


def store_root() -> Path:
    """INSPECTOR_MODEL_STORE (a site path), else `<data>/models`: the data directory the command
    runs on, else INSPECTOR_DATA_DIR or the user's."""
    site = os.environ.get("INSPECTOR_MODEL_STORE")
    if site:
        return Path(site).expanduser()
    if _data_dir is not None:
        return _data_dir / "models"
    from inspector.config import Settings

    return Settings.from_env().data_dir / "models"


# A hub-style id: names of letters, digits, `.`, `_` and `-`, joined by `/`; nothing that could
# leave the store's folder, clash with another id's folder (`--`), or carry a control character.
_MODEL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*")


def slug(model_id: str) -> str:
    """The entry's folder name: the id with `/` as `--`; any other id is refused."""
    if not _MODEL_ID.fullmatch(model_id) or "--" in model_id or ".." in model_id:
        raise InputError(f"model id {model_id!r}: give a hub-style id such as Org/Name")
    return "--".join(model_id.split("/"))


class ModelStore:
    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root is not None else store_root()

    # ---- reading

    def entries(self) -> list[Installed]:
        if not self.root.is_dir():
            return []
        found = []
        for entry in sorted(self.root.iterdir()):
            if entry.name.startswith(".") or not (entry / MANIFEST).is_file():
                continue
            found.append(self._read(entry))
        return found

    def get(self, model_id: str) -> Installed | None:
        entry = self.root / slug(model_id)
        return self._read(entry) if (entry / MANIFEST).is_file() else None

    def resolve(self, model_id: str, revision: str | None = None) -> Installed | None:
        """The installed model a recipe names (by id, and revision where it gives one: the hub
        commit it was pulled at, or the manifest's digest)."""
        try:
            found = self.get(model_id)
        except InputError:  # a path, not an id
            return None
        if found is None or revision is None:
            return found
        return found if revision in (found.manifest.revision, found.manifest.digest) else None

    def _read(self, entry: Path) -> Installed:
        manifest = Manifest.from_json(
            (entry / MANIFEST).read_text(encoding="utf-8"), str(entry / MANIFEST)
        )
        state = _read_state(entry)
        verified = state.get("verified") if state.get("digest") == manifest.digest else None
        return Installed(manifest, entry / FILES, verified)

    # ---- checking

    def verify(self, model_id: str, progress: Progress | None = None) -> list[str]:
        """Every file hashed against the manifest; the problems, one line each (empty: good)."""
        found = self.get(model_id)
        if found is None:
            raise InputError(f"model {model_id} is not installed (see `inspector models list`)")
        problems = check_folder(found.folder, found.manifest, progress)
        entry = found.folder.parent
        state = {"digest": found.manifest.digest}
        if not problems:
            state["verified"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        # A read-only site store: the answer stands, only it is not remembered.
        with contextlib.suppress(OSError):
            (entry / "state.json").write_text(json.dumps(state) + "\n", encoding="utf-8")
        return problems

    # ---- changing

    def remove(self, model_id: str) -> Installed:
        found = self.get(model_id)
        if found is None:
            raise InputError(f"model {model_id} is not installed (see `inspector models list`)")
        shutil.rmtree(found.folder.parent)
        return found

    def import_bundle(
        self,
        source: Path,
        model_id: str | None = None,
        revision: str | None = None,
        progress: Progress | None = None,
        replace: bool = False,
    ) -> Installed:
        """Install a bundle (tar or folder with a manifest) after checking every file; or a plain
        model folder (config.json, no manifest), hashed as it is copied (`model_id` names it)."""
        source = Path(source).expanduser()
        if not source.exists():
            raise InputError(f"{source}: no such file or folder")
        with _BundleReader(source) as bundle:
            manifest = bundle.manifest
            if manifest is None:
                if not (source / "config.json").is_file():
                    raise InputError(
                        f"{source}: neither a model bundle (no {MANIFEST}) nor a model folder "
                        "(no config.json)"
                    )
                manifest = _manifest_of(source, model_id or source.name, revision)
            elif model_id and model_id != manifest.model_id:
                raise InputError(
                    f"{source}: the bundle holds {manifest.model_id}, not {model_id}; "
                    "leave out --id, or export the model under that id"
                )
            target = self.root / slug(manifest.model_id)
            if (target / MANIFEST).is_file() and not replace:
                raise InputError(
                    f"model {manifest.model_id} is already installed ({target}); "
                    f"`inspector models remove {manifest.model_id}` first"
                )
            self.root.mkdir(parents=True, exist_ok=True)
            staging = self.root / f".incoming-{slug(manifest.model_id)}-{os.getpid()}"
            shutil.rmtree(staging, ignore_errors=True)
            try:
                bundle.copy_verified(manifest, staging / FILES, progress)
                (staging / MANIFEST).write_text(manifest.to_json(), encoding="utf-8")
                state = {
                    "digest": manifest.digest,
                    "verified": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                }
                (staging / "state.json").write_text(json.dumps(state) + "\n", encoding="utf-8")
                if target.exists():
                    shutil.rmtree(target)
                staging.rename(target)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
        return self._read(target)

    def export(self, model_id: str, destination: Path, progress: Progress | None = None) -> Path:
        """A bundle of an installed model: a tar file (name ends .tar), else a folder."""
        found = self.get(model_id)
        if found is None:
            raise InputError(f"model {model_id} is not installed (see `inspector models list`)")
        destination = Path(destination).expanduser()
        if not destination.parent.is_dir():
            raise InputError(f"{destination}: the folder {destination.parent} does not exist")
        if destination.exists() and (destination.is_file() or any(destination.iterdir())):
            raise InputError(f"{destination} already exists: give a new file or an empty folder")
        manifest = found.manifest
        problems = check_folder(found.folder, manifest)
        if problems:
            raise InputError(
                f"model {model_id} has changed since it was installed ({problems[0]}); "
                "import it again before exporting it"
            )
        if destination.suffix == ".tar":
            _write_tar(found.folder, manifest, destination, progress)
        else:
            _write_folder(found.folder, manifest, destination, progress)
        return destination

    def pull(
        self, model_id: str, revision: str | None = None, progress: Progress | None = None
    ) -> Installed:
        """Download a model from the hub into the store (resumable: a cut download continues
        from its hidden folder), then install it through the same check as an import."""
        slug(model_id)
        _check_hub_reachable(model_id)
        from huggingface_hub import HfApi, snapshot_download

        try:
            commit = HfApi().model_info(model_id, revision=revision).sha
        except Exception as exc:  # the hub client raises many kinds; all mean the same here
            raise EngineUnavailable(f"model {model_id}: the hub did not answer ({exc})") from None
        installed = self.get(model_id)
        if installed is not None and installed.manifest.revision == commit:
            return installed  # already here at that commit
        self.root.mkdir(parents=True, exist_ok=True)
        download = self.root / f".pull-{slug(model_id)}"  # kept when cut: the next pull resumes
        snapshot_download(model_id, revision=commit, local_dir=download)
        installed = self.import_bundle(
            download, model_id=model_id, revision=commit, progress=progress, replace=True
        )
        shutil.rmtree(download, ignore_errors=True)
        return installed


def bundle_size(source: Path) -> int:
    """The bytes an import of `source` reads (its manifest's total, or a plain folder's files),
    for a progress bar; raises InputError for what is neither a bundle nor a folder."""
    source = Path(source).expanduser()
    if not source.exists():
        raise InputError(f"{source}: no such file or folder")
    with _BundleReader(source) as bundle:
        if bundle.manifest is not None:
            return bundle.manifest.size
    return sum((source / rel).stat().st_size for rel in _walk(source))


# ---- files and hashes


def check_folder(folder: Path, manifest: Manifest, progress: Progress | None = None) -> list[str]:
    problems = []
    listed = {f.path for f in manifest.files}
    for f in manifest.files:
        path = folder / f.path
        if not path.is_file():
            problems.append(f"{f.path}: missing")
            continue
        with path.open("rb") as handle:
            digest = _hash(handle, progress)
        if digest != f.sha256:
            problems.append(f"{f.path}: SHA-256 {digest}, the manifest says {f.sha256}")
    for path in _walk(folder):
        if path not in listed:
            problems.append(f"{path}: not in the manifest")
    return problems


def _manifest_of(folder: Path, model_id: str, revision: str | None) -> Manifest:
    slug(model_id)
    files = []
    for rel in sorted(_walk(folder)):
        path = folder / rel
        with path.open("rb") as handle:
            files.append(ModelFile(rel, path.stat().st_size, _hash(handle)))
    return Manifest(model_id, revision, tuple(files))


def _walk(folder: Path) -> Iterator[str]:
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIPPED_DIRS)
        for name in sorted(filenames):
            yield (Path(dirpath) / name).relative_to(folder).as_posix()


def _hash(handle: BinaryIO, progress: Progress | None = None, out: BinaryIO | None = None) -> str:
    digest = hashlib.sha256()
    while chunk := handle.read(_CHUNK):
        digest.update(chunk)
        if out is not None:
            out.write(chunk)
        if progress:
            progress(len(chunk))
    return digest.hexdigest()


def _safe_path(path: str, where: str) -> str:
    pure = PurePosixPath(path)
    if not path or pure.is_absolute() or any(p in ("", ".", "..") for p in pure.parts):
        raise InputError(f"{where}: file {path!r} would leave the model folder")
    return pure.as_posix()


def _read_state(entry: Path) -> dict:
    try:
        return json.loads((entry / "state.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _write_folder(folder: Path, manifest: Manifest, out: Path, progress: Progress | None) -> None:
    for f in manifest.files:
        target = out / FILES / f.path
        target.parent.mkdir(parents=True, exist_ok=True)
        with (folder / f.path).open("rb") as src, target.open("wb") as dst:
            _hash(src, progress, dst)
    (out / MANIFEST).write_text(manifest.to_json(), encoding="utf-8")
    (out / SUMS).write_text(_sums_for_bundle(manifest), encoding="utf-8")


def _write_tar(folder: Path, manifest: Manifest, out: Path, progress: Progress | None) -> None:
    partial = out.with_name(out.name + ".partial")
    with tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as tar:
        for name, text in ((MANIFEST, manifest.to_json()), (SUMS, _sums_for_bundle(manifest))):
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), int(time.time())
            tar.addfile(info, _BytesReader(data))
        for f in manifest.files:
            info = tar.gettarinfo(folder / f.path, arcname=f"{FILES}/{f.path}")
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            with (folder / f.path).open("rb") as src:
                tar.addfile(info, _Counting(src, progress))
    partial.rename(out)


def _sums_for_bundle(manifest: Manifest) -> str:
    return "".join(f"{f.sha256}  {FILES}/{f.path}\n" for f in manifest.files)


class _BytesReader:
    def __init__(self, data: bytes) -> None:
        import io

        self._io = io.BytesIO(data)

    def read(self, size: int = -1) -> bytes:
        return self._io.read(size)


class _Counting:
    def __init__(self, handle: BinaryIO, progress: Progress | None) -> None:
        self._handle, self._progress = handle, progress

    def read(self, size: int = -1) -> bytes:
        chunk = self._handle.read(size)
        if self._progress and chunk:
            self._progress(len(chunk))
        return chunk


class _BundleReader:
    """A bundle as a tar file or a folder: its manifest, and its files copied and checked."""

    def __init__(self, source: Path) -> None:
        self.source = source
        self._tar: tarfile.TarFile | None = None
        self.manifest: Manifest | None = None

    def __enter__(self) -> _BundleReader:
        if self.source.is_dir():
            if (self.source / MANIFEST).is_file():
                text = (self.source / MANIFEST).read_text(encoding="utf-8")
                self.manifest = Manifest.from_json(text, str(self.source / MANIFEST))
            return self
        try:
            self._tar = tarfile.open(self.source, "r:*")
            member = self._tar.getmember(MANIFEST)
            text = self._tar.extractfile(member).read().decode("utf-8")
        except (tarfile.TarError, KeyError, OSError, UnicodeDecodeError, AttributeError) as exc:
            raise InputError(
                f"{self.source}: not a model bundle ({exc}); give a bundle made by "
                "`inspector models export`, or a model folder"
            ) from None
        self.manifest = Manifest.from_json(text, f"{self.source}:{MANIFEST}")
        return self

    def __exit__(self, *exc) -> None:
        if self._tar is not None:
            self._tar.close()

    def copy_verified(self, manifest: Manifest, out: Path, progress: Progress | None) -> None:
        where = self.source
        listed = {f.path: f for f in manifest.files}
        if self._tar is not None:
            members = {
                m.name.removeprefix(f"{FILES}/"): m
                for m in self._tar.getmembers()
                if m.name.startswith(f"{FILES}/") and not m.isdir()
            }
        else:
            base = self.source / FILES if self.manifest is not None else self.source
            members = {rel: base / rel for rel in _walk(base)}
        extra = sorted(set(members) - set(listed))
        if extra:
            raise InputError(f"{where}: file {extra[0]} is not in the manifest; refused")
        for f in manifest.files:
            if f.path not in members:
                raise InputError(f"{where}: file {f.path} is missing; refused")
            target = out / f.path
            target.parent.mkdir(parents=True, exist_ok=True)
            member = members[f.path]
            if isinstance(member, Path):
                handle = member.open("rb")
            else:
                if not member.isfile():
                    raise InputError(f"{where}: {f.path} is not a plain file; refused")
                handle = self._tar.extractfile(member)
            with handle, target.open("wb") as dst:
                digest = _hash(handle, progress, dst)
            if digest != f.sha256:
                raise InputError(
                    f"{where}: file {f.path} does not match its manifest (SHA-256 {digest}, "
                    f"expected {f.sha256}); the copy is damaged or was changed: refused, nothing "
                    "installed. Export the model again from a good copy"
                )


def _check_hub_reachable(model_id: str) -> None:
    """Say in a second that this machine is offline, instead of after minutes of retries."""
    import socket
    from urllib.parse import urlparse

    offline = (
        f"cannot download {model_id}: this machine cannot reach the model hub ({{why}}). On a "
        f"connected machine run `inspector models pull {model_id}` and "
        f"`inspector models export {model_id} {slug(model_id)}.tar`, carry the file over, "
        f"then here `inspector models import {slug(model_id)}.tar`"
    )
    if os.environ.get("HF_HUB_OFFLINE") == "1":
        raise EngineUnavailable(offline.format(why="HF_HUB_OFFLINE=1"))
    endpoint = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    host = endpoint.hostname or ""
    port = endpoint.port or (443 if endpoint.scheme == "https" else 80)
    try:
        socket.create_connection((host, port), timeout=5).close()
    except OSError as exc:
        raise EngineUnavailable(offline.format(why=f"{host}:{port}: {exc}")) from None
    try:
        import huggingface_hub  # noqa: F401
    except ImportError:
        raise EngineUnavailable(
            "`models pull` needs huggingface_hub: pip install 'inspector[local]'"
        ) from None
