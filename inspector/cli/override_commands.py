"""`inspector override`: a person decides an inspection's outcome in place of the model, signed.

The decision is a new row; the model's verdict stays as recorded.
"""

from __future__ import annotations

from inspector.cli.acting import add_user_option, login, open_store, sign_password
from inspector.escapes import show


def register(commands) -> None:
    override = commands.add_parser(
        "override", help="decide an inspection's outcome in place of the model (signed)"
    )
    override.add_argument("inspection_id", type=int, metavar="INSPECTION_ID")
    override.add_argument("--outcome", required=True, type=str.upper, choices=("PASS", "FAIL"))
    override.add_argument("--reason", required=True)
    override.add_argument("--meaning", required=True, choices=("reviewed", "approved", "rejected"))
    add_user_option(override)
    override.set_defaults(handler=_override)


def _override(args, settings) -> int:
    with open_store(settings) as store:
        actor = login(args, store)
        done = store.override_verdict(
            actor,
            sign_password(actor),
            args.inspection_id,
            args.outcome,
            args.reason,
            args.meaning,
        )
    change = f"{done.previous_outcome.value} -> {done.outcome.value}"
    show(
        f"inspection {done.inspection_id}: {change}, signed ({args.meaning}) by "
        f"{actor.full_name} ({actor.name}); audit entry #{done.audit_seq}"
    )
    return 0
