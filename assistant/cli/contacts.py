"""`relance contacts list|add|confirm|invalidate`: a debtor's email addresses."""

from __future__ import annotations

import typer

from assistant.cli.common import AS_OPTION, console, fail, get_app, print_json
from assistant.cli.present import run_action, table
from assistant.db.engine import session_scope
from assistant.services.contacts import (
    ROLES,
    add_contact,
    confirm_contact,
    invalidate_contact,
    list_contacts,
)
from assistant.services.officer_common import OfficerActionError

app = typer.Typer(help="A debtor's email contacts.", no_args_is_help=True)


@app.command("list")
def list_command(
    ref: str, as_json: bool = typer.Option(False, "--json", help="Print JSON.")
) -> None:
    """List the contacts of a case's debtor: valid, to confirm, invalid."""
    application = get_app()
    try:
        with session_scope(application.engine) as session:
            rows = list_contacts(session, ref)
    except OfficerActionError as exc:
        fail(str(exc))
    if as_json:
        print_json(rows)
        return
    out = table("email", "name", "role", "state", "why / by")
    for r in rows:
        why = r["invalid_reason"] or (f"by {r['confirmed_by']}" if r["confirmed_by"] else "")
        out.add_row(r["email"], r["name"] or "", r["role"] or "", r["state"], why)
    console.print(out)
    console.print(f"{len(rows)} contact(s)")


@app.command("add")
def add(
    ref: str,
    email: str,
    name: str | None = typer.Option(None, "--name", help="The person's name."),
    role: str | None = typer.Option(None, "--role", help="|".join(ROLES)),
    actor: str | None = AS_OPTION,
) -> None:
    """Add an address (or re-validate a bounced one): letters may go to it."""
    run_action(actor, lambda s, who: add_contact(s, ref, email, who, name=name, role=role))


@app.command("confirm")
def confirm(ref: str, email: str, actor: str | None = AS_OPTION) -> None:
    """Confirm an address the debtor gave in a reply."""
    run_action(actor, lambda s, who: confirm_contact(s, ref, email, who))


@app.command("invalidate")
def invalidate(
    ref: str,
    email: str,
    reason: str = typer.Option(..., "--reason", help="Why (audited)."),
    actor: str | None = AS_OPTION,
) -> None:
    """Stop writing to an address."""
    run_action(actor, lambda s, who: invalidate_contact(s, ref, email, who, reason))
