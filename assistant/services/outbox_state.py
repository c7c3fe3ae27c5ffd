"""State changes of outgoing drafts, each with its audit event; crash recovery of `sending`.

Used by the outbox run; every function here is one small transaction or part of one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from assistant.bootstrap import App
from assistant.db.engine import session_scope
from assistant.db.models import Case, Contact, Debtor, Draft, Task
from assistant.mail.compose import bracket
from assistant.mail.ports import Mailbox, MailboxError
from assistant.services.approval import record_sent
from assistant.services.audit import record

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


def to_pending(session: Session, draft: Draft, reason: str, actor: str) -> None:
    draft.status = "pending"
    draft.review_reason = reason
    draft.first_approver = None
    session.add(draft)
    record(session, actor, "draft.returned_for_review", "draft", draft.id, reason=reason)


def open_task(session: Session, draft: Draft, kind: str, detail: str) -> None:
    session.add(Task(case_id=draft.case_id, kind=kind, detail=detail))


def claim(engine: Engine, draft_id: int, message_id: str | None, actor: str) -> bool:
    """approved → sending, committed; False when someone else moved the draft first."""
    with session_scope(engine) as session:
        values: dict[str, Any] = {"status": "sending", "last_error": None}
        if message_id:
            values["message_id"] = message_id
        res = session.execute(
            update(Draft)
            .where(col(Draft.id) == draft_id, col(Draft.status) == "approved")
            .values(**values)
        )
        if res.rowcount != 1:  # type: ignore[attr-defined]
            return False
        draft = session.get(Draft, draft_id)
        record(
            session,
            actor,
            "draft.sending",
            "draft",
            draft_id,
            message_id=draft.message_id if draft else message_id,
        )
    return True


def finish(
    engine: Engine, draft_id: int, tried: int, change: Callable[[Session, Draft], None]
) -> None:
    with session_scope(engine) as session:
        draft = session.get(Draft, draft_id)
        assert draft is not None
        draft.attempts += tried
        change(session, draft)
        session.add(draft)


def recover_stuck(
    app: App,
    mailbox: Mailbox | None,
    folder: str | None,
    now: datetime,
    progress: OutboxProgress | None,
) -> list[tuple[int, str]]:
    with Session(app.engine) as session:
        stuck = [
            (d.id or 0, d.message_id)
            for d in session.exec(select(Draft).where(Draft.status == "sending")).all()
        ]
    out: list[tuple[int, str]] = []
    actor = app.actor
    for draft_id, message_id in stuck:
        found: bool | None = False
        if mailbox is not None and folder is not None and message_id:
            try:
                found = bool(mailbox.find_message_id(folder, bracket(message_id)))
            except MailboxError as exc:
                out.append((draft_id, f"still sending: cannot search {folder}: {exc}"))
                continue  # try again next run; nothing is resent meanwhile
        with session_scope(app.engine) as session:
            draft = session.get(Draft, draft_id)
            if draft is None or draft.status != "sending":
                continue
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
                outcome = f"sent: found in {folder}"
            else:
                why = f"not found in {folder}" if folder else "no IMAP Sent folder to check"
                draft.status = "unknown"
                draft.last_error = f"interrupted while sending; {why}"
                session.add(draft)
                open_task(
                    session,
                    draft,
                    "send_unknown",
                    f"Draft {draft_id} (Message-ID {bracket(message_id or '?')}) was being sent "
                    f"when the sender stopped; {why}. Check whether the debtor received it "
                    "before sending it again.",
                )
                record(
                    session,
                    actor,
                    "draft.recovered",
                    "draft",
                    draft_id,
                    outcome="unknown",
                    evidence=why,
                )
                outcome = f"unknown: {why}"
        out.append((draft_id, outcome))
        emit(progress, "recovered", draft_id, outcome)
    return out
