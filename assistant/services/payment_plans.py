"""Accepted payment plans: record one, follow its instalments, handle a broken plan.

An instalment is followed like a promise: kept when the payments since the plan started
cover every instalment up to it by its date plus grace, broken otherwise. A broken plan
opens a task, counts as a broken promise and lets the ladder resume per policy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from assistant.db.models import Case, Creditor, Debtor, Payment, Promise, Task, utcnow
from assistant.db.officer_models import PaymentPlan, PlanInstalment
from assistant.domain import from_cents, to_cents
from assistant.policy.schema import Policy
from assistant.services.audit import record
from assistant.services.officer_common import (
    OfficerActionError,
    case_by_ref,
    case_currency,
    case_policy,
)

PLAN_STATUSES = ("active", "completed", "broken", "cancelled")


@dataclass(frozen=True)
class Due:
    """One instalment as the follow-up sees it."""

    position: int
    due_on: date
    amount_cents: int
    status: str


def instalment_outcomes(
    instalments: list[Due], paid_cents: int, grace_days: int, on: date
) -> dict[int, str]:
    """Return {position: kept|broken} for pending instalments whose date + grace passed (pure).

    Payments are applied to the instalments in date order: an instalment is kept when
    the payments since the plan began reach the running total up to and including it.
    """
    outcomes: dict[int, str] = {}
    running = 0
    for inst in sorted(instalments, key=lambda i: i.position):
        running += inst.amount_cents
        if inst.status != "pending" or on <= inst.due_on + timedelta(days=grace_days):
            continue
        outcomes[inst.position] = "kept" if paid_cents >= running else "broken"
    return outcomes


def parse_instalment(text: str) -> tuple[Decimal, date]:
    """Return (amount, date) from 'AMOUNT:YYYY-MM-DD' (pure)."""
    from assistant.services.case_journal import parse_amount

    amount, sep, day = text.partition(":")
    if not sep:
        raise OfficerActionError(f"instalment {text!r}: use AMOUNT:YYYY-MM-DD")
    try:
        due = date.fromisoformat(day.strip())
    except ValueError as exc:
        raise OfficerActionError(f"instalment {text!r}: invalid date {day!r}") from exc
    return parse_amount(amount), due


def add_plan(
    session: Session,
    ref: str,
    actor: str,
    policies: Mapping[str, Policy],
    instalments: list[tuple[Decimal, date]],
    on: date,
    note: str = "",
) -> int:
    """Record a plan the officer accepted; the case waits while it is followed."""
    if not instalments:
        raise OfficerActionError("a plan needs at least one instalment")
    days = [d for _, d in instalments]
    if len(set(days)) != len(days):
        raise OfficerActionError("two instalments share a date")
    if min(days) < on:
        raise OfficerActionError(f"instalment date {min(days).isoformat()} is in the past")
    case = case_by_ref(session, ref)
    if case.status == "closed":
        raise OfficerActionError(f"case {ref} is closed")
    policy = case_policy(session, case, policies)
    live = session.exec(
        select(PaymentPlan).where(PaymentPlan.case_id == case.id, PaymentPlan.status == "active")
    ).first()
    if live is not None:
        raise OfficerActionError(f"case {ref} already has active plan #{live.id}")
    currency = case_currency(session, case)
    plan = PaymentPlan(
        case_id=case.id or 0,
        currency=currency,
        grace_days=policy.promises.grace_days,
        note=note.strip() or None,
        created_by=actor,
        created_on=on,
    )
    session.add(plan)
    session.flush()
    for position, (amount, due) in enumerate(sorted(instalments, key=lambda x: x[1]), 1):
        session.add(
            PlanInstalment(
                plan_id=plan.id or 0, position=position, due_on=due, amount_cents=to_cents(amount)
            )
        )
    _wait_until(case, max(days) + timedelta(days=plan.grace_days))
    session.add(case)
    record(
        session, actor, "plan.recorded", "case", case.ref, plan=plan.id, note=plan.note,
        instalments=[[str(a), d] for a, d in sorted(instalments, key=lambda x: x[1])],
    )  # fmt: skip
    return plan.id or 0


def _wait_until(case: Case, until: date) -> None:
    """Keep the ladder waiting until `until` (the plan's last date plus grace)."""
    case.paused_until = until + timedelta(days=1)
    if case.status == "active":
        case.status = "promise"
    case.updated_at = utcnow()


def check_plans(session: Session, creditor_id: int, on: date, actor: str) -> dict[str, int]:
    """Settle the instalments of active plans whose date + grace passed; return counts."""
    counts = {"kept": 0, "broken": 0, "completed": 0}
    plans = session.exec(
        select(PaymentPlan, Case)
        .join(Case, col(Case.id) == PaymentPlan.case_id)
        .where(Case.creditor_id == creditor_id, PaymentPlan.status == "active")
    ).all()
    for plan, case in plans:
        rows = _instalments(session, plan.id or 0)
        paid = int(
            session.exec(
                select(func.coalesce(func.sum(Payment.amount_cents), 0)).where(
                    Payment.debtor_id == case.debtor_id, Payment.paid_on >= plan.created_on
                )
            ).one()
        )
        dues = [Due(r.position, r.due_on, r.amount_cents, r.status) for r in rows]
        outcomes = instalment_outcomes(dues, paid, plan.grace_days, on)
        for r in rows:
            if r.position in outcomes:
                r.status, r.resolved_on = outcomes[r.position], on
                session.add(r)
                counts[r.status] += 1
                record(
                    session, actor, f"plan.instalment_{r.status}", "case", case.ref,
                    plan=plan.id, position=r.position, due_on=r.due_on, paid_cents=paid,
                )  # fmt: skip
        if "broken" in outcomes.values():
            _break(session, plan, case, on, actor)
        elif all(r.status == "kept" for r in rows):
            plan.status, plan.resolved_on = "completed", on
            session.add(plan)
            counts["completed"] += 1
            record(session, actor, "plan.completed", "case", case.ref, plan=plan.id)
    return counts


def check_plans_all(session: Session, on: date, actor: str) -> dict[str, int]:
    """Run `check_plans` for every creditor; return the summed counts."""
    total = {"kept": 0, "broken": 0, "completed": 0}
    for creditor_id in session.exec(select(Creditor.id)).all():
        for key, n in check_plans(session, creditor_id or 0, on, actor).items():
            total[key] += n
    return total


def _break(session: Session, plan: PaymentPlan, case: Case, on: date, actor: str) -> None:
    """Mark the plan broken: a task, a broken promise the policy counts, the ladder resumes."""
    plan.status, plan.resolved_on = "broken", on
    session.add(plan)
    session.add(
        Promise(case_id=case.id or 0, due_on=on, status="broken", source="plan", resolved_on=on)
    )
    task = Task(case_id=case.id, kind="plan_broken", detail=f"Payment plan #{plan.id} broken.")
    session.add(task)
    case.broken_promise_pending = True
    case.paused_until = None
    if case.status == "promise":
        case.status = "active"
    case.updated_at = utcnow()
    session.add(case)
    session.flush()
    record(session, actor, "plan.broken", "case", case.ref, plan=plan.id, task=task.id)


def _instalments(session: Session, plan_id: int) -> list[PlanInstalment]:
    return list(
        session.exec(
            select(PlanInstalment)
            .where(PlanInstalment.plan_id == plan_id)
            .order_by(col(PlanInstalment.position))
        )
    )


def _plan_row(session: Session, plan: PaymentPlan, case: Case, debtor: Debtor) -> dict[str, Any]:
    rows = _instalments(session, plan.id or 0)
    creditor = session.get(Creditor, case.creditor_id)
    slug = creditor.slug if creditor else None
    pending = [r for r in rows if r.status == "pending"]
    return {
        "id": plan.id,
        "case": case.ref,
        "creditor": slug,
        "debtor": debtor.legal_name,
        "status": plan.status,
        "currency": plan.currency,
        "total": from_cents(sum(r.amount_cents for r in rows)),
        "next_due": pending[0].due_on if pending else None,
        "created_by": plan.created_by,
        "created_on": plan.created_on,
        "note": plan.note,
        "instalments": [
            {
                "position": r.position,
                "due_on": r.due_on,
                "amount": from_cents(r.amount_cents),
                "status": r.status,
                "resolved_on": r.resolved_on,
            }
            for r in rows
        ],
    }


def list_plans(session: Session, status: str | None = None) -> list[dict[str, Any]]:
    """Return the plans (every status when `status` is None or 'all'), newest first."""
    if status not in (None, "all", *PLAN_STATUSES):
        raise OfficerActionError(f"unknown status {status!r}: all or {', '.join(PLAN_STATUSES)}")
    query = (
        select(PaymentPlan, Case, Debtor)
        .join(Case, col(Case.id) == PaymentPlan.case_id)
        .join(Debtor, col(Debtor.id) == Case.debtor_id)
        .order_by(col(PaymentPlan.id).desc())
    )
    if status not in (None, "all"):
        query = query.where(PaymentPlan.status == status)
    return [_plan_row(session, p, c, d) for p, c, d in session.exec(query)]


def show_plan(session: Session, plan_id: int) -> dict[str, Any]:
    """Return one plan with its instalments."""
    found = session.exec(
        select(PaymentPlan, Case, Debtor)
        .join(Case, col(Case.id) == PaymentPlan.case_id)
        .join(Debtor, col(Debtor.id) == Case.debtor_id)
        .where(PaymentPlan.id == plan_id)
    ).first()
    if found is None:
        raise OfficerActionError(f"no plan {plan_id}")
    return _plan_row(session, *found)


def case_plans(session: Session, case_id: int) -> list[dict[str, Any]]:
    """Return the plans of one case, oldest first."""
    query = (
        select(PaymentPlan, Case, Debtor)
        .join(Case, col(Case.id) == PaymentPlan.case_id)
        .join(Debtor, col(Debtor.id) == Case.debtor_id)
        .where(PaymentPlan.case_id == case_id)
        .order_by(col(PaymentPlan.id))
    )
    return [_plan_row(session, p, c, d) for p, c, d in session.exec(query)]
