"""Read a creditor's ledger from the database into pure value objects, in bulk.

One query per table, never one per debtor: the cycle runs over tens of thousands of cases.
The same queries, narrowed to one debtor, feed `case_file.load_case_file`, and narrowed to a
span of debtor ids they feed the cycle one chunk at a time (its memory stays bounded): there
is one definition of what a case's ledger facts are. Debtors, invoices and cases are read as
Core rows (read-only, attribute access like the ORM classes, no identity map). Nothing here
writes (except `ensure_creditor`) or decides.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from assistant.db.models import (
    Case,
    Contact,
    Creditor,
    Debtor,
    Draft,
    Handoff,
    Invoice,
    Payment,
    Promise,
)
from assistant.domain import CaseState, DebtorFacts, HandoffRelease, InvoiceLine, from_cents
from assistant.policy.schema import Policy

LIVE_DRAFT_STATUSES = ("pending", "approved", "sending", "unknown")
SETTLED_STATUSES = ("paid", "written_off")

_DEBTORS: sa.Table = Debtor.__table__  # type: ignore[attr-defined]
_INVOICES: sa.Table = Invoice.__table__  # type: ignore[attr-defined]
_CASES: sa.Table = Case.__table__  # type: ignore[attr-defined]
# Without table statistics SQLite picks the creditor index over the debtor one for a span
# of debtors (every chunk would scan the creditor's whole ledger): name the index.
INVOICE_BY_DEBTOR = "INDEXED BY ix_invoice_debtor_id"

#: A debtor, invoice or case as read here: a Core row or an ORM instance (same attributes).
Record = Any


@dataclass(frozen=True)
class DebtorSpan:
    """The debtor ids `lo`..`hi` (both included): one chunk of a creditor's portfolio."""

    lo: int
    hi: int


def spans(ids: Sequence[int], size: int) -> list[DebtorSpan]:
    """Cut sorted debtor ids into spans of at most `size` ids each."""
    return [DebtorSpan(ids[i], ids[min(i + size, len(ids)) - 1]) for i in range(0, len(ids), size)]


def indebted_debtor_ids(session: Session, creditor_id: int) -> list[int]:
    """Return, sorted, the creditor's debtors with an unsettled invoice or a case."""
    inv, case = _INVOICES.c, _CASES.c
    query = sa.union(
        sa.select(inv.debtor_id).where(
            inv.creditor_id == creditor_id, inv.status.not_in(SETTLED_STATUSES)
        ),
        sa.select(case.debtor_id).where(case.creditor_id == creditor_id),
    )
    return sorted(session.connection().execute(query).scalars())


def invoice_line(row: Record, payments: Sequence[tuple[date, Decimal]] = ()) -> InvoiceLine:
    """Convert an Invoice row (and the payments recorded against it) into its value object."""
    return InvoiceLine(
        number=row.number,
        due_date=row.due_date,
        amount=from_cents(row.amount_cents),
        outstanding=from_cents(row.outstanding_cents),
        currency=row.currency,
        status=row.status,
        issue_date=row.issue_date,
        paid_date=row.paid_date,
        payments=tuple(payments),
    )


def debtor_facts(row: Record, emails: list[str]) -> DebtorFacts:
    """Convert a Debtor row and its valid emails into its value object."""
    return DebtorFacts(
        ref=row.account_ref,
        name=row.legal_name,
        kind=row.kind,
        language=row.language,
        key_account=row.key_account,
        emails=tuple(emails),
        address=row.address,
    )


def handoff_release(case: Record) -> HandoffRelease | None:
    """Return the officer's last "resume" decision on `case`, if any."""
    if case.resumed_on is None:
        return None
    return HandoffRelease(
        on=case.resumed_on,
        balance=from_cents(case.resumed_balance_cents or 0),
        broken_promises=case.resumed_broken_promises or 0,
    )


def ensure_creditor(session: Session, policy: Policy) -> Creditor:
    """Return the creditor row for `policy`, creating it on first use."""
    row = session.exec(select(Creditor).where(Creditor.slug == policy.slug)).first()
    if row is None:
        row = Creditor(slug=policy.slug, name=policy.creditor.name)
        session.add(row)
        session.flush()
    return row


@dataclass
class Portfolio:
    """Everything the planner needs about one creditor's debtors."""

    creditor: Creditor
    debtors: dict[int, Record] = field(default_factory=dict)
    emails: dict[int, list[str]] = field(default_factory=lambda: defaultdict(list))
    invoices: dict[int, list[Record]] = field(default_factory=lambda: defaultdict(list))
    cases: dict[int, Record] = field(default_factory=dict)
    contact_dates: dict[int, list[date]] = field(default_factory=lambda: defaultdict(list))
    steps_sent: dict[int, list[str]] = field(default_factory=lambda: defaultdict(list))
    live_drafts: set[int] = field(default_factory=set)
    live_draft_ids: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    open_handoffs: set[int] = field(default_factory=set)
    pending_promise_until: dict[int, date] = field(default_factory=dict)
    broken_promises: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    # Payments recorded against each unsettled invoice (by invoice id): late interest
    # follows the balance they leave.
    payments: dict[int, list[tuple[date, Decimal]]] = field(
        default_factory=lambda: defaultdict(list)
    )

    def invoice_lines(self, debtor_id: int) -> list[InvoiceLine]:
        """Return the debtor's unsettled invoices as value objects, with their payments."""
        return [
            invoice_line(row, self.payments.get(row.id or 0, ()))
            for row in self.invoices.get(debtor_id, ())
        ]

    def case_state(self, case: Record, grace_days: int, status: str | None = None) -> CaseState:
        """Build the planner's view of `case` (with `status` when the caller just changed it)."""
        cid = case.id or 0
        until = self.pending_promise_until.get(cid)
        return CaseState(
            ref=case.ref,
            status=status or case.status,
            step_index=case.step_index,
            last_contact_on=case.last_contact_on,
            contact_dates=tuple(self.contact_dates.get(cid, ())),
            pending_promise_until=until + timedelta(days=grace_days) if until else None,
            broken_promise_pending=case.broken_promise_pending,
            broken_promises=self.broken_promises.get(cid, 0),
            open_handoff=cid in self.open_handoffs,
            first_letter_on=case.first_letter_on,
            first_letter_ref=case.first_letter_ref,
            snoozed_until=case.paused_until,
            steps_sent=tuple(self.steps_sent.get(cid, ())),
            released=handoff_release(case),
        )


def load_payments(session: Session, pf: Portfolio, narrow: Sequence[Any] = ()) -> None:
    """Add to `pf.payments` the payments recorded against the creditor's unsettled invoices.

    `narrow` holds extra conditions on `Invoice` (one debtor, a span of debtors), the same as
    the invoices' own query: late interest follows the balance these payments leave.
    """
    for invoice_id, paid_on, cents in session.exec(
        select(col(Payment.invoice_id), col(Payment.paid_on), col(Payment.amount_cents))
        .join(Invoice, col(Invoice.id) == Payment.invoice_id)
        .where(
            Invoice.creditor_id == pf.creditor.id,
            col(Invoice.status).not_in(["paid", "written_off"]),
            *narrow,
        )
    ):
        pf.payments[invoice_id or 0].append((paid_on, from_cents(cents)))


def load_portfolio(
    session: Session,
    creditor: Creditor,
    on: date,
    *,
    debtor_id: int | None = None,
    span: DebtorSpan | None = None,
) -> Portfolio:
    """Load debtors, unsettled invoices, cases and their contact history for `creditor`.

    With `debtor_id`, read only that debtor's rows; with `span`, only the rows of the debtors
    in that span (the same queries, one more filter).
    """
    cid = creditor.id
    pf = Portfolio(creditor=creditor)
    session.flush()  # Core reads below do not autoflush: show them the session's changes
    conn = session.connection()
    inv = _INVOICES.c
    if debtor_id is not None:
        span = DebtorSpan(debtor_id, debtor_id)
    one_debtor = [] if span is None else [col(Debtor.id).between(span.lo, span.hi)]
    one_case = [] if span is None else [col(Case.debtor_id).between(span.lo, span.hi)]
    only_invoices = [] if span is None else [inv.debtor_id.between(span.lo, span.hi)]
    debtors = sa.select(_DEBTORS).where(_DEBTORS.c.creditor_id == cid, *one_debtor)
    for d in conn.execute(debtors):
        pf.debtors[d.id] = d
    rows = session.exec(
        select(Contact.debtor_id, Contact.email)
        .join(Debtor, col(Debtor.id) == Contact.debtor_id)
        .where(Debtor.creditor_id == cid, Contact.valid == True, *one_debtor)  # noqa: E712
        .order_by(col(Contact.id))
    )
    for row_debtor, email in rows:
        pf.emails[row_debtor].append(email)
    invoices = sa.select(_INVOICES).where(
        inv.creditor_id == cid, inv.status.not_in(SETTLED_STATUSES), *only_invoices
    )
    if span is not None:
        invoices = invoices.with_hint(_INVOICES, INVOICE_BY_DEBTOR, "sqlite")
    for row in conn.execute(invoices.order_by(inv.id)):
        pf.invoices[row.debtor_id].append(row)
    load_payments(session, pf, only_invoices)
    for case in conn.execute(sa.select(_CASES).where(_CASES.c.creditor_id == cid, *one_case)):
        pf.cases[case.debtor_id] = case
    case_ids = [c.id for c in pf.cases.values()]
    if not case_ids:
        return pf
    since = on - timedelta(days=90)
    for draft_id, case_id, status, sent_at, kind, step in session.exec(
        select(Draft.id, Draft.case_id, Draft.status, Draft.sent_at, Draft.kind, Draft.step)
        .join(Case, col(Case.id) == Draft.case_id)
        .where(
            Case.creditor_id == cid,
            col(Draft.status).in_([*LIVE_DRAFT_STATUSES, "sent"]),
            *one_case,
        )
        .order_by(col(Draft.sent_at), col(Draft.id))
    ):
        if status in LIVE_DRAFT_STATUSES:
            pf.live_drafts.add(case_id)
            pf.live_draft_ids[case_id].append(draft_id or 0)
            continue
        if kind == "step":
            pf.steps_sent[case_id].append(step)
        if sent_at is not None and sent_at.date() >= since:
            pf.contact_dates[case_id].append(sent_at.date())
    open_handoffs = select(Handoff.case_id).join(Case, col(Case.id) == Handoff.case_id)
    pf.open_handoffs.update(
        session.exec(
            open_handoffs.where(Case.creditor_id == cid, Handoff.status == "open", *one_case)
        )
    )
    for case_id, status, due_on in session.exec(
        select(Promise.case_id, Promise.status, Promise.due_on)
        .join(Case, col(Case.id) == Promise.case_id)
        .where(Case.creditor_id == cid, col(Promise.status).in_(["pending", "broken"]), *one_case)
    ):
        if status == "pending":
            current = pf.pending_promise_until.get(case_id)
            pf.pending_promise_until[case_id] = max(current, due_on) if current else due_on
        else:
            pf.broken_promises[case_id] += 1
    return pf
