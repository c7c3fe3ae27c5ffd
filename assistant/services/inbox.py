"""Fetch the agency mailbox, keep every message, and attach each reply to its case.

Order of work per message: store the raw bytes (committed) FIRST, then parse; a message that
cannot be parsed is quarantined, never dropped. UIDVALIDITY and the last UID are tracked per
folder; a Message-ID (or, without one, the bytes' SHA-256) already stored is not stored twice.
Matching, in order: thread headers to our Message-IDs, case token (plus-address, subject,
body), sender address, sender domain (unique, not a webmail), quoted invoice numbers.
Matched replies (absence notices included) go to `assistant.services.replies.handle_reply`.
This module never imports an IMAP library.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from email.parser import BytesHeaderParser
from email.policy import compat32
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from assistant.bootstrap import App
from assistant.db.engine import session_scope
from assistant.db.mail_models import InboundMessage, MailboxState
from assistant.db.models import Case, Contact, Draft, Invoice, utcnow
from assistant.mail.compose import message_ids
from assistant.mail.ports import FetchedMessage, Mailbox
from assistant.mail.window import aware
from assistant.mailparse.mime import MalformedMessage, ParsedMessage, parse_message
from assistant.mailparse.reply_text import extract_reply
from assistant.services.audit import record
from assistant.services.outbox_state import invalidate_address
from assistant.services.tokens import TOKEN_RE

IngestProgress = Callable[[int, int], None]  # (done, total)
ReplyHandler = Callable[[Session, InboundMessage, Case], Any]

TOKEN_ANY_CASE = re.compile(TOKEN_RE.pattern, re.IGNORECASE)
INVOICE_CANDIDATE = re.compile(r"(?<![\w/.-])[A-Za-z0-9][A-Za-z0-9/_.-]*\d[A-Za-z0-9/_.-]*")

#: Consumer mail providers: a shared domain says nothing about who wrote.
WEBMAIL_DOMAINS = frozenset(
    """gmail.com googlemail.com yahoo.com yahoo.fr yahoo.co.uk ymail.com hotmail.com
    hotmail.fr hotmail.co.uk outlook.com outlook.fr live.com live.fr msn.com icloud.com me.com
    mac.com aol.com aol.fr orange.fr wanadoo.fr free.fr sfr.fr neuf.fr laposte.net bbox.fr
    numericable.fr club-internet.fr aliceadsl.fr cegetel.net noos.fr voila.fr gmx.fr gmx.com
    gmx.de gmx.net web.de protonmail.com proton.me pm.me tutanota.com fastmail.com yandex.com
    yandex.ru mail.ru zoho.com btinternet.com sky.com virginmedia.com comcast.net
    skynet.be telenet.be bluewin.ch""".split()
)


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


# -- matching (queries only) --------------------------------------------------------------------
def _case_of_debtors(session: Session, debtor_ids: set[int]) -> Case | None:
    if len(debtor_ids) != 1:
        return None
    return session.exec(select(Case).where(Case.debtor_id == next(iter(debtor_ids)))).first()


def _by_thread(session: Session, parsed: ParsedMessage) -> Case | None:
    ids = [i for i in [parsed.in_reply_to, *reversed(parsed.references)] if i]
    if not ids:
        return None
    rows = session.exec(
        select(Draft.message_id, Draft.case_id).where(col(Draft.message_id).in_(ids))
    ).all()
    by_id = dict(rows)
    for mid in ids:  # the direct parent first, then the newest reference
        if mid in by_id:
            return session.get(Case, by_id[mid])
    return None


def _tokens(texts: Iterable[str]) -> list[str]:
    found: list[str] = []
    for text in texts:
        for m in TOKEN_ANY_CASE.findall(text or ""):
            if m.upper() not in found:
                found.append(m.upper())
    return found


def _by_token(session: Session, parsed: ParsedMessage) -> Case | None:
    for source in (parsed.recipient_addrs, [parsed.subject], [parsed.text]):
        refs = _tokens(source)
        if not refs:
            continue
        cases = session.exec(select(Case).where(col(Case.ref).in_(refs))).all()
        if len(cases) == 1:
            return cases[0]
    return None


def _by_sender(session: Session, address: str) -> Case | None:
    if "@" not in address:
        return None
    debtors = session.exec(
        select(Contact.debtor_id).where(func.lower(Contact.email) == address.strip().lower())
    ).all()
    return _case_of_debtors(session, set(debtors))


def _by_domain(session: Session, address: str, own_domains: set[str]) -> Case | None:
    domain = address.rpartition("@")[2].strip().lower()
    if not domain or domain in WEBMAIL_DOMAINS or domain in own_domains:
        return None
    debtors = session.exec(
        select(Contact.debtor_id).where(
            func.lower(Contact.email).endswith(f"@{domain}", autoescape=True)
        )
    ).all()
    return _case_of_debtors(session, set(debtors))


def _by_invoice(session: Session, text: str) -> Case | None:
    candidates = {c.rstrip("./-_") for c in INVOICE_CANDIDATE.findall(text or "")}
    candidates = {c for c in candidates if len(c) >= 4}
    if not candidates:
        return None
    debtors = session.exec(
        select(Invoice.debtor_id).where(col(Invoice.number).in_(sorted(candidates)[:500]))
    ).all()
    return _case_of_debtors(session, set(debtors))


def match_case(
    session: Session,
    parsed: ParsedMessage,
    own_domains: set[str] = frozenset(),  # type: ignore[assignment]
) -> tuple[Case | None, str | None]:
    """Find the case a message belongs to, and how (thread, token, sender, domain, invoice)."""
    for method, find in (
        ("thread", lambda: _by_thread(session, parsed)),
        ("token", lambda: _by_token(session, parsed)),
        ("sender", lambda: _by_sender(session, parsed.from_addr)),
        ("domain", lambda: _by_domain(session, parsed.from_addr, set(own_domains))),
        ("invoice", lambda: _by_invoice(session, f"{parsed.subject}\n{parsed.text}")),
    ):
        case = find()
        if case is not None:
            return case, method
    return None, None


# -- ingestion ----------------------------------------------------------------------------------
def _peek_message_id(raw: bytes) -> str | None:
    try:
        headers = BytesHeaderParser(policy=compat32).parsebytes(raw)
        ids = message_ids(str(headers.get("Message-ID") or ""))
    except Exception:  # noqa: BLE001 - garbage is parsed (and quarantined) later
        return None
    return ids[0][:900] if ids else None


def _default_handler(app: App) -> ReplyHandler | None:
    try:
        module = importlib.import_module("assistant.services.replies")
    except ModuleNotFoundError as exc:
        if exc.name != "assistant.services.replies":
            raise
        return None
    handle_reply = getattr(module, "handle_reply", None)
    return None if handle_reply is None else functools.partial(handle_reply, app=app)


def _own_domains(app: App) -> set[str]:
    out = set()
    for value in (app.settings.smtp_from, app.settings.reply_to, app.settings.imap_username):
        if value and "@" in value:
            out.add(value.rpartition("@")[2].strip(" >").lower())
    return out


def _state(session: Session, account: str, folder: str) -> MailboxState:
    row = session.exec(
        select(MailboxState).where(MailboxState.account == account, MailboxState.folder == folder)
    ).first()
    if row is None:
        row = MailboxState(account=account, folder=folder)
        session.add(row)
        session.flush()
    return row


def ingest_inbox(
    app: App,
    mailbox: Mailbox,
    *,
    analyse: bool | ReplyHandler = True,
    progress: IngestProgress | None = None,
    folder: str | None = None,
    batch_size: int | None = None,
) -> IngestReport:
    """Fetch new messages of the inbox folder, store, parse, match and file them."""
    settings = app.settings
    folder = folder or settings.imap_folder
    batch_size = batch_size or settings.imap_batch_size
    account = f"{settings.imap_username or ''}@{settings.imap_host}:{settings.imap_port}"
    handler: ReplyHandler | None
    if analyse is True:
        handler = _default_handler(app)
    else:
        handler = analyse or None
    report = IngestReport(folder=folder)
    status = mailbox.folder_status(folder)
    with session_scope(app.engine) as session:
        state = _state(session, account, folder)
        if state.uidvalidity != status.uidvalidity:
            if state.uidvalidity is not None:
                report.uidvalidity_reset = True
                record(
                    session,
                    app.actor,
                    "mailbox.uidvalidity_changed",
                    "mailbox",
                    folder,
                    old=state.uidvalidity,
                    new=status.uidvalidity,
                    last_uid=state.last_uid,
                )
            state.uidvalidity, state.last_uid = status.uidvalidity, 0
            session.add(state)
        last_uid = report.last_uid = state.last_uid
    uids = mailbox.uids_after(folder, last_uid)
    target = settings.imap_processed_folder
    if uids and target:
        mailbox.ensure_folder(target)
    own = _own_domains(app)
    for start in range(0, len(uids), batch_size):
        batch = uids[start : start + batch_size]
        done: list[int] = []
        for fetched in mailbox.fetch(folder, batch):
            report.fetched += 1
            _ingest_one(app, fetched, folder, status.uidvalidity, handler, own, report)
            done.append(fetched.uid)
        if done:
            if target:
                mailbox.move(folder, done, target)
            else:
                mailbox.add_flags(folder, done, ["\\Seen"])
        with session_scope(app.engine) as session:
            state = _state(session, account, folder)
            state.last_uid = report.last_uid = max(state.last_uid, *batch)
            state.updated_at = utcnow()
            session.add(state)
        if progress:
            progress(min(start + batch_size, len(uids)), len(uids))
    return report


def _ingest_one(
    app: App,
    fetched: FetchedMessage,
    folder: str,
    uidvalidity: int,
    handler: ReplyHandler | None,
    own: set[str],
    report: IngestReport,
) -> None:
    raw = fetched.raw
    digest = hashlib.sha256(raw).hexdigest()
    peek_id = _peek_message_id(raw)
    with session_scope(app.engine) as session:
        query = select(InboundMessage)
        query = query.where(
            InboundMessage.message_id == peek_id if peek_id else InboundMessage.raw_sha256 == digest
        )
        existing = session.exec(query).first()
        if existing is not None and existing.status != "received":
            report.duplicates += 1
            return
        if existing is None:
            existing = InboundMessage(
                folder=folder,
                uidvalidity=uidvalidity,
                uid=fetched.uid,
                raw=raw,
                raw_sha256=digest,
                size=len(raw),
                message_id=peek_id,
                received_at=aware(fetched.internaldate) if fetched.internaldate else utcnow(),
                status="received",
            )
            session.add(existing)
            session.flush()
            report.stored += 1
        inbound_id = existing.id
    # Raw bytes are committed: whatever happens next, the message is not lost.
    with session_scope(app.engine) as session:
        inbound = session.get(InboundMessage, inbound_id)
        assert inbound is not None
        try:
            parsed = parse_message(raw)
        except MalformedMessage as exc:
            inbound.status, inbound.error = "quarantined", f"unparsable: {exc}"[:1000]
            session.add(inbound)
            report.quarantined.append(inbound.id or 0)
            return
        try:
            _file(session, app, inbound, parsed, handler, own, report)
        except Exception as exc:  # noqa: BLE001 - keep the message, show it to an officer
            session.rollback()
            inbound = session.get(InboundMessage, inbound_id)
            assert inbound is not None
            inbound.status = "quarantined"
            inbound.error = f"processing failed: {type(exc).__name__}: {exc}"[:1000]
            session.add(inbound)
            report.quarantined.append(inbound.id or 0)
            report.errors.append(f"message {inbound.id}: {inbound.error}")


def _file(
    session: Session,
    app: App,
    inbound: InboundMessage,
    parsed: ParsedMessage,
    handler: ReplyHandler | None,
    own: set[str],
    report: IngestReport,
) -> None:
    inbound.message_id = parsed.message_id or inbound.message_id
    inbound.in_reply_to = parsed.in_reply_to
    inbound.references = " ".join(parsed.references) or None
    inbound.subject = parsed.subject[:1000]
    inbound.from_addr = parsed.from_addr.lower() or None
    inbound.to_addrs = ", ".join(parsed.recipient_addrs) or None
    inbound.sent_date = aware(parsed.date) if parsed.date else None
    inbound.text = parsed.text
    inbound.has_html = parsed.html is not None
    inbound.attachments = [
        {"filename": a.filename, "content_type": a.content_type, "size": a.size}
        for a in parsed.attachments
    ]
    inbound.is_auto_reply = parsed.is_auto_reply
    inbound.is_bounce = parsed.is_bounce
    inbound.bounced_recipients = list(parsed.bounced_recipients)
    inbound.reply_text = extract_reply(parsed.text)
    actor = app.actor
    if parsed.is_bounce:
        inbound.status = "bounce"
        report.bounces += 1
        reason = f"bounce {parsed.bounce_status or ''}".strip() + f" (message {inbound.id})"
        debtors: set[int] = set()
        for address in parsed.bounced_recipients:
            for contact in invalidate_address(session, address, reason, actor):
                report.invalidated.append(contact.email)
                debtors.add(contact.debtor_id)
        bounced = _case_of_debtors(session, debtors)
        how = "bounce"
        if bounced is None:
            bounced, how = _by_thread(session, parsed), "thread"
        _attach(inbound, bounced, how)
        session.add(inbound)
        record(
            session,
            actor,
            "inbound.bounce",
            "inbound",
            inbound.id,
            recipients=list(parsed.bounced_recipients),
            status=parsed.bounce_status,
        )
        return
    case, method = match_case(session, parsed, own)
    _attach(inbound, case, method)
    if parsed.is_auto_reply:
        inbound.status = "auto_reply"
        report.auto_replies += 1
        if case is not None and handler is not None:
            # An absence notice from a debtor reschedules the next contact (DOMAIN.md §4).
            session.add(inbound)
            session.flush()
            _analyse(session, handler, inbound, case, report)
    elif case is None:
        inbound.status = "unmatched"
        report.unmatched.append(inbound.id or 0)
    else:
        report.matched[method or "?"] = report.matched.get(method or "?", 0) + 1
        inbound.status = "unanalysed"
        session.add(inbound)
        session.flush()
        if handler is None:
            report.unanalysed += 1
        else:
            _analyse(session, handler, inbound, case, report)
    session.add(inbound)
    record(
        session,
        actor,
        "inbound.stored",
        "inbound",
        inbound.id,
        status=inbound.status,
        case=case.ref if case else None,
        match=method,
        message_id=inbound.message_id,
    )


def _analyse(
    session: Session,
    handler: ReplyHandler,
    inbound: InboundMessage,
    case: Case,
    report: IngestReport,
) -> None:
    """Hand one matched reply to the analyser; a failure leaves it `unanalysed`, kept."""
    try:
        with session.begin_nested():
            handler(session, inbound, case)
    except Exception as exc:  # noqa: BLE001 - the message must survive an analyser bug
        session.refresh(inbound)
        inbound.status = "unanalysed"
        inbound.error = f"analysis failed: {type(exc).__name__}: {exc}"[:1000]
        report.unanalysed += 1
        report.errors.append(f"message {inbound.id}: {inbound.error}")
        return
    if inbound.status == "unanalysed":
        inbound.status = "analysed"
    report.analysed += 1


def _attach(inbound: InboundMessage, case: Case | None, method: str | None) -> None:
    inbound.case_id = case.id if case else None
    inbound.match_method = method if case else None


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
