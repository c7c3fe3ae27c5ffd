"""An officer logs a call or a promise made outside the mailbox (audited, on the timeline).

Notes stay the verb `case_control.add_note` (audit event `case.note`); a call is the audit
event `case.call`, read back by `case_view.case_details` under `journal`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlmodel import Session, col, select

from assistant.db.models import AuditEvent, Case, Creditor
from assistant.policy.schema import Policy
from assistant.services.audit import record
from assistant.services.officer_common import (
    OfficerActionError,
    case_by_ref,
    case_currency,
    case_policy,
)
from assistant.services.reply_effects import record_promise

CALL_OUTCOMES = ("reached", "voicemail", "no_answer", "wrong_number", "promise")
PROMISE_CHANNELS = ("phone", "email", "letter")
JOURNAL_ACTIONS = ("case.note", "case.call")


def log_call(session: Session, ref: str, actor: str, outcome: str, note: str = "") -> str:
    """Record a telephone call and its outcome on the case."""
    if outcome not in CALL_OUTCOMES:
        raise OfficerActionError(f"unknown outcome {outcome!r}: one of {', '.join(CALL_OUTCOMES)}")
    case = case_by_ref(session, ref)
    record(session, actor, "case.call", "case", case.ref, outcome=outcome, text=note.strip())
    hint = " (record it with `relance promises add`)" if outcome == "promise" else ""
    return f"call ({outcome}) logged on case {case.ref}{hint}"


def parse_amount(text: str) -> Decimal:
    """Return a positive amount from '1250', '1 250,50' or '1250.50' (pure)."""
    cleaned = text.replace("\u202f", "").replace("\xa0", "").replace(" ", "").replace("€", "")
    if "," in cleaned and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")
    try:
        amount = Decimal(cleaned)
    except InvalidOperation as exc:
        raise OfficerActionError(f"invalid amount {text!r}: use 1250.50") from exc
    if amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise OfficerActionError(f"invalid amount {text!r}: a positive amount, in cents at most")
    return amount


def add_promise(
    session: Session,
    ref: str,
    actor: str,
    policies: Mapping[str, Policy],
    *,
    amount: Decimal,
    due_on: date,
    via: str,
    on: date,
    note: str = "",
) -> dict[str, Any]:
    """Record a promise the debtor made by phone, email or letter, as a reply's promise is."""
    if via not in PROMISE_CHANNELS:
        raise OfficerActionError(f"unknown channel {via!r}: one of {', '.join(PROMISE_CHANNELS)}")
    if due_on < on:
        raise OfficerActionError(f"promise date {due_on.isoformat()} is in the past")
    case = case_by_ref(session, ref)
    if case.status == "closed":
        raise OfficerActionError(f"case {ref} is closed")
    policy = case_policy(session, case, policies)
    currency = case_currency(session, case)
    promise = record_promise(
        session, case, due_on, amount, currency, policy.promises.grace_days,
        source=via, on=on, actor=actor, note=note.strip(),
    )  # fmt: skip
    return {
        "id": promise.id,
        "case": case.ref,
        "creditor": _slug(session, case),
        "amount": amount,
        "currency": promise.currency,
        "due_on": due_on,
        "grace_until": due_on + timedelta(days=promise.grace_days),
        "source": via,
        "case_status": case.status,
    }


def journal(session: Session, ref: str) -> list[dict[str, Any]]:
    """Return the case's notes and calls, oldest first."""
    rows = session.exec(
        select(AuditEvent)
        .where(
            AuditEvent.entity == "case",
            AuditEvent.entity_id == ref,
            col(AuditEvent.action).in_(JOURNAL_ACTIONS),
        )
        .order_by(col(AuditEvent.at), col(AuditEvent.id))
    ).all()
    return [
        {
            "at": e.at,
            "kind": "call" if e.action == "case.call" else "note",
            "actor": e.actor,
            "outcome": e.payload.get("outcome"),
            "text": e.payload.get("text") or "",
        }
        for e in rows
    ]


def case_creditor(session: Session, ref: str) -> str | None:
    """Return the slug of the case's creditor (for the caller's locale)."""
    return _slug(session, case_by_ref(session, ref))


def _slug(session: Session, case: Case) -> str | None:
    creditor = session.get(Creditor, case.creditor_id)
    return creditor.slug if creditor else None
