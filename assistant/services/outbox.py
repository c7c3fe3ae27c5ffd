"""Send approved drafts, exactly once: approved → sending → sent | failed | unknown.

Each draft is re-checked at send time (its facts are read with its page of 100 approved drafts,
then, in the claim's own transaction, one query confirms none of them moved; if any did, the
full re-check reads the ledger again: `outbox_facts`), claimed (`sending`, committed) BEFORE
the SMTP attempt, and after the server accepts it a copy is APPENDed to the IMAP Sent folder
(in a thread, while the next drafts go out), then it is marked sent (in batches, each draft
only once its copy is stored). A process killed in between leaves it in `sending`;
`recover_sending` then looks for its Message-ID in the Sent folder: found → sent, else →
unknown for an officer. Never resent.
The rate limit's pause comes BEFORE the claim, so a kill while waiting leaves the draft
approved. On SQLite a lease keeps a single sender at a time; on PostgreSQL several senders
share the outbox: each picks the next draft with `FOR UPDATE SKIP LOCKED` and holds an
advisory lock on it until it is marked, so recovery never touches a live send.
This module never imports an SMTP/IMAP library.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

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
    seal,
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
from assistant.mail.window import aware
from assistant.policy.schema import Policy
from assistant.services.approval import record_sent
from assistant.services.attachments import draft_attachments
from assistant.services.audit import record
from assistant.services.draft_state import DraftConflict, move_draft
from assistant.services.leases import Lease, LeaseBusy, acquire, is_postgres, release
from assistant.services.outbox_checks import (
    OutboxItem,
    Verdict,
    check_draft,
    judge,
    plan_outbox,
    policy_of,
)
from assistant.services.outbox_facts import LedgerFacts, load_page, unchanged
from assistant.services.outbox_state import (
    OutboxProgress,
    claim,
    draft_lock,
    emit,
    finish,
    invalidate_address,
    open_task,
    recover_stuck,
    to_pending,
)

SEND_LEASE = "outbox"  # SQLite: one sender at a time (PostgreSQL shares with SKIP LOCKED)
PAGE = 100  # approved draft ids listed per query
SENT_BATCH = 50  # accepted drafts marked sent per transaction
SENT_BATCH_PG = 5  # PostgreSQL: each holds its draft lock (one connection) until marked

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
    version: int  # the draft version the message was composed from


def _prepare(
    app: App,
    session: Session,
    draft: Draft,
    read: _Read | None,
    now: datetime,
    report: SendReport,
    hold_timing: bool,
    progress: OutboxProgress | None,
) -> _Prepared | None:
    """Re-check a picked draft and compose its message; None when it is not sent now.

    With the facts its page read (`read`, same draft version), the verdict comes from them
    once `unchanged` confirms, in this transaction, that none of them moved; otherwise (or
    when they say the draft would not go) the full re-check reads the ledger again.
    """
    actor, draft_id = app.actor, draft.id or 0
    verdict: Verdict | None = None
    policy: Policy | None = None
    if read is not None and read.version == draft.version:
        facts = read.facts
        policy = app.policies.get(facts.case.creditor or "")
        verdict = judge(draft, facts, policy, now)
        if verdict.review is not None or not unchanged(session, draft, facts):
            verdict = None
        case_ref, debtor_id = facts.case.ref, facts.case.debtor_id
    if verdict is None:
        case = session.get(Case, draft.case_id)
        assert case is not None
        policy = policy_of(session, case, app.policies)
        verdict = check_draft(session, draft, case, policy, now)
        case_ref, debtor_id = case.ref, case.debtor_id
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
            assigned = new_message_id(sender, case_ref)
            set_committed_value(draft, "message_id", assigned)  # written by the claim
        message = compose_message(
            draft,
            sender=sender,
            to=verdict.to,
            to_names=verdict.names,
            case_ref=case_ref,
            date=now,
            reply_to=reply_to_address(app.settings.reply_to, case_ref),
            attachments=draft_attachments(session, draft_id),
        )
        seal(message)  # formatted once, for the SMTP server and the Sent copy alike
    except ComposeError as exc:
        to_pending(session, draft, str(exc), actor)
        report.returned.append((draft_id, str(exc)))
        emit(progress, "review", draft_id, str(exc))
        return None
    return _Prepared(draft_id, message, assigned, debtor_id, draft.version)


@dataclass(frozen=True)
class _Read:
    """What a page read about one approved draft: its version then, and its case's facts."""

    version: int
    facts: LedgerFacts


def _read_page(session: Session, ids: list[int]) -> dict[int, _Read]:
    """Read the re-check facts of a page of approved drafts (a handful of queries)."""
    if not ids:
        return {}
    rows = session.execute(
        select(Draft.id, Draft.case_id, Draft.facts, Draft.version).where(col(Draft.id).in_(ids))
    ).all()
    versions = {r.id: r.version for r in rows}
    facts = load_page(session, list(rows))  # type: ignore[arg-type]  # rows name Draft's columns
    return {i: _Read(versions[i], f) for i, f in facts.items()}


def _candidates(session: Session, seen: set[int], size: int) -> list[int]:
    """Return up to `size` approved draft ids not seen in this run, oldest approval first.

    One query of ids per page (instead of a NOT IN of every id seen so far per draft): at
    most `len(seen)` of the approved ids can have been seen, so `len(seen) + size` suffice.
    """
    ids = session.exec(
        select(Draft.id)
        .where(Draft.status == "approved")
        .order_by(col(Draft.decided_at), col(Draft.id))
        .limit(len(seen) + size)
    ).all()
    return [i for i in ids if i is not None and i not in seen][:size]


def _pick(session: Session, draft_id: int, pg: bool) -> Draft | None:
    """Return draft `draft_id` if it is still approved, locked on PostgreSQL."""
    query = select(Draft).where(Draft.id == draft_id, Draft.status == "approved")
    if pg:  # another sender skips this row instead of waiting for it
        query = query.with_for_update(skip_locked=True)
    return session.exec(query).first()


async def _pace(conn: MailConnection) -> None:
    """Wait for the sender's rate limit before a claim (a kill while waiting sends nothing)."""
    pace = getattr(conn, "pace", None)
    if pace is not None:
        await pace()


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
    pg = is_postgres(app.engine)
    lease: Lease | None = None
    if not pg:
        try:
            lease = acquire(app.engine, SEND_LEASE, _lease_ttl(app))
        except LeaseBusy as busy:
            until = f" (lease until {aware(busy.until):%H:%M:%S} UTC)" if busy.until else ""
            report.aborted = f"{busy.holder} is sending{until}"
            return report
    try:
        sent_folder, imap_down = _sent_folder(app, mailbox, report)
        report.recovered = recover_stuck(
            app, mailbox, sent_folder, now, progress, imap_down=imap_down
        )
        report.unknown.extend((i, r) for i, r in report.recovered if r.startswith("unknown"))
        copies = _SentCopies(mailbox, sent_folder, now)
        accepted: list[_Accepted] = []
        batch = SENT_BATCH_PG if pg else SENT_BATCH
        try:
            await _send_loop(
                app, sender, copies, accepted, batch, now, report, retry, sleep, progress,
                limit=limit, hold_timing=hold_timing, pg=pg,
            )  # fmt: skip
        finally:
            try:
                await _mark_sent(app, accepted, copies, now, report, progress)
            finally:
                copies.close()
    finally:
        if lease is not None:
            release(lease)
    return report


async def _send_loop(
    app: App,
    sender: MailSender,
    copies: _SentCopies,
    accepted: list[_Accepted],
    batch: int,
    now: datetime,
    report: SendReport,
    retry: RetryPolicy,
    sleep: Sleep,
    progress: OutboxProgress | None,
    *,
    limit: int | None,
    hold_timing: bool,
    pg: bool,
) -> None:
    """Pick, re-check, claim and send one draft at a time; accepted ones wait in `accepted`.

    Every `batch` accepted drafts, their Sent copies are awaited and they are marked sent in
    one transaction (`_mark_sent`); the caller marks the rest when the loop ends.
    """
    async with AsyncExitStack() as stack:
        conn: MailConnection | None = None
        seen: set[int] = set()  # picked in this run (the limit counts these)
        passed: set[int] = set()  # listed but gone or locked by another sender at pick time
        queue: list[int] = []
        reads: dict[int, _Read] = {}
        while limit is None or len(seen) < limit:
            if not queue:
                with Session(app.engine) as session:
                    queue = _candidates(session, seen | passed, PAGE)
                    reads = _read_page(session, queue)
                if not queue:
                    break
            in_flight: Lease | None = None
            with session_scope(app.engine) as session:  # pick, re-check, claim: one txn
                candidate = queue.pop(0)
                draft = _pick(session, candidate, pg)
                if draft is None:
                    passed.add(candidate)
                    continue
                seen.add(candidate)
                read = reads.pop(candidate, None)
                prepared = _prepare(app, session, draft, read, now, report, hold_timing, progress)
                if prepared is None:
                    continue
                if conn is None:
                    try:
                        conn = await stack.enter_async_context(sender.connect())
                    except SendError as exc:
                        report.aborted = f"cannot open the SMTP session: {exc}"
                        break
                await _pace(conn)
                if pg:
                    in_flight = acquire(
                        app.engine, draft_lock(prepared.draft_id), _lease_ttl(app), note=False
                    )
                if not claim(
                    session, prepared.draft_id, prepared.version, prepared.message_id, app.actor
                ):
                    if in_flight is not None:
                        release(in_flight)
                    continue
            try:
                emit(progress, "sending", prepared.draft_id)
                outcome, tried = await _deliver(
                    conn, prepared.message, retry, sleep, report, prepared.draft_id, progress
                )
                if isinstance(outcome, SendReceipt):
                    emit(progress, "accepted", prepared.draft_id, outcome.response)
                    copy = copies.keep(prepared.message)  # stored while the next ones go out
                    accepted.append(_Accepted(prepared, outcome, tried, copy, in_flight))
                    in_flight = None  # released once marked sent
                    if len(accepted) >= batch:
                        await _mark_sent(app, accepted, copies, now, report, progress)
                    continue
                stop = _settle(app, prepared, outcome, tried, report, retry, progress)
            finally:
                if in_flight is not None:
                    release(in_flight)
            if stop:
                report.aborted = stop
                break


def _sent_folder(
    app: App, mailbox: Mailbox | None, report: SendReport
) -> tuple[str | None, str | None]:
    """Return the Sent folder, and why IMAP is down when it is configured but unreachable."""
    if mailbox is None:
        return None, None
    try:
        return str(mailbox.sent_folder(app.settings.imap_sent_folder)), None
    except MailboxError as exc:
        report.warnings.append(f"IMAP unavailable, no copy kept in Sent: {exc}")
        return None, str(exc)


def _settle(
    app: App,
    prepared: _Prepared,
    outcome: SendError,
    tried: int,
    report: SendReport,
    retry: RetryPolicy,
    progress: OutboxProgress | None,
) -> str | None:
    """Record a delivery that failed; return a reason to stop the batch, if any."""
    actor, draft_id = app.actor, prepared.draft_id
    error = str(outcome)
    if isinstance(outcome, AmbiguousSendError):

        def unknown(session: Session, draft: Draft) -> None:
            move_draft(session, draft, "unknown", attempt="send outcome", last_error=error)
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
            move_draft(session, draft, "failed", attempt="send outcome", last_error=error)
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
            move_draft(session, draft, "failed", attempt="send outcome")
            open_task(
                session,
                draft,
                "send_failed",
                f"Draft {draft_id} could not be sent after {draft.attempts} attempts: {error}",
            )
            record(session, actor, "draft.failed", "draft", draft_id, error=error)
        else:
            # never reached the server: safe to try again later
            move_draft(session, draft, "approved", attempt="send outcome")
            record(session, actor, "draft.deferred", "draft", draft_id, error=error)

    finish(app.engine, draft_id, tried, later)
    report.deferred.append((draft_id, error))
    emit(progress, "deferred", draft_id, error)
    return "the SMTP server is unreachable" if outcome.code is None else None


class _SentCopies:
    """APPEND Sent copies on the mailbox's one connection, in a thread, in order.

    The copy of a message is stored while the next drafts are re-checked, claimed and sent;
    `_mark_sent` waits for it before the draft is marked sent, so the order accepted → copy
    stored → marked sent (what crash recovery relies on) holds for every draft.
    """

    def __init__(self, mailbox: Mailbox | None, folder: str | None, now: datetime):
        self.mailbox, self.folder, self.now = mailbox, folder, now
        self._pool = (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="sent-copy")
            if mailbox is not None and folder is not None
            else None
        )

    def keep(self, message: EmailMessage) -> asyncio.Future[str | None]:
        """Start storing a copy of `message`; the future gives the error text or None."""
        loop = asyncio.get_running_loop()
        if self._pool is None:
            done: asyncio.Future[str | None] = loop.create_future()
            done.set_result(None)
            return done
        return loop.run_in_executor(self._pool, self._append, message_bytes(message))

    def _append(self, raw: bytes) -> str | None:
        assert self.mailbox is not None and self.folder is not None
        try:
            self.mailbox.append(self.folder, raw, flags=("\\Seen",), when=self.now)
        except MailboxError as exc:
            return str(exc)
        return None

    def close(self) -> None:
        """Wait for the copies under way and stop the thread."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)


@dataclass
class _Accepted:
    """A draft the SMTP server accepted, waiting for its Sent copy and its mark."""

    prepared: _Prepared
    receipt: SendReceipt
    tried: int
    copy: asyncio.Future[str | None]
    in_flight: Lease | None  # PostgreSQL: held until the draft is marked sent


async def _mark_sent(
    app: App,
    accepted: list[_Accepted],
    copies: _SentCopies,
    now: datetime,
    report: SendReport,
    progress: OutboxProgress | None,
) -> None:
    """Wait for the Sent copies of `accepted`, then mark them all sent in one transaction.

    A crash before the commit leaves them in `sending`: recovery finds each stored copy's
    Message-ID in the Sent folder and marks it sent (no copy: `unknown`). Empties `accepted`.
    """
    batch, accepted[:] = list(accepted), []
    if not batch:
        return
    actor = app.actor
    try:
        notes: list[str | None] = []
        for item in batch:
            error = await item.copy
            draft_id = item.prepared.draft_id
            if error is not None:
                report.warnings.append(f"sent, but no copy in {copies.folder}: {error}")
                error = f"sent; copy to {copies.folder} failed: {error}"
            notes.append(error)
            emit(progress, "appended" if error is None else "not_appended", draft_id, error or "")
        ids = [item.prepared.draft_id for item in batch]
        conflicts: list[int] = []
        with session_scope(app.engine) as session:
            drafts = {
                d.id: d for d in session.exec(select(Draft).where(col(Draft.id).in_(ids))).all()
            }
            case_ids = {d.case_id for d in drafts.values()}
            # held here so that record_sent's session.get finds each case without a query
            cases = session.exec(select(Case).where(col(Case.id).in_(case_ids))).all()
            for item, note in zip(batch, notes, strict=True):
                draft = drafts.get(item.prepared.draft_id)
                if draft is None or draft.status != "sending":
                    conflicts.append(item.prepared.draft_id)
                    continue
                draft.attempts += item.tried
                draft.last_error = note
                # the cases and audit rows of the batch are written together at the commit
                with session.no_autoflush:
                    record_sent(session, draft, now, actor)
                for address, reply in item.receipt.refused.items():
                    invalidate_address(
                        session, address, f"SMTP {reply}", actor, debtor_id=item.prepared.debtor_id
                    )
                session.add(draft)
            del cases
    finally:
        for item in batch:
            if item.in_flight is not None:
                release(item.in_flight)
    for item in batch:
        if item.prepared.draft_id not in conflicts:
            report.sent.append(item.prepared.draft_id)
            emit(progress, "sent", item.prepared.draft_id)
    if conflicts:
        raise DraftConflict(f"draft {conflicts[0]} left `sending` while it was being sent")


# -- crash recovery -----------------------------------------------------------------------------
def recover_sending(app: App, mailbox: Mailbox | None, now: datetime) -> list[tuple[int, str]]:
    """Resolve drafts left in `sending` by a dead process: Sent folder → sent, else unknown."""
    lease: Lease | None = None
    if not is_postgres(app.engine):
        try:
            lease = acquire(app.engine, SEND_LEASE, _lease_ttl(app))
        except LeaseBusy:
            return []
    try:
        folder, imap_down = _sent_folder(app, mailbox, SendReport())
        return recover_stuck(app, mailbox, folder, now, None, imap_down=imap_down)
    finally:
        if lease is not None:
            release(lease)
