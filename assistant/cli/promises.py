"""`relance promises list`: what debtors promised to pay, and whether they kept it."""

from __future__ import annotations

from enum import StrEnum

import typer

from assistant.cli.common import console, get_app, parse_date, print_json
from assistant.cli.display import people_table
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
        None, "--status", help="pending|kept|broken|cancelled|all (default: all)"
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
        wanted = status.value if status and status != PromiseStatus.ALL else None
        rows = list_promises(session, status=wanted, due_before=before)
    if as_json:
        print_json(rows)
        return
    lines = [
        (
            str(r["id"]),
            r["case"],
            r["debtor"],
            "balance" if r["amount"] is None else f"{r['amount']:.2f} {r['currency'] or ''}",
            str(r["due_on"]),
            str(r["grace_until"]),
            r["status"],
        )  # fmt: skip
        for r in rows
    ]
    headers = ("id", "case", "debtor", "amount", "due", "grace until", "status")
    table = people_table(
        headers, lines, identifiers=("id", "case"), whole=("amount", "due", "grace until", "status")
    )
    console.print(table)
    console.print(f"{len(rows)} promise(s)")
