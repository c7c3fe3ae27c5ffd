"""What an import tells its reader beyond counts: ignored columns, assumptions, control totals.

Pure: reads the located columns and the validated rows; never touches a session or a file.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from assistant.importing.headers import AMBIGUOUS_HEADERS, Columns, normalise_header
from assistant.importing.rows import InvoiceRow, PaymentRow

_KIND_WORDS = {"company": "businesses", "consumer": "consumers"}


def ignored_headers(cols: Columns) -> list[str]:
    """Return the headers of the columns no field was read from, as written in the file."""
    used = set(cols.index.values())
    out = []
    for i, header in enumerate(cols.headers):
        if not header or i in used:
            continue
        if normalise_header(header) in AMBIGUOUS_HEADERS:
            header += " (its cells are not debtor types)"
        out.append(header)
    return out


def debtor_type_assumption(
    rows: Sequence[InvoiceRow],
    columns: dict[str, str],
    mapping_default: str | None,
    policy_default: str | None,
) -> list[str]:
    """Say how debtors were typed when the file has no debtor type column."""
    if not rows:
        return []
    return debtor_type_note(
        len({r.debtor_ref for r in rows}), columns, mapping_default, policy_default
    )


def debtor_type_note(
    debtors: int, columns: dict[str, str], mapping_default: str | None, policy_default: str | None
) -> list[str]:
    """Say how `debtors` debtors (of a file with rows) were typed with no debtor type column."""
    if "debtor_type" in columns or not debtors:
        return []
    kind = mapping_default or policy_default or "company"
    source = (
        "the mapping's defaults.debtor_type"
        if mapping_default
        else "the policy's default_debtor_type"
        if policy_default
        else "add a debtor type column or set default_debtor_type in the policy"
    )
    what = _KIND_WORDS.get(kind, kind)
    plural = "s" if debtors != 1 else ""
    return [f"no debtor type column: {debtors} debtor{plural} treated as {what} ({source})"]


def export_date(rows: Sequence[InvoiceRow]) -> date | None:
    """Return the latest issue or payment date of an export: it was made on or after it."""
    dates = [d for r in rows for d in (r.issue_date, r.paid_date) if d is not None]
    return max(dates, default=None)


def _by_currency(pairs: Sequence[tuple[str, Decimal]]) -> dict[str, str]:
    sums: dict[str, Decimal] = {}
    for currency, value in pairs:
        sums[currency] = sums.get(currency, Decimal("0.00")) + value
    return {c: f"{v.quantize(Decimal('0.01'))}" for c, v in sorted(sums.items())}


def invoice_totals(rows: Sequence[InvoiceRow], read: int) -> dict[str, Any]:
    """Return the control totals of an invoice file: rows, debtors, amount, outstanding."""
    tally = InvoiceTally()
    tally.add(rows)
    return tally.totals(read, len({r.debtor_ref for r in rows}))


class InvoiceTally:
    """Control totals and export date of invoice rows that come a block at a time."""

    def __init__(self) -> None:
        self.amount: dict[str, Decimal] = {}
        self.outstanding: dict[str, Decimal] = {}
        self.latest: date | None = None  # see export_date
        self.rows = 0

    def add(self, rows: Sequence[InvoiceRow]) -> None:
        amount, outstanding, zero = self.amount, self.outstanding, Decimal("0.00")
        latest = self.latest
        for r in rows:
            amount[r.currency] = amount.get(r.currency, zero) + r.amount
            outstanding[r.currency] = outstanding.get(r.currency, zero) + r.outstanding
            for d in (r.issue_date, r.paid_date):
                if d is not None and (latest is None or d > latest):
                    latest = d
        self.latest = latest
        self.rows += len(rows)

    def totals(self, read: int, debtors: int) -> dict[str, Any]:
        """Return what `invoice_totals` returns for the rows added."""
        return {
            "rows": read,
            "debtors": debtors,
            "amount": _quantized(self.amount),
            "outstanding": _quantized(self.outstanding),
        }


def _quantized(sums: dict[str, Decimal]) -> dict[str, str]:
    return {c: f"{v.quantize(Decimal('0.01'))}" for c, v in sorted(sums.items())}


def payment_totals(rows: Sequence[PaymentRow], read: int) -> dict[str, Any]:
    """Return the control totals of a payment file: rows, debtors, amount."""
    return {
        "rows": read,
        "debtors": len(
            {r.debtor_ref or r.debtor_name for r in rows if r.debtor_ref or r.debtor_name}
        ),
        "amount": _by_currency([(r.currency, r.amount) for r in rows]),
    }
