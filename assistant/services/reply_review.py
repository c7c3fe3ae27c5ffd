"""The officer's triage queue of replies Relance was not sure enough to apply alone.

A reply whose reading is not `automatic` waits here (a `reply_review` row, `pending`) with
its suggested reading and evidence; nothing about its case changes until an officer confirms or
corrects the reading — except that a possibly sensitive reply (dispute, legal, hardship, …)
has already been handed off, which stops dunning at once. Every confirmation or correction is
kept on that row as a labelled example that `relance replies train --with-corrections`
learns from. Never sends, never commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, col, select

from assistant.db.mail_models import InboundMessage
from assistant.db.models import Case, utcnow
from assistant.db.reply_models import ReplyReview
from assistant.replies import Intent, PromiseReading, ReplyAnalysis
from assistant.services.audit import record
from assistant.services.reply_effects import HANDOFF_INTENTS, ReplyOutcome

if TYPE_CHECKING:
    from assistant.bootstrap import App

PENDING = "pending"


class ReviewError(ValueError):
    """A review command that cannot be carried out (unknown reply, bad correction)."""


def possibly_sensitive(analysis: ReplyAnalysis) -> bool:
    """Tell whether the reading holds a hand-off intent, as primary or among `also`."""
    return analysis.intent in HANDOFF_INTENTS or any(i in HANDOFF_INTENTS for i in analysis.also)


def queue_for_review(
    session: Session,
    inbound: InboundMessage,
    case: Case,
    analysis: ReplyAnalysis,
    *,
    handed_off: bool,
    actor: str,
) -> ReplyReview:
    """Put a reply in the officer's triage queue with its suggested reading."""
    review = ReplyReview(
        inbound_id=inbound.id or 0,
        case_id=case.id,
        handed_off=handed_off,
        text=analysis.reply_text,
        language=analysis.language,
        suggested_intent=analysis.intent.value,
        confidence=analysis.confidence,
    )
    session.add(review)
    session.flush()
    record(
        session,
        actor,
        "reply.review_queued",
        "inbound",
        inbound.id,
        case=case.ref,
        intent=analysis.intent.value,
        confidence=analysis.confidence,
        handed_off=handed_off,
    )
    return review


def review_queue(session: Session) -> list[dict[str, Any]]:
    """Return the replies waiting for an officer, oldest first, with their suggested reading."""
    rows = session.exec(
        select(ReplyReview, InboundMessage)
        .join(InboundMessage, col(InboundMessage.id) == col(ReplyReview.inbound_id))
        .where(ReplyReview.status == PENDING)
        .order_by(col(ReplyReview.created_at), col(ReplyReview.id))
    ).all()
    out = []
    for review, inbound in rows:
        case = session.get(Case, review.case_id) if review.case_id else None
        reading = dict(inbound.analysis or {})
        out.append(
            {
                "id": inbound.id,
                "case": case.ref if case else None,
                "from": inbound.from_addr,
                "subject": inbound.subject,
                "received_at": inbound.received_at,
                "intent": review.suggested_intent,
                "also": reading.get("also", []),
                "confidence": review.confidence,
                "needs_human": reading.get("needs_human"),
                "promise": reading.get("promise"),
                "schedule": reading.get("schedule"),
                "evidence": reading.get("evidence", []),
                "handed_off": review.handed_off,
                "reply_text": inbound.reply_text or review.text,
            }
        )
    return out


@dataclass(frozen=True)
class Correction:
    """What the officer says the reply means (None: confirm the suggested reading)."""

    intent: Intent | None = None
    promise_amount: str | None = None
    promise_date: date | None = None


def _amount(value: str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        amount = Decimal(value.replace(",", ".").replace(" ", ""))
    except InvalidOperation as exc:
        raise ReviewError(f"promise amount {value!r} is not a number") from exc
    if amount <= 0:
        raise ReviewError(f"promise amount {value!r} must be positive")
    return amount


def officer_reading(suggested: ReplyAnalysis, fix: Correction) -> ReplyAnalysis:
    """Return the reading the officer settled on (the suggestion, or corrected)."""
    intent = fix.intent or suggested.intent
    promise = suggested.promise if intent is Intent.PROMISE_TO_PAY else None
    amount = _amount(fix.promise_amount)
    if amount is not None or fix.promise_date is not None:
        if intent is not Intent.PROMISE_TO_PAY:
            raise ReviewError("--promise-amount/--promise-date go with --intent promise_to_pay")
        base = promise or suggested.loose_promise or PromiseReading()
        promise = PromiseReading(
            amount=amount if amount is not None else base.amount,
            currency=base.currency or (suggested.promise.currency if suggested.promise else None),
            date=fix.promise_date or base.date,
        )
    if intent is Intent.PROMISE_TO_PAY and (promise is None or promise.date is None):
        raise ReviewError("a promise needs a date: give --promise-date YYYY-MM-DD")
    return suggested.model_copy(
        update={
            "intent": intent,
            "needs_human": intent in HANDOFF_INTENTS,
            "promise": promise,
            "confidence": 1.0,
            "automatic": True,
            "engine": "officer",
            "also": [i for i in suggested.also if i is not intent],
        }
    )


def _settle(
    review: ReplyReview, changed: bool, reading: ReplyAnalysis, officer: str, at: datetime
) -> None:
    """Write the officer's reading on the review row (it becomes a labelled example)."""
    p = reading.promise
    review.intent = reading.intent.value
    review.status = "corrected" if changed else "confirmed"
    review.promise_amount = None if p is None or p.amount is None else str(p.amount)
    review.promise_currency = None if p is None else p.currency
    review.promise_date = None if p is None else p.date
    review.officer = officer
    review.reviewed_at = at


def review_reply(
    session: Session, inbound_id: int, fix: Correction, *, app: App, officer: str
) -> ReplyOutcome:
    """Confirm or correct a queued reply's reading, keep it as a label, apply the effects."""
    from assistant.services.replies import apply_reading, read_reply

    review = session.exec(select(ReplyReview).where(ReplyReview.inbound_id == inbound_id)).first()
    if review is None:
        raise ReviewError(f"reply {inbound_id} is not in the review queue")
    if review.status != PENDING:
        raise ReviewError(f"reply {inbound_id} was already reviewed ({review.status})")
    inbound = session.get(InboundMessage, inbound_id)
    case = session.get(Case, review.case_id) if review.case_id else None
    if inbound is None or case is None:
        raise ReviewError(f"reply {inbound_id} is not matched to a case")
    suggested, received, policy = read_reply(session, inbound, case, app=app)
    suggested = suggested.model_copy(update={"intent": Intent(review.suggested_intent)})
    reading = officer_reading(suggested, fix)
    changed = reading.intent is not suggested.intent or reading.promise != suggested.promise
    _settle(review, changed, reading, officer, utcnow())
    session.add(review)
    outcome = ReplyOutcome(intent=reading.intent.value, needs_human=reading.needs_human)
    if not review.handed_off or not reading.needs_human:
        # first application, or a hand-off the officer read as something else (a promise…)
        outcome = apply_reading(session, inbound, case, reading, received, policy, app=app)
    inbound.analysis = {**(inbound.analysis or {}), "review": review.status}
    session.add(inbound)
    record(
        session,
        officer,
        "reply.reviewed",
        "inbound",
        inbound.id,
        case=case.ref,
        suggested=suggested.intent.value,
        intent=reading.intent.value,
        status=review.status,
        promise_amount=review.promise_amount,
        promise_date=review.promise_date,
    )
    return outcome


def correction_examples(session: Session) -> list[tuple[str, str, str]]:
    """Return (text, intent, group) for every stored officer reading, oldest first."""
    rows = session.exec(
        select(ReplyReview).where(ReplyReview.status != PENDING).order_by(col(ReplyReview.id))
    ).all()
    return [(r.text, r.intent or "", f"officer:{r.officer}") for r in rows if r.text.strip()]
