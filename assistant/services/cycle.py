"""The daily cycle: settle promises, open and close cases, plan each one, draft letters.

Drafts land in the approval queue; nothing here sends mail.

The cycle runs over tens of thousands of cases, so its database work is done in bulk: the
portfolio is read as Core rows (no ORM instances) one chunk of debtors at a time
(`CHUNK_DEBTORS`, so memory stays bounded whatever the portfolio's size), with one query per
table and chunk; new cases, closed cases, drafts and audit events are written with one
statement each per chunk or batch; each creditor is one transaction, so a crash leaves
nothing half-written. With the LLM engine the cases are planned and committed first,
the model is called with no write transaction open (its client logs every call in its own
sessions), then the drafts are stored in a second transaction.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Table, bindparam, insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from assistant.bootstrap import App
from assistant.db.engine import session_scope
from assistant.db.models import Case, Draft, draft_live_key, utcnow
from assistant.domain import CaseState, ClientHistory, DebtorFacts, Finding
from assistant.importing.history import load_histories
from assistant.letters.facts_json import facts_to_dict
from assistant.letters.render import Letter, LetterRenderer, renderer_for
from assistant.letters.validator import validate_letter
from assistant.planner import Plan, plan_case
from assistant.policy.schema import Policy
from assistant.services.approval import approve_draft
from assistant.services.audit import event_row, record, record_many
from assistant.services.case_control import open_handoff
from assistant.services.draft_state import ApprovalError
from assistant.services.leases import LeaseBusy, hold_lease
from assistant.services.payment_plans import check_plans
from assistant.services.portfolio import (
    LIVE_DRAFT_STATUSES,
    Portfolio,
    Record,
    debtor_facts,
    ensure_creditor,
    indebted_debtor_ids,
    load_portfolio,
    spans,
)
from assistant.services.promises import check_promises
from assistant.services.tokens import case_token

if TYPE_CHECKING:
    from assistant.drafting import DraftRequest

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
ENGINES = ("template", "llm")
BATCH_SIZE = 500  # drafts per INSERT: bounds the letters held in memory
REF_QUERY_CHUNK = 5000  # refs per IN (…) query, well under SQLite's bound-parameter limit
CHUNK_DEBTORS = 2000  # debtors read, planned and written together: bounds the rows held
CYCLE_LEASE_TTL = timedelta(minutes=10)  # renewed while the cycle runs


class LiveDraftExists(ApprovalError):
    """The case already has a live draft for this step (the database refused a second)."""


def cycle_lease(slug: str, on: date) -> str:
    """Return the lease name of the cycle of creditor `slug` on `on`."""
    return f"cycle:{slug}:{on.isoformat()}"


@dataclass
class CycleReport:
    """What one cycle did, per creditor."""

    on: date
    counts: dict[str, Counter[str]] = field(default_factory=dict)
    draft_ids: list[int] = field(default_factory=list)
    blocked: int = 0
    reasons: dict[str, Counter[str]] = field(default_factory=dict)
    engines: dict[str, str] = field(default_factory=dict)  # creditor -> engine used
    notes: list[str] = field(default_factory=list)  # warnings for the officer
    busy: dict[str, str] = field(default_factory=dict)  # creditor -> who runs its cycle now

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
            "engines": dict(self.engines),
            "notes": list(self.notes),
            "busy": dict(self.busy),
        }


_DRAFTS: Table = Draft.__table__  # type: ignore[attr-defined]
_CASES: Table = Case.__table__  # type: ignore[attr-defined]


def _assign_refs(session: Session, seeds: Sequence[str]) -> list[str]:
    """Return a new case token per seed, exactly as picking them one by one would.

    Each seed takes its first token (attempt 0, 1, …) that no case in the database and no
    earlier seed holds. The first attempts are checked in a few bulk queries; a later
    attempt (a collision, rare) is checked on its own.
    """
    first = [case_token(seed) for seed in seeds]
    known = set(first)  # tokens whose presence in the database is known
    taken: set[str] = set()
    for i in range(0, len(first), REF_QUERY_CHUNK):
        chunk = first[i : i + REF_QUERY_CHUNK]
        taken.update(session.exec(select(Case.ref).where(col(Case.ref).in_(chunk))))
    refs: list[str] = []
    for seed, ref in zip(seeds, first, strict=True):
        attempt = 0
        while True:
            if ref not in known:
                known.add(ref)
                if session.exec(select(Case.id).where(Case.ref == ref)).first() is not None:
                    taken.add(ref)
            if ref not in taken:
                break
            attempt += 1
            ref = case_token(seed, attempt)
        taken.add(ref)
        refs.append(ref)
    return refs


def _open_cases(session: Session, pf: Portfolio, debtor_ids: Sequence[int]) -> set[int]:
    """Create, in one statement, the case of every debtor that owes money and has none.

    Returns the debtors whose case was just opened. The tokens are the ones the per-case
    loop used to pick: the same seeds and attempts, checked against every existing ref.
    """
    missing = [
        d
        for d in debtor_ids
        if d not in pf.cases
        and any(i.status == "open" and i.outstanding_cents > 0 for i in pf.invoices.get(d, ()))
    ]
    if not missing:
        return set()
    slug, creditor_id = pf.creditor.slug, pf.creditor.id or 0
    refs = _assign_refs(session, [f"{slug}/{pf.debtors[d].account_ref}" for d in missing])
    rows = [
        {"ref": ref, "creditor_id": creditor_id, "debtor_id": d}
        for d, ref in zip(missing, refs, strict=True)
    ]
    # Core, not ORM-enabled: the new cases come back as rows, like the loaded ones.
    stmt = insert(_CASES).returning(*_CASES.c, sort_by_parameter_order=True)
    for case in session.execute(stmt, rows):
        pf.cases[case.debtor_id] = case
    return set(missing)


def _set_status(session: Session, case_ids: Sequence[int], status: str, touch: bool) -> None:
    """Set the status of the cases `case_ids` (and their `updated_at` with `touch`)."""
    if not case_ids:
        return
    values: dict[str, Any] = {"status": status}
    if touch:
        values["updated_at"] = utcnow()
    stmt = update(_CASES).where(_CASES.c.id == bindparam("case_id")).values(**values)
    session.execute(stmt, [{"case_id": i} for i in case_ids])


def _handoff(session: Session, case: Record, plan: Plan, actor: str) -> None:
    """Hand the case to a human the way every entry point does: its live drafts withdrawn."""
    summary = f"Automated hand-off: {plan.reason}. Balance {plan.balance} over {len(plan.invoices)} invoice(s)."
    row = session.get(Case, case.id, populate_existing=True)  # rare: the ORM path of all
    assert row is not None
    open_handoff(session, row, "policy", summary, actor, evidence=[i.number for i in plan.invoices])


def _draft_values(
    case_id: int,
    letter: Letter,
    findings: Sequence[Finding],
    *,
    policy: Policy,
    actor: str,
    kind: str = "step",
    engine: str = "template",
    engine_note: str | None = None,
) -> dict[str, Any]:
    """Return the column values of a new draft (pending; the other columns default)."""
    step = policy.step(letter.step) if kind == "step" else None
    return {
        "live_key": draft_live_key(case_id, kind, letter.step, "pending"),
        "case_id": case_id,
        "kind": kind,
        "step": letter.step,
        "subject": letter.subject,
        "body_text": letter.text,
        "body_html": letter.html,
        "pdf": letter.pdf,
        "engine": engine,
        "engine_note": engine_note,
        "facts": {
            **facts_to_dict(letter.facts),
            "step_index": policy.ladder.index(letter.step) if step else None,
            "language": letter.language,
            "tone": letter.tone,
        },
        "findings": [f.as_dict() for f in findings],
        "requires_four_eyes": bool(step and step.four_eyes),
        "created_by": actor,
    }


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
    draft = Draft(
        **_draft_values(
            case.id or 0,
            letter,
            findings,
            policy=policy,
            actor=actor,
            kind=kind,
            engine=engine,
            engine_note=engine_note,
        )
    )
    try:
        with session.begin_nested():
            session.add(draft)
            session.flush()
    except IntegrityError:
        raise LiveDraftExists(
            f"case {case.ref} already has a live {letter.step} draft: reject it first"
        ) from None
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


@dataclass
class _Due:
    """A letter the planner asks for: what the renderer (or the model) needs to write it."""

    case: Record  # a Core row of the case table
    facts: DebtorFacts
    state: CaseState
    plan: Plan
    history: ClientHistory


@dataclass
class _Pending:
    """A written letter waiting to be inserted with the others of its creditor."""

    case_id: int
    letter: Letter
    findings: list[Finding]
    event: dict[str, Any]  # its `draft.created` audit row, which gets the draft id
    engine: str = "template"
    engine_note: str | None = None


class _Batch:
    """One creditor's new drafts and audit rows, inserted in bulk every `size` drafts.

    Audit rows are kept in the order of the work; a `draft.created` row gets its draft id
    when the drafts are inserted, just before the audit rows. Auto-approval (when the
    policy allows it and nothing blocks) runs after the insert.
    """

    def __init__(
        self,
        session: Session,
        policy: Policy,
        actor: str,
        report: CycleReport,
        size: int = BATCH_SIZE,
    ):
        self.session, self.policy, self.actor, self.report = session, policy, actor, report
        self.size = size
        self.audit: list[dict[str, Any]] = []
        self.pending: list[_Pending] = []

    def draft(
        self,
        case: Record,
        letter: Letter,
        findings: list[Finding],
        *,
        engine: str = "template",
        engine_note: str | None = None,
    ) -> None:
        """Queue a new pending draft for `case`."""
        event = event_row(
            self.actor,
            "draft.created",
            "draft",
            None,
            case=case.ref,
            step=letter.step,
            blocking=sum(1 for f in findings if f.blocking),
        )
        self.pending.append(_Pending(case.id or 0, letter, findings, event, engine, engine_note))
        self.audit.append(event)
        if len(self.pending) >= self.size:
            self.flush()

    def _insert(self) -> list[tuple[_Pending, dict[str, Any], int]]:
        """Insert the queued drafts; one another writer stored meanwhile is skipped, counted.

        The unique `live_key` refuses a second live letter per case and step: the batch is
        retried without the refused ones, whose audit rows are dropped too.
        """
        policy, counts = self.policy, self.report.counts[self.policy.slug]
        todo = [
            (
                p,
                _draft_values(
                    p.case_id,
                    p.letter,
                    p.findings,
                    policy=policy,
                    actor=self.actor,
                    engine=p.engine,
                    engine_note=p.engine_note,
                ),
            )
            for p in self.pending
        ]
        # Core, not ORM-enabled, INSERT: the rows are plain dicts and no instance is built.
        stmt = insert(_DRAFTS).returning(_DRAFTS.c.id, sort_by_parameter_order=True)
        while todo:
            try:
                with self.session.begin_nested():
                    ids = list(self.session.scalars(stmt, [row for _p, row in todo]))
                return [(p, row, i) for (p, row), i in zip(todo, ids, strict=True) if i]
            except IntegrityError:
                taken = set(
                    self.session.exec(
                        select(Draft.live_key).where(
                            col(Draft.live_key).in_([row["live_key"] for _p, row in todo])
                        )
                    )
                )
                if not taken:
                    raise
                for p, row in todo:
                    if row["live_key"] in taken:
                        counts["already_drafted"] += 1
                        self.audit.remove(p.event)
                todo = [(p, row) for p, row in todo if row["live_key"] not in taken]
        return []

    def flush(self) -> None:
        """Insert the queued drafts, then the audit rows; auto-approve where allowed."""
        policy, report = self.policy, self.report
        counts = report.counts[policy.slug]
        auto: list[int] = []
        if self.pending:
            for p, row, draft_id in self._insert():
                p.event["entity_id"] = str(draft_id)
                report.draft_ids.append(draft_id)
                counts["drafts"] += 1
                if any(f.blocking for f in p.findings):
                    report.blocked += 1
                    counts["blocked"] += 1
                elif policy.auto_approve and not row["requires_four_eyes"]:
                    auto.append(draft_id)
            self.pending.clear()
        record_many(self.session, self.audit)
        self.audit.clear()
        for draft_id in auto:
            approve_draft(
                self.session, draft_id, actor="auto-approve", policies={policy.slug: policy}
            )
            counts["auto_approved"] += 1


def run_cycle(
    app: App,
    on: date,
    *,
    progress: Progress | None = None,
    creditor: str | None = None,
    engine: str | None = None,
    lease_wait: float = 0.0,
) -> CycleReport:
    """Plan every case of every creditor on `on` and draft the letters that are due.

    One cycle per creditor and date runs at a time (a lease): a second one waits up to
    `lease_wait` seconds, then skips that creditor and says who holds it (`report.busy`).

    `engine` ("template" or "llm") overrides each policy's `engine`. An explicit "llm"
    without an LLM endpoint raises `LLMNotConfigured` before anything is written; a policy
    asking for "llm" without one is drafted with templates, and the report says so once.
    """
    if engine is not None and engine not in ENGINES:
        raise ValueError(f"unknown drafting engine {engine!r}: use one of {', '.join(ENGINES)}")
    configured = app.settings.llm_configured
    if engine == "llm" and not configured:
        from assistant.llm import LLMNotConfigured

        raise LLMNotConfigured()
    report = CycleReport(on=on)
    renderer = renderer_for(app.templates_dir)  # shared: templates compile once per process
    actor = app.actor
    downgraded: list[str] = []
    for slug, policy in sorted(app.policies.items()):
        if creditor and slug != creditor:
            continue
        chosen = engine or policy.engine
        if chosen == "llm" and not configured:
            downgraded.append(slug)
            chosen = "template"
        report.engines[slug] = chosen
        try:
            with hold_lease(app.engine, cycle_lease(slug, on), CYCLE_LEASE_TTL, wait=lease_wait):
                if chosen == "llm":
                    _cycle_creditor_llm(app, policy, on, actor, report, progress)
                else:
                    _cycle_creditor(app, renderer, policy, on, actor, report, progress)
        except LeaseBusy as busy:
            report.busy[slug] = busy.holder
            note = f"cycle of {slug} on {on.isoformat()} skipped: already running ({busy})"
            log.warning(note)
            report.notes.append(note)
    if downgraded:
        from assistant.llm import LLMNotConfigured

        note = (
            f"engine: llm in the polic{'y' if len(downgraded) == 1 else 'ies'} of "
            f"{', '.join(downgraded)}, but no LLM endpoint is configured: drafted with "
            f"templates. {LLMNotConfigured.HOWTO}"
        )
        log.warning(note)
        report.notes.append(note)
    return report


def _cycle_creditor(
    app: App,
    renderer: LetterRenderer,
    policy: Policy,
    on: date,
    actor: str,
    report: CycleReport,
    progress: Progress | None,
) -> None:
    """Plan one creditor and store its template letters in one transaction."""
    with session_scope(app.engine) as session:
        batch = _Batch(session, policy, actor, report)

        def write(due: _Due) -> None:
            batch.draft(due.case, *_render(renderer, policy, due, on))

        _plan_creditor(
            session, policy, on, actor, report, progress, batch.audit, write, batch.flush
        )
        batch.flush()


def _render(
    renderer: LetterRenderer, policy: Policy, due: _Due, on: date
) -> tuple[Letter, list[Finding]]:
    """Render and validate the template letter of `due`."""
    plan = due.plan
    assert plan.step is not None
    letter = renderer.render(
        policy=policy,
        step=plan.step,
        debtor=due.facts,
        case=due.state,
        invoices=plan.invoices,
        history=due.history,
        on=on,
        broken_promise=plan.mention_broken_promise,
        tone=plan.tone,
    )
    findings = validate_letter(letter, policy=policy, debtor=due.facts, case=due.state, on=on)
    return letter, _with_contact_check(findings, due.facts)


def _with_contact_check(findings: Sequence[Finding], facts: DebtorFacts) -> list[Finding]:
    out = list(findings)
    if not facts.emails:
        out.append(Finding("no_contact", "The debtor has no valid email address."))
    return out


def _plan_creditor(
    session: Session,
    policy: Policy,
    on: date,
    actor: str,
    report: CycleReport,
    progress: Progress | None,
    audit: list[dict[str, Any]],
    write: Callable[[_Due], None],
    end_chunk: Callable[[], None] | None = None,
) -> None:
    """Settle promises, open/close/reopen cases, hand off, and pass each due letter to `write`.

    The debtors are read and planned `CHUNK_DEBTORS` at a time; `end_chunk` runs after each
    chunk. Case changes go to the session; their audit rows are appended to `audit` in order.
    """
    counts: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    report.counts[policy.slug] = counts
    report.reasons[policy.slug] = reasons
    creditor = ensure_creditor(session, policy)
    promised = check_promises(session, creditor.id or 0, on, actor)
    counts.update({f"promises_{k}": v for k, v in promised.items() if v})
    planned = check_plans(session, creditor.id or 0, on, actor)  # officer-accepted plans
    counts.update({f"plan_instalments_{k}": v for k, v in planned.items() if v})
    debtor_ids = indebted_debtor_ids(session, creditor.id or 0)
    total, done = len(debtor_ids), 0
    for span in spans(debtor_ids, CHUNK_DEBTORS):
        pf = load_portfolio(session, creditor, on, span=span)
        histories = load_histories(session, creditor.id or 0, on, span=span)
        chunk = debtor_ids[done : done + CHUNK_DEBTORS]
        _plan_chunk(session, policy, on, actor, pf, histories, chunk, audit, write, counts, reasons)
        for n in range(done + 1, done + len(chunk) + 1):
            if progress and (n % 200 == 0 or n == total):
                progress(policy.slug, n, total)
        done += len(chunk)
        if end_chunk is not None:
            end_chunk()


def _plan_chunk(
    session: Session,
    policy: Policy,
    on: date,
    actor: str,
    pf: Portfolio,
    histories: dict[int, ClientHistory],
    debtor_ids: Sequence[int],
    audit: list[dict[str, Any]],
    write: Callable[[_Due], None],
    counts: Counter[str],
    reasons: Counter[str],
) -> None:
    """Plan the debtors `debtor_ids` of one loaded chunk (see `_plan_creditor`)."""
    opened = _open_cases(session, pf, debtor_ids)
    grace = policy.promises.grace_days
    closed: list[int] = []
    for debtor_id in debtor_ids:
        lines = pf.invoice_lines(debtor_id)
        case = pf.cases.get(debtor_id)
        if not any(i.status == "open" and i.outstanding > 0 for i in lines):
            if case is not None and case.status in ("active", "promise", "paused"):
                closed.append(case.id)
                audit.append(
                    event_row(actor, "case.closed", "case", case.ref, reason="nothing owed")
                )
                counts["closed"] += 1
            continue
        assert case is not None  # `_open_cases` opened one for every debtor who owes
        debtor = pf.debtors[debtor_id]
        status = None
        if debtor_id in opened:
            audit.append(
                event_row(actor, "case.opened", "case", case.ref, debtor=debtor.account_ref)
            )
            counts["opened"] += 1
        elif case.status == "closed":
            status = "active"
            _set_status(session, [case.id], status, touch=False)
            audit.append(event_row(actor, "case.reopened", "case", case.ref))
        if case.id in pf.live_drafts:
            counts["awaiting_approval"] += 1
            continue
        facts = debtor_facts(debtor, pf.emails.get(debtor_id, []))
        state = pf.case_state(case, grace, status)
        history = histories.get(debtor_id, ClientHistory())
        plan = plan_case(policy, facts, state, lines, history, on)
        if plan.action == "handoff":
            _handoff(session, case, plan, actor)
            counts["handoffs"] += 1
        elif plan.action == "draft" and plan.step is not None:
            write(_Due(case, facts, state, plan, history))
        else:
            counts[plan.action] += 1
            reasons[plan.reason.split(":")[0]] += 1
    # A closed case gets no letter: its status can wait for the end of the chunk.
    _set_status(session, closed, "closed", touch=True)


def _cycle_creditor_llm(
    app: App,
    policy: Policy,
    on: date,
    actor: str,
    report: CycleReport,
    progress: Progress | None,
) -> None:
    """Plan and commit, draft with the model outside any transaction, then store the drafts."""
    from assistant.drafting import draft_with_llm, load_thread

    due: list[_Due] = []
    with session_scope(app.engine) as session:
        audit: list[dict[str, Any]] = []
        _plan_creditor(session, policy, on, actor, report, progress, audit, due.append)
        record_many(session, audit)
        requests = [_request(policy, d, on, load_thread(session, d.case.id or 0)) for d in due]
    if not requests:
        return
    stage = f"drafting {policy.slug}"

    def tick(done: int, total: int) -> None:
        if progress is not None:
            progress(stage, done, total)

    results = draft_with_llm(app, requests, progress=tick if progress else None)
    with session_scope(app.engine) as session:
        # A draft stored meanwhile (another cycle, an officer) wins: never two live drafts.
        live = set(
            session.exec(
                select(Draft.case_id)
                .join(Case, col(Case.id) == Draft.case_id)
                .where(
                    Case.creditor_id == due[0].case.creditor_id,
                    col(Draft.status).in_(LIVE_DRAFT_STATUSES),
                )
            )
        )
        batch = _Batch(session, policy, actor, report)
        for d, r in zip(due, results, strict=True):
            if (d.case.id or 0) in live:
                report.counts[policy.slug]["awaiting_approval"] += 1
                continue
            findings = _with_contact_check(r.findings, d.facts)
            batch.draft(d.case, r.letter, findings, engine=r.engine, engine_note=r.engine_note)
        batch.flush()


def _request(policy: Policy, due: _Due, on: date, thread: Sequence[Any]) -> DraftRequest:
    from assistant.drafting import DraftRequest

    plan = due.plan
    assert plan.step is not None
    return DraftRequest(
        policy=policy,
        step=plan.step,
        debtor=due.facts,
        case=due.state,
        invoices=plan.invoices,
        history=due.history,
        on=on,
        broken_promise=plan.mention_broken_promise,
        tone=plan.tone,
        thread=tuple(thread),
        case_id=due.case.id,
    )
