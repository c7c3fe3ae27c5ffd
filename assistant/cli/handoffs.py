"""`relance handoffs list|show|resolve|open`: the cases a human must decide on.

Thin: parse, call `assistant.services.queues`, render.
"""

from __future__ import annotations

from enum import StrEnum

import typer

from assistant.cli import present
from assistant.cli.common import AS_OPTION, console, fail, get_app, print_json
from assistant.db.engine import session_scope
from assistant.services.queues import QueueError, handoff_details, list_handoffs, resolve_handoff

app = typer.Typer(help="Hand-offs: replies and cases a human must decide on.", no_args_is_help=True)


class HandoffStatus(StrEnum):
    """Which hand-offs to list."""

    OPEN = "open"
    RESOLVED = "resolved"
    ALL = "all"


@app.command("list")
def list_command(
    status: HandoffStatus = typer.Option(HandoffStatus.OPEN, "--status", help="open|resolved|all"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List hand-offs, oldest first."""
    application = get_app()
    with session_scope(application.engine) as session:
        rows = list_handoffs(session, status=None if status is HandoffStatus.ALL else status)
    if as_json:
        print_json(rows)
        return
    table = present.table("id", "case", "debtor", "reason", "status", "since", "summary")
    for r in rows:
        table.add_row(
            str(r["id"]),
            r["case"],
            r["debtor"],
            r["reason"],
            r["status"],
            r["created_at"].strftime("%Y-%m-%d"),
            r["summary"][:100],
        )
    console.print(table)
    console.print(f"{len(rows)} hand-off(s)")


@app.command("show")
def show(
    handoff_id: int = typer.Argument(..., metavar="ID"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show a hand-off: summary, evidence, the case and the debtor's words."""
    application = get_app()
    with session_scope(application.engine) as session:
        data = handoff_details(session, handoff_id)
    if data is None:
        fail(f"no hand-off {handoff_id}")
    if as_json:
        print_json(data)
        return
    out = console.print
    console.rule(f"Hand-off #{data['id']} — {data['case']} — {data['debtor']} ({data['creditor']})")
    out(f"Reason: {data['reason']}   status: {data['status']}   case: {data['case_status']}")
    out(f"Summary: {data['summary']}", markup=False, highlight=False)
    for span in data["evidence"]:
        out(f"  evidence: « {span} »", markup=False, highlight=False)
    if data["resolution"]:
        out(f"Resolved by {data['resolved_by']}: {data['resolution']}", markup=False)
    table = present.table("invoice", "due", "outstanding", "status")
    for i in data["invoices"]:
        table.add_row(i["number"], str(i["due_date"]), f"{i['outstanding']:.2f}", i["status"])
    out(table)
    for m in data["replies"]:
        out(f"[bold]Reply #{m['id']}[/] {m['received_at']:%Y-%m-%d %H:%M} from {m['from']} "
            f"({m['intent'] or 'not analysed'})")  # fmt: skip
        out("  " + (m["reply_text"] or "").replace("\n", "\n  "), markup=False, highlight=False)


@app.command("resolve")
def resolve(
    handoff_id: int = typer.Argument(..., metavar="ID"),
    note: str = typer.Option(..., "--note", help="What was decided (kept in the audit trail)."),
    resume: bool = typer.Option(False, "--resume", help="Put the case back into dunning."),
    close: bool = typer.Option(False, "--close", help="Close the case."),
    undispute: bool = typer.Option(
        False, "--undispute", help="With --resume: disputed/frozen invoices back in dunning."
    ),
    actor: str | None = AS_OPTION,
) -> None:
    """Resolve a hand-off; without --resume or --close the case stays out of dunning."""
    application = get_app(actor)
    try:
        with session_scope(application.engine) as session:
            message = resolve_handoff(
                session, handoff_id, application.actor, note,
                resume=resume, close=close, undispute=undispute,
            )  # fmt: skip
    except QueueError as exc:
        fail(str(exc))
    console.print(message, highlight=False, markup=False)


@app.command("open")
def open_command(
    ref: str = typer.Argument(..., metavar="REF"),
    note: str = typer.Option(..., "--note", help="Why a human takes the case over (audited)."),
    actor: str | None = AS_OPTION,
) -> None:
    """Take a case out of automated dunning into a hand-off; its unsent drafts are withdrawn."""
    from assistant.services.case_control import CaseControlError, hand_off_case

    application = get_app(actor)
    try:
        with session_scope(application.engine) as session:
            message = hand_off_case(session, ref, application.actor, note)
    except CaseControlError as exc:
        fail(str(exc))
    console.print(message, highlight=False, markup=False)
