"""Show figures and tables to people: the policy's locale, 80 columns, identifiers whole."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from rich import box
from rich.table import Table
from rich.text import Text

from assistant.letters.formatting import Formatter, formatter, locale_for


def display_policies(application: Any) -> Mapping[str, Any]:
    """Return the policies if they load (display only: a broken policy shows plain figures)."""
    try:
        return application.policies
    except Exception:  # noqa: BLE001 — showing data must not depend on a valid policy
        return {}


def formatter_of(policies: Mapping[str, Any], creditor: str | None) -> Formatter | None:
    """Return the formatter of the creditor's policy (its language and country), if known."""
    policy = policies.get(creditor or "")
    if policy is None:
        return None
    return formatter(locale_for(policy.language, policy.jurisdiction))


_CURRENCY = {"FR": "EUR", "UK": "GBP", "US": "USD"}


def currency_of(policies: Mapping[str, Any], creditor: str | None) -> str | None:
    """Return the currency a creditor's ledger is usually in (by its policy's country)."""
    policy = policies.get(creditor or "")
    return None if policy is None else _CURRENCY.get(policy.jurisdiction, "EUR")


def money(fmt: Formatter | None, amount: Any, currency: str | None = "EUR") -> str:
    """Return `amount` as the policy writes it (``10 266,45 €``), else with two decimals."""
    if amount is None:
        return "—"
    value = Decimal(str(amount))
    if fmt is None:
        return f"{value:.2f}" + (f"\u00a0{currency}" if currency else "")
    return fmt.money(value, currency or "EUR").replace(" ", "\u00a0")  # one piece


def day(fmt: Formatter | None, value: Any) -> str:
    """Return a date as the policy writes it (``26/11/2026``), else ISO; "—" when none."""
    if value is None:
        return "—"
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value[:10])
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        value = value.date()
    return fmt.short_date(value) if fmt is not None else value.isoformat()


def people_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    identifiers: Sequence[str] = (),
    whole: Sequence[str] = (),
) -> Table:
    """Build a table that fits the terminal: identifier and `whole` columns (amounts, dates,
    statuses) never wrap nor shrink; the other columns wrap at word boundaries."""
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1))
    for i, header in enumerate(headers):
        if header in identifiers or header in whole:
            width = max([len(header), *(Text.from_markup(r[i]).cell_len for r in rows)])
            table.add_column(header, no_wrap=True, min_width=width)
        else:
            table.add_column(header, overflow="fold", ratio=1)
    for row in rows:
        table.add_row(*row)
    return table
