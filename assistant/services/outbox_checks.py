"""Send-time re-check of approved drafts, and the dry-run list of what would go out.

Reads the ledger as it is now and compares it with what the draft states; writes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, select

from assistant.bootstrap import App
from assistant.db.models import Case, Creditor, Draft
from assistant.mail.compose import split_addresses
from assistant.mail.window import aware, outside_sending_window, over_contact_cap
from assistant.policy.schema import Policy
from assistant.services.outbox_facts import (
    InvoiceRow,
    LedgerFacts,
    invoice_rows,
    load_facts,
    stated_invoices,
)

SETTLED_INVOICE = {"paid", "disputed", "frozen", "written_off"}


@dataclass(frozen=True)
class Verdict:
    """The send-time re-check of one approved draft."""

    to: tuple[str, ...] = ()
    names: dict[str, str] = field(default_factory=dict)
    review: str | None = None  # facts changed: back to `pending` with this reason
    hold: str | None = None  # not now (window, cap): stays `approved`


@dataclass(frozen=True)
class OutboxItem:
    """One approved draft as `relance send` (without --yes) lists it."""

    draft_id: int
    case_ref: str
    creditor: str
    to: tuple[str, ...]
    subject: str
    step: str
    review: str | None
    hold: str | None

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-ready form."""
        return {
            "draft": self.draft_id,
            "case": self.case_ref,
            "creditor": self.creditor,
            "to": list(self.to),
            "subject": self.subject,
            "step": self.step,
            "would": "review" if self.review else "hold" if self.hold else "send",
            "reason": self.review or self.hold,
        }


def policy_of(session: Session, case: Case, policies: dict[str, Policy]) -> Policy | None:
    creditor = session.get(Creditor, case.creditor_id)
    return policies.get(creditor.slug) if creditor else None


def ledger_change_of(
    stated: Mapping[str, Decimal | None], rows: Mapping[str, InvoiceRow]
) -> str | None:
    """Say how the ledger `rows` no longer match the `stated` invoices (None: they do)."""
    for number, outstanding in stated.items():
        row = rows.get(number)
        if row is None:
            return f"invoice {number} is no longer in the ledger"
        status, amount_cents, outstanding_cents = row
        if status in SETTLED_INVOICE:
            return f"invoice {number} is {status}"
        credit = amount_cents < 0 or (outstanding is not None and outstanding < 0)
        if outstanding_cents == 0 or (outstanding_cents < 0 and not credit):
            used = "credit note {} has been used" if credit else "invoice {} has been paid"
            return used.format(number)
        if outstanding is not None and int(outstanding * 100) != outstanding_cents:
            return (
                f"invoice {number}: outstanding changed from {outstanding} to "
                f"{Decimal(outstanding_cents) / 100:.2f}"
            )
    return None


def ledger_change(session: Session, draft: Draft, case: Case) -> str | None:
    """Say how the ledger no longer matches the invoices the draft states (None: it does)."""
    stated = stated_invoices(draft)
    if not stated:
        return None
    return ledger_change_of(stated, invoice_rows(session, case.creditor_id, stated))


def judge(draft: Draft, facts: LedgerFacts, policy: Policy | None, now: datetime) -> Verdict:
    """Decide what sending `draft` now would do, given its case's `facts` (pure)."""
    if policy is None:
        return Verdict(review="no policy is loaded for this creditor")
    if facts.case.status == "closed":
        return Verdict(review="the case was closed since approval")
    if facts.case.status == "paused":
        return Verdict(review="the case is paused: an officer stopped its dunning")
    if facts.open_handoffs:
        return Verdict(review="the case has an open hand-off")
    approved_at = aware(draft.decided_at or draft.created_at)
    for created_at, due_on in facts.promises:
        if aware(created_at) > approved_at:
            return Verdict(review=f"a payment promise (due {due_on}) was recorded since approval")
    stated = stated_invoices(draft)
    changed = ledger_change_of(stated, facts.invoices) if stated else None
    if changed:
        return Verdict(review=f"{changed} since approval")
    valid = {email.lower(): name for _, email, name in facts.contacts}
    wanted = split_addresses(draft.to_addrs) or [email for _, email, _ in facts.contacts]
    to = tuple(a for a in wanted if a.lower() in valid)
    if not to:
        return Verdict(review="no valid contact address is left for the debtor")
    names = {a: valid[a.lower()] or "" for a in to}
    # The contact cap spaces out reminders the debtor did not ask for; an answer to the
    # debtor's own message (acknowledgement, plan, information) is not held back by it.
    hold = None
    if draft.kind == "step":
        hold = over_contact_cap(policy.contact_cap, [t for t in facts.sent_at if t], now)
    hold = hold or outside_sending_window(policy.sending, now)
    return Verdict(to=to, names=names, hold=hold)


def check_draft(
    session: Session, draft: Draft, case: Case, policy: Policy | None, now: datetime
) -> Verdict:
    """Re-check an approved draft against the ledger and the policy as they are now."""
    if policy is None:
        return Verdict(review="no policy is loaded for this creditor")
    facts = load_facts(session, draft)
    assert facts is not None and facts.case.id == case.id
    return judge(draft, facts, policy, now)


def plan_outbox(app: App, now: datetime, *, limit: int | None = None) -> list[OutboxItem]:
    """List the approved drafts and what sending them now would do (changes nothing)."""
    items: list[OutboxItem] = []
    with Session(app.engine) as session:
        for draft in approved_drafts(session, limit):
            case = session.get(Case, draft.case_id)
            assert case is not None
            policy = policy_of(session, case, app.policies)
            verdict = check_draft(session, draft, case, policy, now)
            items.append(
                OutboxItem(
                    draft_id=draft.id or 0,
                    case_ref=case.ref,
                    creditor=policy.slug if policy else "?",
                    to=verdict.to or tuple(split_addresses(draft.to_addrs)),
                    subject=draft.subject,
                    step=draft.step,
                    review=verdict.review,
                    hold=verdict.hold,
                )
            )
    return items


def approved_drafts(session: Session, limit: int | None) -> list[Draft]:
    query = (
        select(Draft)
        .where(Draft.status == "approved")
        .order_by(col(Draft.decided_at), col(Draft.id))
    )
    if limit:
        query = query.limit(limit)
    return list(session.exec(query).all())
