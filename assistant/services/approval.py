"""The approval queue: approve (with four-eyes), reject, edit, and record a sent letter.

Nothing reaches a debtor without passing through `approve_draft`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from email.utils import make_msgid

from sqlmodel import Session, col, select

from assistant.db.models import Case, Contact, Creditor, Debtor, Draft, utcnow
from assistant.domain import Finding
from assistant.policy.schema import Policy
from assistant.services.audit import record
from assistant.services.draft_state import ApprovalError, DraftConflict, move_draft

__all__ = ["ApprovalError", "ApprovalResult", "DraftConflict", "approve_draft", "reject_draft"]


@dataclass(frozen=True)
class ApprovalResult:
    """The outcome of one approval."""

    draft_id: int
    status: str
    message: str


def sender_domain(policy: Policy, smtp_from: str | None = None) -> str:
    """Return the domain used for Message-IDs: the sending address's domain."""
    for address in (
        smtp_from,
        policy.agency.email if policy.agency else None,
        policy.creditor.email,
    ):
        if address and "@" in address:
            return address.rsplit("@", 1)[1].strip(">").lower()
    return "relance.invalid"


def _get(session: Session, draft_id: int) -> tuple[Draft, Case]:
    draft = session.get(Draft, draft_id)
    if draft is None:
        raise ApprovalError(f"draft {draft_id} does not exist")
    case = session.get(Case, draft.case_id)
    assert case is not None
    return draft, case


def blocking_findings(draft: Draft) -> list[dict[str, object]]:
    """Return the draft's blocking findings."""
    return [f for f in draft.findings if f.get("blocking")]


def approve_draft(
    session: Session,
    draft_id: int,
    actor: str,
    policies: dict[str, Policy],
    smtp_from: str | None = None,
) -> ApprovalResult:
    """Approve a pending draft; a four-eyes step needs two different officers."""
    draft, case = _get(session, draft_id)
    if draft.status != "pending":
        raise ApprovalError(f"draft {draft_id} is {draft.status}, not pending")
    blocking = blocking_findings(draft)
    if blocking:
        raise ApprovalError(
            f"draft {draft_id} has {len(blocking)} blocking finding(s): "
            + "; ".join(str(f["message"]) for f in blocking)
        )
    if case.status in ("paused", "closed"):
        raise ApprovalError(f"draft {draft_id}: case {case.ref} is {case.status}")
    from assistant.services.outbox_checks import ledger_change  # the send-time rule, once

    changed = ledger_change(session, draft, case)
    if changed:
        raise ApprovalError(
            f"draft {draft_id} no longer matches the ledger ({changed} since it was written): "
            "reject it, the next cycle drafts a letter with today's figures"
        )
    if draft.requires_four_eyes:
        if draft.first_approver is None:
            move_draft(session, draft, "pending", attempt="approval", first_approver=actor)
            record(session, actor, "draft.first_approval", "draft", draft.id, case=case.ref)
            return ApprovalResult(
                draft_id,
                "pending",
                "first approval recorded: a second officer must approve (four-eyes)",
            )
        if draft.first_approver == actor:
            raise ApprovalError(
                f"draft {draft_id} needs a second approver other than {actor} (four-eyes)"
            )
    debtor = session.get(Debtor, case.debtor_id)
    assert debtor is not None
    policy = _policy_of(session, case, policies)
    emails = session.exec(
        select(Contact.email)
        .where(
            Contact.debtor_id == debtor.id,
            Contact.valid == True,  # noqa: E712
        )
        .order_by(col(Contact.id))
    ).all()
    if not emails:
        raise ApprovalError(f"draft {draft_id}: the debtor has no valid email address")
    previous: list[str] = [
        m
        for m in session.exec(
            select(Draft.message_id)
            .where(
                Draft.case_id == case.id, Draft.status == "sent", col(Draft.message_id).is_not(None)
            )
            .order_by(col(Draft.sent_at))
        ).all()
        if m
    ]
    move_draft(
        session,
        draft,
        "approved",
        attempt="approval",
        # A Message-ID names one text: kept when the draft comes back unchanged (returned by
        # the send-time check, or resolved as not sent); an edit clears it.
        message_id=draft.message_id
        or make_msgid(idstring=case.ref, domain=sender_domain(policy, smtp_from)).strip("<>"),
        in_reply_to=previous[-1] if previous else None,
        references=" ".join(previous) if previous else None,
        to_addrs=", ".join(emails),
        decided_by=actor,
        decided_at=utcnow(),
    )
    record(
        session,
        actor,
        "draft.approved",
        "draft",
        draft.id,
        case=case.ref,
        message_id=draft.message_id,
        first_approver=draft.first_approver,
    )
    return ApprovalResult(draft_id, "approved", f"approved; Message-ID <{draft.message_id}>")


def reject_draft(session: Session, draft_id: int, actor: str, reason: str) -> ApprovalResult:
    """Reject a pending or approved draft with a reason."""
    if not reason.strip():
        raise ApprovalError("a reason is required to reject a draft")
    draft, case = _get(session, draft_id)
    if draft.status not in ("pending", "approved"):
        raise ApprovalError(f"draft {draft_id} is {draft.status}: it can no longer be rejected")
    move_draft(
        session,
        draft,
        "rejected",
        attempt="rejection",
        reject_reason=reason,
        decided_by=actor,
        decided_at=utcnow(),
    )
    record(session, actor, "draft.rejected", "draft", draft.id, case=case.ref, reason=reason)
    return ApprovalResult(draft_id, "rejected", f"rejected: {reason}")


def apply_edit(
    session: Session,
    draft_id: int,
    actor: str,
    subject: str,
    text: str,
    html: str,
    findings: list[Finding],
    *,
    version: int | None = None,
) -> ApprovalResult:
    """Store an officer's edit and its fresh validation; the draft goes back to pending.

    `version` is the draft's version when the officer started editing: if anything moved
    the draft since (an approval, a send), the edit is refused and nothing is saved.
    """
    draft, case = _get(session, draft_id)
    if draft.status not in ("pending", "approved"):
        raise DraftConflict(
            f"draft {draft_id} is {draft.status}: it can no longer be edited; "
            "your edit was not saved"
        )
    changed = subject != draft.subject or text != draft.body_text
    values: dict[str, object] = {"pdf": None} if changed else {}
    move_draft(
        session,
        draft,
        "pending",
        attempt="edit",
        version=version,
        subject=subject,
        body_text=text,
        body_html=html,
        findings=[f.as_dict() for f in findings],
        first_approver=None,
        message_id=None,
        **values,
    )
    record(
        session,
        actor,
        "draft.edited",
        "draft",
        draft.id,
        case=case.ref,
        changed=changed,
        blocking=sum(1 for f in findings if f.blocking),
    )
    blocking = sum(1 for f in findings if f.blocking)
    return ApprovalResult(
        draft_id,
        "pending",
        f"edited; {blocking} blocking finding(s)" if blocking else "edited; valid",
    )


def record_sent(session: Session, draft: Draft, sent_at: datetime, actor: str) -> None:
    """Mark `draft` sent and move its case along the ladder (call once SMTP accepted it)."""
    case = session.get(Case, draft.case_id)
    assert case is not None
    move_draft(session, draft, "sent", attempt="sent mark", sent_at=sent_at)
    on: date = sent_at.date()
    if draft.kind == "step":
        index = draft.facts.get("step_index")
        if isinstance(index, int):
            case.step_index = index
        case.step_name = draft.step
        case.broken_promise_pending = False
        if case.first_letter_on is None:
            case.first_letter_on = on
            case.first_letter_ref = draft.message_id
    case.last_contact_on = on
    case.updated_at = utcnow()
    session.add(case)
    record(
        session,
        actor,
        "draft.sent",
        "draft",
        draft.id,
        case=case.ref,
        message_id=draft.message_id,
        step=draft.step,
    )


def _policy_of(session: Session, case: Case, policies: dict[str, Policy]) -> Policy:
    creditor = session.get(Creditor, case.creditor_id)
    assert creditor is not None
    if creditor.slug not in policies:
        raise ApprovalError(f"no policy for creditor {creditor.slug!r}")
    return policies[creditor.slug]
