"""`inspector recipe`: check a recipe file, put a recipe version on record, sign it, list
versions and signatures. `check` exits 0 for a recipe that loads and judges as written, 1 where
it loads but a warning says it will not judge as meant (an engine's defect class the recipe
does not list), and with the error's own code where it does not load."""

from __future__ import annotations

from inspector.cli.acting import add_user_option, login, open_store, sign_password
from inspector.escapes import show, visible


def register(commands) -> None:
    recipe = commands.add_parser("recipe", help="recipe versions on record and their approvals")
    recipe_commands = recipe.add_subparsers(dest="recipe_command", metavar="ACTION", required=True)
    check = recipe_commands.add_parser(
        "check",
        help="check a recipe file: fields, engines, references, and warnings (no model loaded)",
    )
    check.add_argument("path", metavar="RECIPE.yaml")
    save = recipe_commands.add_parser("save", help="put a recipe file's version on record")
    save.add_argument("path", metavar="RECIPE.yaml")
    add_user_option(save)
    approve = recipe_commands.add_parser("approve", help="sign a recipe version")
    approve.add_argument("name", metavar="NAME")
    approve.add_argument("version", type=int, metavar="VERSION")
    approve.add_argument(
        "--meaning", default="approved", choices=("approved", "rejected", "reviewed")
    )
    approve.add_argument("--reason", default="")
    add_user_option(approve)
    recipe_commands.add_parser("list", help="recipe versions on record and their signatures")
    recipe.set_defaults(handler=_recipe)


def _recipe(args, settings) -> int:
    if args.recipe_command == "check":
        return _check(args.path)
    with open_store(settings) as store:
        if args.recipe_command == "list":
            versions = store.recipe_versions()
            if not versions:
                print("no recipe versions on record yet")
            for v in versions:  # names and signers' names from outside: made visible
                print(visible(f"{v.name} v{v.version}  {v.status}  sha256 {v.sha256[:16]}"))
                for s in v.signatures:
                    print(visible(f"    {s.line()}"))
            return 0
        actor = login(args, store)
        if args.recipe_command == "save":
            from inspector.recipes import load_recipe
            from inspector.station.runner import read_image_or_explain

            recipe = load_recipe(args.path)
            references = [
                read_image_or_explain(p, f"recipe {args.path}: reference")
                for p in recipe.references
            ]
            version_id = store.recipe_version_id(recipe, references, actor=actor)
            show(f"recipe {recipe.name} v{recipe.version} on record (id {version_id})")
            _warn(recipe, args.path)
            return 0
        store.approve_recipe(
            actor,
            sign_password(actor),
            args.name,
            args.version,
            args.meaning,
            args.reason,
        )
        show(
            f"recipe {args.name} v{args.version} {args.meaning} by {actor.full_name} ({actor.name})"
        )
        return 0


def _check(path: str) -> int:
    """Everything a station start checks of the recipe, without loading a model."""
    from inspector.station.runner import prepare_judge

    prepared = prepare_judge(path)  # fields, engines' settings, references, the ROI
    recipe = prepared.recipe
    engines = ", ".join(str(e.get("engine")) for e in recipe.engines)
    show(
        f"recipe {path}: {recipe.name} v{recipe.version} loads; engines {engines}; "
        f"{len(recipe.references)} good-part images, {len(recipe.defects)} defect classes"
    )
    return 1 if _warn(recipe, path) else 0


def _warn(recipe, path: str) -> int:
    """Print the recipe's warnings (stderr); how many."""
    from inspector.judges.defect_classes import recipe_warnings

    warnings = recipe_warnings(recipe)
    for warning in warnings:
        show(f"warning: recipe {path}: {warning}", err=True)
    return len(warnings)
