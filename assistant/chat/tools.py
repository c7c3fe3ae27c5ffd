"""What the officers' chat (and later the web UI) may look at, as thin tools over service verbs.

Each tool takes a `Session`, the creditors the officer may see (`creditors`: None means all),
checks that scope, calls one service verb and returns JSON-ready dicts. The visibility filter
is enforced here, never by a prompt; the queries live in the services (`case_file`,
`case_search`, `case_view`, `portfolio_figures`, `officer_drafts`). Every tool reads, except
`create_draft`, which queues a *pending* draft through the same guardrails as the cycle. No
tool sends, approves, or changes an amount or a status.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from assistant.chat.common import AccessDenied, Scope, ToolError, jsonable
from assistant.chat.policy_view import explain_policy
from assistant.db.models import Case
from assistant.policy.schema import Policy
from assistant.services import portfolio_figures as figures
from assistant.services.case_file import find_case, load_case_file
from assistant.services.case_search import creditor_slugs, fold, search_cases
from assistant.services.case_view import case_details, handoff_facts
from assistant.services.officer_drafts import (
    DraftRefused,
    Wording,
    clean_instruction,
    queue_officer_draft,
)
from assistant.services.portfolio_figures import BUCKETS, bucket, week_of

if TYPE_CHECKING:
    from assistant.bootstrap import App
    from assistant.llm.port import ChatModelPort

__all__ = [
    "BUCKETS",
    "AccessDenied",
    "ToolError",
    "bucket",
    "case_summary",
    "create_draft",
    "explain_policy",
    "find_cases",
    "fold",
    "jsonable",
    "pending_drafts",
    "portfolio_figures",
    "promises_due",
    "visible_slugs",
    "week_of",
    "why_handoff",
]

MAX_TEXT = 1500


def visible_slugs(session: Session, creditors: Scope, creditor: str | None = None) -> list[str]:
    """Return the creditor slugs in scope; asking for one outside it is refused."""
    if creditor is not None and creditors is not None and creditor not in creditors:
        raise AccessDenied(f"creditor {creditor!r} is not among the creditors you may see")
    known = creditor_slugs(session)
    if creditor is not None:
        return [creditor] if creditor in known else []
    return [s for s in known if creditors is None or s in creditors]


def _visible_case(session: Session, ref: str, creditors: Scope) -> tuple[Case, str]:
    found = find_case(session, ref)
    shown = ref.strip().strip("[]").upper()
    if found is None:
        raise ToolError(f"no case {shown}")
    case, slug = found
    if creditors is not None and slug not in creditors:
        # Same words as an unknown case: do not reveal what another creditor holds.
        raise AccessDenied(f"no case {shown} among the creditors you may see")
    return case, slug


def find_cases(
    session: Session,
    query: str,
    status: str | None = None,
    *,
    creditors: Scope = None,
    creditor: str | None = None,
    limit: int = 20,
) -> dict[str, Any]:
    """Find cases by debtor name (accent- and typo-tolerant), case ref, account or invoice."""
    slugs = visible_slugs(session, creditors, creditor)
    return jsonable(search_cases(session, query, slugs, status=status, limit=limit))


def case_summary(
    session: Session, ref: str, on: date, *, creditors: Scope = None, messages: int = 5
) -> dict[str, Any]:
    """Return a case: debtor, invoices, history, drafts, promises, hand-offs, last replies."""
    case, _ = _visible_case(session, ref, creditors)
    data = case_details(session, case.ref, on)
    assert data is not None
    recent = data["messages"][-messages:] if messages else []
    for m in recent:
        text = m.get("reply_text")
        if isinstance(text, str) and len(text) > MAX_TEXT:
            m["reply_text"] = text[:MAX_TEXT] + " […]"
    data["messages"] = recent
    return jsonable(data)


def pending_drafts(
    session: Session, *, creditors: Scope = None, creditor: str | None = None, limit: int = 50
) -> dict[str, Any]:
    """List the drafts waiting for approval, oldest first."""
    drafts = figures.pending_drafts(session, visible_slugs(session, creditors, creditor))
    return jsonable({"count": len(drafts), "drafts": drafts[:limit]})


def portfolio_figures(
    session: Session, on: date, *, creditors: Scope = None, creditor: str | None = None
) -> dict[str, Any]:
    """Return per-creditor figures: aged balance, promises due this week, hand-offs, DSO."""
    start, end = week_of(on)
    out = [
        figures.creditor_figures(session, slug, on)
        for slug in visible_slugs(session, creditors, creditor)
    ]
    return jsonable({"date": on, "week": {"start": start, "end": end}, "creditors": out})


def promises_due(
    session: Session, start: date, end: date, *, creditors: Scope = None
) -> dict[str, Any]:
    """List pending promises to pay falling due between `start` and `end` (inclusive)."""
    if end < start:
        raise ToolError(f"the period ends ({end}) before it starts ({start})")
    promises = figures.promises_due(session, start, end, visible_slugs(session, creditors))
    return jsonable({"start": start, "end": end, "count": len(promises), "promises": promises})


def why_handoff(
    session: Session,
    ref: str,
    on: date,
    policies: Mapping[str, Policy],
    *,
    creditors: Scope = None,
) -> dict[str, Any]:
    """Explain why a case is (or would be) with a human: hand-off records and policy rules."""
    case, slug = _visible_case(session, ref, creditors)
    facts = handoff_facts(session, case)
    handoffs = facts["handoffs"]
    out: dict[str, Any] = {
        "case": case.ref,
        "creditor": slug,
        "status": case.status,
        "in_handoff": case.status == "handoff" or any(h["status"] == "open" for h in handoffs),
        **facts,
    }
    policy = policies.get(slug)
    if policy is not None:
        rules, balance, broken = policy.handoff, facts["balance"], facts["broken_promises"]
        out["policy_rules"] = {
            "amount_threshold": rules.amount_threshold,
            "balance_at_or_over_threshold": rules.amount_threshold is not None
            and balance >= rules.amount_threshold,
            "broken_promises_limit": rules.broken_promises,
            "broken_promises_reached": broken >= rules.broken_promises,
            "ladder_steps": len(policy.ladder.steps),
            "last_step_sent": case.step_name,
            "ladder_complete": case.step_index >= len(policy.ladder.steps) - 1,
            "days_after_last_step": rules.days_after_last_step,
            "last_contact": case.last_contact_on,
        }
    if not out["in_handoff"]:
        out["note"] = f"case {case.ref} is not in hand-off (status {case.status})"
    return jsonable(out)


def create_draft(
    session: Session,
    app: App,
    ref: str,
    instruction: str,
    *,
    on: date,
    actor: str,
    creditors: Scope = None,
    tone: str | None = None,
    llm_client: ChatModelPort | None = None,
) -> dict[str, Any]:
    """Queue a pending draft for a case following an officer's instruction (never approved).

    The ledger gives every fact; the instruction only shapes the wording. With a model port
    (given, or the app's endpoint) the LLM drafter writes the prose (grounding check, one
    retry, template fallback); otherwise the step's template is used. Both pass the cycle's
    validator.
    """
    try:
        instruction = clean_instruction(instruction)
        case, slug = _visible_case(session, ref, creditors)
        policy = app.policies.get(slug)
        if policy is None:
            raise ToolError(f"no policy for creditor {slug!r}: cannot draft")
        deps = app.deps
        wording = Wording(deps.renderer, deps.prompts, llm_client or deps.llm)
        facts = load_case_file(session, case, policy, on)
        draft = queue_officer_draft(
            session, case, facts, policy, instruction,
            on=on, actor=actor, wording=wording, tone=tone,
        )  # fmt: skip
    except DraftRefused as exc:
        raise ToolError(str(exc)) from None
    return jsonable(
        {
            "draft_id": draft.id,
            "case": case.ref,
            "step": draft.step,
            "status": draft.status,
            "engine": draft.engine,
            "engine_note": draft.engine_note,
            "subject": draft.subject,
            "findings": draft.findings,
            "blocking": sum(1 for f in draft.findings if f.get("blocking")),
            "four_eyes": draft.requires_four_eyes,
            "next": "an officer reviews it: `relance drafts show ID`, then approves or rejects it",
        }
    )
