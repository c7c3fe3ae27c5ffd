"""What a debtor's reply does to its case (DOMAIN.md §4), once it has been analysed.

The reply's text is data: only its classification drives what happens here, and nothing a
debtor writes can mark an invoice paid, change an amount or approve anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Protocol

from sqlmodel import Session, col, select

from assistant.db.models import Case, Contact, Draft, Handoff, Invoice, Promise, Task, utcnow
from assistant.domain import from_cents, to_cents
from assistant.policy.schema import PaymentPlanLimits, Policy
from assistant.replies.analysis import Intent, ReplyAnalysis
from assistant.services.audit import record

HANDOFF_INTENTS = {
    Intent.INSOLVENCY,
    Intent.LEGAL,
    Intent.DISPUTE,
    Intent.STOP_CONTACT,
    Intent.HARDSHIP,
}
INSOLVENCY_NOTE = (
    "Insolvency proceedings: stop all dunning. The creditor must file its claim (déclaration de "
    "créance) with the mandataire judiciaire within 2 months of the BODACC publication."
)


class ResponseDrafter(Protocol):
    """Drafts the officer-approved answer to a reply (acknowledgement, plan, …)."""

    def draft(
        self,
        session: Session,
        case: Case,
        kind: str,
        policy: Policy,
        on: date,
        details: dict[str, Any],
    ) -> Draft | None: ...


@dataclass
class ReplyOutcome:
    """What handling one reply did."""

    intent: str
    needs_human: bool
    actions: list[str] = field(default_factory=list)
    draft_id: int | None = None
    handoff_id: int | None = None
    promise_id: int | None = None
    task_id: int | None = None


@dataclass(frozen=True)
class Instalment:
    """One instalment of a proposed payment plan."""

    amount: Decimal
    due_on: date


def plan_within_limits(instalments: list[Instalment], limits: PaymentPlanLimits, on: date) -> bool:
    """Tell whether a stated plan fits the policy's limits (pure)."""
    if not instalments or len(instalments) > limits.max_instalments:
        return False
    if any(i.amount < limits.min_instalment for i in instalments[:-1]):
        return False
    return max(i.due_on for i in instalments) <= on + timedelta(days=limits.max_duration_days)


def propose_plan(balance: Decimal, limits: PaymentPlanLimits, on: date) -> list[Instalment] | None:
    """Split `balance` into monthly instalments within the limits, or None (pure)."""
    if balance <= 0:
        return None
    count = 1
    while count < limits.max_instalments and balance / (count + 1) >= limits.min_instalment:
        count += 1
    if (count - 1) * 30 > limits.max_duration_days:
        count = limits.max_duration_days // 30 + 1
    base = (balance / count).quantize(Decimal("0.01"), rounding="ROUND_DOWN")
    amounts = [base] * (count - 1) + [balance - base * (count - 1)]
    first = on + timedelta(days=7)
    return [Instalment(a, first + timedelta(days=30 * i)) for i, a in enumerate(amounts)]


def _open_balance(session: Session, case: Case) -> Decimal:
    cents = session.exec(
        select(Invoice.outstanding_cents).where(
            Invoice.debtor_id == case.debtor_id, Invoice.status == "open"
        )
    ).all()
    return from_cents(sum(cents))


def _freeze_live_drafts(session: Session, case: Case, reason: str, actor: str) -> int:
    n = 0
    for d in session.exec(
        select(Draft).where(
            Draft.case_id == case.id, col(Draft.status).in_(["pending", "approved"])
        )
    ):
        d.status = "rejected"
        d.reject_reason = reason
        d.decided_by = actor
        d.decided_at = utcnow()
        session.add(d)
        record(session, actor, "draft.withdrawn", "draft", d.id, case=case.ref, reason=reason)
        n += 1
    return n


def _handoff(
    session: Session,
    case: Case,
    analysis: ReplyAnalysis,
    reason: str,
    summary: str,
    actor: str,
    out: ReplyOutcome,
) -> None:
    handoff = Handoff(
        case_id=case.id or 0, reason=reason, summary=summary, evidence=list(analysis.evidence)
    )
    session.add(handoff)
    case.status = "handoff"
    case.updated_at = utcnow()
    session.add(case)
    session.flush()
    out.handoff_id = handoff.id
    withdrawn = _freeze_live_drafts(session, case, f"hand-off: {reason}", actor)
    out.actions.append(
        f"handed off ({reason})" + (f", {withdrawn} draft(s) withdrawn" if withdrawn else "")
    )
    record(session, actor, "case.handoff", "case", case.ref, reason=reason, summary=summary)


def _task(
    session: Session, case: Case, kind: str, detail: str, actor: str, out: ReplyOutcome
) -> None:
    task = Task(case_id=case.id, kind=kind, detail=detail)
    session.add(task)
    session.flush()
    out.task_id = task.id
    out.actions.append(f"task {kind}")
    record(session, actor, "task.created", "task", task.id, case=case.ref, kind=kind)


def _summary(analysis: ReplyAnalysis) -> str:
    quote = " / ".join(f"« {e} »" for e in analysis.evidence[:3]) or analysis.reply_text[:200]
    return f"Reply read as {analysis.intent.value} (confidence {analysis.confidence:.2f}): {quote}"


def apply_analysis(
    session: Session,
    case: Case,
    analysis: ReplyAnalysis,
    *,
    policy: Policy,
    received_on: date,
    actor: str = "relance",
    drafter: ResponseDrafter | None = None,
) -> ReplyOutcome:
    """Change `case` as DOMAIN.md §4 says for this reply's classification."""
    intent = analysis.intent
    out = ReplyOutcome(intent=intent.value, needs_human=analysis.needs_human)
    record(
        session,
        actor,
        "reply.analysed",
        "case",
        case.ref,
        intent=intent.value,
        needs_human=analysis.needs_human,
        confidence=analysis.confidence,
        engine=analysis.engine,
    )

    if intent == Intent.DISPUTE and analysis.disputed_invoices:
        for inv in session.exec(
            select(Invoice).where(
                Invoice.debtor_id == case.debtor_id,
                col(Invoice.number).in_(analysis.disputed_invoices),
                Invoice.status == "open",
            )
        ):
            inv.status = "disputed"
            inv.updated_at = utcnow()
            session.add(inv)
            record(session, actor, "invoice.disputed", "invoice", inv.number, case=case.ref)
            out.actions.append(f"invoice {inv.number} frozen (disputed)")
    if intent in HANDOFF_INTENTS or analysis.needs_human:
        reason = intent.value if intent in HANDOFF_INTENTS else "unclear_reply"
        summary = _summary(analysis)
        if intent == Intent.INSOLVENCY:
            summary = f"{INSOLVENCY_NOTE} {summary}"
        _handoff(session, case, analysis, reason, summary, actor, out)
        return out

    if intent == Intent.PROMISE_TO_PAY:
        reading = analysis.promise
        if reading is None or reading.date is None:
            _task(
                session,
                case,
                "confirm_promise",
                "Promise without a clear date: confirm with the debtor. " + _summary(analysis),
                actor,
                out,
            )
            return out
        promise = Promise(
            case_id=case.id or 0,
            due_on=reading.date,
            grace_days=policy.promises.grace_days,
            amount_cents=None if reading.amount is None else to_cents(reading.amount),
            currency=reading.currency or ("EUR" if reading.amount is not None else None),
            source="reply",
        )
        session.add(promise)
        case.status = "promise"
        session.add(case)
        session.flush()
        out.promise_id = promise.id
        out.actions.append(f"promise recorded for {reading.date.isoformat()}")
        record(
            session,
            actor,
            "promise.recorded",
            "promise",
            promise.id,
            case=case.ref,
            due_on=reading.date,
            amount=reading.amount,
        )
        _draft(
            session,
            case,
            "ack_promise",
            policy,
            received_on,
            drafter,
            out,
            {"promise_date": reading.date, "promise_amount": reading.amount},
        )
    elif intent == Intent.PAYMENT_PLAN_REQUEST:
        limits = policy.payment_plans
        stated = [
            Instalment(i.amount, i.date)
            for i in analysis.instalments
            if i.amount is not None and i.date is not None
        ]
        balance = _open_balance(session, case)
        if stated and not plan_within_limits(stated, limits, received_on):
            _handoff(
                session,
                case,
                analysis,
                "payment_plan_outside_limits",
                f"Proposed plan outside policy limits ({limits.max_instalments} instalments max, "
                f"{limits.min_instalment} minimum, {limits.max_duration_days} days). {_summary(analysis)}",
                actor,
                out,
            )
            return out
        plan = stated or propose_plan(balance, limits, received_on)
        if not plan:
            _task(
                session,
                case,
                "payment_plan",
                "Plan requested but nothing to split. " + _summary(analysis),
                actor,
                out,
            )
            return out
        _draft(
            session,
            case,
            "plan_proposal",
            policy,
            received_on,
            drafter,
            out,
            {"instalments": [(i.amount, i.due_on) for i in plan]},
        )
    elif intent == Intent.CLAIMS_PAID:
        _task(
            session,
            case,
            "verify_payment",
            "Debtor says the invoices are paid: check the bank statement before any further "
            "reminder (never mark paid on the debtor's word). " + _summary(analysis),
            actor,
            out,
        )
        _draft(session, case, "remittance_request", policy, received_on, drafter, out, {})
    elif intent == Intent.REQUEST_INFO:
        _draft(session, case, "info_answer", policy, received_on, drafter, out, {})
    elif intent == Intent.WRONG_CONTACT:
        detail = "Debtor says we wrote to the wrong person. " + _summary(analysis)
        if analysis.new_contact_email:
            email = analysis.new_contact_email.lower()
            exists = session.exec(
                select(Contact).where(Contact.debtor_id == case.debtor_id, Contact.email == email)
            ).first()
            if exists is None:
                # Recorded but not used until an officer confirms it: never email a third party.
                session.add(
                    Contact(
                        debtor_id=case.debtor_id,
                        email=email,
                        valid=False,
                        invalid_reason="suggested in a reply: officer to confirm",
                    )
                )
                out.actions.append(f"new contact {email} recorded (to confirm)")
            detail += f" New contact given: {email}."
        _task(session, case, "wrong_contact", detail, actor, out)
    elif intent == Intent.OUT_OF_OFFICE:
        back = analysis.return_date or received_on + timedelta(days=7)
        resume = max(back, received_on) + timedelta(days=1)
        case.paused_until = resume
        session.add(case)
        out.actions.append(f"next contact not before {resume.isoformat()}")
        record(session, actor, "case.snoozed", "case", case.ref, until=resume)
    return out


def _draft(
    session: Session,
    case: Case,
    kind: str,
    policy: Policy,
    on: date,
    drafter: ResponseDrafter | None,
    out: ReplyOutcome,
    details: dict[str, Any],
) -> None:
    if drafter is None:
        return
    draft = drafter.draft(session, case, kind, policy, on, details)
    if draft is not None:
        out.draft_id = draft.id
        out.actions.append(f"{kind} drafted for approval")
