"""`relance cases list|show`."""

from __future__ import annotations

import typer

from assistant.cli.case_print import print_case
from assistant.cli.common import AS_OPTION, console, fail, get_app, parse_date, print_json
from assistant.cli.present import day, money, policy_locale, several, table
from assistant.db.engine import session_scope
from assistant.services.case_control import CaseControlError, pause_case, resume_case
from assistant.services.case_view import case_details, list_cases

app = typer.Typer(
    help="Look at cases (one per creditor × debtor with overdue invoices).", no_args_is_help=True
)


@app.command("list")
def list_command(
    status: str | None = typer.Option(
        None, "--status", help="active|paused|promise|handoff|closed|all"
    ),
    creditor: str | None = typer.Option(None, "--creditor", help="Creditor slug."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List cases with their balance and ladder step."""
    application = get_app()
    with session_scope(application.engine) as session:
        rows = list_cases(session, status=None if status == "all" else status, creditor=creditor)
    if as_json:
        print_json(rows)
        return
    policies = application.policies
    creditors = several(rows, "creditor")
    headers = ["case", "creditor", "debtor", "status", "step", "balance", "inv.", "last contact"]
    out = table(*(h for h in headers if creditors or h != "creditor"))
    for r in rows:
        loc = policy_locale(policies, r["creditor"])
        cells = [
            r["ref"], r["creditor"], r["debtor"], r["status"], r["step"] or "—",
            money(r["balance"], "EUR", loc), str(r["open_invoices"]), day(r["last_contact"], loc),
        ]  # fmt: skip
        out.add_row(*(c for i, c in enumerate(cells) if creditors or i != 1))
    console.print(out)
    console.print(f"{len(rows)} case(s)")


@app.command("show")
def show(
    ref: str,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    on: str | None = typer.Option(None, "--date", help="Reference date for ages and history."),
) -> None:
    """Show a case: debtor, invoices, client history, drafts, promises, hand-offs, replies."""
    application = get_app()
    with session_scope(application.engine) as session:
        data = case_details(session, ref, parse_date(on))
    if data is None:
        fail(f"no case {ref}")
    if as_json:
        print_json(data)
        return
    print_case(data, policy_locale(application.policies, data["creditor"]))


@app.command("pause")
def pause(
    ref: str,
    reason: str = typer.Option(..., "--reason", help="Why (audited)."),
    actor: str | None = AS_OPTION,
) -> None:
    """Stop automated dunning on a case until `relance cases resume`."""
    application = get_app(actor)
    try:
        with session_scope(application.engine) as session:
            message = pause_case(session, ref, application.actor, reason)
    except CaseControlError as exc:
        fail(str(exc))
    console.print(message, highlight=False)


@app.command("resume")
def resume(
    ref: str,
    note: str = typer.Option("", "--note", help="Why (audited)."),
    actor: str | None = AS_OPTION,
) -> None:
    """Put a paused case (or a hand-off case with no open hand-off) back into dunning."""
    application = get_app(actor)
    try:
        with session_scope(application.engine) as session:
            message = resume_case(session, ref, application.actor, note)
    except CaseControlError as exc:
        fail(str(exc))
    console.print(message, highlight=False)
