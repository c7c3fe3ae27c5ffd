"""The approval queue as people see it: list and open drafts within a scope, approve in bulk.

Shared by the CLI and the web workspace so "which drafts a bulk approval takes" is decided once.
An object outside the caller's scope is reported exactly like a missing one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from assistant.db.models import Case, Creditor, Debtor, Draft
from assistant.policy.schema import Policy
from assistant.services.approval import (
    ApprovalError,
    ApprovalResult,
    approve_draft,
    blocking_findings,
)
from assistant.services.users import Scope

FINDINGS_FILTERS = ("valid", "warning", "blocking")


@dataclass(frozen=True)
class QueueFilter:
    """What an officer narrows the queue to; None means any."""

    status: str | None = "pending"
    creditor: str | None = None
    step: str | None = None
    engine: str | None = None
    findings: str | None = None  # valid | warning | blocking
    four_eyes: bool | None = None
    case_ref: str | None = None


@dataclass(frozen=True)
class QueueRow:
    """One draft with its case, creditor and debtor."""

    draft: Draft
    case: Case
    creditor: Creditor
    debtor: Debtor

    @property
    def blocking(self) -> int:
        """Return the number of blocking findings."""
        return len(blocking_findings(self.draft))

    @property
    def warnings(self) -> int:
        """Return the number of non-blocking findings."""
        return sum(1 for f in self.draft.findings if not f.get("blocking"))

    @property
    def verdict(self) -> str:
        """Return valid, warning or blocking."""
        if self.blocking:
            return "blocking"
        return "warning" if self.warnings else "valid"


def _query(scope: Scope | None):  # type: ignore[no-untyped-def]
    query = (
        select(Draft, Case, Creditor, Debtor)
        .join(Case, col(Case.id) == Draft.case_id)
        .join(Creditor, col(Creditor.id) == Case.creditor_id)
        .join(Debtor, col(Debtor.id) == Case.debtor_id)
    )
    if scope is not None and scope.creditors is not None:
        query = query.where(col(Creditor.slug).in_(sorted(scope.creditors)))
    return query


def list_queue(session: Session, scope: Scope | None, flt: QueueFilter) -> list[QueueRow]:
    """Return the drafts matching `flt` that `scope` may see, oldest first."""
    query = _query(scope).order_by(col(Draft.id))
    if flt.status:
        query = query.where(Draft.status == flt.status)
    if flt.creditor:
        query = query.where(Creditor.slug == flt.creditor)
    if flt.step:
        query = query.where(Draft.step == flt.step)
    if flt.engine:
        query = query.where(Draft.engine == flt.engine)
    if flt.four_eyes is not None:
        query = query.where(Draft.requires_four_eyes == flt.four_eyes)
    if flt.case_ref:
        query = query.where(Case.ref == flt.case_ref)
    rows = [QueueRow(*r) for r in session.exec(query).all()]
    if flt.findings:
        rows = [r for r in rows if r.verdict == flt.findings]
    return rows


def queue_row(session: Session, scope: Scope | None, draft_id: int) -> QueueRow | None:
    """Return one draft if it exists and `scope` may see it (else None, as if missing)."""
    row = session.exec(_query(scope).where(Draft.id == draft_id)).first()
    return QueueRow(*row) if row is not None else None


def facets(session: Session, scope: Scope | None) -> dict[str, list[str]]:
    """Return the values the queue can be filtered on (creditors, steps, engines)."""
    rows = session.exec(
        _query(scope)
        .where(Draft.status == "pending")
        .with_only_columns(Creditor.slug, Draft.step, Draft.engine)
        .distinct()
    ).all()
    return {
        "creditor": sorted({r[0] for r in rows}),
        "step": sorted({r[1] for r in rows}),
        "engine": sorted({r[2] for r in rows}),
    }


def approvable_ids(session: Session, scope: Scope | None, actor: str) -> list[int]:
    """Return the pending drafts a bulk approval takes: no blocking finding, and not
    first-approved by `actor` (a four-eyes draft needs someone else)."""
    return [
        r.draft.id or 0
        for r in list_queue(session, scope, QueueFilter(status="pending"))
        if not r.blocking and r.draft.first_approver != actor
    ]


@dataclass(frozen=True)
class BulkOutcome:
    """What a bulk approval did, draft by draft."""

    results: list[ApprovalResult]
    refused: list[tuple[int, str]]

    def as_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {
            "approved": [r.draft_id for r in self.results if r.status == "approved"],
            "first_approved": [r.draft_id for r in self.results if r.status == "pending"],
            "refused": [{"id": i, "reason": why} for i, why in self.refused],
        }


def approve_many(
    session: Session,
    scope: Scope | None,
    draft_ids: Sequence[int],
    actor: str,
    policies: dict[str, Policy],
    smtp_from: str | None = None,
) -> BulkOutcome:
    """Approve each draft on its own (one refusal never blocks the others)."""
    results: list[ApprovalResult] = []
    refused: list[tuple[int, str]] = []
    for draft_id in draft_ids:
        if queue_row(session, scope, draft_id) is None:
            refused.append((draft_id, f"draft {draft_id} does not exist"))
            continue
        try:
            with session.begin_nested():
                results.append(approve_draft(session, draft_id, actor, policies, smtp_from))
        except ApprovalError as exc:
            refused.append((draft_id, str(exc)))
    return BulkOutcome(results, refused)


def draft_json(row: QueueRow, *, full: bool = False) -> dict[str, Any]:
    """Return a draft as the JSON API and `drafts list --json` show it."""
    draft, facts = row.draft, row.draft.facts or {}
    data: dict[str, Any] = {
        "id": draft.id,
        "case": row.case.ref,
        "creditor": row.creditor.slug,
        "debtor_ref": row.debtor.account_ref,
        "debtor": row.debtor.legal_name,
        "kind": draft.kind,
        "step": draft.step,
        "status": draft.status,
        "engine": draft.engine,
        "subject": draft.subject,
        "total": facts.get("total_outstanding"),
        "currency": facts.get("currency"),
        "invoices": [i["number"] for i in facts.get("invoices", [])],
        "blocking": row.blocking,
        "warnings": row.warnings,
        "findings": draft.findings,
        "requires_four_eyes": draft.requires_four_eyes,
        "first_approver": draft.first_approver,
        "message_id": draft.message_id,
        "to": draft.to_addrs,
        "created_at": draft.created_at,
        "decided_by": draft.decided_by,
        "reject_reason": draft.reject_reason,
        "sent_at": draft.sent_at,
    }
    if full:
        data.update(body_text=draft.body_text, body_html=draft.body_html, has_pdf=bool(draft.pdf))
    return data
