"""What a debtor's reply does to its case (docs/domain.md §4–5), once it has been analysed.

The reply's text is data: only its classification drives what happens here, and nothing a
debtor writes can mark an invoice paid, change an amount or approve anything. Drafted
answers go to the approval queue like every letter. Never sends mail, never commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import func
from sqlmodel import Session, col, select

from assistant.db.models import Case, Contact, Draft, Invoice, Promise, Task, utcnow
from assistant.domain import from_cents, to_cents
from assistant.policy.schema import Policy
from assistant.replies import CaseContext, Intent, ReplyAnalysis
from assistant.replies.plans import Instalment, plan_total, plan_within_limits, propose_plan
from assistant.services.audit import record
from assistant.services.case_control import open_handoff
from assistant.services.transitions import StaleTransition, compare_and_set

HANDOFF_INTENTS = {
    Intent.INSOLVENCY,
    Intent.LEGAL,
    Intent.DISPUTE,
    Intent.STOP_CONTACT,
    Intent.HARDSHIP,
}
INSOLVENCY_NOTE = (
    "Insolvency proceedings: all dunning stopped. The creditor must file its claim (déclaration "
    "de créance) with the mandataire judiciaire within 2 months of the BODACC publication."
)
#: Case statuses an officer set, which a reply must not overwrite.
OFFICER_STATUSES = ("handoff", "paused")


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


# -- reading the case ---------------------------------------------------------------------------
def _open_invoices(session: Session, case: Case) -> list[Invoice]:
    return list(
        session.exec(
            select(Invoice)
            .where(Invoice.debtor_id == case.debtor_id, Invoice.status == "open")
            .order_by(col(Invoice.due_date), col(Invoice.number))
        )
    )


def _open_balance(session: Session, case: Case) -> Decimal:
    return from_cents(sum(i.outstanding_cents for i in _open_invoices(session, case)))


def _case_currency(session: Session, case: Case) -> str:
    invoices = _open_invoices(session, case)
    return invoices[0].currency if invoices else "EUR"


def case_context(session: Session, case: Case) -> CaseContext:
    """Return what the analyser may know of the case: invoice numbers, balance, currency."""
    numbers = session.exec(
        select(Invoice.number).where(
            Invoice.debtor_id == case.debtor_id, col(Invoice.status) != "written_off"
        )
    ).all()
    return CaseContext(
        invoice_numbers=tuple(sorted(numbers)),
        balance=_open_balance(session, case),
        currency=_case_currency(session, case),
    )


# -- effects ------------------------------------------------------------------------------------
def _freeze_invoices(
    session: Session,
    case: Case,
    numbers: list[str] | None,
    status: str,
    actor: str,
    out: ReplyOutcome,
) -> None:
    """Take open invoices out of dunning (`numbers` None: all of them)."""
    wanted = None if numbers is None else {n.strip().upper() for n in numbers}
    for inv in _open_invoices(session, case):
        if wanted is not None and inv.number.strip().upper() not in wanted:
            continue
        inv.status = status
        inv.updated_at = utcnow()
        session.add(inv)
        record(session, actor, f"invoice.{status}", "invoice", inv.number, case=case.ref)
        out.actions.append(f"invoice {inv.number} {status}")


def _handoff(
    session: Session,
    case: Case,
    analysis: ReplyAnalysis,
    reason: str,
    summary: str,
    actor: str,
    out: ReplyOutcome,
) -> None:
    handoff, withdrawn = open_handoff(session, case, reason, summary, actor, analysis.evidence)
    out.handoff_id = handoff.id
    out.actions.append(
        f"handed off ({reason})" + (f", {len(withdrawn)} draft(s) withdrawn" if withdrawn else "")
    )


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
    text = f"Reply read as {analysis.intent.value} (confidence {analysis.confidence:.2f}): {quote}"
    p = analysis.promise
    if p is not None and p.date is not None and analysis.intent is not Intent.PROMISE_TO_PAY:
        # a promise inside a dispute or a legal reply: recorded here for the officer
        amount = f"{p.amount} {p.currency or ''}".strip() if p.amount is not None else "?"
        text += f" — promise read: {amount} on {p.date.isoformat()}"
    return text


def _set_status(session: Session, case: Case, status: str) -> None:
    if case.status in OFFICER_STATUSES:
        return  # an officer's decision stands; the planner still sees the promise
    case.status = status
    case.updated_at = utcnow()
    session.add(case)


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
    """Change `case` as docs/domain.md §4–5 says for this reply's classification."""
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

    disputes = intent == Intent.DISPUTE or Intent.DISPUTE in analysis.intents_found
    if disputes and analysis.disputed_invoices:
        # Only the invoices the debtor names are frozen; the case still goes to a human.
        _freeze_invoices(session, case, list(analysis.disputed_invoices), "disputed", actor, out)
    if intent == Intent.INSOLVENCY:
        # Collective proceedings forbid individual collection: no invoice stays in dunning,
        # even if an officer later resumes the case by mistake.
        _freeze_invoices(session, case, None, "frozen", actor, out)
    if intent in HANDOFF_INTENTS or analysis.needs_human:
        reason = intent.value if intent in HANDOFF_INTENTS else "unclear_reply"
        summary = _summary(analysis)
        if intent == Intent.INSOLVENCY:
            summary = f"{INSOLVENCY_NOTE} {summary}"
        _handoff(session, case, analysis, reason, summary, actor, out)
        return out

    if intent == Intent.PROMISE_TO_PAY:
        _promise(session, case, analysis, policy, received_on, actor, drafter, out)
    elif intent == Intent.PAYMENT_PLAN_REQUEST:
        _plan(session, case, analysis, policy, received_on, actor, drafter, out)
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
        for email in analysis.new_contacts[:3]:  # "send it to compta@…": kept unconfirmed
            _suggest_contact(session, case, email, actor, out)
        details = {"asked": asked_for(analysis.reply_text)}
        _draft(session, case, "info_answer", policy, received_on, drafter, out, details)
    elif intent == Intent.WRONG_CONTACT:
        _wrong_contact(session, case, analysis, actor, out)
    elif intent == Intent.OUT_OF_OFFICE:
        back = analysis.return_date or received_on + timedelta(days=7)
        resume = max(back, received_on) + timedelta(days=1)
        if case.paused_until is None or case.paused_until < resume:
            case.paused_until = resume
            session.add(case)
        out.actions.append(f"next contact not before {resume.isoformat()}")
        record(session, actor, "case.snoozed", "case", case.ref, until=resume)
    return out


def record_promise(
    session: Session,
    case: Case,
    due_on: date,
    amount: Decimal | None,
    currency: str | None,
    grace_days: int,
    *,
    source: str,
    on: date,
    actor: str,
    **audit: Any,
) -> Promise:
    """Record a pending promise (replacing the pending one) and pause the case until it falls due."""
    # A new promise replaces the one still pending: only the latest word counts, and the
    # earlier date must not be settled as "broken" behind the debtor's back.
    for old_id in session.exec(
        select(Promise.id).where(Promise.case_id == case.id, Promise.status == "pending")
    ).all():
        try:
            compare_and_set(
                session, Promise, old_id or 0, "pending", {"status": "cancelled", "resolved_on": on}
            )
        except StaleTransition:
            continue  # settled meanwhile (kept or broken): nothing left to supersede
        record(session, actor, "promise.superseded", "promise", old_id, case=case.ref)
    promise = Promise(
        case_id=case.id or 0,
        due_on=due_on,
        grace_days=grace_days,
        amount_cents=None if amount is None else to_cents(amount),
        currency=currency,
        source=source,
    )
    session.add(promise)
    _set_status(session, case, "promise")
    session.flush()
    record(
        session, actor, "promise.recorded", "promise", promise.id, case=case.ref, due_on=due_on,
        amount=amount, currency=currency, source=source, **audit,
    )  # fmt: skip
    return promise


def _promise(
    session: Session,
    case: Case,
    analysis: ReplyAnalysis,
    policy: Policy,
    received_on: date,
    actor: str,
    drafter: ResponseDrafter | None,
    out: ReplyOutcome,
) -> None:
    reading = analysis.promise
    if reading is None or reading.date is None:
        detail = "Promise without a clear date: confirm with the debtor. " + _summary(analysis)
        _task(session, case, "confirm_promise", detail, actor, out)
        return
    currency = None
    if reading.amount is not None:
        currency = reading.currency or _case_currency(session, case)
    promise = record_promise(
        session, case, reading.date, reading.amount, currency, policy.promises.grace_days,
        source="reply", on=received_on, actor=actor,
    )  # fmt: skip
    out.promise_id = promise.id
    out.actions.append(f"promise recorded for {reading.date.isoformat()}")
    details = {
        "promise_date": reading.date,
        "promise_amount": reading.amount,
        "promise_currency": currency,
    }
    _draft(session, case, "ack_promise", policy, received_on, drafter, out, details)


def _plan(
    session: Session,
    case: Case,
    analysis: ReplyAnalysis,
    policy: Policy,
    received_on: date,
    actor: str,
    drafter: ResponseDrafter | None,
    out: ReplyOutcome,
) -> None:
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
            f"{limits.min_instalment} minimum, {limits.max_duration_days} days). "
            + _summary(analysis),
            actor,
            out,
        )
        return
    # The debtor's own schedule is taken when it settles the balance; otherwise (a partial
    # or vague request) the assistant proposes one within the limits.
    accepted = bool(stated) and plan_total(stated) == balance
    plan = stated if accepted else propose_plan(balance, limits, received_on)
    if not plan or not plan_within_limits(plan, limits, received_on):
        detail = "Plan requested but no plan within the policy limits. " + _summary(analysis)
        _task(session, case, "payment_plan", detail, actor, out)
        return
    details = {"instalments": [(i.amount, i.due_on) for i in plan], "as_proposed": accepted}
    _draft(session, case, "plan_proposal", policy, received_on, drafter, out, details)


def _wrong_contact(
    session: Session, case: Case, analysis: ReplyAnalysis, actor: str, out: ReplyOutcome
) -> None:
    detail = "Debtor says we wrote to the wrong person. " + _summary(analysis)
    if analysis.new_contact_email:
        email = _suggest_contact(session, case, analysis.new_contact_email, actor, out)
        detail += f" New contact given: {email} (recorded, not confirmed)."
    _task(session, case, "wrong_contact", detail, actor, out)


def _suggest_contact(
    session: Session, case: Case, address: str, actor: str, out: ReplyOutcome
) -> str:
    email = address.strip().lower()
    exists = session.exec(
        select(Contact).where(
            Contact.debtor_id == case.debtor_id, func.lower(Contact.email) == email
        )
    ).first()
    if exists is None:
        # Recorded but not used until an officer confirms it: never email a third party
        # on the word of a reply (approval only addresses valid contacts).
        session.add(
            Contact(
                debtor_id=case.debtor_id,
                email=email,
                valid=False,
                invalid_reason="suggested in a reply: officer to confirm",
            )
        )
        out.actions.append(f"new contact {email} recorded (to confirm)")
        record(session, actor, "contact.suggested", "case", case.ref, email=email)
    return email


ASKED = {
    "invoice_copy": ("copie", "copy", "copies", "duplicata", "pdf", "double de"),
    "statement": ("releve", "relevé", "statement", "detail", "détail", "extrait de compte"),
    "bank_details": (
        "rib",
        "iban",
        "bank details",
        "coordonnees bancaires",
        "coordonnées bancaires",
    ),
    "purchase_order": ("bon de commande", "purchase order", "po number", "numero de commande"),
}


def asked_for(reply_text: str) -> list[str]:
    """Return what an information request asks for (invoice_copy, statement, …)."""
    low = reply_text.lower()
    return [what for what, words in ASKED.items() if any(w in low for w in words)]


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
