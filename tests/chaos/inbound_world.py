"""The world of the inbound chaos scenarios: seeded cases and letters, debtor mail, and
the counters the scenarios score (imported by `inbound_scenarios`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any, Protocol

from imapclient import IMAPClient
from sqlalchemy import func
from sqlmodel import Session, select

from assistant.bootstrap import App, build_app
from assistant.db.engine import session_scope
from assistant.db.mail_models import InboundMessage
from assistant.db.models import Case, Contact, Draft, Handoff, Invoice, Promise, Task
from assistant.mail import build_mailbox
from assistant.services.inbox import IngestReport, ingest_inbox
from assistant.services.portfolio import ensure_creditor
from assistant.services.tokens import case_token
from tests.helpers import seed_debtor
from tests.integration.servers import mail_settings

ROOT = Path(__file__).resolve().parents[2]
AGENCY = "recouvrement@recouvra.example"
TODAY = datetime.now(UTC).date()
SLUGS = ("atelier-bois", "distrib-pro")  # two creditors: cross-creditor mail must never apply


class Imap(Protocol):
    """A fresh IMAP account."""

    host: str
    port: int
    username: str
    password: str

    def client(self) -> IMAPClient: ...


@dataclass
class Outcome:
    """What one scenario saw; `ok` when nothing was doubled, lost or changed by a stranger."""

    scenario: str
    runs: int = 1
    duplicates: int = 0
    losses: int = 0
    stranger_changes: int = 0
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Return True when every counter is zero."""
        return not (self.duplicates or self.losses or self.stranger_changes)


@dataclass(frozen=True)
class Letter:
    """A case seeded with one letter we sent."""

    case_id: int
    ref: str
    creditor: str
    email: str
    invoice: str
    message_id: str


def make_app(db_url: str, imap: Imap) -> App:
    """Return an App on `db_url` reading `imap` (no SMTP needed here)."""
    return build_app(mail_settings(db_url, None, imap), actor="chaos")


def seed_letters(app: App, count: int, slug: str = SLUGS[0], prefix: str = "D") -> list[Letter]:
    """Seed `count` debtors of `slug`, each with a case and one letter sent to its contact."""
    out = []
    with session_scope(app.engine) as s:
        creditor = ensure_creditor(s, app.policies[slug])
        for n in range(count):
            account = f"{prefix}{n:03d}"
            email = f"compta@{account.lower()}-{slug}.example"
            invoice = f"FA-{prefix}{n:03d}-{slug[:3].upper()}"
            debtor = seed_debtor(
                s, creditor, account, f"Société {account}", [(invoice, 20, 125000)], TODAY,
                email=email,
            )  # fmt: skip
            ref = case_token(f"{slug}/{account}")
            case = Case(ref=ref, creditor_id=creditor.id, debtor_id=debtor.id)
            s.add(case)
            s.flush()
            mid = f"letter-{account.lower()}-{slug}@recouvra.example"
            s.add(
                Draft(
                    case_id=case.id, step="reminder_1", subject=f"Relance [{ref}]",
                    body_text=f"La facture {invoice} reste impayée.", body_html="<p>…</p>",
                    status="sent", message_id=mid, to_addrs=email, sent_at=datetime.now(UTC),
                )
            )  # fmt: skip
            out.append(Letter(case.id or 0, ref, slug, email, invoice, mid))
    return out


def message(
    frm: str,
    subject: str,
    body: str,
    *,
    msgid: str,
    in_reply_to: str | None = None,
    to: str = AGENCY,
) -> bytes:
    """Return the bytes of a plain message as a mail client would write it."""
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = frm, to, subject
    m["Date"] = format_datetime(datetime.now(UTC))
    m["Message-ID"] = f"<{msgid}>"
    if in_reply_to:
        m["In-Reply-To"] = m["References"] = f"<{in_reply_to}>"
    m.set_content(body)
    return bytes(m)


def promise_reply(letter: Letter) -> bytes:
    """The debtor's own answer to our letter: a dated promise to pay."""
    return message(
        letter.email, f"RE: Relance [{letter.ref}]",
        f"Bonjour,\n\nNous réglerons la facture {letter.invoice} le 28 décembre par virement."
        "\n\nCordialement",
        msgid=f"reply-{letter.message_id}", in_reply_to=letter.message_id,
    )  # fmt: skip


def append(imap: Imap, messages: list[bytes], folder: str = "INBOX") -> None:
    """APPEND `messages` to the account's `folder`."""
    client = imap.client()
    try:
        for raw in messages:
            client.append(folder, raw)
    finally:
        client.logout()


def fetch(app: App, **options: Any) -> IngestReport:
    """Run one fetch in this process."""
    mailbox = build_mailbox(app.settings)
    try:
        return ingest_inbox(app, mailbox, **options)
    finally:
        mailbox.close()


def snapshot(app: App) -> dict[str, Any]:
    """Return every state a message could change: cases, invoices, contacts, queues, drafts."""
    with Session(app.engine) as s:
        return {
            "cases": sorted((c.ref, c.status, c.paused_until) for c in s.exec(select(Case))),
            "invoices": sorted((i.number, i.status) for i in s.exec(select(Invoice))),
            "contacts": sorted((c.email, c.valid) for c in s.exec(select(Contact))),
            "handoffs": len(s.exec(select(Handoff)).all()),
            "promises": len(s.exec(select(Promise)).all()),
            "tasks": len(s.exec(select(Task)).all()),
            "drafts": sorted((d.id, d.status) for d in s.exec(select(Draft))),
        }


def fetch_env(app: App, imap: Imap) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELANCE_")}
    settings = app.settings
    env.update(
        RELANCE_DATABASE_URL=settings.database_url,
        RELANCE_POLICIES_DIR=str(settings.policies_dir),
        RELANCE_TEMPLATES_DIR=str(settings.templates_dir),
        RELANCE_SMTP_FROM=settings.smtp_from or AGENCY,
        RELANCE_REPLY_TO=settings.reply_to or AGENCY,
        RELANCE_IMAP_HOST=imap.host,
        RELANCE_IMAP_PORT=str(imap.port),
        RELANCE_IMAP_SECURITY="none",
        RELANCE_IMAP_USERNAME=imap.username,
        RELANCE_IMAP_PASSWORD=imap.password,
        RELANCE_ACTOR="chaos",
        PYTHONPATH=str(ROOT),
    )
    return env


def counts(app: App) -> dict[str, int]:
    """Return how many replies are stored and analysed, promises and acknowledgements."""
    with Session(app.engine) as s:
        return {
            "stored": s.exec(select(func.count()).select_from(InboundMessage)).one(),
            "analysed": s.exec(
                select(func.count(func.distinct(InboundMessage.message_id))).where(
                    InboundMessage.status == "analysed"
                )
            ).one(),
            "promises": s.exec(select(func.count()).select_from(Promise)).one(),
            "acks": s.exec(
                select(func.count()).select_from(Draft).where(Draft.kind == "ack_promise")
            ).one(),
        }


def inbox_outcome(name: str, app: App, expected: int, **details: Any) -> Outcome:
    """Score the inbox against `expected` replies: each stored, analysed and applied once."""
    tally = counts(app)
    keys = ("stored", "promises", "acks")
    return Outcome(
        name,
        runs=2,
        duplicates=sum(max(tally[k] - expected, 0) for k in keys),
        losses=sum(max(expected - tally[k], 0) for k in (*keys, "analysed")),
        details={**tally, **details},
    )


def fetched_count(stdout: bytes) -> int:
    """Return how many messages one fetch process read (from its JSON report lines)."""
    total = 0
    for line in stdout.decode(errors="replace").splitlines():
        if line.startswith("{"):
            total += int(json.loads(line).get("fetched", 0))
    return total


def triaged(app: App) -> dict[str, tuple[str, str | None, str | None]]:
    """Return (status, suggested case ref, reason) by Message-ID."""
    with Session(app.engine) as s:
        rows = s.exec(select(InboundMessage)).all()
        refs = {c.id: c.ref for c in s.exec(select(Case))}
        return {
            r.message_id or f"#{r.id}": (
                r.status,
                refs.get(r.suggested_case_id or 0),
                r.triage_reason,
            )
            for r in rows
        }


def dsn(failed: str, original_msgid: str, *, host: str = "mx.recouvra.example") -> bytes:
    """An RFC 3464 delivery-status report saying mail to `failed` failed."""
    b = "bnd-chaos"
    return (
        f"From: Mail Delivery System <MAILER-DAEMON@{host}>\r\nTo: {AGENCY}\r\n"
        f"Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <dsn-{original_msgid}>\r\n"
        f"MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{b}"\r\n\r\n'
        f"--{b}\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n\r\n"
        f"--{b}\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; {host}\r\n\r\n"
        f"Final-Recipient: rfc822; {failed}\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
        f"--{b}\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"From: {AGENCY}\r\nTo: {failed}\r\nMessage-ID: <{original_msgid}>\r\n\r\n--{b}--\r\n"
    ).encode()
