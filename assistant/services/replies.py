"""Handle a debtor's reply matched to its case: analyse it, store the reading, apply it.

`handle_reply` is what the inbox calls (inside its transaction) for every matched reply; the
effects themselves (docs/domain.md §4–5) live in `reply_effects`, the answers in `responses`. The
reply's text is data: only its classification drives what happens. Never sends, never commits.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from assistant.db.models import Case, Creditor
from assistant.policy.schema import Policy
from assistant.replies import ReplyAnalysis, analyse_reply
from assistant.replies.engine import ReplyEngine
from assistant.replies.plans import Instalment, plan_within_limits, propose_plan
from assistant.services.audit import record
from assistant.services.reply_effects import (
    HANDOFF_INTENTS,
    ReplyOutcome,
    ResponseDrafter,
    apply_analysis,
    case_context,
)

if TYPE_CHECKING:
    from assistant.bootstrap import App
    from assistant.db.mail_models import InboundMessage

__all__ = [
    "HANDOFF_INTENTS",
    "Instalment",
    "ReplyOutcome",
    "ResponseDrafter",
    "apply_analysis",
    "handle_reply",
    "plan_within_limits",
    "propose_plan",
]


def _policy_of(session: Session, case: Case, policies: dict[str, Policy]) -> Policy:
    creditor = session.get(Creditor, case.creditor_id)
    if creditor is None or creditor.slug not in policies:
        slug = creditor.slug if creditor else case.creditor_id
        raise LookupError(f"case {case.ref}: no policy for creditor {slug!r}")
    return policies[creditor.slug]


def received_in_sender_zone(received_at: datetime, policy: Policy) -> datetime:
    """Return when a reply arrived, in the policy's time zone (the debtors' usual one)."""
    aware = received_at if received_at.tzinfo else received_at.replace(tzinfo=ZoneInfo("UTC"))
    return aware.astimezone(ZoneInfo(policy.sending.timezone))


def reply_engine(app: App, session: Session, policy: Policy) -> ReplyEngine | None:
    """Return the LLM reply engine when an endpoint is configured, else None (rules).

    The model calls are logged in `session`, the inbox's own transaction: no second
    connection waits on SQLite's writer lock.
    """
    if not app.settings.llm_configured:
        return None
    from assistant.llm import LLMNotConfigured
    from assistant.replies.llm_engine import build_reply_engine
    from assistant.services.llm_calls import SessionCallLog

    try:
        return build_reply_engine(app, creditor=policy.slug, log=SessionCallLog(session))
    except LLMNotConfigured:
        return None


def analysis_record(analysis: ReplyAnalysis) -> dict[str, Any]:
    """Return the JSON stored on the inbound message: the contract shape plus details."""
    probs = analysis.model_probabilities
    return {
        **analysis.to_contract_dict(),
        "engine": analysis.engine,
        "intents_found": [i.value for i in analysis.intents_found],
        "disputed_invoices": list(analysis.disputed_invoices),
        "instalments": [
            {
                "amount": None if i.amount is None else float(i.amount),
                "currency": i.currency,
                "date": i.date.isoformat() if i.date else None,
            }
            for i in analysis.instalments
        ],
        "return_date": analysis.return_date.isoformat() if analysis.return_date else None,
        "new_contact_email": analysis.new_contact_email,
        "model_probabilities": dict(probs) if probs else None,
    }


def read_reply(
    session: Session, inbound: InboundMessage, case: Case, *, app: App
) -> tuple[ReplyAnalysis, datetime, Policy]:
    """Analyse a reply matched to `case`; return the reading, when it arrived, the policy."""
    policy = _policy_of(session, case, app.policies)
    received = received_in_sender_zone(inbound.received_at, policy)
    analysis = analyse_reply(
        inbound.text or "",
        received,
        case_context(session, case),
        reply_engine(app, session, policy),
        auto_submitted=inbound.is_auto_reply,
    )
    return analysis, received, policy


def apply_reading(
    session: Session,
    inbound: InboundMessage,
    case: Case,
    analysis: ReplyAnalysis,
    received: datetime,
    policy: Policy,
    *,
    app: App,
) -> ReplyOutcome:
    """Apply a reading's effects to the case (docs/domain.md §4–5) and audit it."""
    from assistant.letters.render import renderer_for
    from assistant.services.responses import TemplateResponseDrafter

    drafter = TemplateResponseDrafter(renderer_for(app.templates_dir), actor=app.actor)
    outcome = apply_analysis(
        session,
        case,
        analysis,
        policy=policy,
        received_on=received.date(),
        actor=app.actor,
        drafter=drafter,
    )
    record(
        session,
        app.actor,
        "inbound.analysed",
        "inbound",
        inbound.id,
        case=case.ref,
        intent=outcome.intent,
        actions=outcome.actions,
    )
    return outcome


def handle_reply(
    session: Session, inbound: InboundMessage, case: Case, *, app: App
) -> ReplyOutcome:
    """Analyse a reply matched to `case`, store the reading, and apply it when Relance is sure.

    A reading that is not `automatic` goes to the officer's review queue and changes nothing
    yet, except that a possibly sensitive one is handed off at once (dunning stops).
    """
    from assistant.services.reply_review import possibly_sensitive, queue_for_review

    analysis, received, policy = read_reply(session, inbound, case, app=app)
    stored = analysis_record(analysis)
    # The inbox's extractor keeps the debtor's sign-off; the analyser's reading (in
    # `analysis["reply_text"]`) drops it. Officers see the former.
    inbound.reply_text = inbound.reply_text or analysis.reply_text or None
    automatic = analysis.automatic or inbound.is_auto_reply
    if inbound.status != "auto_reply":
        inbound.status = "analysed"
    outcome = ReplyOutcome(intent=analysis.intent.value, needs_human=analysis.needs_human)
    handed_off = False
    if automatic or possibly_sensitive(analysis):
        outcome = apply_reading(session, inbound, case, analysis, received, policy, app=app)
        handed_off = not automatic
    if not automatic:
        stored["review"] = "pending"
        queue_for_review(session, inbound, case, analysis, handed_off=handed_off, actor=app.actor)
        outcome.actions.append("queued for officer review")
    inbound.analysis = stored
    session.add(inbound)
    return outcome
