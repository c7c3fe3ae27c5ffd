"""What we know about a case, read once: the one loader of a case's facts.

`load_case_file` reads one case (the chat's tools, the answers to replies, `policy preview`);
`load_case_files` reads every case of a creditor in bulk. Both build their `CaseFile` from the
same portfolio queries (`portfolio.load_portfolio`, narrowed to one debtor or not) and the
same client-history reader, so a fact cannot be known to one entry point and missing from
another. A `CaseFile` is a frozen bundle of plain values: what the pure planner, renderer,
validator and drafter take. Nothing here writes or decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlmodel import Session, col, select

from assistant.db.mail_models import InboundMessage
from assistant.db.models import Case, Creditor, Draft
from assistant.domain import CaseState, ClientHistory, DebtorFacts, InvoiceLine
from assistant.drafting.llm_drafter import ThreadMessage
from assistant.importing.history import load_histories
from assistant.policy.schema import Policy
from assistant.services.portfolio import (
    Portfolio,
    debtor_facts,
    load_portfolio,
)


class CaseNotFound(LookupError):
    """No case has the ref asked for."""


@dataclass(frozen=True)
class CaseFile:
    """Everything known about one case, as plain values."""

    case_id: int
    ref: str
    status: str
    creditor: str  # the creditor's slug
    creditor_id: int
    debtor_id: int
    debtor: DebtorFacts  # with the valid emails, oldest first
    state: CaseState  # the planner's view: contacts, promises, hand-offs, snooze
    lines: tuple[InvoiceLine, ...]  # unsettled invoices (open, disputed…; not paid/written off)
    history: ClientHistory
    live_drafts: tuple[int, ...]  # drafts pending, approved, sending or unknown
    thread: tuple[ThreadMessage, ...] = ()  # last letters and replies, oldest first

    @property
    def open_lines(self) -> tuple[InvoiceLine, ...]:
        """Return the invoices still open (disputed ones left out)."""
        return tuple(i for i in self.lines if i.status == "open")

    @property
    def in_handoff(self) -> bool:
        """Tell whether a human holds the case (status or an open hand-off)."""
        return self.status == "handoff" or self.state.open_handoff


def case_file_from(
    pf: Portfolio,
    case: Case,
    history: ClientHistory,
    policy: Policy,
    thread: tuple[ThreadMessage, ...] = (),
) -> CaseFile:
    """Build the case file of `case` from an already loaded portfolio."""
    cid = case.id or 0
    debtor = pf.debtors[case.debtor_id]
    return CaseFile(
        case_id=cid,
        ref=case.ref,
        status=case.status,
        creditor=pf.creditor.slug,
        creditor_id=pf.creditor.id or 0,
        debtor_id=case.debtor_id,
        debtor=debtor_facts(debtor, pf.emails.get(case.debtor_id, [])),
        state=pf.case_state(case, policy.promises.grace_days),
        lines=tuple(pf.invoice_lines(case.debtor_id)),
        history=history,
        live_drafts=tuple(pf.live_draft_ids.get(cid, ())),
        thread=thread,
    )


def load_thread(session: Session, case_id: int, *, limit: int = 4) -> list[ThreadMessage]:
    """Return the last messages of a case, oldest first: debtor replies and our sent letters.

    Debtor text is kept (trimmed) for the prompt, where it is fenced as data; our own letters
    are summarised by step, so the model does not copy old figures.
    """
    items: list[tuple[datetime, ThreadMessage]] = []
    sent = select(Draft).where(Draft.case_id == case_id, Draft.status == "sent")
    for draft in session.exec(sent.order_by(col(Draft.id).desc()).limit(limit)):
        at = draft.sent_at or draft.created_at
        items.append((at, ThreadMessage("us", f"(our letter: step {draft.step})", at.date())))
    replies = (
        select(InboundMessage)
        .where(
            InboundMessage.case_id == case_id,
            col(InboundMessage.is_auto_reply).is_(False),
            col(InboundMessage.is_bounce).is_(False),
        )
        .order_by(col(InboundMessage.received_at).desc())
        .limit(limit)
    )
    for msg in session.exec(replies):
        text = (msg.reply_text or msg.text or "").strip()[:1500]
        if text:
            items.append((msg.received_at, ThreadMessage("debtor", text, msg.received_at.date())))
    items.sort(key=lambda item: _aware(item[0]))
    return [m for _, m in items[-limit:]]


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def find_case(session: Session, ref: str) -> tuple[Case, str] | None:
    """Return the case with `ref` (brackets and case ignored) and its creditor's slug."""
    ref = ref.strip().strip("[]").upper()
    row = session.exec(
        select(Case, Creditor.slug)
        .join(Creditor, col(Creditor.id) == Case.creditor_id)
        .where(Case.ref == ref)
    ).first()
    return None if row is None else (row[0], row[1])


def load_case_file(
    session: Session, case_or_ref: Case | str, policy: Policy, on: date, *, thread: bool = True
) -> CaseFile:
    """Read one case's ledger, promises, hand-offs, history, contacts and thread."""
    if isinstance(case_or_ref, str):
        found = find_case(session, case_or_ref)
        if found is None:
            raise CaseNotFound(f"no case {case_or_ref}")
        case = found[0]
    else:
        case = case_or_ref
    creditor = session.get(Creditor, case.creditor_id)
    assert creditor is not None
    pf = load_portfolio(session, creditor, on, debtor_id=case.debtor_id)
    history = load_histories(session, creditor.id or 0, on, debtor_ids=[case.debtor_id])
    messages = tuple(load_thread(session, case.id or 0)) if thread else ()
    return case_file_from(
        pf, case, history.get(case.debtor_id, ClientHistory()), policy, thread=messages
    )


def load_case_files(
    session: Session, creditor: Creditor, policy: Policy, on: date
) -> dict[int, CaseFile]:
    """Read every case of `creditor` in bulk (no threads), keyed by debtor id."""
    pf = load_portfolio(session, creditor, on)
    histories = load_histories(session, creditor.id or 0, on)
    return {
        debtor_id: case_file_from(pf, case, histories.get(debtor_id, ClientHistory()), policy)
        for debtor_id, case in pf.cases.items()
    }
