"""Send approved drafts, exactly once: approved → sending → sent | failed | unknown.

Each draft is re-checked at send time, claimed (`sending`, committed) BEFORE the SMTP attempt,
and after the server accepts it a copy is APPENDed to the IMAP Sent folder, then it is marked
sent. A process killed in between leaves it in `sending`; `recover_sending` then looks for its
Message-ID in the Sent folder: found → sent, else → unknown for an officer. Never resent.
A lease row keeps a single sender at a time. This module never imports an SMTP/IMAP library.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

from sqlmodel import Session

from assistant.bootstrap import App
from assistant.db.engine import session_scope
from assistant.db.models import (
    Case,
    Draft,
)
from assistant.mail.compose import (
    ComposeError,
    bracket,
    compose_message,
    message_bytes,
    new_message_id,
    reply_to_address,
    sender_identity,
)
from assistant.mail.ports import (
    AmbiguousSendError,
    Mailbox,
    MailboxError,
    MailConnection,
    MailSender,
    PermanentSendError,
    SendError,
    SendReceipt,
    TransientSendError,
)
from assistant.services.approval import record_sent
from assistant.services.attachments import draft_attachments
from assistant.services.audit import record
from assistant.services.outbox_checks import (
    OutboxItem,
    Verdict,
    approved_drafts,
    check_draft,
    plan_outbox,
    policy_of,
)
from assistant.services.outbox_state import (
    OutboxProgress,
    claim,
    emit,
    finish,
    invalidate_address,
    open_task,
    recover_stuck,
    to_pending,
)
from assistant.services.sender_lease import (
    acquire_lease,
    lease_holder,
    release_lease,
    renew_lease,
)

__all__ = [
    "OutboxItem",
    "OutboxProgress",
    "RetryPolicy",
    "SendReport",
    "Verdict",
    "check_draft",
    "invalidate_address",
    "plan_outbox",
    "recover_sending",
    "send_outbox",
]

# OutboxProgress is progress(event, draft_id, detail); events: held, review, sending, retry,
# accepted, appended (or not_appended), sent, deferred, failed, unknown, recovered.
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries of transient SMTP failures within one run, then across runs."""

    attempts: int = 3  # tries per draft within one run
    backoff: float = 2.0  # seconds before the 2nd try; doubles each time
    max_backoff: float = 60.0
    max_total_attempts: int = 10  # over all runs; then the draft fails for an officer

    def delay(self, tried: int) -> float:
        """Return the pause after `tried` failed tries."""
        return min(self.max_backoff, self.backoff * (2 ** (tried - 1)))


@dataclass
class SendReport:
    """What one outbox run did; ids are draft ids."""

    sent: list[int] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)
    unknown: list[tuple[int, str]] = field(default_factory=list)
    returned: list[tuple[int, str]] = field(default_factory=list)  # back to pending for review
    held: list[tuple[int, str]] = field(default_factory=list)  # still approved: not now
    deferred: list[tuple[int, str]] = field(default_factory=list)  # transient: next run
    recovered: list[tuple[int, str]] = field(default_factory=list)  # from `sending`
    retries: int = 0
    warnings: list[str] = field(default_factory=list)
    aborted: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-ready summary."""

        def pairs(items: list[tuple[int, str]]) -> list[dict[str, Any]]:
            return [{"draft": i, "reason": r} for i, r in items]

        return {
            "sent": self.sent,
            "failed": pairs(self.failed),
            "unknown": pairs(self.unknown),
            "returned_for_review": pairs(self.returned),
            "held": pairs(self.held),
            "deferred": pairs(self.deferred),
            "recovered": pairs(self.recovered),
            "retries": self.retries,
            "warnings": self.warnings,
            "aborted": self.aborted,
        }


def _lease_ttl(app: App) -> timedelta:
    return timedelta(seconds=max(120.0, 6 * app.settings.smtp_timeout))


# -- the run ------------------------------------------------------------------------------------
@dataclass
class _Prepared:
    draft_id: int
    message: EmailMessage
    message_id: str | None  # set when assigned now (approved without one)
    debtor_id: int


def _prepare(
    app: App,
    draft_id: int,
    now: datetime,
    report: SendReport,
    hold_timing: bool,
    progress: OutboxProgress | None,
) -> _Prepared | None:
    actor = app.actor
    with session_scope(app.engine) as session:
        draft = session.get(Draft, draft_id)
        if draft is None or draft.status != "approved":
            return None
        case = session.get(Case, draft.case_id)
        assert case is not None
        policy = policy_of(session, case, app.policies)
        verdict = check_draft(session, draft, case, policy, now)
        reason = verdict.review or (verdict.hold if not hold_timing else None)
        if reason:
            to_pending(session, draft, reason, actor)
            report.returned.append((draft_id, reason))
            emit(progress, "review", draft_id, reason)
            return None
        if verdict.hold:
            report.held.append((draft_id, verdict.hold))
            emit(progress, "held", draft_id, verdict.hold)
            return None
        assert policy is not None
        try:
            sender = sender_identity(policy, app.settings.smtp_from)
            assigned = None
            if not draft.message_id:  # approval assigns it; never send without one stored
                assigned = draft.message_id = new_message_id(sender, case.ref)
            message = compose_message(
                draft,
                sender=sender,
                to=verdict.to,
                to_names=verdict.names,
                case_ref=case.ref,
                date=now,
                reply_to=reply_to_address(app.settings.reply_to, case.ref),
                attachments=draft_attachments(session, draft_id),
            )
        except ComposeError as exc:
            session.refresh(draft)
            to_pending(session, draft, str(exc), actor)
            report.returned.append((draft_id, str(exc)))
            emit(progress, "review", draft_id, str(exc))
            return None
        session.expunge(draft)  # the message_id set above is written by the claim, not here
        return _Prepared(draft_id, message, assigned, case.debtor_id)


async def _deliver(
    conn: MailConnection,
    message: EmailMessage,
    retry: RetryPolicy,
    sleep: Sleep,
    report: SendReport,
    draft_id: int,
    progress: OutboxProgress | None,
) -> tuple[SendReceipt | SendError, int]:
    tried = 0
    while True:
        tried += 1
        try:
            return await conn.send(message), tried
        except TransientSendError as exc:
            if tried >= retry.attempts:
                return exc, tried
            report.retries += 1
            emit(progress, "retry", draft_id, str(exc))
            await sleep(retry.delay(tried))
        except SendError as exc:
            return exc, tried


async def send_outbox(
    app: App,
    sender: MailSender,
    mailbox: Mailbox | None,
    now: datetime,
    *,
    limit: int | None = None,
    progress: OutboxProgress | None = None,
    retry: RetryPolicy | None = None,
    hold_timing: bool = False,
    sleep: Sleep = asyncio.sleep,
) -> SendReport:
    """Send the approved drafts that still pass their re-check; see the module docstring.

    `mailbox` (a `Mailbox`, or None) keeps a copy of each sent message in the Sent folder and
    resolves drafts left in `sending`. A draft outside the sending days/hours or over the
    contact cap goes back to review with the reason, like every other re-check failure (the
    issue's contract); with `hold_timing` (the worker's choice, since it only sends inside the
    window) it stays approved for a later run instead.
    """
    retry = retry or RetryPolicy()
    report = SendReport()
    holder = lease_holder()
    ttl = _lease_ttl(app)
    busy = acquire_lease(app.engine, holder, ttl)
    if busy:
        report.aborted = busy
        return report
    renewed = time.monotonic()
    try:
        sent_folder = _sent_folder(app, mailbox, report)
        report.recovered = recover_stuck(app, mailbox, sent_folder, now, progress)
        report.unknown.extend((i, r) for i, r in report.recovered if r.startswith("unknown"))
        with Session(app.engine) as session:
            ids = [d.id or 0 for d in approved_drafts(session, limit)]
        async with AsyncExitStack() as stack:
            conn: MailConnection | None = None
            for draft_id in ids:
                prepared = _prepare(app, draft_id, now, report, hold_timing, progress)
                if prepared is None:
                    continue
                if conn is None:
                    try:
                        conn = await stack.enter_async_context(sender.connect())
                    except SendError as exc:
                        report.aborted = f"cannot open the SMTP session: {exc}"
                        break
                if not claim(app.engine, draft_id, prepared.message_id, app.actor):
                    continue
                emit(progress, "sending", draft_id)
                outcome, tried = await _deliver(
                    conn, prepared.message, retry, sleep, report, draft_id, progress
                )
                stop = _settle(
                    app,
                    mailbox,
                    sent_folder,
                    prepared,
                    outcome,
                    tried,
                    now,
                    report,
                    retry,
                    progress,
                )
                if time.monotonic() - renewed > ttl.total_seconds() / 4:
                    renew_lease(app.engine, holder, ttl)
                    renewed = time.monotonic()
                if stop:
                    report.aborted = stop
                    break
    finally:
        release_lease(app.engine, holder)
    return report


def _sent_folder(app: App, mailbox: Mailbox | None, report: SendReport) -> str | None:
    if mailbox is None:
        return None
    try:
        return str(mailbox.sent_folder(app.settings.imap_sent_folder))
    except MailboxError as exc:
        report.warnings.append(f"IMAP unavailable, no copy kept in Sent: {exc}")
        return None


def _settle(
    app: App,
    mailbox: Mailbox | None,
    sent_folder: str | None,
    prepared: _Prepared,
    outcome: SendReceipt | SendError,
    tried: int,
    now: datetime,
    report: SendReport,
    retry: RetryPolicy,
    progress: OutboxProgress | None,
) -> str | None:
    """Record the outcome of one delivery; return a reason to stop the batch, if any."""
    actor, draft_id = app.actor, prepared.draft_id
    if isinstance(outcome, SendReceipt):
        emit(progress, "accepted", draft_id, outcome.response)
        note = _keep_copy(mailbox, sent_folder, prepared.message, now, report)
        emit(progress, "appended" if note is None else "not_appended", draft_id, note or "")

        def sent(session: Session, draft: Draft) -> None:
            draft.last_error = note
            record_sent(session, draft, now, actor)
            for address, reply in outcome.refused.items():
                invalidate_address(
                    session, address, f"SMTP {reply}", actor, debtor_id=prepared.debtor_id
                )

        finish(app.engine, draft_id, tried, sent)
        report.sent.append(draft_id)
        emit(progress, "sent", draft_id)
        return None
    error = str(outcome)
    if isinstance(outcome, AmbiguousSendError):

        def unknown(session: Session, draft: Draft) -> None:
            draft.status, draft.last_error = "unknown", error
            open_task(
                session,
                draft,
                "send_unknown",
                f"Draft {draft_id} (Message-ID {bracket(draft.message_id or '?')}) may or may "
                f"not have reached the debtor: {error}. Check with the mail provider before "
                "sending it again.",
            )
            record(session, actor, "draft.unknown", "draft", draft_id, error=error)

        finish(app.engine, draft_id, tried, unknown)
        report.unknown.append((draft_id, error))
        emit(progress, "unknown", draft_id, error)
        return "connection lost while a message was in flight"
    if isinstance(outcome, PermanentSendError):

        def failed(session: Session, draft: Draft) -> None:
            draft.status, draft.last_error = "failed", error
            for address, reply in outcome.refused.items():
                invalidate_address(
                    session, address, f"SMTP {reply}", actor, debtor_id=prepared.debtor_id
                )
            if not outcome.refused:
                open_task(
                    session,
                    draft,
                    "send_failed",
                    f"The mail server refused draft {draft_id}: {error}",
                )
            record(
                session,
                actor,
                "draft.failed",
                "draft",
                draft_id,
                error=error,
                refused=sorted(outcome.refused),
            )

        finish(app.engine, draft_id, tried, failed)
        report.failed.append((draft_id, error))
        emit(progress, "failed", draft_id, error)
        return None

    def later(session: Session, draft: Draft) -> None:
        draft.last_error = error
        if draft.attempts >= retry.max_total_attempts:
            draft.status = "failed"
            open_task(
                session,
                draft,
                "send_failed",
                f"Draft {draft_id} could not be sent after {draft.attempts} attempts: {error}",
            )
            record(session, actor, "draft.failed", "draft", draft_id, error=error)
        else:
            draft.status = "approved"  # never reached the server: safe to try again later
            record(session, actor, "draft.deferred", "draft", draft_id, error=error)

    finish(app.engine, draft_id, tried, later)
    report.deferred.append((draft_id, error))
    emit(progress, "deferred", draft_id, error)
    return "the SMTP server is unreachable" if outcome.code is None else None


def _keep_copy(
    mailbox: Mailbox | None,
    folder: str | None,
    message: EmailMessage,
    now: datetime,
    report: SendReport,
) -> str | None:
    if mailbox is None or folder is None:
        return None
    try:
        mailbox.append(folder, message_bytes(message), flags=("\\Seen",), when=now)
    except MailboxError as exc:
        report.warnings.append(f"sent, but no copy in {folder}: {exc}")
        return f"sent; copy to {folder} failed: {exc}"
    return None


# -- crash recovery -----------------------------------------------------------------------------
def recover_sending(app: App, mailbox: Mailbox | None, now: datetime) -> list[tuple[int, str]]:
    """Resolve drafts left in `sending` by a dead process: Sent folder → sent, else unknown."""
    holder = lease_holder()
    busy = acquire_lease(app.engine, holder, _lease_ttl(app))
    if busy:
        return []
    try:
        folder = _sent_folder(app, mailbox, SendReport())
        return recover_stuck(app, mailbox, folder, now, None)
    finally:
        release_lease(app.engine, holder)
