"""Read-only views of cases for officers (CLI, chat, web): no writes here."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from assistant.db.mail_models import InboundMessage
from assistant.db.models import (
    Case,
    Contact,
    Creditor,
    Debtor,
    Draft,
    Handoff,
    Invoice,
    Promise,
    Task,
)
from assistant.domain import ClientHistory, from_cents
from assistant.importing.history import load_histories
from assistant.services.case_journal import journal
from assistant.services.contacts import contact_state
from assistant.services.insolvency import insolvency_claim
from assistant.services.payment_plans import case_plans


def history_dict(h: ClientHistory) -> dict[str, Any]:
    """Return the JSON form of a client history."""
    return {
        "paid_invoices": h.paid_invoices,
        "on_time_rate": h.on_time_rate,
        "average_days_late": h.average_days_late,
        "promises_kept": h.promises_kept,
        "promises_broken": h.promises_broken,
        "open_disputes": h.open_disputes,
    }


def list_cases(
    session: Session, *, status: str | None = None, creditor: str | None = None
) -> list[dict[str, Any]]:
    """Return one summary row per case."""
    balance = (
        select(
            Invoice.debtor_id,
            func.sum(Invoice.outstanding_cents).label("cents"),
            func.count().label("n"),
        )
        .where(Invoice.status == "open")
        .group_by(col(Invoice.debtor_id))
        .subquery()
    )
    query = (
        select(  # type: ignore[call-overload]  # six columns: beyond sqlmodel's typed overloads
            Case, Creditor.slug, Debtor.account_ref, Debtor.legal_name, balance.c.cents, balance.c.n
        )
        .join(Creditor, col(Creditor.id) == Case.creditor_id)
        .join(Debtor, col(Debtor.id) == Case.debtor_id)
        .join(balance, balance.c.debtor_id == Case.debtor_id, isouter=True)
        .order_by(col(Case.id))
    )
    if status:
        query = query.where(Case.status == status)
    if creditor:
        query = query.where(Creditor.slug == creditor)
    return [
        {
            "ref": c.ref,
            "creditor": slug,
            "debtor_ref": ref,
            "debtor": name,
            "status": c.status,
            "step": c.step_name,
            "last_contact": c.last_contact_on,
            "balance": float(from_cents(int(cents or 0))),
            "open_invoices": int(n or 0),
        }
        for c, slug, ref, name, cents, n in session.exec(query)
    ]


def case_details(session: Session, ref: str, on: date) -> dict[str, Any] | None:
    """Return everything an officer needs about one case, or None when unknown."""
    case = session.exec(select(Case).where(Case.ref == ref)).first()
    if case is None:
        return None
    creditor = session.get(Creditor, case.creditor_id)
    debtor = session.get(Debtor, case.debtor_id)
    assert creditor is not None and debtor is not None
    invoices = session.exec(
        select(Invoice).where(Invoice.debtor_id == debtor.id).order_by(col(Invoice.due_date))
    ).all()
    history = load_histories(session, creditor.id or 0, on, debtor_ids=[debtor.id or 0]).get(
        debtor.id or 0, ClientHistory()
    )
    contacts = session.exec(select(Contact).where(Contact.debtor_id == debtor.id)).all()
    drafts = session.exec(
        select(Draft).where(Draft.case_id == case.id).order_by(col(Draft.id))
    ).all()
    promises = session.exec(
        select(Promise).where(Promise.case_id == case.id).order_by(col(Promise.id))
    ).all()
    handoffs = session.exec(
        select(Handoff).where(Handoff.case_id == case.id).order_by(col(Handoff.id))
    ).all()
    tasks = session.exec(select(Task).where(Task.case_id == case.id).order_by(col(Task.id))).all()
    open_inv = [i for i in invoices if i.status == "open"]
    return {
        "ref": case.ref,
        "status": case.status,
        "step": case.step_name,
        "step_index": case.step_index,
        "last_contact": case.last_contact_on,
        "first_letter_on": case.first_letter_on,
        "creditor": creditor.slug,
        "debtor": {
            "ref": debtor.account_ref,
            "name": debtor.legal_name,
            "type": debtor.kind,
            "siren": debtor.siren,
            "language": debtor.language,
            "key_account": debtor.key_account,
        },
        "contacts": [
            {
                "email": c.email,
                "valid": c.valid,
                "invalid_reason": c.invalid_reason,
                "state": contact_state(c),
                "name": c.name,
                "role": c.role,
            }
            for c in contacts
        ],
        "balance": float(from_cents(sum(i.outstanding_cents for i in open_inv))),
        "invoices": [
            {
                "number": i.number,
                "issue_date": i.issue_date,
                "due_date": i.due_date,
                "amount": float(from_cents(i.amount_cents)),
                "outstanding": float(from_cents(i.outstanding_cents)),
                "currency": i.currency,
                "status": i.status,
                "paid_date": i.paid_date,
                "days_late": max(0, (on - i.due_date).days) if i.status == "open" else None,
            }
            for i in invoices
        ],
        "history": history_dict(history),
        "drafts": [
            {
                "id": d.id,
                "kind": d.kind,
                "step": d.step,
                "status": d.status,
                "engine": d.engine,
                "subject": d.subject,
                "created_at": d.created_at,
                "sent_at": d.sent_at,
                "review_reason": d.review_reason,
            }
            for d in drafts
        ],
        "promises": [
            {
                "id": p.id,
                "amount": None if p.amount_cents is None else float(from_cents(p.amount_cents)),
                "currency": p.currency,
                "due_on": p.due_on,
                "status": p.status,
                "source": p.source,
            }
            for p in promises
        ],
        "handoffs": [
            {
                "id": h.id,
                "reason": h.reason,
                "summary": h.summary,
                "evidence": h.evidence,
                "status": h.status,
                "created_at": h.created_at,
            }
            for h in handoffs
        ],
        "tasks": [
            {"id": t.id, "kind": t.kind, "detail": t.detail, "status": t.status} for t in tasks
        ],
        "messages": _messages(session, case.id or 0),
        "journal": journal(session, case.ref),
        "plans": case_plans(session, case.id or 0),
        "insolvency": insolvency_claim(session, case.ref),
    }


def _messages(session: Session, case_id: int) -> list[dict[str, Any]]:
    rows = session.exec(
        select(InboundMessage)
        .where(InboundMessage.case_id == case_id)
        .order_by(col(InboundMessage.id))
    ).all()
    return [
        {
            "id": m.id,
            "received_at": m.received_at,
            "from": m.from_addr,
            "subject": m.subject,
            "status": m.status,
            "reply_text": m.reply_text,
            "analysis": m.analysis,
        }
        for m in rows
    ]


def handoff_facts(session: Session, case: Case) -> dict[str, Any]:
    """Return a case's hand-off records, balance, broken promises and disputed invoices."""
    handoffs = session.exec(
        select(Handoff).where(Handoff.case_id == case.id).order_by(col(Handoff.id))
    ).all()
    balance = session.exec(
        select(func.coalesce(func.sum(Invoice.outstanding_cents), 0)).where(
            Invoice.debtor_id == case.debtor_id, Invoice.status == "open"
        )
    ).one()
    broken = session.exec(
        select(func.count()).where(Promise.case_id == case.id, Promise.status == "broken")
    ).one()
    disputed = session.exec(
        select(Invoice.number).where(
            Invoice.debtor_id == case.debtor_id, Invoice.status == "disputed"
        )
    )
    return {
        "handoffs": [
            {
                "id": h.id,
                "reason": h.reason,
                "summary": h.summary,
                "evidence": h.evidence,
                "status": h.status,
                "created_at": h.created_at,
                "resolved_by": h.resolved_by,
                "resolution": h.resolution,
            }
            for h in handoffs
        ],
        "balance": from_cents(int(balance)),
        "broken_promises": int(broken),
        "disputed_invoices": list(disputed),
    }
