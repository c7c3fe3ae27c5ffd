"""`relance promises list`: what debtors promised to pay, and whether they kept it."""

from __future__ import annotations

from enum import StrEnum

import typer

from assistant.cli import present
from assistant.cli.common import console, get_app, parse_date, print_json
from assistant.db.engine import session_scope
from assistant.services.queues import list_promises

app = typer.Typer(help="Promises to pay recorded from debtor replies.", no_args_is_help=True)


class PromiseStatus(StrEnum):
    """Which promises to list."""

    PENDING = "pending"
    KEPT = "kept"
    BROKEN = "broken"
    CANCELLED = "cancelled"
    ALL = "all"


@app.callback()
def promises() -> None:
    """Promises to pay recorded from debtor replies."""


@app.command("list")
def list_command(
    status: PromiseStatus | None = typer.Option(
        None, "--status", help="pending|kept|broken|cancelled|all"
    ),
    due_before: str | None = typer.Option(
        None, "--due-before", help="Only promises due before this day (YYYY-MM-DD)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List promises, soonest first."""
    application = get_app()
    before = parse_date(due_before) if due_before else None
    with session_scope(application.engine) as session:
        wanted = None if status in (None, PromiseStatus.ALL) else status.value
        rows = list_promises(session, status=wanted, due_before=before)
    if as_json:
        print_json(rows)
        return
    table = present.table("id", "case", "debtor", "amount", "due", "grace until", "status")
    for r in rows:
        loc = present.policy_locale(application.policies, r.get("creditor"))
        amount = (
            "balance" if r["amount"] is None else present.money(r["amount"], r["currency"], loc)
        )
        table.add_row(
            str(r["id"]), r["case"], r["debtor"], amount, present.day(r["due_on"], loc),
            present.day(r["grace_until"], loc), r["status"],
        )  # fmt: skip
    console.print(table)
    console.print(f"{len(rows)} promise(s)")
