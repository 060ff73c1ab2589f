"""`inspector models`: the model presets, whether a recipe's engines can run on this machine,
and the station's model store (`list`, `pull`, `export`, `import`, `verify`, `remove`).

Only argparse at import: the command imports the judges when it runs, and `--check` loads no
model and sends no request to a cloud API (it looks for packages, GPUs, keys and local servers).
The store's commands never import torch; only `pull` reaches the network.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from inspector.cli.demo import DEMO_RECIPE
from inspector.escapes import show


def register(commands) -> None:
    models = commands.add_parser(
        "models",
        help="list the model presets; --check: can the recipe's engines run here",
        description="The models Inspector reaches, with engine, checkpoint, rough GPU memory "
        "and box convention. --check says for each engine of a recipe whether it can run on "
        "this machine and, if not, why (no CUDA, server unreachable, key missing, package "
        "not installed and the extra that installs it).",
    )
    models.add_argument("--check", action="store_true", help="check the recipe's engines here")
    models.add_argument(
        "--recipe",
        default=str(DEMO_RECIPE),
        help="recipe whose engines to check (default: demo)",
    )
    models.add_argument("--json", action="store_true", help="print JSON")
    models.set_defaults(handler=_models)
    store = models.add_subparsers(dest="store_command", metavar="STORE_COMMAND")
    listing = store.add_parser("list", help="the models installed in the station's model store")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(handler=_store_list)
    pull = store.add_parser(
        "pull", help="download a model from the hub into the store (a connected machine)"
    )
    pull.add_argument("model_id", metavar="ID", help="hub id, e.g. Qwen/Qwen2.5-VL-3B-Instruct")
    pull.add_argument("--revision", help="branch, tag or commit (default: main)")
    pull.set_defaults(handler=_store_pull)
    export = store.add_parser(
        "export", help="write an installed model as a bundle with a SHA-256 manifest"
    )
    export.add_argument("model_id", metavar="ID")
    export.add_argument("destination", metavar="FILE", help="a .tar file, or a new folder")
    export.set_defaults(handler=_store_export)
    imports = store.add_parser(
        "import", help="install a bundle or a model folder, every file checked first"
    )
    imports.add_argument("source", metavar="FILE|DIR", help="a bundle (.tar or folder)")
    imports.add_argument("--id", dest="model_id", help="the id of a plain model folder")
    imports.add_argument("--revision", help="the hub revision a plain folder was taken at")
    imports.add_argument("--replace", action="store_true", help="replace an installed copy")
    imports.set_defaults(handler=_store_import)
    verify = store.add_parser("verify", help="hash every installed file against its manifest")
    verify.add_argument("model_id", metavar="ID", nargs="?", help="one model (default: all)")
    verify.set_defaults(handler=_store_verify)
    remove = store.add_parser("remove", help="delete an installed model from the store")
    remove.add_argument("model_id", metavar="ID")
    remove.set_defaults(handler=_store_remove)


def _models(args, settings) -> int:
    return _check(args) if args.check else _list(args)


def _list(args) -> int:
    from inspector.judges.presets import PRESETS, WORKSTATION_GB

    if args.json:
        rows = [
            {
                "preset": p.name,
                "engine": p.engine,
                "checkpoint": p.checkpoint,
                "gpu_gb": p.gpu_gb,
                "workstation": p.workstation,
                "boxes": p.boxes.value,
                "note": p.note,
            }
            for p in PRESETS
        ]
        print(json.dumps(rows, indent=2))
        return 0
    print(f"  {'preset':31} {'engine':18} {'checkpoint':41} {'GPU':>7}  {'boxes':10} note")
    for p in PRESETS:
        mark = "*" if p.workstation else " "
        gpu = f"~{p.gpu_gb} GB" if p.gpu_gb is not None else "cloud"
        print(
            f"{mark} {p.name:31} {p.engine:18} {p.checkpoint:41} {gpu:>7}  "
            f"{p.boxes.value:10} {p.note}".rstrip()
        )
    print(f"* fits one workstation GPU ({WORKSTATION_GB} GB)")
    return 0


def _check(args) -> int:
    from inspector.judges import build_chain
    from inspector.judges.presets import missing_packages
    from inspector.judges.privacy import refusal
    from inspector.recipes import load_recipe

    recipe = load_recipe(args.recipe)
    chain = build_chain(recipe, args.recipe)
    rows = []
    for i, judge in enumerate(chain.judges):
        blocked = refusal(recipe.privacy) if judge.leaves_site else None
        problem = None
        if blocked is None:  # every reason, not just the first: each one needs fixing
            found = (judge.check(), missing_packages(judge.engine), _local_problem(judge.settings))
            problem = "; ".join(p for p in found if p) or None
        rows.append(
            {
                "entry": f"engines.{i}",
                "engine": judge.engine,
                "model": judge.model_id,
                "ready": blocked is None and problem is None,
                "problem": problem,
                "not_used": blocked,
            }
        )
    if args.json:
        print(json.dumps(rows, indent=2))
    for row in rows if not args.json else []:
        where = f"{row['entry']} {row['engine']} {row['model']}"
        if row["not_used"]:
            show(f"{where}: not used: {row['not_used']}")
        elif row["ready"]:
            show(f"{where}: ready")
        else:
            show(f"{where}: cannot run here: {row['problem']}")
    return 0 if all(r["ready"] or r["not_used"] for r in rows) else 1


def _local_problem(settings) -> str | None:
    """What an in-process engine's settings ask for that this machine lacks (GPU, model)."""
    device = getattr(settings, "device", None)
    if isinstance(device, str) and device.startswith("cuda"):
        from inspector.judges.gpu import cuda_device_count

        if cuda_device_count() == 0:
            return f"no CUDA: the recipe asks for device {device}; set `device: auto`"
    if getattr(settings, "engine", "") not in ("transformers", "ovis2"):
        return None
    model = settings.model
    path = Path(model).expanduser()
    if model.startswith(("/", ".", "~")) or path.exists():
        if not (path / "config.json").is_file():
            return f"model folder {path} not found (or it holds no config.json)"
        return None
    from inspector.judges.model_store import ModelStore

    if ModelStore().resolve(model, getattr(settings, "revision", None)) is not None:
        return None
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return None
    cached = try_to_load_from_cache(
        model, "config.json", revision=getattr(settings, "revision", None)
    )
    if isinstance(cached, str):
        return None
    if os.environ.get("HF_HUB_OFFLINE") == "1":
        return (
            f"model {model} is not in the model store or the hub cache, and HF_HUB_OFFLINE=1 "
            f"forbids a download: `inspector models import FILE` (or `models pull {model}` "
            "where the hub can be reached)"
        )
    return None  # downloaded on first start


# ---- the model store


def _disk_errors(handler):
    """A full USB stick or an unreadable file is a message naming the path, not a traceback."""
    import functools

    @functools.wraps(handler)
    def wrapped(args, settings) -> int:
        from inspector.errors import InspectorError

        try:
            return handler(args, settings)
        except OSError as exc:
            where = exc.filename or "the model store"
            raise InspectorError(f"{where}: {exc.strerror or exc}") from None

    return wrapped


@_disk_errors
def _store_list(args, settings) -> int:
    from inspector.judges.model_store import ModelStore

    store = ModelStore()
    rows = [
        {
            "id": m.model_id,
            "size": m.manifest.size,
            "files": len(m.manifest.files),
            "revision": m.manifest.digest,
            "hub_revision": m.manifest.revision,
            "verified": m.verified,
            "folder": str(m.folder),
        }
        for m in store.entries()
    ]
    if args.json:
        print(json.dumps({"store": str(store.root), "models": rows}, indent=2))
        return 0
    show(f"model store: {store.root}")
    if not rows:
        show("no model installed: `inspector models pull ID` or `inspector models import FILE`")
    for r in rows:
        verified = f"verified {r['verified']}" if r["verified"] else "NOT verified"
        show(f"  {r['id']:40} {_size(r['size']):>9}  {r['revision'][:19]}  {verified}")
    return 0


@_disk_errors
def _store_pull(args, settings) -> int:
    from inspector.judges.model_store import ModelStore

    store = ModelStore()
    show(f"pulling {args.model_id} into {store.root}", err=True)
    with _Bar("verify") as bar:
        found = store.pull(args.model_id, args.revision, progress=bar.add)
    show(
        f"installed {found.model_id} ({_size(found.manifest.size)}), revision "
        f"{found.manifest.digest}"
    )
    return 0


@_disk_errors
def _store_export(args, settings) -> int:
    from inspector.judges.model_store import ModelStore

    store = ModelStore()
    found = store.get(args.model_id)
    total = found.manifest.size if found else 0  # the bar follows the copy
    with _Bar(f"export {args.model_id}", total) as bar:
        out = store.export(args.model_id, Path(args.destination), progress=bar.add)
    show(
        f"exported {args.model_id} to {out} ({_size(found.manifest.size)}, "
        f"{len(found.manifest.files)} files, revision {found.manifest.digest})"
    )
    return 0


@_disk_errors
def _store_import(args, settings) -> int:
    from inspector.judges.model_store import ModelStore

    with _Bar(f"import {args.source}") as bar:
        found = ModelStore().import_bundle(
            Path(args.source), args.model_id, args.revision, bar.add, replace=args.replace
        )
    show(
        f"installed {found.model_id} ({_size(found.manifest.size)}, "
        f"{len(found.manifest.files)} files verified), revision {found.manifest.digest}"
    )
    return 0


@_disk_errors
def _store_verify(args, settings) -> int:
    from inspector.judges.model_store import ModelStore

    store = ModelStore()
    ids = [args.model_id] if args.model_id else [m.model_id for m in store.entries()]
    if not ids:
        show("no model installed")
        return 0
    bad = 0
    for model_id in ids:
        with _Bar(f"verify {model_id}") as bar:
            problems = store.verify(model_id, progress=bar.add)
        if problems:
            bad += 1
            show(f"{model_id}: CHANGED")
            for line in problems:
                show(f"  {line}")
            show("  import the model again (`inspector models import FILE --replace`)")
        else:
            show(f"{model_id}: OK")
    return 1 if bad else 0


@_disk_errors
def _store_remove(args, settings) -> int:
    from inspector.judges.model_store import ModelStore

    found = ModelStore().remove(args.model_id)
    show(f"removed {found.model_id} ({_size(found.manifest.size)})")
    return 0


def _size(n: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n} B"


class _Bar:
    """A progress bar on stderr, redrawn in place on a terminal; elsewhere one line at the end."""

    def __init__(self, label: str, total: int = 0) -> None:
        from inspector.escapes import visible

        self.label, self.total, self.done = visible(label), total, 0
        self._tty = sys.stderr.isatty()
        self._shown = -1.0

    def __enter__(self) -> _Bar:
        return self

    def add(self, n: int) -> None:
        self.done += n
        if not self._tty:
            return
        now = time.monotonic()
        if now - self._shown < 0.1:
            return
        self._shown = now
        if self.total:
            share = min(self.done / self.total, 1.0)
            bar = "#" * int(share * 30)
            sys.stderr.write(f"\r{self.label} [{bar:30}] {share:4.0%} {_size(self.done)}")
        else:
            sys.stderr.write(f"\r{self.label} {_size(self.done)}")
        sys.stderr.flush()

    def __exit__(self, kind, *exc) -> None:
        if kind is not None:  # the error says what happened
            if self._tty and self.done:
                sys.stderr.write("\n")
            return
        end = "\r" if self._tty else ""
        sys.stderr.write(f"{end}{self.label}: {_size(self.done)} read\n")
        sys.stderr.flush()
