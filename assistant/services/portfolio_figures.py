"""Figures and listings over a creditor's portfolio: aged balance, DSO, promises falling due,
drafts waiting for approval, why a case is with a human.

Read-only service verbs shared by the chat and other entry points. The caller decides which
creditors may be read (`slugs`); values are plain (dates, Decimals) and the caller shapes
them for output. Nothing here writes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from assistant.db.models import Case, Creditor, Debtor, Draft, Handoff, Invoice, Promise
from assistant.domain import from_cents

BUCKETS = ("0-30", "31-60", "61-90", ">90")


def week_of(on: date) -> tuple[date, date]:
    """Return the Monday and Sunday of the week holding `on`."""
    start = on - timedelta(days=on.weekday())
    return start, start + timedelta(days=6)


def bucket(days_late: int) -> str:
    """Return the age bucket of an invoice `days_late` days past due (1 or more)."""
    if days_late <= 30:
        return "0-30"
    if days_late <= 60:
        return "31-60"
    return "61-90" if days_late <= 90 else ">90"


def _currency_figures(currency: str, s: dict[str, Any]) -> dict[str, Any]:
    total = sum(s["cents"].values())
    overdue = total - s["cents"]["not_due"]
    return {
        "currency": currency,
        "outstanding": from_cents(total),
        "not_due": {"count": s["counts"]["not_due"], "amount": from_cents(s["cents"]["not_due"])},
        "overdue": {
            b: {"count": s["counts"][b], "amount": from_cents(s["cents"][b])} for b in BUCKETS
        },
        "overdue_total": from_cents(overdue),
        "average_days_late_weighted": round(s["late_weight"] / overdue, 1) if overdue else None,
        "invoiced_last_90_days": from_cents(s["invoiced_90"]),
        # DSO by the count-back-free shortcut: receivables ÷ 90 days' sales × 90.
        "dso_days_approx": round(total / s["invoiced_90"] * 90) if s["invoiced_90"] else None,
    }


def money_figures(session: Session, creditor_id: int, on: date) -> list[dict[str, Any]]:
    """Return the aged balance, weighted lateness and approximate DSO per currency."""
    per: dict[str, dict[str, Any]] = {}

    def slot(currency: str) -> dict[str, Any]:
        if currency not in per:
            per[currency] = {
                "cents": Counter(),
                "counts": Counter(),
                "late_weight": 0,
                "invoiced_90": 0,
            }
        return per[currency]

    for due, cents, currency in session.exec(
        select(col(Invoice.due_date), col(Invoice.outstanding_cents), col(Invoice.currency)).where(
            Invoice.creditor_id == creditor_id,
            Invoice.status == "open",
            Invoice.outstanding_cents > 0,
        )
    ):
        s = slot(currency)
        late = (on - due).days
        key = bucket(late) if late > 0 else "not_due"
        s["cents"][key] += cents
        s["counts"][key] += 1
        s["late_weight"] += max(0, late) * cents
    for cents, currency in session.exec(
        select(Invoice.amount_cents, Invoice.currency).where(
            Invoice.creditor_id == creditor_id,
            Invoice.amount_cents > 0,
            col(Invoice.issue_date) > on - timedelta(days=90),
            col(Invoice.issue_date) <= on,
        )
    ):
        slot(currency)["invoiced_90"] += cents
    return [_currency_figures(currency, s) for currency, s in sorted(per.items())]


def creditor_figures(session: Session, slug: str, on: date) -> dict[str, Any]:
    """Return one creditor's figures: cases by status, hand-offs, drafts, promises, money."""
    start, end = week_of(on)
    row = session.exec(select(Creditor).where(Creditor.slug == slug)).one()
    cid = row.id or 0
    statuses = dict(
        session.exec(
            select(Case.status, func.count()).where(Case.creditor_id == cid).group_by(Case.status)
        ).all()
    )

    def count(model: Any, *where: Any) -> int:
        query = (
            select(func.count())
            .select_from(model)
            .join(Case, col(Case.id) == model.case_id)
            .where(Case.creditor_id == cid, *where)
        )
        return int(session.exec(query).one())

    return {
        "creditor": slug,
        "cases_by_status": statuses,
        "open_handoffs": count(Handoff, Handoff.status == "open"),
        "pending_drafts": count(Draft, Draft.status == "pending"),
        "promises_due_this_week": count(
            Promise,
            Promise.status == "pending",
            col(Promise.due_on) >= start,
            col(Promise.due_on) <= end,
        ),
        "money": money_figures(session, cid, on),
    }


def promises_due(
    session: Session, start: date, end: date, slugs: Sequence[str]
) -> list[dict[str, Any]]:
    """List pending promises of `slugs` falling due between `start` and `end` (inclusive)."""
    balance = (
        select(Invoice.debtor_id, func.sum(Invoice.outstanding_cents).label("cents"))
        .where(Invoice.status == "open")
        .group_by(col(Invoice.debtor_id))
        .subquery()
    )
    rows = session.exec(
        select(Promise, Case, Creditor.slug, Debtor.legal_name, balance.c.cents)  # type: ignore[call-overload]
        .join(Case, col(Case.id) == Promise.case_id)
        .join(Creditor, col(Creditor.id) == Case.creditor_id)
        .join(Debtor, col(Debtor.id) == Case.debtor_id)
        .join(balance, balance.c.debtor_id == Case.debtor_id, isouter=True)
        .where(
            Promise.status == "pending",
            col(Promise.due_on) >= start,
            col(Promise.due_on) <= end,
            col(Creditor.slug).in_(list(slugs)),
        )
        .order_by(col(Promise.due_on), col(Promise.id))
    ).all()
    return [
        {
            "case": case.ref,
            "creditor": slug,
            "debtor": name,
            "amount": None if p.amount_cents is None else from_cents(p.amount_cents),
            "currency": p.currency,
            "due_on": p.due_on,
            "grace_until": p.due_on + timedelta(days=p.grace_days),
            "case_status": case.status,
            "balance": from_cents(int(cents or 0)),
        }
        for p, case, slug, name, cents in rows
    ]


def pending_drafts(session: Session, slugs: Sequence[str]) -> list[dict[str, Any]]:
    """List the drafts of `slugs` waiting for approval, oldest first."""
    rows = session.exec(
        select(Draft, Case.ref, Creditor.slug, Debtor.legal_name)
        .join(Case, col(Case.id) == Draft.case_id)
        .join(Creditor, col(Creditor.id) == Case.creditor_id)
        .join(Debtor, col(Debtor.id) == Case.debtor_id)
        .where(Draft.status == "pending", col(Creditor.slug).in_(list(slugs)))
        .order_by(col(Draft.id))
    ).all()
    return [
        {
            "id": d.id,
            "case": ref,
            "creditor": slug,
            "debtor": name,
            "kind": d.kind,
            "step": d.step,
            "subject": d.subject,
            "engine": d.engine,
            "engine_note": d.engine_note,
            "blocking_findings": [f["code"] for f in d.findings if f.get("blocking")],
            "four_eyes": d.requires_four_eyes,
            "first_approver": d.first_approver,
            "created_by": d.created_by,
            "created_at": d.created_at,
        }
        for d, ref, slug, name in rows
    ]
