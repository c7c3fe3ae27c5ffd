"""`relance plans list|show|add|check`: accepted payment plans and their instalments."""

from __future__ import annotations

import typer

from assistant.cli.common import AS_OPTION, console, fail, get_app, parse_date, print_json
from assistant.cli.present import day, money, policy_locale, run_action, table
from assistant.db.engine import session_scope
from assistant.services.officer_common import OfficerActionError
from assistant.services.payment_plans import (
    PLAN_STATUSES,
    add_plan,
    check_plans_all,
    list_plans,
    parse_instalment,
    show_plan,
)

app = typer.Typer(help="Accepted payment plans and their instalments.", no_args_is_help=True)


@app.command("list")
def list_command(
    status: str = typer.Option("all", "--status", help="all|" + "|".join(PLAN_STATUSES)),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List payment plans, newest first."""
    application = get_app()
    try:
        with session_scope(application.engine) as session:
            rows = list_plans(session, status)
    except OfficerActionError as exc:
        fail(str(exc))
    if as_json:
        print_json(rows)
        return
    policies = application.policies
    out = table("id", "case", "debtor", "status", "total", "next due", "instalments")
    for r in rows:
        loc = policy_locale(policies, r["creditor"])
        kept = sum(1 for i in r["instalments"] if i["status"] == "kept")
        out.add_row(
            str(r["id"]), r["case"], r["debtor"], r["status"], money(r["total"], r["currency"], loc),
            day(r["next_due"], loc), f"{kept}/{len(r['instalments'])} kept",
        )  # fmt: skip
    console.print(out)
    console.print(f"{len(rows)} plan(s)")


@app.command("show")
def show(plan_id: int, as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Show a plan and each instalment's status."""
    application = get_app()
    try:
        with session_scope(application.engine) as session:
            plan = show_plan(session, plan_id)
    except OfficerActionError as exc:
        fail(str(exc))
    if as_json:
        print_json(plan)
        return
    loc = policy_locale(application.policies, plan["creditor"])
    console.print(
        f"Plan #{plan['id']} — case {plan['case']} — {plan['debtor']} — {plan['status']}\n"
        f"Total {money(plan['total'], plan['currency'], loc)}, accepted by {plan['created_by']} "
        f"on {day(plan['created_on'], loc)}" + (f"\nNote: {plan['note']}" if plan["note"] else ""),
        highlight=False,
        markup=False,
    )
    out = table("#", "due", "amount", "status", "settled on")
    for i in plan["instalments"]:
        out.add_row(
            str(i["position"]), day(i["due_on"], loc), money(i["amount"], plan["currency"], loc),
            i["status"], day(i["resolved_on"], loc),
        )  # fmt: skip
    console.print(out)


@app.command("add")
def add(
    ref: str,
    instalments: list[str] = typer.Option(
        ..., "--instalment", help="AMOUNT:YYYY-MM-DD (repeat for each instalment)."
    ),
    note: str = typer.Option("", "--note", help="What was agreed (audited)."),
    on: str | None = typer.Option(None, "--today", help="Today's date (YYYY-MM-DD)."),
    actor: str | None = AS_OPTION,
) -> None:
    """Record a plan the debtor accepted; each instalment is followed like a promise."""
    application = get_app(actor)
    today = parse_date(on)

    def action(session, who: str) -> str:
        parts = [parse_instalment(text) for text in instalments]
        plan_id = add_plan(session, ref, who, application.policies, parts, today, note)
        return f"plan #{plan_id} recorded on case {ref}: {len(parts)} instalment(s)"

    run_action(actor, action)


@app.command("check")
def check(
    on: str | None = typer.Option(None, "--date", help="Reference date (YYYY-MM-DD)."),
    actor: str | None = AS_OPTION,
) -> None:
    """Settle the instalments whose date plus grace has passed (kept or broken)."""
    today = parse_date(on)

    def action(session, who: str) -> str:
        counts = check_plans_all(session, today, who)
        return ", ".join(f"{n} {what}" for what, n in counts.items())

    run_action(actor, action)
