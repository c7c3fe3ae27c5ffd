"""What the send-time re-check reads about a draft's case, loaded with Core rows.

`load_facts` reads them for one draft (the full re-check); `load_page` for a page of approved
drafts in a handful of queries. A page is read before its drafts are claimed, so each claim
first asks `unchanged`, one query inside the claim's transaction, whether anything the verdict
depends on moved since: the case's status, an open hand-off, a pending promise recorded since
approval, the stated invoices' status and amounts, the debtor's valid contacts, the case's sent
letters. When it did, the outbox runs the full re-check instead. Reads only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, func, select, tuple_
from sqlalchemy.orm import Session
from sqlmodel import col

from assistant.db.models import Case, Contact, Creditor, Draft, Handoff, Invoice, Promise
from assistant.mail.window import aware

#: (status, amount_cents, outstanding_cents) of an invoice, by number.
InvoiceRow = tuple[str, int, int]


@dataclass(frozen=True)
class CaseRow:
    """The case of a draft as the outbox needs it (`ref`, `status`, whose it is)."""

    id: int
    ref: str
    status: str
    debtor_id: int
    creditor_id: int
    creditor: str | None  # the creditor's slug (None: the creditor row is gone)


@dataclass(frozen=True)
class LedgerFacts:
    """The facts one draft's re-check reads, as of one read of the database."""

    case: CaseRow
    open_handoffs: int
    promises: tuple[tuple[datetime, date], ...]  # pending: (created_at, due_on), by id
    invoices: Mapping[str, InvoiceRow]  # the draft's stated numbers found in the ledger
    contacts: tuple[tuple[int, str, str | None], ...]  # valid: (id, email, name), by id
    sent_at: tuple[datetime, ...]  # the case's sent letters


def stated_invoices(draft: Draft) -> dict[str, Decimal | None]:
    """Return the invoice numbers a draft states, with the outstanding it states (or None)."""
    out: dict[str, Decimal | None] = {}
    for item in (draft.facts or {}).get("invoices", []) or []:
        number = item.get("number") if isinstance(item, dict) else item
        if not number:
            continue
        try:
            outstanding = Decimal(str(item.get("outstanding"))) if isinstance(item, dict) else None
        except (InvalidOperation, TypeError):
            outstanding = None
        out[str(number)] = outstanding
    return out


def _case_rows(session: Session, case_ids: Iterable[int]) -> dict[int, CaseRow]:
    rows = session.execute(
        select(
            col(Case.id),
            col(Case.ref),
            col(Case.status),
            col(Case.debtor_id),
            col(Case.creditor_id),
            col(Creditor.slug),
        )
        .outerjoin(Creditor, col(Creditor.id) == col(Case.creditor_id))
        .where(col(Case.id).in_(set(case_ids)))
    ).all()
    return {r[0] or 0: CaseRow(r[0] or 0, *r[1:]) for r in rows}


def invoice_rows(
    session: Session, creditor_id: int, numbers: Iterable[str]
) -> dict[str, InvoiceRow]:
    """Return the ledger rows of a creditor's invoices `numbers` (absent ones are left out)."""
    wanted = list(numbers)
    if not wanted:
        return {}
    rows = session.execute(
        select(
            col(Invoice.number),
            col(Invoice.status),
            col(Invoice.amount_cents),
            col(Invoice.outstanding_cents),
        ).where(col(Invoice.creditor_id) == creditor_id, col(Invoice.number).in_(wanted))
    ).all()
    return {n: (s, a, o) for n, s, a, o in rows}


def load_page(session: Session, drafts: list[Draft]) -> dict[int, LedgerFacts]:
    """Return the re-check facts of each of `drafts`, by draft id, in seven queries."""
    if not drafts:
        return {}
    cases = _case_rows(session, {d.case_id for d in drafts})
    case_ids = list(cases)
    debtor_ids = {c.debtor_id for c in cases.values()}
    handoffs: dict[int, int] = defaultdict(int)
    for (case_id,) in session.execute(
        select(col(Handoff.case_id)).where(
            col(Handoff.case_id).in_(case_ids),
            col(Handoff.status) == "open",
        )
    ):
        handoffs[case_id] += 1
    promises: dict[int, list[tuple[datetime, date]]] = defaultdict(list)
    for case_id, created, due in session.execute(
        select(col(Promise.case_id), col(Promise.created_at), col(Promise.due_on))
        .where(col(Promise.case_id).in_(case_ids), col(Promise.status) == "pending")
        .order_by(col(Promise.id))
    ):
        promises[case_id].append((created, due))
    wanted: dict[int, set[str]] = defaultdict(set)  # creditor id -> numbers
    for d in drafts:
        case = cases.get(d.case_id)
        if case is not None:
            wanted[case.creditor_id].update(stated_invoices(d))
    invoices: dict[tuple[int, str], InvoiceRow] = {}
    for creditor_id, numbers in wanted.items():
        for number, row in invoice_rows(session, creditor_id, sorted(numbers)).items():
            invoices[(creditor_id, number)] = row
    contacts: dict[int, list[tuple[int, str, str | None]]] = defaultdict(list)
    for debtor_id, contact_id, email, name in session.execute(
        select(col(Contact.debtor_id), col(Contact.id), col(Contact.email), col(Contact.name))
        .where(col(Contact.debtor_id).in_(debtor_ids), col(Contact.valid) == True)  # noqa: E712
        .order_by(col(Contact.id))
    ):
        contacts[debtor_id].append((contact_id or 0, email, name))
    sent: dict[int, list[datetime]] = defaultdict(list)
    for case_id, sent_at in session.execute(
        select(col(Draft.case_id), col(Draft.sent_at)).where(
            col(Draft.case_id).in_(case_ids),
            col(Draft.status) == "sent",
            col(Draft.sent_at).is_not(None),
        )
    ):
        if sent_at is not None:
            sent[case_id].append(sent_at)
    out: dict[int, LedgerFacts] = {}
    for d in drafts:
        case = cases.get(d.case_id)
        if case is None or d.id is None:
            continue
        found = ((n, invoices.get((case.creditor_id, n))) for n in stated_invoices(d))
        out[d.id] = LedgerFacts(
            case=case,
            open_handoffs=handoffs.get(case.id, 0),
            promises=tuple(promises.get(case.id, ())),
            invoices={n: row for n, row in found if row is not None},
            contacts=tuple(contacts.get(case.debtor_id, ())),
            sent_at=tuple(sent.get(case.id, ())),
        )
    return out


def load_facts(session: Session, draft: Draft) -> LedgerFacts | None:
    """Return the re-check facts of one draft as they are now (None: its case is gone)."""
    return load_page(session, [draft]).get(draft.id or 0)


@lru_cache(maxsize=4)
def _probe(with_invoices: bool, with_contacts: bool) -> Any:
    """Build the probe's one statement once (its values are bound at each call)."""
    case_id: Any = bindparam("case_id")
    debtor_id: Any = bindparam("debtor_id")
    sent = (
        col(Draft.case_id) == case_id,
        col(Draft.status) == "sent",
        col(Draft.sent_at).is_not(None),
    )
    valid = (col(Contact.debtor_id) == debtor_id, col(Contact.valid) == True)  # noqa: E712
    columns: list[Any] = [
        select(col(Case.status)).where(col(Case.id) == case_id),
        select(func.count()).where(col(Handoff.case_id) == case_id, col(Handoff.status) == "open"),
        select(func.max(col(Promise.created_at))).where(
            col(Promise.case_id) == case_id, col(Promise.status) == "pending"
        ),
        select(func.count()).where(*valid),
        select(func.count()).where(*sent),
        select(func.max(col(Draft.sent_at))).where(*sent),
    ]
    if with_invoices:
        invoice = tuple_(
            col(Invoice.number),
            col(Invoice.status),
            col(Invoice.amount_cents),
            col(Invoice.outstanding_cents),
        )
        columns.append(
            select(func.count()).where(
                col(Invoice.creditor_id) == bindparam("creditor_id"),
                invoice.in_(bindparam("invoices", expanding=True)),
            )
        )
    if with_contacts:
        contact = tuple_(col(Contact.id), col(Contact.email), func.coalesce(col(Contact.name), ""))
        columns.append(
            select(func.count()).where(*valid, contact.in_(bindparam("contacts", expanding=True)))
        )
    return select(*(c.scalar_subquery() for c in columns))


def unchanged(session: Session, draft: Draft, facts: LedgerFacts) -> bool:
    """Say, in one query, that nothing the re-check of `draft` reads moved since `facts`.

    Compared: the case's status; the number of open hand-offs; the newest pending promise
    (a promise recorded since approval must be seen); each stated invoice's status, amount and
    outstanding; the debtor's valid contacts (ids, addresses, names); the case's sent letters.
    """
    case = facts.case
    if set(stated_invoices(draft)) != set(facts.invoices):
        return False  # an invoice was missing: only the full re-check says what to do
    invoices = [(n, *row) for n, row in facts.invoices.items()]
    contacts = [(i, e, n or "") for i, e, n in facts.contacts]
    params: dict[str, Any] = {"case_id": case.id, "debtor_id": case.debtor_id}
    if invoices:
        params.update(creditor_id=case.creditor_id, invoices=invoices)
    if contacts:
        params["contacts"] = contacts
    row = session.execute(_probe(bool(invoices), bool(contacts)), params).one()
    status, handoffs, newest_promise, n_contacts, n_sent, last_sent = row[:6]
    rest = list(row[6:])
    if status != case.status or handoffs != facts.open_handoffs:
        return False
    if newest_promise is not None:
        approved = aware(draft.decided_at or draft.created_at)
        if aware(newest_promise) > approved:
            return False
    if n_contacts != len(facts.contacts) or n_sent != len(facts.sent_at):
        return False
    last = max(facts.sent_at, default=None)
    if (last_sent is None) != (last is None) or (
        last_sent is not None and last is not None and aware(last_sent) != aware(last)
    ):
        return False
    if invoices and rest.pop(0) != len(invoices):
        return False
    return not (contacts and rest.pop(0) != len(contacts))
