"""`relance cases list|show`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import typer

from assistant.cli.common import AS_OPTION, console, fail, get_app, parse_date, print_json
from assistant.cli.display import (
    currency_of,
    day,
    display_policies,
    formatter_of,
    money,
    people_table,
)
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
    policies = display_policies(application)
    lines = []
    for r in rows:
        fmt = formatter_of(policies, r["creditor"])
        lines.append(
            (
                r["ref"],
                r["creditor"],
                r["debtor"],
                r["status"],
                r["step"] or "—",
                money(fmt, r["balance"], currency_of(policies, r["creditor"]) or ""),
                str(r["open_invoices"]),
                day(fmt, r["last_contact"]),
            )
        )
    headers = ["case", "creditor", "debtor", "status", "step", "balance", "invoices"]
    headers.append("last contact")
    one_creditor = len({r["creditor"] for r in rows}) <= 1
    keep = [i for i, h in enumerate(headers) if not (h == "creditor" and one_creditor)]
    table = people_table(
        [headers[i] for i in keep],
        [[line[i] for i in keep] for line in lines],
        identifiers=("case",),
        whole=("status", "step", "balance", "invoices", "last contact"),
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
    policies = display_policies(application)
    loc = formatter_of(policies, data["creditor"])
    console.rule(f"{data['ref']} — {d['name']} ({d['ref']}) — {data['creditor']}")
    console.print(
        f"Status: [bold]{data['status']}[/]   step: {data['step'] or '—'}   "
        f"last contact: {day(loc, data['last_contact'])}   "
        f"balance: {money(loc, data['balance'], currency_of(policies, data['creditor']) or '')}"
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
    lines = [
        (
            i["number"],
            day(loc, i["due_date"]),
            money(loc, i["amount"], i.get("currency") or "EUR"),
            money(loc, i["outstanding"], i.get("currency") or "EUR"),
            i["status"],
            str(i["days_late"] if i["days_late"] is not None else ""),
        )
        for i in data["invoices"]
    ]
    headers = ("invoice", "due", "amount", "outstanding", "status", "days late")
    console.print(
        people_table(
            headers, lines, identifiers=("invoice",), whole=("due", "amount", "outstanding")
        )
    )
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
                f"#{x['id']} "
                + ("the balance" if x["amount"] is None else money(loc, x["amount"], x["currency"]))
                + f" by {day(loc, x['due_on'])} — {x['status']}"
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
                f"#{x['id']} {day(loc, x['received_at'])} {x['from']} [{x['status']}] "
                f"{reading(x['analysis'])}\n    {x['reply_text'] or ''}"
            ),
        ),
    ):
        if data[key]:
            console.print(f"[bold]{title}[/]")
            for item in data[key]:
                console.print("  " + fmt(item), highlight=False, markup=False)


def reading(analysis: Any) -> str:
    """Return the reply analyser's reading in words: intent, confidence, promise, evidence."""
    if not analysis:
        return ""
    if not isinstance(analysis, Mapping):
        return str(analysis)
    parts = [str(analysis.get("intent") or "?")]
    if analysis.get("confidence") is not None:
        parts.append(f"({float(analysis['confidence']):.0%})")
    if analysis.get("needs_human"):
        parts.append("needs a human")
    promise = analysis.get("promise")
    if isinstance(promise, Mapping) and promise.get("date"):
        amount = promise.get("amount")
        parts.append(f"promise {amount or 'balance'} by {promise['date']}")
    evidence = analysis.get("evidence")
    if evidence:
        quoted = evidence if isinstance(evidence, str) else " / ".join(map(str, evidence))
        parts.append(f"« {quoted} »")
    return " ".join(parts)


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
