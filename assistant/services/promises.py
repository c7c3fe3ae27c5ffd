"""Promise tracking: a promise past its date plus grace is kept or broken."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from assistant.db.models import Case, Draft, Invoice, Payment, Promise, utcnow
from assistant.services.audit import record
from assistant.services.transitions import StaleTransition, compare_and_set


def promise_outcome(promised_cents: int | None, paid_cents: int, balance_cents: int) -> str:
    """Return 'kept' when payments since the promise cover it, else 'broken' (pure)."""
    if promised_cents is None:
        return "kept" if balance_cents <= 0 else "broken"
    return "kept" if paid_cents >= promised_cents or balance_cents <= 0 else "broken"


def payment_window(made_on: date, due_on: date, grace_days: int) -> tuple[date, date]:
    """Return the days whose payments count towards a promise: from when it was made (or
    its date, if recorded later) to its date plus grace (pure)."""
    return min(made_on, due_on), due_on + timedelta(days=grace_days)


def _judge(session: Session, promise: Promise, case: Case, on: date) -> tuple[str, int]:
    made = promise.created_at.date() if isinstance(promise.created_at, datetime) else on
    since, until = payment_window(made, promise.due_on, promise.grace_days)
    paid = session.exec(
        select(func.coalesce(func.sum(Payment.amount_cents), 0)).where(
            Payment.debtor_id == case.debtor_id,
            Payment.paid_on >= since,
            Payment.paid_on <= until,
        )
    ).one()
    balance = session.exec(
        select(func.coalesce(func.sum(Invoice.outstanding_cents), 0)).where(
            Invoice.debtor_id == case.debtor_id, Invoice.status == "open"
        )
    ).one()
    return promise_outcome(promise.amount_cents, int(paid), int(balance)), int(paid)


def _withdraw_letters(session: Session, case: Case, actor: str) -> None:
    """Withdraw the case's ladder drafts not yet sent (written as after a broken promise)."""
    reason = "the promise was kept after all: a payment made in time was imported late"
    for draft in session.exec(
        select(Draft).where(
            Draft.case_id == case.id,
            Draft.kind == "step",
            col(Draft.status).in_(("pending", "approved")),
        )
    ):
        draft.status = "rejected"
        draft.reject_reason = reason
        draft.decided_by = actor
        draft.decided_at = utcnow()
        session.add(draft)
        record(session, actor, "draft.withdrawn", "draft", draft.id, case=case.ref, reason=reason)


def check_promises(session: Session, creditor_id: int, on: date, actor: str) -> dict[str, int]:
    """Settle every pending promise whose date plus grace has passed; return counts.

    A promise judged broken whose letter is not yet written is judged again: a payment
    imported late but made by the promise's date plus grace keeps it after all.
    """
    counts = {"kept": 0, "broken": 0}
    rows = session.exec(
        select(Promise, Case)
        .join(Case, col(Case.id) == Promise.case_id)
        .where(Case.creditor_id == creditor_id, col(Promise.status).in_(["pending", "broken"]))
    ).all()
    for promise, case in rows:
        if promise.status == "broken" and not case.broken_promise_pending:
            continue  # the broken-promise letter is already out: history stays as it is
        if on <= promise.due_on + timedelta(days=promise.grace_days):
            continue
        outcome, paid = _judge(session, promise, case, on)
        previous = promise.status
        if previous == outcome:
            continue
        try:  # a reply may have superseded it meanwhile: then there is nothing to settle
            compare_and_set(
                session, Promise, promise.id or 0, previous, {"status": outcome, "resolved_on": on}
            )
        except StaleTransition:
            continue
        if previous == "broken":  # kept after all: its broken-promise letter must go
            _withdraw_letters(session, case, actor)
        case.broken_promise_pending = outcome == "broken"
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
            paid_cents=paid,
        )
    return counts
