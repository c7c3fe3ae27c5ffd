"""File one parsed inbound message: a bounce, a copy, a reply applied to its case, or triage.

Only a message the trust rules accept (`inbound_trust.decide_trust`) reaches the reply
handler; anything else is kept as `unmatched` with the suggested case and the reason. A
bounce invalidates a contact only as `decide_bounce` allows. Never commits.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from assistant.db.mail_models import InboundMessage
from assistant.db.models import Case
from assistant.mail.window import aware
from assistant.mailparse.dsn import read_delivery_report
from assistant.mailparse.mime import ParsedMessage
from assistant.mailparse.reply_text import extract_reply
from assistant.policy.schema import Policy
from assistant.services.audit import record
from assistant.services.inbound_match import Lookups, gather_evidence, sent_letters
from assistant.services.inbound_trust import CaseRef, decide_bounce, decide_trust
from assistant.services.outbox_state import invalidate_address

ReplyHandler = Callable[[Session, InboundMessage, Case], Any]


@dataclass(frozen=True)
class FilingContext:
    """What filing needs besides the message: who acts, the policies, our own domains."""

    actor: str
    policies: Mapping[str, Policy]
    own_domains: set[str]
    handler: ReplyHandler | None


@dataclass
class Filed:
    """What filing one message did (the fetch report adds these up)."""

    status: str
    method: str | None = None
    analysed: bool | None = None  # None: not handed to the analyser
    invalidated: list[str] = field(default_factory=list)
    error: str | None = None


def fill_headers(inbound: InboundMessage, parsed: ParsedMessage) -> None:
    """Copy what was parsed onto the stored message."""
    inbound.message_id = parsed.message_id or inbound.message_id
    inbound.in_reply_to = parsed.in_reply_to
    inbound.references = " ".join(parsed.references) or None
    inbound.subject = parsed.subject[:1000]
    inbound.from_addr = parsed.from_addr.lower() or None
    inbound.to_addrs = ", ".join(parsed.recipient_addrs) or None
    inbound.sent_date = aware(parsed.date) if parsed.date else None
    inbound.text = parsed.text
    inbound.has_html = parsed.html is not None
    inbound.attachments = [
        {"filename": a.filename, "content_type": a.content_type, "size": a.size}
        for a in parsed.attachments
    ]
    inbound.is_auto_reply = parsed.is_auto_reply
    inbound.is_bounce = parsed.is_bounce
    inbound.bounced_recipients = list(parsed.bounced_recipients)
    inbound.reply_text = extract_reply(parsed.text)


def to_triage(inbound: InboundMessage, case: CaseRef | None, reason: str) -> None:
    """Keep the message for an officer: suggested case and why it was not applied."""
    inbound.status = "unmatched"
    inbound.case_id, inbound.match_method = None, None
    inbound.suggested_case_id = case.id if case else None
    inbound.triage_reason = reason[:1000]


def analyse(session: Session, handler: ReplyHandler, inbound: InboundMessage, case: Case) -> Any:
    """Hand one reply to the analyser; a failure leaves it `unanalysed` and raises nothing.

    Returns the handler's outcome, or the error text (str) when it failed.
    """
    try:
        with session.begin_nested():
            outcome = handler(session, inbound, case)
    except Exception as exc:  # noqa: BLE001 - the message must survive an analyser bug
        session.refresh(inbound)
        inbound.status = "unanalysed"
        inbound.error = f"analysis failed: {type(exc).__name__}: {exc}"[:1000]
        return inbound.error
    if inbound.status == "unanalysed":
        inbound.status = "analysed"
    return outcome


def _file_bounce(
    session: Session, ctx: FilingContext, inbound: InboundMessage, parsed: ParsedMessage
) -> Filed:
    report = read_delivery_report(inbound.raw)
    thread_ids = [i for i in [parsed.in_reply_to, *parsed.references] if i]
    original = list(report.original_ids) if report else []
    verdict = decide_bounce(
        report.failed if report else None,
        original,
        sent_letters(session, original + thread_ids),
    )
    if not verdict.invalidate:
        to_triage(inbound, verdict.case, verdict.reason or "bounce not counted")
        return Filed("unmatched")
    filed = Filed("bounce", "bounce")
    status = (report.status if report else None) or parsed.bounce_status or ""
    reason = f"bounce {status}".strip() + f" (message {inbound.id})"
    for address, case in verdict.invalidate:
        for contact in invalidate_address(
            session, address, reason, ctx.actor, debtor_id=case.debtor_id
        ):
            filed.invalidated.append(contact.email)
    inbound.status = "bounce"
    inbound.case_id = verdict.case.id if verdict.case else None
    inbound.match_method = "bounce"
    record(
        session, ctx.actor, "inbound.bounce", "inbound", inbound.id,
        recipients=[a for a, _ in verdict.invalidate], status=status or None,
    )  # fmt: skip
    return filed


def _earlier_same_id(session: Session, inbound: InboundMessage) -> Any:
    """Return (id, from_addr, text) of the first stored message with the same Message-ID."""
    if not inbound.message_id:
        return None
    return session.exec(
        select(InboundMessage.id, InboundMessage.from_addr, InboundMessage.text)
        .where(InboundMessage.message_id == inbound.message_id, col(InboundMessage.id) < inbound.id)
        .order_by(col(InboundMessage.id))
        .limit(1)
    ).first()


def file_message(
    session: Session,
    ctx: FilingContext,
    inbound: InboundMessage,
    parsed: ParsedMessage,
    lookups: Lookups | None = None,
) -> Filed:
    """File one message whose raw bytes are stored; return what was done.

    `lookups` answers the trust look-ups (default: one query each, see `gather_evidence`).
    """
    fill_headers(inbound, parsed)
    if parsed.is_bounce:
        filed = _file_bounce(session, ctx, inbound, parsed)
    else:
        filed = _file_reply(session, ctx, inbound, parsed, lookups)
    session.add(inbound)
    record(
        session, ctx.actor, "inbound.stored", "inbound", inbound.id, status=inbound.status,
        case=ref_of(session, inbound.case_id), match=inbound.match_method,
        message_id=inbound.message_id, suggested=ref_of(session, inbound.suggested_case_id),
        reason=inbound.triage_reason,
    )  # fmt: skip
    return filed


def ref_of(session: Session, case_id: int | None) -> str | None:
    """Return the ref of case `case_id`, or None."""
    case = session.get(Case, case_id) if case_id else None
    return case.ref if case else None


def _file_reply(
    session: Session,
    ctx: FilingContext,
    inbound: InboundMessage,
    parsed: ParsedMessage,
    lookups: Lookups | None,
) -> Filed:
    # Reads only other rows: this message's own pending changes need no flush before them
    # (it is written once, when its savepoint is released).
    with session.no_autoflush:
        evidence = gather_evidence(session, parsed, ctx.policies, ctx.own_domains, lookups)
        earlier = _earlier_same_id(session, inbound)
    verdict = decide_trust(evidence)
    if earlier is not None:
        if (earlier.from_addr, earlier.text) == (inbound.from_addr, inbound.text):
            inbound.status = "duplicate"
            inbound.error = f"copy of message {earlier.id} (same Message-ID and text)"
            return Filed("duplicate")
        why = (
            f"Message-ID <{inbound.message_id}> is also that of message {earlier.id}, with "
            "other content: not applied automatically"
        )
        to_triage(inbound, verdict.case, why)
        return Filed("unmatched")
    if not verdict.apply or verdict.case is None:
        if parsed.is_auto_reply:  # an absence notice nobody we know sent: noise, kept
            inbound.status = "auto_reply"
            inbound.suggested_case_id = verdict.case.id if verdict.case else None
            inbound.triage_reason = verdict.reason
            return Filed("auto_reply")
        to_triage(inbound, verdict.case, verdict.reason or "not applied")
        return Filed("unmatched")
    case = session.get(Case, verdict.case.id)
    assert case is not None
    inbound.case_id, inbound.match_method = case.id, verdict.method
    inbound.status = "auto_reply" if parsed.is_auto_reply else "unanalysed"
    filed = Filed(inbound.status, verdict.method)
    if ctx.handler is not None:
        session.add(inbound)
        session.flush()
        outcome = analyse(session, ctx.handler, inbound, case)
        filed.analysed = not isinstance(outcome, str)
        filed.error = outcome if isinstance(outcome, str) else None
    return filed
