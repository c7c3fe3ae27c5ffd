"""The daily cycle: settle promises, open and close cases, plan each one, draft letters.

Drafts land in the approval queue; nothing here sends mail.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlmodel import Session, select

from assistant.bootstrap import App
from assistant.db.engine import session_scope
from assistant.db.models import Case, Debtor, Draft, Handoff, utcnow
from assistant.domain import ClientHistory, Finding
from assistant.importing.history import load_histories
from assistant.letters.rates import RateTable
from assistant.letters.render import Letter, LetterRenderer
from assistant.letters.validator import validate_letter
from assistant.planner import Plan, plan_case
from assistant.policy.schema import Policy
from assistant.services.approval import approve_draft
from assistant.services.audit import record
from assistant.services.drafts_store import facts_to_json
from assistant.services.portfolio import (
    Portfolio,
    debtor_facts,
    ensure_creditor,
    invoice_line,
    load_portfolio,
)
from assistant.services.promises import check_promises
from assistant.services.tokens import case_token

Progress = Callable[[str, int, int], None]


@dataclass
class CycleReport:
    """What one cycle did, per creditor."""

    on: date
    counts: dict[str, Counter[str]] = field(default_factory=dict)
    draft_ids: list[int] = field(default_factory=list)
    blocked: int = 0
    reasons: dict[str, Counter[str]] = field(default_factory=dict)

    def total(self, key: str) -> int:
        """Sum one counter over creditors."""
        return sum(c[key] for c in self.counts.values())

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-ready summary."""
        return {
            "date": self.on.isoformat(),
            "drafts": self.total("drafts"),
            "handoffs": self.total("handoffs"),
            "blocked": self.blocked,
            "creditors": {k: dict(v) for k, v in self.counts.items()},
        }


def _new_case(session: Session, pf: Portfolio, debtor: Debtor, taken: set[str]) -> Case:
    attempt = 0
    while True:
        ref = case_token(f"{pf.creditor.slug}/{debtor.account_ref}", attempt)
        if (
            ref not in taken
            and session.exec(select(Case.id).where(Case.ref == ref)).first() is None
        ):
            break
        attempt += 1
    taken.add(ref)
    case = Case(ref=ref, creditor_id=pf.creditor.id or 0, debtor_id=debtor.id or 0)
    session.add(case)
    session.flush()
    return case


def _handoff(session: Session, case: Case, plan: Plan, actor: str) -> None:
    summary = f"Automated hand-off: {plan.reason}. Balance {plan.balance} over {len(plan.invoices)} invoice(s)."
    session.add(
        Handoff(
            case_id=case.id or 0,
            reason="policy",
            summary=summary,
            evidence=[i.number for i in plan.invoices],
        )
    )
    case.status = "handoff"
    case.updated_at = utcnow()
    session.add(case)
    record(session, actor, "case.handoff", "case", case.ref, reason=plan.reason)


def store_draft(
    session: Session,
    case: Case,
    letter: Letter,
    findings: list[Any],
    *,
    policy: Policy,
    actor: str,
    kind: str = "step",
    engine: str = "template",
    engine_note: str | None = None,
) -> Draft:
    """Persist a rendered letter as a pending draft (or auto-approved when policy allows)."""
    step = policy.step(letter.step) if kind == "step" else None
    draft = Draft(
        case_id=case.id or 0,
        kind=kind,
        step=letter.step,
        subject=letter.subject,
        body_text=letter.text,
        body_html=letter.html,
        pdf=letter.pdf,
        engine=engine,
        engine_note=engine_note,
        facts={
            **facts_to_json(letter.facts),
            "step_index": policy.ladder.index(letter.step) if step else None,
            "language": letter.language,
            "tone": letter.tone,
        },
        findings=[f.as_dict() for f in findings],
        requires_four_eyes=bool(step and step.four_eyes),
        created_by=actor,
    )
    session.add(draft)
    session.flush()
    record(
        session,
        actor,
        "draft.created",
        "draft",
        draft.id,
        case=case.ref,
        step=letter.step,
        blocking=sum(1 for f in findings if f.blocking),
    )
    return draft


def run_cycle(
    app: App, on: date, *, progress: Progress | None = None, creditor: str | None = None
) -> CycleReport:
    """Plan every case of every creditor on `on` and draft the letters that are due."""
    report = CycleReport(on=on)
    renderer = LetterRenderer(app.templates_dir, RateTable.packaged())
    actor = app.actor
    for slug, policy in sorted(app.policies.items()):
        if creditor and slug != creditor:
            continue
        with session_scope(app.engine) as session:
            _cycle_creditor(session, policy, on, renderer, actor, report, progress)
    return report


def _cycle_creditor(
    session: Session,
    policy: Policy,
    on: date,
    renderer: LetterRenderer,
    actor: str,
    report: CycleReport,
    progress: Progress | None,
) -> None:
    counts: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    report.counts[policy.slug] = counts
    report.reasons[policy.slug] = reasons
    creditor = ensure_creditor(session, policy)
    promised = check_promises(session, creditor.id or 0, on, actor)
    counts.update({f"promises_{k}": v for k, v in promised.items() if v})
    pf = load_portfolio(session, creditor, on)
    histories = load_histories(session, creditor.id or 0, on)
    taken: set[str] = set()
    debtor_ids = sorted(set(pf.invoices) | {c.debtor_id for c in pf.cases.values()})
    for n, debtor_id in enumerate(debtor_ids, 1):
        if progress and (n % 200 == 0 or n == len(debtor_ids)):
            progress(policy.slug, n, len(debtor_ids))
        debtor = pf.debtors[debtor_id]
        lines = [invoice_line(i) for i in pf.invoices.get(debtor_id, [])]
        case = pf.cases.get(debtor_id)
        if not any(i.status == "open" and i.outstanding > 0 for i in lines):
            if case is not None and case.status in ("active", "promise", "paused"):
                case.status = "closed"
                case.updated_at = utcnow()
                session.add(case)
                record(session, actor, "case.closed", "case", case.ref, reason="nothing owed")
                counts["closed"] += 1
            continue
        facts = debtor_facts(debtor, pf.emails.get(debtor_id, []))
        if case is None:
            case = _new_case(session, pf, debtor, taken)
            record(session, actor, "case.opened", "case", case.ref, debtor=debtor.account_ref)
            counts["opened"] += 1
        elif case.status == "closed":
            case.status = "active"
            session.add(case)
            record(session, actor, "case.reopened", "case", case.ref)
        if (case.id or 0) in pf.live_drafts:
            counts["awaiting_approval"] += 1
            continue
        state = pf.case_state(case, policy.promises.grace_days)
        history = histories.get(debtor_id, ClientHistory())
        plan = plan_case(policy, facts, state, lines, history, on)
        if plan.action == "handoff":
            _handoff(session, case, plan, actor)
            counts["handoffs"] += 1
        elif plan.action == "draft" and plan.step is not None:
            letter = renderer.render(
                policy=policy,
                step=plan.step,
                debtor=facts,
                case=state,
                invoices=plan.invoices,
                history=history,
                on=on,
                broken_promise=plan.mention_broken_promise,
                tone=plan.tone,
            )
            findings = validate_letter(letter, policy=policy, debtor=facts, case=state, on=on)
            if not facts.emails:
                findings.append(Finding("no_contact", "The debtor has no valid email address."))
            draft = store_draft(session, case, letter, findings, policy=policy, actor=actor)
            report.draft_ids.append(draft.id or 0)
            counts["drafts"] += 1
            if any(f.blocking for f in findings):
                report.blocked += 1
            elif policy.auto_approve and not draft.requires_four_eyes:
                approve_draft(
                    session, draft.id or 0, actor="auto-approve", policies={policy.slug: policy}
                )
                counts["auto_approved"] += 1
        else:
            counts[plan.action] += 1
            reasons[plan.reason.split(":")[0]] += 1
