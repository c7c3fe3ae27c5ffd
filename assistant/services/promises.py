"""Promise tracking: a promise past its date plus grace is kept or broken."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from assistant.db.models import Case, Invoice, Payment, Promise
from assistant.services.audit import record
from assistant.services.transitions import StaleTransition, compare_and_set


def promise_outcome(promised_cents: int | None, paid_cents: int, balance_cents: int) -> str:
    """Return 'kept' when payments since the promise cover it, else 'broken' (pure)."""
    if promised_cents is None:
        return "kept" if balance_cents <= 0 else "broken"
    return "kept" if paid_cents >= promised_cents or balance_cents <= 0 else "broken"


def check_promises(session: Session, creditor_id: int, on: date, actor: str) -> dict[str, int]:
    """Settle every pending promise whose date plus grace has passed; return counts."""
    counts = {"kept": 0, "broken": 0}
    due = session.exec(
        select(Promise, Case)
        .join(Case, col(Case.id) == Promise.case_id)
        .where(Case.creditor_id == creditor_id, Promise.status == "pending")
    ).all()
    for promise, case in due:
        if on <= promise.due_on + timedelta(days=promise.grace_days):
            continue
        since = promise.created_at.date() if isinstance(promise.created_at, datetime) else on
        paid = session.exec(
            select(func.coalesce(func.sum(Payment.amount_cents), 0)).where(
                Payment.debtor_id == case.debtor_id, Payment.paid_on >= since
            )
        ).one()
        balance = session.exec(
            select(func.coalesce(func.sum(Invoice.outstanding_cents), 0)).where(
                Invoice.debtor_id == case.debtor_id, Invoice.status == "open"
            )
        ).one()
        outcome = promise_outcome(promise.amount_cents, int(paid), int(balance))
        try:  # a reply may have superseded it meanwhile: then there is nothing to settle
            compare_and_set(
                session, Promise, promise.id or 0, "pending", {"status": outcome, "resolved_on": on}
            )
        except StaleTransition:
            continue
        if outcome == "broken":
            case.broken_promise_pending = True
        if case.status == "promise":
            case.status = "active"
        session.add(case)
        counts[outcome] += 1
        record(
            session,
            actor,
            f"promise.{outcome}",
            "promise",
            promise.id,
            case=case.ref,
            due_on=promise.due_on,
            amount_cents=promise.amount_cents,
            paid_cents=int(paid),
        )
    return counts
