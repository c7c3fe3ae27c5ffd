"""The long-running worker: daily cycle, inbox in IDLE (or polling), outbox within hours.

Safe to stop or restart at any moment: the cycle of a day is recorded once done (audit event
`worker.cycle`), the inbox resumes from its stored UIDVALIDITY/last UID, and the outbox's
state machine (compare-and-set claims; a lease on SQLite, SKIP LOCKED claims on PostgreSQL)
keep every message exactly-once, and a cycle lease per creditor and date lets several
workers run side by side. SIGTERM/SIGINT set `stop`;
each loop finishes the unit of work in hand (one message, one batch, one cycle) and returns.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from assistant.bootstrap import App
from assistant.db.engine import session_scope
from assistant.db.models import AuditEvent, Draft
from assistant.mail.ports import MailboxError, MailSender
from assistant.mail.window import outside_sending_window
from assistant.services.audit import record

log = logging.getLogger("relance.worker")

Clock = Callable[[], datetime]
CycleFn = Callable[..., Any]  # run_cycle(app, on, creditor=slug)
MailboxFactory = Callable[[], Any]  # returns a new `Mailbox` connection


def utc_now() -> datetime:
    """Return the current time in UTC."""
    return datetime.now(UTC)


@dataclass
class WorkerStats:
    """What the worker did since it started (for logs and tests)."""

    cycles: list[tuple[str, date]] = field(default_factory=list)
    sent: int = 0
    fetched: int = 0
    errors: list[str] = field(default_factory=list)
    rounds: Counter[str] = field(default_factory=Counter)  # loop -> rounds done ("cycle", …)


def due_cycles(app: App, now: datetime) -> list[tuple[str, date]]:
    """Return the (creditor, local date) whose daily cycle time has passed and not yet run."""
    due: list[tuple[str, date]] = []
    with Session(app.engine) as session:
        for slug, policy in sorted(app.policies.items()):
            local = now.astimezone(ZoneInfo(policy.sending.timezone))
            if local.time() < policy.sending.daily_cycle_at:
                continue
            key = f"{slug}@{local.date().isoformat()}"
            done = session.exec(
                select(AuditEvent.id).where(
                    AuditEvent.action == "worker.cycle", AuditEvent.entity_id == key
                )
            ).first()
            if done is None:
                due.append((slug, local.date()))
    return due


def _default_cycle() -> CycleFn:
    from assistant.services.cycle import run_cycle

    return run_cycle


async def run_worker(
    app: App,
    *,
    sender: MailSender | None,
    mailbox_factory: MailboxFactory | None,
    stop: asyncio.Event,
    clock: Clock = utc_now,
    cycle: CycleFn | None = None,
    tick: float = 30.0,
    outbox_every: float = 60.0,
    outbox_batch: int = 50,
    stats: WorkerStats | None = None,
    watch_inbox: bool = True,
) -> WorkerStats:
    """Run the daily cycle, the inbox and the outbox until `stop` is set."""
    stats = stats or WorkerStats()
    cycle_fn = cycle or _default_cycle()
    tasks = [asyncio.create_task(_cycle_loop(app, stop, clock, cycle_fn, tick, stats))]
    if sender is not None:
        tasks.append(
            asyncio.create_task(
                _outbox_loop(
                    app, sender, mailbox_factory, stop, clock, outbox_every, outbox_batch, stats
                )
            )
        )
    if mailbox_factory is not None and watch_inbox:
        tasks.append(asyncio.create_task(_inbox_loop(app, mailbox_factory, stop, stats)))
    log.info("worker running: %d loop(s)", len(tasks))
    try:
        await asyncio.gather(*tasks)
    finally:
        stop.set()
        for task in tasks:
            if not task.done():
                task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return stats


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        pass


async def _cycle_loop(
    app: App, stop: asyncio.Event, clock: Clock, cycle_fn: CycleFn, tick: float, stats: WorkerStats
) -> None:
    while not stop.is_set():
        for slug, on in due_cycles(app, clock()):
            if stop.is_set():
                return
            log.info("daily cycle for %s on %s", slug, on)
            try:
                done = await asyncio.to_thread(cycle_fn, app, on, creditor=slug)
            except Exception as exc:  # noqa: BLE001 - log, keep serving the mailbox
                log.exception("cycle for %s failed", slug)
                stats.errors.append(f"cycle {slug}: {exc}")
                continue
            if slug in getattr(done, "busy", {}):
                continue  # another worker runs it now; it records it when done
            with session_scope(app.engine) as session:
                record(
                    session,
                    app.actor,
                    "worker.cycle",
                    "creditor",
                    f"{slug}@{on.isoformat()}",
                    creditor=slug,
                    on=on,
                )
            stats.cycles.append((slug, on))
        stats.rounds["cycle"] += 1
        await _sleep_or_stop(stop, tick)


def _window_open(app: App, now: datetime) -> bool:
    return any(outside_sending_window(p.sending, now) is None for p in app.policies.values())


def _has_approved(app: App) -> bool:
    with Session(app.engine) as session:
        return (
            session.exec(
                select(Draft.id).where(Draft.status.in_(["approved", "sending"]))  # type: ignore[attr-defined]
            ).first()
            is not None
        )


async def _outbox_loop(
    app: App,
    sender: MailSender,
    mailbox_factory: MailboxFactory | None,
    stop: asyncio.Event,
    clock: Clock,
    every: float,
    batch: int,
    stats: WorkerStats,
) -> None:
    from assistant.services.outbox import send_outbox

    while not stop.is_set():
        now = clock()
        if _window_open(app, now) and _has_approved(app):
            mailbox = mailbox_factory() if mailbox_factory else None
            try:
                # The worker waits for the window itself: a draft over the contact cap waits too.
                report = await send_outbox(app, sender, mailbox, now, limit=batch, hold_timing=True)
                stats.sent += len(report.sent)
                if report.sent or report.aborted or report.failed or report.unknown:
                    log.info(
                        "outbox: sent %d, failed %d, unknown %d%s",
                        len(report.sent),
                        len(report.failed),
                        len(report.unknown),
                        f", stopped: {report.aborted}" if report.aborted else "",
                    )
                if len(report.sent) >= batch:
                    continue  # more to send: no pause
            except Exception as exc:  # noqa: BLE001 - the next round retries
                log.exception("outbox round failed")
                stats.errors.append(f"outbox: {exc}")
            finally:
                if mailbox is not None:
                    mailbox.close()
        stats.rounds["outbox"] += 1
        await _sleep_or_stop(stop, every)


async def _inbox_loop(
    app: App, mailbox_factory: MailboxFactory, stop: asyncio.Event, stats: WorkerStats
) -> None:
    halt = threading.Event()

    def watch() -> None:
        from assistant.services.inbox import ingest_inbox, process_received
        from assistant.services.inbox_lease import MailboxBusy

        backoff = 1.0
        mailbox = None
        while not halt.is_set():
            try:
                if mailbox is None:
                    mailbox = mailbox_factory()
                report = ingest_inbox(app, mailbox)
                stats.fetched += report.fetched
                if report.fetched:
                    log.info(
                        "inbox: %d fetched, %d matched, %d unmatched, %d quarantined",
                        report.fetched,
                        sum(report.matched.values()),
                        len(report.unmatched),
                        len(report.quarantined),
                    )
                backoff = 1.0
                mailbox.wait_for_changes(
                    app.settings.imap_folder,
                    float(app.settings.imap_poll_seconds),
                    halt.is_set,
                    after_uid=report.last_uid,
                )
            except MailboxBusy as exc:  # another worker fetches: help it file what it stored
                process_received(app)
                log.info("inbox: %s; filed the messages it stored", exc)
                halt.wait(float(app.settings.imap_poll_seconds))
            except MailboxError as exc:
                log.warning("inbox: %s; reconnecting in %.0f s", exc, backoff)
                stats.errors.append(f"inbox: {exc}")
                if mailbox is not None:
                    mailbox.close()
                mailbox = None
                halt.wait(backoff)
                backoff = min(backoff * 2, 300.0)
            except Exception as exc:  # noqa: BLE001 - keep the worker alive
                log.exception("inbox round failed")
                stats.errors.append(f"inbox: {exc}")
                halt.wait(backoff)
                backoff = min(backoff * 2, 300.0)
        if mailbox is not None:
            mailbox.close()

    thread = asyncio.create_task(asyncio.to_thread(watch))
    try:
        await stop.wait()
    finally:
        halt.set()
        await asyncio.shield(thread)


def next_cycle_at(app: App, now: datetime) -> datetime | None:
    """Return when the next daily cycle is due (UTC), for status output."""
    best: datetime | None = None
    for policy in app.policies.values():
        tz = ZoneInfo(policy.sending.timezone)
        local = now.astimezone(tz)
        at = datetime.combine(local.date(), policy.sending.daily_cycle_at, tzinfo=tz)
        if at <= local:
            at += timedelta(days=1)
        best = at.astimezone(UTC) if best is None or at < best else best
    return best
