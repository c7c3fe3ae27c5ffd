"""What the officers' chat (and later the web UI) may look at, as plain functions.

Each tool takes a `Session`, the creditors the officer may see (`creditors`: None means all)
and returns JSON-ready dicts. The visibility filter is enforced here, never by a prompt.
Every tool reads, except `create_draft`, which queues a *pending* draft through the same
guardrails as the cycle. No tool sends, approves, or changes an amount or a status.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from assistant.db.models import (
    Case,
    Contact,
    Creditor,
    Debtor,
    Draft,
    Handoff,
    Invoice,
    Promise,
)
from assistant.domain import (
    CaseState,
    ClientHistory,
    DebtorFacts,
    Finding,
    InvoiceLine,
    from_cents,
)
from assistant.drafting.llm_drafter import DraftRequest, ThreadMessage, build_drafter
from assistant.importing.history import load_histories
from assistant.letters.rates import RateTable
from assistant.letters.render import Letter, LetterRenderer
from assistant.letters.validator import validate_letter
from assistant.planner import actionable_invoices, open_credit_notes, plan_case
from assistant.policy.schema import LadderStep, Policy
from assistant.services.case_view import case_details, list_cases
from assistant.services.cycle import store_draft
from assistant.services.portfolio import (
    LIVE_DRAFT_STATUSES,
    Portfolio,
    debtor_facts,
    invoice_line,
)

if TYPE_CHECKING:
    from assistant.bootstrap import App
    from assistant.llm import LLMClient

Scope = Collection[str] | None
BUCKETS = ("0-30", "31-60", "61-90", ">90")
MAX_TEXT = 1500


class ToolError(Exception):
    """The tool cannot answer as asked (unknown case, bad argument…)."""


class AccessDenied(ToolError):
    """The officer may not see what the tool was asked about."""


def jsonable(value: Any) -> Any:
    """Return `value` with dates as ISO strings and Decimals as floats, recursively."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return None
    return value


def fold(text: str) -> str:
    """Return `text` lower-cased, without accents, punctuation collapsed to single spaces."""
    plain = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in plain if not unicodedata.combining(c)).casefold()
    return " ".join(re.sub(r"[^0-9a-z]+", " ", plain).split())


def visible_slugs(session: Session, creditors: Scope, creditor: str | None = None) -> list[str]:
    """Return the creditor slugs in scope; asking for one outside it is refused."""
    if creditor is not None and creditors is not None and creditor not in creditors:
        raise AccessDenied(f"creditor {creditor!r} is not among the creditors you may see")
    known = list(session.exec(select(Creditor.slug).order_by(col(Creditor.slug))))
    if creditor is not None:
        return [creditor] if creditor in known else []
    return [s for s in known if creditors is None or s in creditors]


def _visible_case(session: Session, ref: str, creditors: Scope) -> tuple[Case, str]:
    ref = ref.strip().strip("[]").upper()
    row = session.exec(
        select(Case, Creditor.slug)
        .join(Creditor, col(Creditor.id) == Case.creditor_id)
        .where(Case.ref == ref)
    ).first()
    if row is None:
        raise ToolError(f"no case {ref}")
    case, slug = row
    if creditors is not None and slug not in creditors:
        # Same words as an unknown case: do not reveal what another creditor holds.
        raise AccessDenied(f"no case {ref} among the creditors you may see")
    return case, slug


def _score(
    query: str, row: dict[str, Any], invoice_hits: set[tuple[str, str]]
) -> tuple[float, str]:
    name = fold(row["debtor"])
    if query.upper().replace(" ", "-") == row["ref"] or fold(row["ref"]) == query:
        return 100, "case ref"
    if fold(row["debtor_ref"]) == query:
        return 90, "account ref"
    if (row["creditor"], row["debtor_ref"]) in invoice_hits:
        return 80, "invoice number"
    if query in name:
        return 70, "name"
    words, size = name.split(), max(1, len(query.split()))
    windows = [" ".join(words[i : i + size]) for i in range(max(1, len(words) - size + 1))]
    ratio = max(difflib.SequenceMatcher(None, query, w).ratio() for w in windows)
    return (50 + ratio * 10, "similar name") if ratio >= 0.75 else (0, "")


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
    rows: list[dict[str, Any]] = []
    for slug in slugs:
        rows.extend(list_cases(session, status=status, creditor=slug))
    q = fold(query)
    if q:
        escaped = (
            query.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        )
        hits = {
            (slug, ref)
            for slug, ref in session.exec(
                select(Creditor.slug, Debtor.account_ref)
                .join(Invoice, col(Invoice.creditor_id) == Creditor.id)
                .join(Debtor, col(Debtor.id) == Invoice.debtor_id)
                .where(
                    col(Creditor.slug).in_(slugs),
                    func.lower(Invoice.number).like(f"%{escaped}%", escape="\\"),
                )
            )
        }
        scored = [(*_score(q, r, hits), r) for r in rows]
        rows = [
            {**r, "match": how}
            for score, how, r in sorted(scored, key=lambda p: -p[0])
            if score > 0
        ]
    return jsonable(
        {"query": query, "count": len(rows), "cases": rows[:limit], "truncated": len(rows) > limit}
    )


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
    slugs = visible_slugs(session, creditors, creditor)
    rows = session.exec(
        select(Draft, Case.ref, Creditor.slug, Debtor.legal_name)
        .join(Case, col(Case.id) == Draft.case_id)
        .join(Creditor, col(Creditor.id) == Case.creditor_id)
        .join(Debtor, col(Debtor.id) == Case.debtor_id)
        .where(Draft.status == "pending", col(Creditor.slug).in_(slugs))
        .order_by(col(Draft.id))
    ).all()
    drafts = [
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
    return jsonable({"count": len(drafts), "drafts": drafts[:limit]})


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


def _money(session: Session, creditor_id: int, on: date) -> list[dict[str, Any]]:
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
    out = []
    for currency, s in sorted(per.items()):
        total = sum(s["cents"].values())
        overdue = total - s["cents"]["not_due"]
        out.append(
            {
                "currency": currency,
                "outstanding": from_cents(total),
                "not_due": {
                    "count": s["counts"]["not_due"],
                    "amount": from_cents(s["cents"]["not_due"]),
                },
                "overdue": {
                    b: {"count": s["counts"][b], "amount": from_cents(s["cents"][b])}
                    for b in BUCKETS
                },
                "overdue_total": from_cents(overdue),
                "average_days_late_weighted": round(s["late_weight"] / overdue, 1)
                if overdue
                else None,
                "invoiced_last_90_days": from_cents(s["invoiced_90"]),
                # DSO by the count-back-free shortcut: receivables ÷ 90 days' sales × 90.
                "dso_days_approx": round(total / s["invoiced_90"] * 90)
                if s["invoiced_90"]
                else None,
            }
        )
    return out


def portfolio_figures(
    session: Session, on: date, *, creditors: Scope = None, creditor: str | None = None
) -> dict[str, Any]:
    """Return per-creditor figures: aged balance, promises due this week, hand-offs, DSO."""
    start, end = week_of(on)
    out = []
    for slug in visible_slugs(session, creditors, creditor):
        row = session.exec(select(Creditor).where(Creditor.slug == slug)).one()
        cid = row.id or 0
        statuses = dict(
            session.exec(
                select(Case.status, func.count())
                .where(Case.creditor_id == cid)
                .group_by(Case.status)
            ).all()
        )

        def count(query: Any) -> int:
            return int(session.exec(query).one())

        case_join = select(func.count()).join(Case, col(Case.id) == Promise.case_id)
        promises = count(
            case_join.select_from(Promise).where(
                Case.creditor_id == cid,
                Promise.status == "pending",
                col(Promise.due_on) >= start,
                col(Promise.due_on) <= end,
            )
        )
        handoffs = count(
            select(func.count())
            .select_from(Handoff)
            .join(Case, col(Case.id) == Handoff.case_id)
            .where(Case.creditor_id == cid, Handoff.status == "open")
        )
        drafts = count(
            select(func.count())
            .select_from(Draft)
            .join(Case, col(Case.id) == Draft.case_id)
            .where(Case.creditor_id == cid, Draft.status == "pending")
        )
        out.append(
            {
                "creditor": slug,
                "cases_by_status": statuses,
                "open_handoffs": handoffs,
                "pending_drafts": drafts,
                "promises_due_this_week": promises,
                "money": _money(session, cid, on),
            }
        )
    return jsonable({"date": on, "week": {"start": start, "end": end}, "creditors": out})


def promises_due(
    session: Session, start: date, end: date, *, creditors: Scope = None
) -> dict[str, Any]:
    """List pending promises to pay falling due between `start` and `end` (inclusive)."""
    if end < start:
        raise ToolError(f"the period ends ({end}) before it starts ({start})")
    slugs = visible_slugs(session, creditors)
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
            col(Creditor.slug).in_(slugs),
        )
        .order_by(col(Promise.due_on), col(Promise.id))
    ).all()
    promises = [
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
    return jsonable({"start": start, "end": end, "count": len(promises), "promises": promises})


def _step_dict(policy: Policy, index: int) -> dict[str, Any]:
    step = policy.ladder.steps[index]
    return {"position": index + 1, **step.model_dump(mode="json")}


def explain_policy(
    policies: Mapping[str, Policy], slug: str, step: str | None = None, *, creditors: Scope = None
) -> dict[str, Any]:
    """Return what a creditor's policy says: ladder, terms, hand-off and promise rules."""
    if creditors is not None and slug not in creditors:
        raise AccessDenied(f"creditor {slug!r} is not among the creditors you may see")
    policy = policies.get(slug)
    if policy is None:
        shown = sorted(s for s in policies if creditors is None or s in creditors)
        raise ToolError(f"no policy {slug!r}; known: {', '.join(shown) or 'none'}")
    steps = policy.ladder.steps
    if step is not None:
        try:
            index = policy.ladder.index(step)
        except KeyError:
            raise ToolError(
                f"policy {slug!r} has no step {step!r}; steps: {', '.join(s.name for s in steps)}"
            ) from None
        return jsonable(
            {
                "creditor": slug,
                "step": _step_dict(policy, index),
                "previous": steps[index - 1].name if index > 0 else None,
                "next": steps[index + 1].name if index + 1 < len(steps) else "hand-off",
                "forbidden_words": policy.voice.forbidden_words,
            }
        )
    dump = policy.model_dump(mode="json")
    return jsonable(
        {
            "creditor": slug,
            "name": policy.creditor.name,
            "mode": policy.mode,
            "language": policy.language,
            "jurisdiction": policy.jurisdiction,
            "engine": policy.engine,
            "auto_approve": policy.auto_approve,
            "ladder": [_step_dict(policy, i) for i in range(len(steps))],
            "old_debts": dump["ladder"]["old_debts"],
            "voice": {k: dump["voice"][k] for k in ("default", "guidelines", "forbidden_words")},
            "terms": dump["terms"],
            "minimum_amount": dump["minimum_amount"],
            "contact_cap": dump["contact_cap"],
            "handoff": dump["handoff"],
            "promises": dump["promises"],
            "payment_plans": dump["payment_plans"],
            "history_tone": dump["history_tone"],
            "overrides": len(policy.overrides),
        }
    )


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
    handoffs = session.exec(
        select(Handoff).where(Handoff.case_id == case.id).order_by(col(Handoff.id))
    ).all()
    balance = int(
        session.exec(
            select(func.coalesce(func.sum(Invoice.outstanding_cents), 0)).where(
                Invoice.debtor_id == case.debtor_id, Invoice.status == "open"
            )
        ).one()
    )
    broken = int(
        session.exec(
            select(func.count()).where(Promise.case_id == case.id, Promise.status == "broken")
        ).one()
    )
    disputed = list(
        session.exec(
            select(Invoice.number).where(
                Invoice.debtor_id == case.debtor_id, Invoice.status == "disputed"
            )
        )
    )
    out: dict[str, Any] = {
        "case": case.ref,
        "creditor": slug,
        "status": case.status,
        "in_handoff": case.status == "handoff" or any(h.status == "open" for h in handoffs),
        "handoffs": [
            {
                "id": h.id,
                "reason": h.reason,
                "summary": h.summary,
                "evidence": h.evidence,
                "status": h.status,
                "created_at": h.created_at,
                "resolved_by": h.resolved_by,
                "resolution": h.resolution,
            }
            for h in handoffs
        ],
        "balance": from_cents(balance),
        "broken_promises": broken,
        "disputed_invoices": disputed,
    }
    policy = policies.get(slug)
    if policy is not None:
        rules = policy.handoff
        out["policy_rules"] = {
            "amount_threshold": rules.amount_threshold,
            "balance_at_or_over_threshold": rules.amount_threshold is not None
            and from_cents(balance) >= rules.amount_threshold,
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


TONE_RANK = {"courteous": 0, "neutral": 1, "firm": 2, "formal": 3}
MAX_INSTRUCTION = 500


@dataclass(frozen=True)
class CaseInputs:
    """What the renderer, the validator and a drafter need about one case."""

    debtor: DebtorFacts
    state: CaseState
    lines: list[InvoiceLine]
    history: ClientHistory
    live_drafts: list[int]


def case_inputs(session: Session, case: Case, policy: Policy, on: date) -> CaseInputs:
    """Load one case's ledger facts the way the cycle's portfolio does, for one debtor."""
    debtor = session.get(Debtor, case.debtor_id)
    creditor = session.get(Creditor, case.creditor_id)
    assert debtor is not None and creditor is not None
    pf = Portfolio(creditor=creditor)
    emails = list(
        session.exec(
            select(Contact.email)
            .where(Contact.debtor_id == debtor.id, Contact.valid == True)  # noqa: E712
            .order_by(col(Contact.id))
        )
    )
    invoices = session.exec(
        select(Invoice).where(
            Invoice.debtor_id == debtor.id, col(Invoice.status).not_in(["paid", "written_off"])
        )
    ).all()
    cid = case.id or 0
    live = []
    for draft_id, status, sent_at in session.exec(
        select(Draft.id, Draft.status, Draft.sent_at).where(Draft.case_id == cid)
    ):
        if status in LIVE_DRAFT_STATUSES:
            live.append(draft_id or 0)
        elif status == "sent" and sent_at is not None and sent_at.date() >= on - timedelta(90):
            pf.contact_dates[cid].append(sent_at.date())
    if session.exec(
        select(Handoff.id).where(Handoff.case_id == cid, Handoff.status == "open")
    ).first():
        pf.open_handoffs.add(cid)
    for p in session.exec(
        select(Promise).where(
            Promise.case_id == cid, col(Promise.status).in_(["pending", "broken"])
        )
    ):
        if p.status == "pending":
            current = pf.pending_promise_until.get(cid)
            pf.pending_promise_until[cid] = max(current, p.due_on) if current else p.due_on
        else:
            pf.broken_promises[cid] += 1
    history = load_histories(session, creditor.id or 0, on, debtor_ids=[debtor.id or 0])
    return CaseInputs(
        debtor=debtor_facts(debtor, emails),
        state=pf.case_state(case, policy.promises.grace_days),
        lines=[invoice_line(i) for i in invoices],
        history=history.get(debtor.id or 0, ClientHistory()),
        live_drafts=live,
    )


def choose_step(
    policy: Policy, inputs: CaseInputs, on: date
) -> tuple[LadderStep, tuple[InvoiceLine, ...], str | None]:
    """Return the step an officer's draft is written at, its invoices and the planned tone."""
    plan = plan_case(policy, inputs.debtor, inputs.state, inputs.lines, inputs.history, on)
    invoices = plan.invoices or tuple(actionable_invoices(inputs.lines, on)) + tuple(
        open_credit_notes(inputs.lines)
    )
    if not any(i.outstanding > 0 for i in invoices):
        raise ToolError(f"case {inputs.state.ref} has no overdue invoice: nothing to write about")
    if plan.step is not None:
        return plan.step, invoices, plan.tone
    steps = policy.ladder.steps
    index = min(max(inputs.state.step_index, 0), len(steps) - 1)
    while index < len(steps) - 1 and steps[index].pre_due:
        index += 1
    return steps[index], invoices, None


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
    llm_client: LLMClient | None = None,
) -> dict[str, Any]:
    """Queue a pending draft for a case following an officer's instruction (never approved).

    The ledger gives every fact; the instruction only shapes the wording. With an endpoint
    configured the LLM drafter writes the prose (grounding check, one retry, template
    fallback); otherwise the step's template is used. Both pass the cycle's validator.
    """
    instruction = " ".join(instruction.split())[:MAX_INSTRUCTION]
    if not instruction:
        raise ToolError("say what the draft should do (an instruction is required)")
    case, slug = _visible_case(session, ref, creditors)
    policy = app.policies.get(slug)
    if policy is None:
        raise ToolError(f"no policy for creditor {slug!r}: cannot draft")
    if case.status == "closed":
        raise ToolError(f"case {case.ref} is closed: nothing is owed")
    inputs = case_inputs(session, case, policy, on)
    if inputs.live_drafts:
        raise ToolError(
            f"case {case.ref} already has draft(s) {inputs.live_drafts} in the approval queue; "
            "an officer must reject them first (`relance drafts reject ID --reason …`)"
        )
    step, invoices, planned_tone = choose_step(policy, inputs, on)
    if tone is not None:
        if tone not in TONE_RANK:
            raise ToolError(f"unknown tone {tone!r}; use one of {', '.join(TONE_RANK)}")
        if TONE_RANK[tone] > TONE_RANK[step.tone]:
            raise ToolError(
                f"tone {tone!r} is firmer than step {step.name}'s {step.tone!r}: the chat may "
                "soften a letter, never escalate it"
            )
    request = DraftRequest(
        policy=policy,
        step=step,
        debtor=inputs.debtor,
        case=inputs.state,
        invoices=invoices,
        history=inputs.history,
        on=on,
        broken_promise=inputs.state.broken_promise_pending,
        tone=tone or planned_tone,
        thread=case_thread(session, case.id or 0),
        instruction=instruction,
        case_id=case.id,
    )
    letter, findings, engine, engine_note = _draft(app, request, llm_client)
    if not inputs.debtor.emails:
        findings.append(Finding("no_contact", "The debtor has no valid email address."))
    if inputs.state.open_handoff or case.status == "handoff":
        findings.append(
            Finding("case_in_handoff", "The case is with a human (hand-off open).", blocking=False)
        )
    note = f"asked in chat by {actor}: {instruction}"
    draft = store_draft(
        session,
        case,
        letter,
        findings,
        policy=policy,
        actor=actor,
        engine=engine,
        engine_note=f"{note} — {engine_note}" if engine_note else note,
    )
    if draft.status != "pending":  # store_draft never approves; the chat must not either
        raise RuntimeError(f"draft {draft.id} is {draft.status}, expected pending")
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


def _draft(
    app: App, request: DraftRequest, llm_client: LLMClient | None
) -> tuple[Letter, list[Finding], str, str | None]:
    """Write the letter with the LLM drafter when an endpoint is configured, else the template."""
    if llm_client is not None or app.settings.llm_configured:
        result = build_drafter(app, client=llm_client).draft(request)
        return result.letter, list(result.findings), result.engine, result.engine_note
    renderer = LetterRenderer(app.templates_dir, RateTable.packaged())
    letter = renderer.render(
        policy=request.policy,
        step=request.step,
        debtor=request.debtor,
        case=request.case,
        invoices=request.invoices,
        history=request.history,
        on=request.on,
        broken_promise=request.broken_promise,
        tone=request.tone,
    )
    findings = validate_letter(
        letter, policy=request.policy, debtor=request.debtor, case=request.case, on=request.on
    )
    return letter, findings, "template", "no LLM endpoint: the wording is the step's template"


def case_thread(session: Session, case_id: int, last: int = 4) -> list[ThreadMessage]:
    """Return the last messages of a case's thread: our sent letters and the debtor's replies."""
    items: list[tuple[datetime, ThreadMessage]] = []
    for subject, sent_at in session.exec(
        select(Draft.subject, Draft.sent_at).where(
            Draft.case_id == case_id, Draft.status == "sent", col(Draft.sent_at).is_not(None)
        )
    ):
        assert sent_at is not None
        items.append(
            (_aware(sent_at), ThreadMessage("us", f"(letter sent) {subject}", sent_at.date()))
        )
    try:
        from assistant.db.mail_models import InboundMessage
    except ModuleNotFoundError:  # the mail loop is optional
        InboundMessage = None  # type: ignore[assignment,misc]  # noqa: N806
    if InboundMessage is not None:
        for text, received in session.exec(
            select(InboundMessage.reply_text, InboundMessage.received_at).where(
                InboundMessage.case_id == case_id, col(InboundMessage.reply_text).is_not(None)
            )
        ):
            items.append(
                (
                    _aware(received),
                    ThreadMessage("debtor", (text or "")[:MAX_TEXT], received.date()),
                )
            )
    items.sort(key=lambda pair: pair[0])
    return [m for _, m in items[-last:]]


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
