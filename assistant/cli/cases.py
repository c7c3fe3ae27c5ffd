"""`relance cases list|show`."""

from __future__ import annotations

import typer
from rich.table import Table

from assistant.cli.common import AS_OPTION, console, fail, get_app, parse_date, print_json
from assistant.db.engine import session_scope
from assistant.services.case_control import CaseControlError, pause_case, resume_case
from assistant.services.case_view import case_details, list_cases

app = typer.Typer(
    help="Look at cases (one per creditor × debtor with overdue invoices).", no_args_is_help=True
)


@app.command("list")
def list_command(
    status: str | None = typer.Option(
        None, "--status", help="active|paused|promise|handoff|closed"
    ),
    creditor: str | None = typer.Option(None, "--creditor", help="Creditor slug."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List cases with their balance and ladder step."""
    application = get_app()
    with session_scope(application.engine) as session:
        rows = list_cases(session, status=status, creditor=creditor)
    if as_json:
        print_json(rows)
        return
    table = Table(
        "case", "creditor", "debtor", "status", "step", "balance", "invoices", "last contact"
    )
    for r in rows:
        table.add_row(
            r["ref"],
            r["creditor"],
            r["debtor"],
            r["status"],
            r["step"] or "—",
            f"{r['balance']:.2f}",
            str(r["open_invoices"]),
            str(r["last_contact"] or "—"),
        )
    console.print(table)
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
    d = data["debtor"]
    console.rule(f"{data['ref']} — {d['name']} ({d['ref']}) — {data['creditor']}")
    console.print(
        f"Status: [bold]{data['status']}[/]   step: {data['step'] or '—'}   "
        f"last contact: {data['last_contact'] or '—'}   balance: {data['balance']:.2f}"
    )
    console.print(
        "Contacts: "
        + (
            ", ".join(c["email"] + ("" if c["valid"] else " (invalid)") for c in data["contacts"])
            or "none"
        )
    )
    h = data["history"]
    rate = "—" if h["on_time_rate"] is None else f"{h['on_time_rate']:.0%}"
    late = "—" if h["average_days_late"] is None else f"{h['average_days_late']:.1f}"
    console.print(
        f"History (12 months): {h['paid_invoices']} paid, on time {rate}, average days late {late}, "
        f"promises kept {h['promises_kept']} / broken {h['promises_broken']}, "
        f"open disputes {h['open_disputes']}"
    )
    table = Table("invoice", "due", "amount", "outstanding", "status", "days late")
    for i in data["invoices"]:
        table.add_row(
            i["number"],
            str(i["due_date"]),
            f"{i['amount']:.2f}",
            f"{i['outstanding']:.2f}",
            i["status"],
            str(i["days_late"] if i["days_late"] is not None else ""),
        )
    console.print(table)
    for title, key, fmt in (
        (
            "Drafts",
            "drafts",
            lambda x: f"#{x['id']} {x['step']} {x['status']} ({x['engine']}) {x['subject']}",
        ),
        (
            "Promises",
            "promises",
            lambda x: (
                f"#{x['id']} {x['amount']} {x['currency'] or ''} by {x['due_on']} — {x['status']}"
            ),
        ),
        (
            "Hand-offs",
            "handoffs",
            lambda x: (
                f"#{x['id']} {x['status']} {x['reason']}: {x['summary']} evidence={x['evidence']}"
            ),
        ),
        ("Tasks", "tasks", lambda x: f"#{x['id']} {x['kind']} {x['status']}: {x['detail']}"),
        (
            "Replies",
            "messages",
            lambda x: (
                f"#{x['id']} {x['received_at']} {x['from']} [{x['status']}] {x['analysis'] or ''}\n    {x['reply_text'] or ''}"
            ),
        ),
    ):
        if data[key]:
            console.print(f"[bold]{title}[/]")
            for item in data[key]:
                console.print("  " + fmt(item), highlight=False, markup=False)


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
