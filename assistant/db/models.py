"""SQLModel tables: the ledger, cases, drafts and the audit trail.

Money is stored as integer cents (`*_cents`) so SQLite and PostgreSQL agree to the cent;
the domain layer works in `Decimal`. Nothing here talks to a database at import time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Column, LargeBinary, UniqueConstraint, event
from sqlalchemy import inspect as sa_inspect
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    """Return the current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class Creditor(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(index=True, unique=True)
    name: str
    created_at: datetime = Field(default_factory=utcnow)


class Debtor(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("creditor_id", "account_ref"),)
    id: int | None = Field(default=None, primary_key=True)
    creditor_id: int = Field(foreign_key="creditor.id", index=True)
    account_ref: str
    legal_name: str
    siren: str | None = None
    vat_number: str | None = None
    kind: str = "company"  # company | consumer
    language: str | None = None  # fr | en; None: the policy's language
    key_account: bool = False
    address: str | None = None  # postal address, for the registered formal notice
    created_at: datetime = Field(default_factory=utcnow)


class Contact(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("debtor_id", "email"),)
    id: int | None = Field(default=None, primary_key=True)
    debtor_id: int = Field(foreign_key="debtor.id", index=True)
    email: str = Field(index=True)
    name: str | None = None
    valid: bool = True
    invalid_reason: str | None = None
    role: str | None = None  # ap | finance | manager | other (officer-given)
    source: str | None = None  # import | reply | officer; None: before the column existed
    confirmed_by: str | None = None  # the officer who confirmed or re-validated it
    confirmed_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class Invoice(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("creditor_id", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    creditor_id: int = Field(foreign_key="creditor.id", index=True)
    debtor_id: int = Field(foreign_key="debtor.id", index=True)
    number: str
    issue_date: date | None = None
    due_date: date
    amount_cents: int
    outstanding_cents: int
    currency: str = "EUR"
    status: str = Field(default="open", index=True)  # open|paid|disputed|frozen|written_off
    paid_date: date | None = None
    updated_at: datetime = Field(default_factory=utcnow)


class Payment(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("creditor_id", "reference"),)
    id: int | None = Field(default=None, primary_key=True)
    creditor_id: int = Field(foreign_key="creditor.id", index=True)
    debtor_id: int = Field(foreign_key="debtor.id", index=True)
    invoice_id: int | None = Field(default=None, foreign_key="invoice.id")
    reference: str
    amount_cents: int
    currency: str = "EUR"
    paid_on: date
    created_at: datetime = Field(default_factory=utcnow)


class Case(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("creditor_id", "debtor_id"),)
    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(index=True, unique=True)
    creditor_id: int = Field(foreign_key="creditor.id", index=True)
    debtor_id: int = Field(foreign_key="debtor.id", index=True)
    status: str = Field(default="active", index=True)  # active|paused|promise|handoff|closed
    step_index: int = -1  # index of the last ladder step sent; -1: none yet
    step_name: str | None = None
    last_contact_on: date | None = None
    first_letter_on: date | None = None
    first_letter_ref: str | None = None
    paused_until: date | None = None
    broken_promise_pending: bool = False
    # An officer's last "resume" of a hand-off and the facts then (see planner.plan_case).
    resumed_on: date | None = None
    resumed_balance_cents: int | None = None
    resumed_broken_promises: int | None = None
    opened_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


#: Draft statuses in which a ladder letter blocks another one for the same case and step.
LIVE_KEY_STATUSES = ("pending", "approved", "sending", "unknown")


def draft_live_key(case_id: int, kind: str, step: str, status: str) -> str | None:
    """Return the `live_key` of a draft in `status` (None once it left the live statuses)."""
    if kind != "step" or status not in LIVE_KEY_STATUSES:
        return None
    return f"{case_id}:{kind}:{step}"


class Draft(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    kind: str = "step"  # step | acknowledgement | answer | plan_proposal | remittance_request
    step: str
    subject: str
    body_text: str
    body_html: str
    pdf: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    engine: str = "template"
    engine_note: str | None = None
    facts: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    findings: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))
    status: str = Field(default="pending", index=True)
    # pending|approved|rejected|sending|sent|failed|unknown
    requires_four_eyes: bool = False
    first_approver: str | None = None
    created_by: str = "relance"
    created_at: datetime = Field(default_factory=utcnow)
    decided_by: str | None = None
    decided_at: datetime | None = None
    reject_reason: str | None = None
    review_reason: str | None = None
    message_id: str | None = Field(default=None, index=True)
    in_reply_to: str | None = None
    references: str | None = None
    to_addrs: str | None = None
    attempts: int = 0
    last_error: str | None = None
    sent_at: datetime | None = None
    # Bumped by every status change and edit: writers compare-and-set on (status, version).
    version: int = 0
    # "<case_id>:step:<step>" while a ladder letter is live (see LIVE_KEY_STATUSES), else NULL:
    # the unique constraint keeps one live letter per case and step, whoever writes it.
    live_key: str | None = Field(default=None, unique=True)


class Promise(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    amount_cents: int | None = None
    currency: str | None = None
    due_on: date
    grace_days: int = 3
    status: str = Field(default="pending", index=True)  # pending|kept|broken|cancelled
    source: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    resolved_on: date | None = None


class Handoff(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    reason: str
    summary: str
    evidence: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    status: str = Field(default="open", index=True)  # open|resolved
    created_at: datetime = Field(default_factory=utcnow)
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    resolution: str | None = None


class Task(SQLModel, table=True):
    """An officer task that needs no hand-off: verify a payment, fix a contact…"""

    id: int | None = Field(default=None, primary_key=True)
    case_id: int | None = Field(default=None, foreign_key="case.id", index=True)
    kind: str
    detail: str
    status: str = Field(default="open", index=True)  # open|done
    created_at: datetime = Field(default_factory=utcnow)
    done_by: str | None = None
    done_at: datetime | None = None


class AuditEvent(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor: str
    action: str = Field(index=True)
    entity: str | None = None
    entity_id: str | None = None
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))


@event.listens_for(Draft.status, "set")
def _status_sets_live_key(target: Draft, value: str, _old: Any, _initiator: Any) -> None:
    """Keep `live_key` in step with `status` on every ORM change (withdrawals included).

    A stored draft's `version` moves too, so a writer holding the old version loses its
    compare-and-set instead of overwriting the change.
    """
    if sa_inspect(target).persistent:
        target.version = (target.version or 0) + 1
    if target.case_id is not None and target.step is not None:
        target.live_key = draft_live_key(target.case_id, target.kind or "step", target.step, value)


@event.listens_for(Draft, "before_insert")
def _insert_sets_live_key(_mapper: Any, _conn: Any, target: Draft) -> None:
    """Compute `live_key` of a new draft from its case, kind, step and status."""
    target.live_key = draft_live_key(target.case_id, target.kind, target.step, target.status)
