"""An insolvent debtor's claim: the amount to declare and the deadline to declare it.

In collective proceedings the creditor declares its claim (déclaration de créance) to the
mandataire judiciaire within two months of the BODACC publication of the judgment. The
claim covers every unpaid invoice, including the ones frozen when the proceedings began.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, select

from assistant.db.models import AuditEvent, Handoff, Invoice
from assistant.domain import from_cents
from assistant.services.audit import record
from assistant.services.officer_common import OfficerActionError, case_by_ref

CLAIMED_STATUSES = ("open", "frozen", "disputed")
DECLARATION_MONTHS = 2


def add_months(day: date, months: int) -> date:
    """Return `day` plus `months` calendar months, on the month's last day if shorter (pure)."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def claim_deadline(
    published_on: date | None, handed_off_on: date | None
) -> tuple[date | None, str]:
    """Return the declaration deadline and what it counts from (pure)."""
    if published_on is not None:
        return add_months(published_on, DECLARATION_MONTHS), "publication"
    if handed_off_on is not None:
        return add_months(handed_off_on, DECLARATION_MONTHS), "handoff"
    return None, "unknown"


def record_publication(session: Session, ref: str, published_on: date, actor: str) -> str:
    """Record the date the judgment opening the proceedings was published (BODACC)."""
    case = case_by_ref(session, ref)
    record(session, actor, "insolvency.published", "case", case.ref, published_on=published_on)
    deadline, _ = claim_deadline(published_on, None)
    assert deadline is not None
    return f"case {case.ref}: publication {published_on.isoformat()}, declare by {deadline.isoformat()}"


def insolvency_claim(session: Session, ref: str) -> dict[str, Any] | None:
    """Return the claim of an insolvent debtor's case, or None when it is not insolvent."""
    case = case_by_ref(session, ref)
    handoff = session.exec(
        select(Handoff)
        .where(Handoff.case_id == case.id, Handoff.reason == "insolvency")
        .order_by(col(Handoff.id))
    ).first()
    invoices = session.exec(
        select(Invoice)
        .where(Invoice.debtor_id == case.debtor_id, col(Invoice.status).in_(CLAIMED_STATUSES))
        .order_by(col(Invoice.due_date), col(Invoice.number))
    ).all()
    if handoff is None and not any(i.status == "frozen" for i in invoices):
        return None
    published = session.exec(
        select(AuditEvent)
        .where(
            AuditEvent.entity == "case",
            AuditEvent.entity_id == case.ref,
            AuditEvent.action == "insolvency.published",
        )
        .order_by(col(AuditEvent.id).desc())
    ).first()
    published_on = date.fromisoformat(published.payload["published_on"]) if published else None
    handed_off_on = _day(handoff.created_at) if handoff else None
    deadline, counted_from = claim_deadline(published_on, handed_off_on)
    amount = sum((from_cents(i.outstanding_cents) for i in invoices), Decimal("0"))
    return {
        "case": case.ref,
        "amount": amount,
        "currency": invoices[0].currency if invoices else "EUR",
        "invoices": [
            {
                "number": i.number,
                "due_date": i.due_date,
                "outstanding": from_cents(i.outstanding_cents),
                "status": i.status,
            }
            for i in invoices
        ],
        "published_on": published_on,
        "handed_off_on": handed_off_on,
        "deadline": deadline,
        "deadline_from": counted_from,
    }


def _day(value: datetime | date) -> date:
    return value.date() if isinstance(value, datetime) else value


__all__ = ["OfficerActionError", "insolvency_claim", "record_publication"]
