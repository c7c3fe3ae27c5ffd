"""A debtor's reply changes its case, end to end through real mail servers: a reminder is sent
(aiosmtpd), the debtor answers (APPENDed to Dovecot), `ingest_inbox` reads it, and the case
holds a promise and an acknowledgement waiting for approval."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from email.message import EmailMessage
from email.utils import format_datetime

import pytest
from sqlmodel import select

from assistant.db.engine import session_scope
from assistant.db.mail_models import InboundMessage
from assistant.db.models import Case, Draft, Promise
from assistant.mail import build_mailbox, build_sender
from assistant.services.approval import approve_draft
from assistant.services.cycle import run_cycle
from assistant.services.inbox import ingest_inbox
from assistant.services.outbox import send_outbox
from assistant.services.portfolio import ensure_creditor
from tests.helpers import seed_debtor
from tests.integration import servers
from tests.integration.mailworld import parse

pytestmark = pytest.mark.integration

dovecot = servers.dovecot
imap_account = servers.imap_account
smtp_server = servers.smtp_server
mail_app = servers.mail_app
TODAY = servers.TODAY
NOW = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)  # Thursday 10:30 in Paris
SLUG = "atelier-bois"


def send_first_reminder(app, smtp_server) -> tuple[str, EmailMessage]:
    """Seed one overdue debtor, draft, approve and send the reminder; return (case ref, mail)."""
    with session_scope(app.engine) as s:
        creditor = ensure_creditor(s, app.policies[SLUG])
        seed_debtor(
            s, creditor, "C001", "Boulangerie Martin SARL",
            [("FA-2026-0101", 12, 125000), ("FA-2026-0102", 8, 48050)], TODAY,
            email="compta@boulangerie-martin.example",
        )  # fmt: skip
    [draft_id] = run_cycle(app, TODAY, creditor=SLUG).draft_ids
    with session_scope(app.engine) as s:
        approve_draft(s, draft_id, "alice", app.policies, app.settings.smtp_from)
        ref = s.get(Case, s.get(Draft, draft_id).case_id).ref
    mailbox = build_mailbox(app.settings)
    try:
        report = asyncio.run(send_outbox(app, build_sender(app.settings), mailbox, NOW))
    finally:
        mailbox.close()
    assert report.sent == [draft_id]
    [sent] = [parse(m.data) for m in smtp_server.messages]
    return ref, sent


def answer(sent: EmailMessage, body: str, *, when: datetime, auto: bool = False) -> bytes:
    """The debtor's answer, threaded under the reminder, with the usual quoted history."""
    m = EmailMessage()
    m["From"] = "Paul Martin <compta@boulangerie-martin.example>"
    m["To"] = sent["Reply-To"]
    m["Subject"] = ("Réponse automatique : " if auto else "RE: ") + str(sent["Subject"])
    m["Date"] = format_datetime(when)
    m["Message-ID"] = f"<{'auto' if auto else 'reply'}-1@boulangerie-martin.example>"
    m["In-Reply-To"] = sent["Message-ID"].strip()
    m["References"] = sent["Message-ID"].strip()
    if auto:
        m["Auto-Submitted"] = "auto-replied"
    quoted = "\n".join("> " + ln for ln in sent.get_body(("plain",)).get_content().splitlines())
    m.set_content(f"{body}\n\nLe 26/11/2026 à 10:30, Cabinet Recouvra a écrit :\n{quoted}\n")
    return bytes(m)


def ingest(app) -> None:
    mailbox = build_mailbox(app.settings)
    try:
        report = ingest_inbox(app, mailbox)
    finally:
        mailbox.close()
    assert report.errors == [] and report.analysed == 1, report.as_dict()


def test_a_promise_by_mail_is_recorded_and_acknowledged(mail_app, smtp_server, imap_account):
    ref, sent = send_first_reminder(mail_app, smtp_server)
    client = imap_account.client()
    client.append(
        "INBOX",
        answer(
            sent,
            "Bonjour,\n\nNous réglerons 1 250,00 € le 5 décembre par virement.\n\n"
            "Cordialement,\nPaul Martin\nBoulangerie Martin — SIRET 512 345 678 00012",
            when=NOW.replace(hour=14),
        ),
    )
    client.logout()

    ingest(mail_app)

    with session_scope(mail_app.engine) as s:
        case = s.exec(select(Case).where(Case.ref == ref)).one()
        [promise] = s.exec(select(Promise).where(Promise.case_id == case.id)).all()
        inbound = s.exec(select(InboundMessage).where(InboundMessage.case_id == case.id)).one()
        [ack] = s.exec(select(Draft).where(Draft.case_id == case.id, Draft.status == "pending"))
    assert inbound.status == "analysed" and inbound.analysis["intent"] == "promise_to_pay"
    assert case.status == "promise"
    assert promise.due_on == date(2026, 12, 5) and promise.amount_cents == 125000
    assert ack.kind == "ack_promise" and f"[{ref}]" in ack.subject
    text = " ".join(ack.body_text.replace("\u202f", " ").replace("\u00a0", " ").split())
    assert "votre engagement de régler 1 250,00 € le 5 décembre 2026" in text
    assert not [f for f in ack.findings if f["blocking"]], ack.findings


def test_an_absence_notice_by_mail_holds_the_next_reminder(mail_app, smtp_server, imap_account):
    ref, sent = send_first_reminder(mail_app, smtp_server)
    client = imap_account.client()
    client.append(
        "INBOX",
        answer(
            sent,
            "Je suis absent du bureau jusqu'au 14 décembre inclus. En cas d'urgence, merci de "
            "contacter le standard.",
            when=NOW.replace(hour=10),
            auto=True,
        ),
    )
    client.logout()

    ingest(mail_app)

    with session_scope(mail_app.engine) as s:
        case = s.exec(select(Case).where(Case.ref == ref)).one()
        inbound = s.exec(select(InboundMessage).where(InboundMessage.case_id == case.id)).one()
    assert inbound.status == "auto_reply" and inbound.analysis["intent"] == "out_of_office"
    assert case.paused_until == date(2026, 12, 15)
    assert run_cycle(mail_app, date(2026, 12, 14), creditor=SLUG).total("drafts") == 0
