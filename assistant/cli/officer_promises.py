"""`relance promises add`: a promise the debtor made by phone, email or letter."""

from __future__ import annotations

from enum import StrEnum

import typer

from assistant.cli.common import AS_OPTION, console, fail, get_app, parse_date, print_json
from assistant.cli.present import day, money, policy_locale
from assistant.db.engine import session_scope
from assistant.services.case_journal import add_promise, parse_amount
from assistant.services.officer_common import OfficerActionError


class Channel(StrEnum):
    """How the debtor promised."""

    PHONE = "phone"
    EMAIL = "email"
    LETTER = "letter"


def add_command(
    ref: str,
    amount: str = typer.Option(..., "--amount", help="Amount promised (1250.50)."),
    due: str = typer.Option(..., "--date", help="Date promised (YYYY-MM-DD)."),
    via: Channel = typer.Option(Channel.PHONE, "--via", help="phone|email|letter"),
    note: str = typer.Option("", "--note", help="What was said (audited)."),
    on: str | None = typer.Option(None, "--today", help="Today's date (YYYY-MM-DD)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    actor: str | None = AS_OPTION,
) -> None:
    """Record a promise to pay: the case waits until its date plus grace."""
    application = get_app(actor)
    due_on, today = parse_date(due), parse_date(on)
    try:
        with session_scope(application.engine) as session:
            row = add_promise(
                session, ref, application.actor, application.policies,
                amount=parse_amount(amount), due_on=due_on, via=via.value, on=today, note=note,
            )  # fmt: skip
    except OfficerActionError as exc:
        fail(str(exc))
    if as_json:
        print_json(row)
        return
    locale = policy_locale(application.policies, row["creditor"])
    console.print(
        f"promise #{row['id']} on case {row['case']}: {money(row['amount'], row['currency'], locale)}"
        f" by {day(row['due_on'], locale)} (via {row['source']}); no letter before "
        f"{day(row['grace_until'], locale)} unless it is broken",
        highlight=False,
        markup=False,
    )
