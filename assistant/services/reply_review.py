"""The officer's triage queue of replies Relance was not sure enough to apply alone.

A reply whose reading is not `automatic` waits here (`InboundMessage.status == "review"`) with
its suggested reading and evidence; nothing about its case changes until an officer confirms or
corrects the reading — except that a possibly sensitive reply (dispute, legal, hardship, …)
has already been handed off, which stops dunning at once. Every confirmation or correction is
stored as a labelled example (`reply_label`) that `relance replies train --with-corrections`
learns from. Never sends, never commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, col, select

from assistant.db.mail_models import InboundMessage
from assistant.db.models import Case
from assistant.db.reply_models import ReplyLabel
from assistant.replies import Intent, PromiseReading, ReplyAnalysis
from assistant.services.audit import record
from assistant.services.reply_effects import HANDOFF_INTENTS, ReplyOutcome

if TYPE_CHECKING:
    from assistant.bootstrap import App

REVIEW = "review"


class ReviewError(ValueError):
    """A review command that cannot be carried out (unknown reply, bad correction)."""


def possibly_sensitive(analysis: ReplyAnalysis) -> bool:
    """Tell whether the reading holds a hand-off intent, as primary or among `also`."""
    return analysis.intent in HANDOFF_INTENTS or any(i in HANDOFF_INTENTS for i in analysis.also)


def review_queue(session: Session) -> list[dict[str, Any]]:
    """Return the replies waiting for an officer, oldest first, with their suggested reading."""
    rows = session.exec(
        select(InboundMessage)
        .where(InboundMessage.status == REVIEW)
        .order_by(col(InboundMessage.received_at), col(InboundMessage.id))
    ).all()
    out = []
    for inbound in rows:
        case = session.get(Case, inbound.case_id) if inbound.case_id else None
        reading = dict(inbound.analysis or {})
        out.append(
            {
                "id": inbound.id,
                "case": case.ref if case else None,
                "from": inbound.from_addr,
                "subject": inbound.subject,
                "received_at": inbound.received_at,
                "intent": reading.get("intent"),
                "also": reading.get("also", []),
                "confidence": reading.get("confidence"),
                "needs_human": reading.get("needs_human"),
                "promise": reading.get("promise"),
                "schedule": reading.get("schedule"),
                "evidence": reading.get("evidence", []),
                "handed_off": bool(reading.get("applied")),
                "reply_text": inbound.reply_text or reading.get("reply_text") or "",
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
            currency=base.currency
            or (suggested.promise.currency if suggested.promise else None),
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


def store_label(
    session: Session, inbound: InboundMessage, suggested: Intent, reading: ReplyAnalysis, officer: str
) -> ReplyLabel:
    """Keep the officer's reading as a labelled example for retraining."""
    p = reading.promise
    label = ReplyLabel(
        inbound_id=inbound.id or 0,
        case_id=inbound.case_id,
        text=reading.reply_text,
        language=reading.language,
        suggested_intent=suggested.value,
        intent=reading.intent.value,
        promise_amount=None if p is None or p.amount is None else str(p.amount),
        promise_currency=None if p is None else p.currency,
        promise_date=None if p is None else p.date,
        corrected=reading.intent is not suggested,
        officer=officer,
    )
    session.add(label)
    session.flush()
    return label


def review_reply(
    session: Session, inbound_id: int, fix: Correction, *, app: App, officer: str
) -> ReplyOutcome:
    """Confirm or correct a queued reply's reading, store the label, apply the effects."""
    from assistant.services.replies import apply_reading, read_reply

    inbound = session.get(InboundMessage, inbound_id)
    if inbound is None:
        raise ReviewError(f"reply {inbound_id} does not exist")
    if inbound.status != REVIEW:
        raise ReviewError(f"reply {inbound_id} is not waiting for review (status {inbound.status})")
    case = session.get(Case, inbound.case_id) if inbound.case_id else None
    if case is None:
        raise ReviewError(f"reply {inbound_id} is not matched to a case")
    suggested, received, policy = read_reply(session, inbound, case, app=app)
    reading = officer_reading(suggested, fix)
    label = store_label(session, inbound, suggested.intent, reading, officer)
    already = bool((inbound.analysis or {}).get("applied"))
    outcome = ReplyOutcome(intent=reading.intent.value, needs_human=reading.needs_human)
    if not already or (reading.intent is not suggested.intent and not reading.needs_human):
        outcome = apply_reading(session, inbound, case, reading, received, policy, app=app)
    inbound.analysis = {
        **(inbound.analysis or {}),
        "review": {
            "officer": officer,
            "intent": reading.intent.value,
            "corrected": label.corrected,
            "label_id": label.id,
        },
    }
    inbound.status = "analysed"
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
        corrected=label.corrected,
        promise_amount=label.promise_amount,
        promise_date=label.promise_date,
    )
    return outcome


def correction_examples(session: Session) -> list[tuple[str, str, str]]:
    """Return (text, intent, group) for every stored officer reading, oldest first."""
    rows = session.exec(select(ReplyLabel).order_by(col(ReplyLabel.id))).all()
    return [(r.text, r.intent, f"officer:{r.officer}") for r in rows if r.text.strip()]
