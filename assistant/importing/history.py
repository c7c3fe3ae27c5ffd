"""Client history: how each debtor paid over the 12 months before a date.

`compute_history` is pure. `load_histories` reads a whole creditor (or a span of its debtors)
in three queries (paid invoices, resolved promises, open disputes) so the cycle can call it
for thousands of debtors.
Only invoices (not credit notes) with a known paid date count; an invoice paid on or before its
due date is on time; average days late is taken over every paid invoice (on-time ones count 0).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

import sqlalchemy as sa
from sqlmodel import Session

from assistant.db.models import Case, Invoice, Promise
from assistant.domain import ClientHistory

if TYPE_CHECKING:
    from assistant.services.portfolio import DebtorSpan

# Without table statistics SQLite reads a span of debtors through the creditor index (the
# whole ledger for each chunk of the cycle): name the debtor index instead.
_BY_DEBTOR = "INDEXED BY ix_invoice_debtor_id"


class PaidInvoice(Protocol):
    """What the history reads of a paid invoice (an `InvoiceLine`, or a row in cents)."""

    @property
    def due_date(self) -> date: ...
    @property
    def paid_date(self) -> date | None: ...
    @property
    def amount(self) -> Decimal | int: ...


def window_start(on: date) -> date:
    """Return the same day one year before `on` (28 February for a 29 February)."""
    try:
        return on.replace(year=on.year - 1)
    except ValueError:
        return on.replace(year=on.year - 1, day=28)


def compute_history(
    paid_invoices: Iterable[PaidInvoice],
    promises_kept: int,
    promises_broken: int,
    open_disputes: int,
    on: date,
) -> ClientHistory:
    """Summarise invoices paid in the 12 months up to `on`, with promise and dispute counts."""
    start = window_start(on)
    late_days = [
        max(0, (inv.paid_date - inv.due_date).days)
        for inv in paid_invoices
        if inv.paid_date is not None and start < inv.paid_date <= on and inv.amount > 0
    ]
    count = len(late_days)
    return ClientHistory(
        paid_invoices=count,
        on_time_rate=sum(1 for d in late_days if d == 0) / count if count else None,
        average_days_late=sum(late_days) / count if count else None,
        promises_kept=promises_kept,
        promises_broken=promises_broken,
        open_disputes=open_disputes,
    )


def load_histories(
    session: Session,
    creditor_id: int,
    on: date,
    debtor_ids: Collection[int] | None = None,
    *,
    span: DebtorSpan | None = None,
) -> dict[int, ClientHistory]:
    """Return the history of the creditor's debtors that have one (absent: `ClientHistory()`).

    With `debtor_ids` or `span` (a range of debtor ids), only those debtors are read.
    """
    start = window_start(on)
    invoices: sa.Table = Invoice.__table__  # type: ignore[attr-defined]
    inv = invoices.c
    case, prom = Case.__table__.c, Promise.__table__.c  # type: ignore[attr-defined]
    only_inv = [inv.debtor_id.in_(list(debtor_ids))] if debtor_ids is not None else []
    only_case = [case.debtor_id.in_(list(debtor_ids))] if debtor_ids is not None else []
    if span is not None:
        only_inv.append(inv.debtor_id.between(span.lo, span.hi))
        only_case.append(case.debtor_id.between(span.lo, span.hi))

    def by_debtor(query: sa.Select[Any]) -> sa.Select[Any]:
        return query.with_hint(invoices, _BY_DEBTOR, "sqlite") if span is not None else query

    # Rows, not `InvoiceLine`s: the history reads only the dates and the amount's sign.
    paid: dict[int, list[Any]] = {}
    rows = session.connection().execute(
        by_debtor(
            sa.select(
                inv.debtor_id, inv.due_date, inv.paid_date, inv.amount_cents.label("amount")
            ).where(
                inv.creditor_id == creditor_id,
                inv.status == "paid",
                inv.amount_cents > 0,
                inv.paid_date > start,
                inv.paid_date <= on,
                *only_inv,
            )
        )
    )
    for r in rows:
        paid.setdefault(r.debtor_id, []).append(r)
    resolved = sa.func.coalesce(prom.resolved_on, prom.due_on)
    promises: dict[int, dict[str, int]] = {}
    for debtor_id, status, n in session.connection().execute(
        sa.select(case.debtor_id, prom.status, sa.func.count())
        .join(Case.__table__, case.id == prom.case_id)  # type: ignore[attr-defined]
        .where(
            case.creditor_id == creditor_id,
            prom.status.in_(("kept", "broken")),
            resolved > start,
            resolved <= on,
            *only_case,
        )
        .group_by(case.debtor_id, prom.status)
    ):
        promises.setdefault(debtor_id, {})[status] = n
    disputes: dict[int, int] = dict(
        session.connection()
        .execute(
            by_debtor(
                sa.select(inv.debtor_id, sa.func.count())
                .where(inv.creditor_id == creditor_id, inv.status == "disputed", *only_inv)
                .group_by(inv.debtor_id)
            )
        )
        .all()
    )
    out: dict[int, ClientHistory] = {}
    for debtor_id in set(paid) | set(promises) | set(disputes):
        kept = promises.get(debtor_id, {})
        out[debtor_id] = compute_history(
            paid.get(debtor_id, ()),
            kept.get("kept", 0),
            kept.get("broken", 0),
            disputes.get(debtor_id, 0),
            on,
        )
    return out
