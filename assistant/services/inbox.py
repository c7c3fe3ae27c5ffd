"""Fetch the agency mailbox, keep every message, and file each one (see `inbound_filing`).

Order of work per message: store the raw bytes (committed) FIRST, then parse; a message that
cannot be parsed is quarantined, never dropped. UIDVALIDITY and the last UID are tracked per
folder. The same bytes are stored once (a unique SHA-256, so two fetches racing cannot both
insert them); two different messages sharing a Message-ID are both kept. Each stored message
is filed by one process only: it is claimed with a compare-and-set on its `received` status
(`FOR UPDATE SKIP LOCKED` on PostgreSQL, so several workers share the work). One fetch per
mailbox holds a lease (`inbox_lease`). This module never imports an IMAP library.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.parser import BytesHeaderParser
from email.policy import compat32
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from assistant.bootstrap import App, reply_handler
from assistant.db.engine import session_scope
from assistant.db.mail_models import InboundMessage, MailboxState
from assistant.db.models import utcnow
from assistant.mail.compose import message_ids
from assistant.mail.ports import FetchedMessage, Mailbox, MailboxError
from assistant.mail.window import aware
from assistant.mailparse.mime import MalformedMessage, ParsedMessage, parse_message
from assistant.services.audit import record
from assistant.services.inbound_filing import Filed, FilingContext, ReplyHandler, file_message
from assistant.services.inbound_match import BatchLookups, Lookups
from assistant.services.inbox_lease import FetchLease, fetch_lease

IngestProgress = Callable[[int, int], None]  # (done, total)
FILE_BATCH = 25  # stored messages filed per transaction (each in its own savepoint)

__all__ = ["IngestReport", "ReplyHandler", "ingest_inbox", "list_inbound", "process_received"]


@dataclass
class IngestReport:
    """What one fetch did."""

    folder: str
    fetched: int = 0
    stored: int = 0
    duplicates: int = 0
    matched: dict[str, int] = field(default_factory=dict)  # method -> count
    analysed: int = 0
    unanalysed: int = 0
    unmatched: list[int] = field(default_factory=list)
    quarantined: list[int] = field(default_factory=list)
    auto_replies: int = 0
    bounces: int = 0
    invalidated: list[str] = field(default_factory=list)
    uidvalidity_reset: bool = False
    last_uid: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-ready summary."""
        return {
            "folder": self.folder,
            "fetched": self.fetched,
            "stored": self.stored,
            "duplicates": self.duplicates,
            "matched": dict(self.matched),
            "analysed": self.analysed,
            "unanalysed": self.unanalysed,
            "unmatched": self.unmatched,
            "quarantined": self.quarantined,
            "auto_replies": self.auto_replies,
            "bounces": self.bounces,
            "invalidated": self.invalidated,
            "uidvalidity_reset": self.uidvalidity_reset,
            "last_uid": self.last_uid,
            "errors": self.errors,
        }

    def add(self, inbound_id: int, filed: Filed) -> None:
        """Count what filing one message did."""
        if filed.status == "unmatched":
            self.unmatched.append(inbound_id)
        elif filed.status == "duplicate":
            self.duplicates += 1
        elif filed.status == "bounce":
            self.bounces += 1
            self.invalidated.extend(filed.invalidated)
        elif filed.status == "auto_reply":
            self.auto_replies += 1
        if filed.status in ("unanalysed", "analysed"):
            self.matched[filed.method or "?"] = self.matched.get(filed.method or "?", 0) + 1
            self.unanalysed += filed.analysed is not True
        self.analysed += filed.analysed is True
        if filed.error:
            self.errors.append(f"message {inbound_id}: {filed.error}")


def _peek_message_id(raw: bytes) -> str | None:
    try:
        headers = BytesHeaderParser(policy=compat32).parsebytes(raw)
        ids = message_ids(str(headers.get("Message-ID") or ""))
    except Exception:  # noqa: BLE001 - garbage is parsed (and quarantined) later
        return None
    return ids[0][:900] if ids else None


def own_domains(app: App) -> set[str]:
    """Return the agency's own mail domains (a shared domain with them proves nothing)."""
    out = set()
    for value in (app.settings.smtp_from, app.settings.reply_to, app.settings.imap_username):
        if value and "@" in value:
            out.add(value.rpartition("@")[2].strip(" >").lower())
    return out


def filing_context(app: App, handler: ReplyHandler | None) -> FilingContext:
    """Return what filing needs, built once per fetch."""
    return FilingContext(app.actor, app.policies, own_domains(app), handler)


def _state(session: Session, account: str, folder: str) -> MailboxState:
    query = select(MailboxState).where(
        MailboxState.account == account, MailboxState.folder == folder
    )
    row = session.exec(query).first()
    if row is None:
        try:
            with session.begin_nested():
                session.add(MailboxState(account=account, folder=folder))
        except IntegrityError:
            pass  # another fetch created it just now
        row = session.exec(query).one()
    return row


def _new_row(fetched: FetchedMessage, digest: str, folder: str, uidvalidity: int) -> InboundMessage:
    raw = fetched.raw
    return InboundMessage(
        folder=folder,
        uidvalidity=uidvalidity,
        uid=fetched.uid,
        raw=raw,
        raw_sha256=digest,
        size=len(raw),
        message_id=_peek_message_id(raw),
        received_at=aware(fetched.internaldate) if fetched.internaldate else utcnow(),
        status="received",
    )


def store_raw(
    app: App, fetched: FetchedMessage, folder: str, uidvalidity: int
) -> tuple[int | None, bool]:
    """Store the raw bytes (committed); return (row id to file or None if filed, new)."""
    digest = hashlib.sha256(fetched.raw).hexdigest()
    query = select(InboundMessage.id, InboundMessage.status).where(
        InboundMessage.raw_sha256 == digest
    )
    with Session(app.engine, expire_on_commit=False) as session:
        found = session.exec(query).first()
        if found is None:
            row = _new_row(fetched, digest, folder, uidvalidity)
            session.add(row)
            try:
                session.commit()
            except IntegrityError:  # the same bytes were stored by another fetch just now
                session.rollback()
                return None, False
            return row.id, True
    inbound_id, status = found
    return (inbound_id if status == "received" else None), False


def store_batch(
    app: App, batch: list[FetchedMessage], folder: str, uidvalidity: int
) -> list[tuple[int | None, bool]]:
    """`store_raw` for a whole FETCH batch in one transaction (committed before any parsing).

    One look-up of the batch's SHA-256s; when another fetch stores some of the same bytes
    meanwhile (the unique key refuses the insert), the batch is stored one message at a time.
    """
    digests = [hashlib.sha256(f.raw).hexdigest() for f in batch]
    with Session(app.engine, expire_on_commit=False) as session:
        known: dict[str, tuple[int | None, bool]] = {
            digest: ((i if status == "received" else None), False)
            for digest, i, status in session.exec(
                select(InboundMessage.raw_sha256, InboundMessage.id, InboundMessage.status).where(
                    col(InboundMessage.raw_sha256).in_(set(digests))
                )
            ).all()
        }
        rows: dict[str, InboundMessage] = {}
        for fetched, digest in zip(batch, digests, strict=True):
            if digest not in known and digest not in rows:
                rows[digest] = _new_row(fetched, digest, folder, uidvalidity)
        session.add_all(rows.values())
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
            return [store_raw(app, fetched, folder, uidvalidity) for fetched in batch]
    out: list[tuple[int | None, bool]] = []
    for digest in digests:
        if digest in known:
            out.append(known[digest])
        else:  # the first of the same bytes in this batch is new; a second is a duplicate
            out.append((rows[digest].id, True))
            known[digest] = (rows[digest].id, False)
    return out


def _claim(session: Session, inbound_id: int | None) -> InboundMessage | None:
    """Claim one `received` message (the given one, or the oldest) for this transaction.

    PostgreSQL: a row lock, skipping rows another worker holds. SQLite: a compare-and-set
    write first, which takes the database's write lock until commit.
    """
    query = select(InboundMessage).where(InboundMessage.status == "received")
    if inbound_id is not None:
        query = query.where(InboundMessage.id == inbound_id)
    query = query.order_by(col(InboundMessage.id)).limit(1)
    if session.get_bind().dialect.name == "postgresql":
        return session.exec(query.with_for_update(skip_locked=True)).first()
    while True:  # each lost claim means another process filed that one: try the next
        candidate = (
            inbound_id
            or session.exec(
                select(InboundMessage.id)
                .where(InboundMessage.status == "received")
                .order_by(col(InboundMessage.id))
                .limit(1)
            ).first()
        )
        if candidate is None:
            return None
        taken = session.execute(
            update(InboundMessage)
            .where(col(InboundMessage.id) == candidate, col(InboundMessage.status) == "received")
            .values(status="received")
        )
        if taken.rowcount == 1:  # type: ignore[attr-defined]
            return session.get(InboundMessage, candidate, populate_existing=True)
        if inbound_id is not None:  # nothing written: the transaction goes on (a batch)
            return None
        session.rollback()


def _parse(session: Session, inbound: InboundMessage, report: IngestReport) -> ParsedMessage | None:
    """Parse a claimed message; an unreadable one is quarantined (None)."""
    try:
        return parse_message(inbound.raw)
    except MalformedMessage as exc:
        inbound.status, inbound.error = "quarantined", f"unparsable: {exc}"[:1000]
        session.add(inbound)
        report.quarantined.append(inbound.id or 0)
        return None


def _file_parsed(
    session: Session,
    ctx: FilingContext,
    inbound: InboundMessage,
    parsed: ParsedMessage,
    report: IngestReport,
    lookups: Lookups | None = None,
) -> None:
    """File one claimed, parsed message in its own savepoint (quarantined when it fails)."""
    claimed = inbound.id or 0
    try:
        with session.begin_nested():
            filed = file_message(session, ctx, inbound, parsed, lookups)
    except Exception as exc:  # noqa: BLE001 - keep the message, show it to an officer
        found = session.get(InboundMessage, claimed, populate_existing=True)
        assert found is not None
        found.status = "quarantined"
        found.error = f"processing failed: {type(exc).__name__}: {exc}"[:1000]
        session.add(found)
        report.quarantined.append(claimed)
        report.errors.append(f"message {claimed}: {found.error}")
        return
    report.add(claimed, filed)


def _file_one(
    session: Session, ctx: FilingContext, inbound: InboundMessage, report: IngestReport
) -> None:
    """File one claimed message in `session` (quarantined when it cannot be read or filed)."""
    parsed = _parse(session, inbound, report)
    if parsed is not None:
        _file_parsed(session, ctx, inbound, parsed, report)


def file_received(
    app: App, ctx: FilingContext, inbound_id: int | None, report: IngestReport
) -> bool:
    """Claim and file one stored message; return False when there was none to claim."""
    with session_scope(app.engine) as session:
        inbound = _claim(session, inbound_id)
        if inbound is None:
            return False
        _file_one(session, ctx, inbound, report)
    return True


def _claim_many(session: Session, inbound_ids: list[int]) -> dict[int, InboundMessage]:
    """Claim those of `inbound_ids` still `received`, for this transaction (see `_claim`).

    SQLite: the compare-and-set write comes first and takes the writer lock, so the rows
    read next cannot be filed by anyone else before the commit.
    """
    mine = (col(InboundMessage.id).in_(inbound_ids), col(InboundMessage.status) == "received")
    query = select(InboundMessage).where(*mine).execution_options(populate_existing=True)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    else:
        session.execute(
            update(InboundMessage)
            .where(*mine)
            .values(status="received")
            .execution_options(synchronize_session=False)
        )
    return {row.id or 0: row for row in session.exec(query).all()}


def file_batch(
    app: App, ctx: FilingContext, inbound_ids: list[int], report: IngestReport
) -> list[bool]:
    """Claim and file stored messages in one transaction, each in its own savepoint.

    A crash before the commit leaves them all `received` (their raw bytes are committed):
    the next fetch or `process_received` files them. Returns, per id, whether it was filed.
    """
    if not inbound_ids:
        return []
    with session_scope(app.engine) as session:
        claimed = _claim_many(session, inbound_ids)
        todo: list[tuple[InboundMessage, ParsedMessage]] = []
        for inbound_id in inbound_ids:  # parse them all first: their look-ups go together
            if inbound_id in claimed:
                parsed = _parse(session, claimed[inbound_id], report)
                if parsed is not None:
                    todo.append((claimed[inbound_id], parsed))
        lookups: BatchLookups | None = None
        try:
            for k, (inbound, parsed) in enumerate(todo):
                if lookups is None or lookups.stale:  # built again after a relevant write
                    if lookups is not None:
                        lookups.close()
                    lookups = BatchLookups(session, (p for _, p in todo[k:]))
                _file_parsed(session, ctx, inbound, parsed, report, lookups)
        finally:
            if lookups is not None:
                lookups.close()
    return [i in claimed for i in inbound_ids]


def process_received(
    app: App, *, analyse: bool | ReplyHandler = True, limit: int = 10_000
) -> IngestReport:
    """File every stored message still `received` (left by a crash, or by another worker)."""
    ctx = filing_context(app, _handler(app, analyse))
    report = IngestReport(folder="*")
    while limit > 0 and file_received(app, ctx, None, report):
        limit -= 1
    return report


def _handler(app: App, analyse: bool | ReplyHandler) -> ReplyHandler | None:
    if analyse is True:
        return reply_handler(app)
    return analyse or None


def ingest_inbox(
    app: App,
    mailbox: Mailbox,
    *,
    analyse: bool | ReplyHandler = True,
    progress: IngestProgress | None = None,
    folder: str | None = None,
    batch_size: int | None = None,
    lease: bool = True,
    wait: float = 0,
) -> IngestReport:
    """Fetch new messages of the inbox folder, store, parse, match and file them.

    `lease` False skips the single-fetch lease (tests of the database's own guarantees);
    `wait`: seconds to wait for another fetch of the same mailbox to finish.
    """
    settings = app.settings
    folder = folder or settings.imap_folder
    account = f"{settings.imap_username or ''}@{settings.imap_host}:{settings.imap_port}"
    if not lease:
        return _ingest(app, mailbox, account, folder, analyse, progress, batch_size, None)
    with fetch_lease(app.engine, account, folder, wait=wait) as held:
        return _ingest(app, mailbox, account, folder, analyse, progress, batch_size, held)


def _ingest(
    app: App,
    mailbox: Mailbox,
    account: str,
    folder: str,
    analyse: bool | ReplyHandler,
    progress: IngestProgress | None,
    batch_size: int | None,
    held: FetchLease | None,
) -> IngestReport:
    batch_size = batch_size or app.settings.imap_batch_size
    ctx = filing_context(app, _handler(app, analyse))
    report = IngestReport(folder=folder)
    status = mailbox.folder_status(folder)
    with session_scope(app.engine) as session:
        state = _state(session, account, folder)
        if state.uidvalidity != status.uidvalidity:
            if state.uidvalidity is not None:
                report.uidvalidity_reset = True
                record(
                    session, app.actor, "mailbox.uidvalidity_changed", "mailbox", folder,
                    old=state.uidvalidity, new=status.uidvalidity, last_uid=state.last_uid,
                )  # fmt: skip
            state.uidvalidity, state.last_uid = status.uidvalidity, 0
            session.add(state)
        last_uid = report.last_uid = state.last_uid
    uids = mailbox.uids_after(folder, last_uid)
    target = app.settings.imap_processed_folder
    if uids and target:
        mailbox.ensure_folder(target)
    # An LLM call per reply would hold SQLite's writer lock for a whole batch: one per txn.
    per_txn = 1 if ctx.handler is not None and app.settings.llm_configured else FILE_BATCH
    for start in range(0, len(uids), batch_size):
        batch = uids[start : start + batch_size]
        fetched = mailbox.fetch(folder, batch)
        done = [f.uid for f in fetched]
        stored = store_batch(app, fetched, folder, status.uidvalidity)  # all bytes first
        report.fetched += len(fetched)
        report.stored += sum(new for _, new in stored)
        unique = list(dict.fromkeys(i for i, _ in stored if i is not None))
        # then filing; other workers may take some meanwhile
        filed: dict[int, bool] = {}
        for k in range(0, len(unique), per_txn):
            chunk = unique[k : k + per_txn]
            filed.update(zip(chunk, file_batch(app, ctx, chunk, report), strict=True))
        for inbound_id, new in stored:
            # a second copy of the same bytes in this batch counts once filed by the first
            if inbound_id is None or not filed.pop(inbound_id, False):
                report.duplicates += not new  # filed already (by us before, or another fetch)
        if done:
            _file_away(mailbox, folder, done, target)
        with session_scope(app.engine) as session:
            state = _state(session, account, folder)
            state.last_uid = report.last_uid = max(state.last_uid, *batch)
            state.updated_at = utcnow()
            session.add(state)
        if held is not None:
            held.renew()
        if progress:
            progress(min(start + batch_size, len(uids)), len(uids))
    return report


def _file_away(mailbox: Mailbox, folder: str, uids: list[int], target: str | None) -> None:
    """Move stored messages to `target` (or flag them seen); another fetch may have already."""
    for attempt in (1, 2):
        try:
            if target:
                mailbox.move(folder, uids, target)
            else:
                mailbox.add_flags(folder, uids, ["\\Seen"])
            return
        except MailboxError as exc:
            if attempt == 2 or "EXPUNGEISSUED" not in str(exc).upper():
                raise
        # Another fetch moved some of them meanwhile: move the ones still here.
        uids = sorted(set(mailbox.uids_after(folder, min(uids) - 1)) & set(uids))
        if not uids:
            return


def list_inbound(app: App, status: str, *, limit: int = 200) -> list[InboundMessage]:
    """Return stored inbound messages with `status` (e.g. unmatched, quarantined), newest first."""
    with Session(app.engine) as session:
        rows = session.exec(
            select(InboundMessage)
            .where(InboundMessage.status == status)
            .order_by(col(InboundMessage.received_at).desc(), col(InboundMessage.id).desc())
            .limit(limit)
        ).all()
        return list(rows)


def received_at_of(inbound: InboundMessage) -> datetime:
    """Return when a message reached the mailbox (its INTERNALDATE when known)."""
    return inbound.received_at
