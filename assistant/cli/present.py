"""Presentation for people: tables that fit 80 columns, amounts and dates in the policy's locale."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache

from rich import box
from rich.table import Column, Table
from sqlmodel import Session

from assistant.cli.common import console, fail, get_app
from assistant.db.engine import session_scope
from assistant.letters.formatting import Formatter, locale_for
from assistant.policy import Policy
from assistant.services.officer_common import OfficerActionError

#: Column names whose values are identifiers: never wrapped, never cut.
ID_COLUMNS = frozenset({"id", "case", "ref", "invoice", "draft", "plan", "#"})
#: Short values read as one token (a status, an amount, a date): kept on one line.
TOKEN_COLUMNS = frozenset(
    {"status", "step", "balance", "total", "amount", "outstanding", "due", "since", "state",
     "grace until", "next due", "received", "inv.", "days late", "findings", "settled on",
     "last contact", "kind", "role", "size", "outcome"}
)  # fmt: skip


@lru_cache(maxsize=8)
def formatter(locale: str) -> Formatter:
    """Return the (cached) formatter of `locale`."""
    return Formatter(locale)


def policy_locale(policies: Mapping[str, Policy], creditor: str | None) -> str:
    """Return the Babel locale of a creditor's policy.

    With no creditor (a row that does not say), the locale every policy shares; en_GB when
    they differ or there is none.
    """
    policy = policies.get(creditor or "")
    if policy is not None:
        return locale_for(policy.language, policy.jurisdiction)
    shared = {locale_for(p.language, p.jurisdiction) for p in policies.values()}
    return shared.pop() if len(shared) == 1 else "en_GB"


def money(amount: Decimal | float | int | None, currency: str | None, locale: str) -> str:
    """Return `amount` as the locale writes it (``10 266,45 €``), '—' when None."""
    if amount is None:
        return "—"
    return formatter(locale).money(Decimal(str(amount)), currency or "EUR")


def day(value: date | datetime | str | None, locale: str) -> str:
    """Return a date as the locale writes it (``05/12/2026``), '—' when None."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    if isinstance(value, datetime):
        value = value.date()
    return formatter(locale).short_date(value)


def table(*headers: str, title: str | None = None) -> Table:
    """Return a light table: identifiers and short values on one line, text wrapped to fit."""
    columns = [
        Column(h, no_wrap=True, overflow="fold")
        if h in ID_COLUMNS or h in TOKEN_COLUMNS
        else Column(h, overflow="fold", ratio=1)
        for h in headers
    ]
    return Table(
        *columns, title=title, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False,
        padding=(0, 1), collapse_padding=True,
        header_style="bold",
    )  # fmt: skip


def several(rows: list[dict], key: str) -> bool:
    """Return whether `rows` hold more than one value of `key` (a column worth showing)."""
    return len({r.get(key) for r in rows}) > 1


def run_action(actor: str | None, action: Callable[[Session, str], str]) -> None:
    """Run an officer's verb in one transaction as `actor`; print its message or fail cleanly."""
    application = get_app(actor)
    try:
        with session_scope(application.engine) as session:
            message = action(session, application.actor)
    except OfficerActionError as exc:
        fail(str(exc))
    console.print(message, highlight=False, markup=False)
