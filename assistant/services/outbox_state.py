"""State changes of outgoing drafts, each with its audit event; crash recovery of `sending`;
an officer's resolution of an `unknown` draft.

Used by the outbox run; every function here is one small transaction or part of one, and
every status change is a compare-and-set (`move_draft`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from assistant.bootstrap import App
from assistant.db.engine import session_scope
from assistant.db.models import AuditEvent, Case, Contact, Debtor, Draft, Task, utcnow
from assistant.mail.compose import bracket
from assistant.mail.ports import Mailbox, MailboxError
from assistant.services.approval import record_sent
from assistant.services.audit import record
from assistant.services.draft_state import ApprovalError, DraftConflict, move_draft
from assistant.services.leases import is_postgres, lock_free

OutboxProgress = Callable[[str, int, str], None]


def emit(progress: OutboxProgress | None, event: str, draft_id: int, detail: str = "") -> None:
    """Tell the caller's progress callback about one event."""
    if progress is not None:
        progress(event, draft_id, detail)


def invalidate_address(
    session: Session, email: str, reason: str, actor: str, *, debtor_id: int | None = None
) -> list[Contact]:
    """Mark every contact with `email` invalid and open one officer task per case."""
    query = select(Contact).where(func.lower(Contact.email) == email.strip().lower())
    if debtor_id is not None:
        query = query.where(Contact.debtor_id == debtor_id)
    changed = []
    for contact in session.exec(query).all():
        if not contact.valid:
            continue
        contact.valid = False
        contact.invalid_reason = reason[:500]
        session.add(contact)
        changed.append(contact)
        case = session.exec(select(Case).where(Case.debtor_id == contact.debtor_id)).first()
        debtor = session.get(Debtor, contact.debtor_id)
        who = debtor.legal_name if debtor else f"debtor {contact.debtor_id}"
        session.add(
            Task(
                case_id=case.id if case else None,
                kind="contact_invalid",
                detail=f"{contact.email} ({who}) no longer receives mail: {reason[:300]}. "
                "Find a valid address.",
            )
        )
        record(
            session,
            actor,
            "contact.invalidated",
            "contact",
            contact.id,
            email=contact.email,
            reason=reason[:300],
            case=case.ref if case else None,
        )
    return changed


def draft_lock(draft_id: int) -> str:
    """Return the lease name a PostgreSQL sender holds while draft `draft_id` is in flight."""
    return f"draft:{draft_id}"


def to_pending(session: Session, draft: Draft, reason: str, actor: str) -> None:
    """Return an approved draft to review with `reason` (compare-and-set)."""
    move_draft(
        session,
        draft,
        "pending",
        attempt="return to review",
        review_reason=reason,
        first_approver=None,
    )
    record(session, actor, "draft.returned_for_review", "draft", draft.id, reason=reason)


def open_task(session: Session, draft: Draft, kind: str, detail: str) -> None:
    session.add(Task(case_id=draft.case_id, kind=kind, detail=detail))


def claim(
    session: Session, draft_id: int, version: int, message_id: str | None, actor: str
) -> bool:
    """approved → sending at `version` (the one the message was composed from).

    Returns False when someone moved or edited the draft first; the caller commits.
    """
    draft = session.get(Draft, draft_id)
    if draft is None or draft.status != "approved" or draft.version != version:
        return False
    # No re-read: the compare-and-set below matches the row's status and version in the
    # database, so a draft moved or edited since it was read is never claimed.
    values: dict[str, Any] = {"last_error": None}
    if message_id:
        values["message_id"] = message_id
    try:
        move_draft(session, draft, "sending", attempt="send claim", version=version, **values)
    except DraftConflict:
        return False
    record(session, actor, "draft.sending", "draft", draft_id, message_id=draft.message_id)
    return True


def finish(
    engine: Engine, draft_id: int, tried: int, change: Callable[[Session, Draft], None]
) -> None:
    """Apply the outcome of a delivery to a draft this process holds in `sending`."""
    with session_scope(engine) as session:
        draft = session.get(Draft, draft_id)
        assert draft is not None
        if draft.status != "sending":
            raise DraftConflict(f"draft {draft_id} left `sending` while it was being sent")
        draft.attempts += tried
        change(session, draft)
        session.add(draft)


def _stuck_outcome(
    app: App, draft_id: int, message_id: str | None, found: bool, folder: str | None, now: datetime
) -> str | None:
    """Record a stuck draft as sent (found in Sent) or unknown; None when it moved meanwhile."""
    actor = app.actor
    with session_scope(app.engine) as session:
        draft = session.get(Draft, draft_id)
        if draft is None or draft.status != "sending":
            return None
        if found:
            draft.last_error = None
            record_sent(session, draft, now, actor)
            record(
                session,
                actor,
                "draft.recovered",
                "draft",
                draft_id,
                outcome="sent",
                evidence=f"Message-ID found in {folder}",
            )
            return f"sent: found in {folder}"
        why = f"not found in {folder}" if folder else "no IMAP Sent folder to check"
        move_draft(
            session,
            draft,
            "unknown",
            attempt="recovery",
            last_error=f"interrupted while sending; {why}",
        )
        open_task(
            session,
            draft,
            "send_unknown",
            f"Draft {draft_id} (Message-ID {bracket(message_id or '?')}) was being sent "
            f"when the sender stopped; {why}. Check whether the debtor received it "
            f"before sending it again, then `relance drafts resolve {draft_id}`.",
        )
        record(
            session, actor, "draft.recovered", "draft", draft_id, outcome="unknown", evidence=why
        )
        return f"unknown: {why}"


def recover_stuck(
    app: App,
    mailbox: Mailbox | None,
    folder: str | None,
    now: datetime,
    progress: OutboxProgress | None,
    *,
    imap_down: str | None = None,
) -> list[tuple[int, str]]:
    """Settle drafts left in `sending` by a dead sender: found in Sent → sent, else unknown.

    With IMAP configured but unreachable (`imap_down`), they stay in `sending` for the next
    run. On PostgreSQL a draft whose sender is alive (it holds the draft's lock) is skipped.
    """
    with Session(app.engine) as session:
        stuck = [
            (d.id or 0, d.message_id)
            for d in session.exec(select(Draft).where(Draft.status == "sending")).all()
        ]
    out: list[tuple[int, str]] = []
    pg = is_postgres(app.engine)
    for draft_id, message_id in stuck:
        if pg and not lock_free(app.engine, draft_lock(draft_id)):
            continue  # a live worker is sending it right now
        if imap_down is not None:
            out.append((draft_id, f"still sending: cannot check the Sent folder: {imap_down}"))
            continue  # try again next run; nothing is resent meanwhile
        found = False
        if mailbox is not None and folder is not None and message_id:
            try:
                found = bool(mailbox.find_message_id(folder, bracket(message_id)))
            except MailboxError as exc:
                out.append((draft_id, f"still sending: cannot search {folder}: {exc}"))
                continue  # try again next run; nothing is resent meanwhile
        outcome = _stuck_outcome(app, draft_id, message_id, found, folder, now)
        if outcome is None:
            continue
        out.append((draft_id, outcome))
        emit(progress, "recovered", draft_id, outcome)
    return out


def resolve_unknown(session: Session, draft_id: int, *, sent: bool, reason: str, actor: str) -> str:
    """Settle an `unknown` draft: --sent records the send, --not-sent makes it approvable.

    Its open `send_unknown` task is closed. Returns a one-line summary.
    """
    if not reason.strip():
        raise ApprovalError("a reason is required to resolve a draft")
    draft = session.get(Draft, draft_id)
    if draft is None:
        raise ApprovalError(f"draft {draft_id} does not exist")
    if draft.status != "unknown":
        raise ApprovalError(
            f"draft {draft_id} is {draft.status}: only an `unknown` draft can be resolved"
        )
    if sent:
        claimed = session.exec(
            select(AuditEvent.at)
            .where(
                AuditEvent.entity == "draft",
                AuditEvent.entity_id == str(draft_id),
                AuditEvent.action == "draft.sending",
            )
            .order_by(col(AuditEvent.id).desc())
        ).first()
        draft.last_error = None
        record_sent(session, draft, claimed or utcnow(), actor)
        summary = "resolved as sent; the case moves on as after a normal send"
    else:
        move_draft(
            session,
            draft,
            "pending",
            attempt="resolution",
            review_reason=f"not sent (resolved by {actor}): {reason}",
            first_approver=None,
            last_error=None,
        )
        summary = "resolved as not sent: back to pending, approve it to send it (same Message-ID)"
    for task in session.exec(
        select(Task).where(
            Task.case_id == draft.case_id, Task.kind == "send_unknown", Task.status == "open"
        )
    ):
        if task.detail.startswith(f"Draft {draft_id} "):
            task.status, task.done_by, task.done_at = "done", actor, utcnow()
            session.add(task)
    record(
        session,
        actor,
        "draft.resolved",
        "draft",
        draft_id,
        outcome="sent" if sent else "not_sent",
        reason=reason,
        message_id=draft.message_id,
    )
    return summary
