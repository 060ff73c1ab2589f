"""`inspector models`: the model presets, and whether a recipe's engines can run on this machine.

Only argparse at import: the command imports the judges when it runs, and `--check` loads no
model and sends no request to a cloud API (it looks for packages, GPUs, keys and local servers).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from inspector.cli.demo import DEMO_RECIPE
from inspector.cli.escapes import show


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
        return f"model {model} is not in the local cache and HF_HUB_OFFLINE=1 forbids a download"
    return None  # downloaded on first start
