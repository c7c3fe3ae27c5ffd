"""The whole mail loop against real servers: import → cycle → approve → send (aiosmtpd) →
a debtor reply APPENDed to the agency mailbox (Dovecot) → `relance fetch` → matched to its case
with the words the debtor wrote. Also the `relance send` dry run and `relance inbox unmatched`."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pytest
import typer
from sqlmodel import select
from typer.testing import CliRunner

from assistant.cli.mail import fetch_command, inbox_app, send_command
from assistant.db.engine import session_scope
from assistant.db.mail_models import InboundMessage
from assistant.db.models import Case, Draft
from assistant.importing import import_invoices
from assistant.mail import build_mailbox, build_sender
from assistant.services.approval import approve_draft
from assistant.services.cycle import run_cycle
from assistant.services.outbox import send_outbox
from tests.integration import servers
from tests.integration.mailworld import parse

pytestmark = pytest.mark.integration

# the real mail servers of the integration tests, as fixtures of this module
dovecot = servers.dovecot
imap_account = servers.imap_account
smtp_server = servers.smtp_server
mail_app = servers.mail_app
TODAY = servers.TODAY

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)  # Thursday 10:30 in Paris
SLUG = "atelier-bois"
REPLY = (
    "Bonjour,\n\nNous avons bien reçu votre relance. La facture EBP-26003 sera réglée par "
    "virement le 4 décembre.\n\nCordialement,\nMarc Durand"
)


def cli() -> typer.Typer:
    """Mount the mail commands as `relance` does."""
    root = typer.Typer()
    root.command("send")(send_command)
    root.command("fetch")(fetch_command)
    root.add_typer(inbox_app, name="inbox")

    @root.callback()
    def _main() -> None:
        """Relance."""

    return root


@pytest.fixture
def run(mail_app, tmp_path, monkeypatch):
    """Invoke the CLI with the same settings as `mail_app`, from the environment."""
    monkeypatch.chdir(tmp_path)  # no stray .env
    s = mail_app.settings
    env = {
        "DATABASE_URL": s.database_url,
        "POLICIES_DIR": str(s.policies_dir),
        "TEMPLATES_DIR": str(s.templates_dir),
        "SMTP_HOST": s.smtp_host,
        "SMTP_PORT": str(s.smtp_port),
        "SMTP_SECURITY": "none",
        "SMTP_FROM": s.smtp_from,
        "REPLY_TO": s.reply_to,
        "IMAP_HOST": s.imap_host,
        "IMAP_PORT": str(s.imap_port),
        "IMAP_SECURITY": "none",
        "IMAP_USERNAME": s.imap_username,
        "IMAP_PASSWORD": s.imap_password.get_secret_value(),
        "IMAP_PROCESSED_FOLDER": "Processed",
    }
    for key, value in env.items():
        monkeypatch.setenv(f"RELANCE_{key}", value)
    monkeypatch.setenv("COLUMNS", "200")
    runner, app = CliRunner(), cli()

    def invoke(*args: str):
        result = runner.invoke(app, list(args), catch_exceptions=False)
        assert s.imap_password.get_secret_value() not in result.output  # secrets never printed
        return result

    return invoke


def debtor_reply(sent: EmailMessage) -> bytes:
    """What Outlook on the debtor's side sends back: RE: subject, threading, quoted history."""
    m = EmailMessage()
    m["From"] = "Marc Durand <factures@durand-elec.example>"
    m["To"] = sent["Reply-To"]
    m["Subject"] = f"RE: {sent['Subject']}"
    m["Date"] = format_datetime(NOW)
    m["Message-ID"] = "<DB9PR01MB1234.eurprd01.prod.outlook.com@durand-elec.example>"
    m["In-Reply-To"] = sent["Message-ID"].strip()
    m["References"] = sent["Message-ID"].strip()
    original = sent.get_body(("plain",)).get_content()
    m.set_content(
        REPLY + "\n\n________________________________\nDe : Cabinet Recouvra "
        "<recouvrement@recouvra.example>\nEnvoyé : jeudi 26 novembre 2026 10:30\n"
        "À : factures@durand-elec.example\nObjet : " + str(sent["Subject"]) + "\n\n" + original,
        charset="utf-8",
        cte="quoted-printable",
    )
    return bytes(m)


def test_the_whole_loop_from_import_to_a_matched_reply(mail_app, smtp_server, imap_account, run):
    report = import_invoices(
        mail_app, ROOT / "tests/fixtures/imports/ebp_utf8_bom.csv", SLUG, today=TODAY
    )
    assert report.created > 0
    cycle = run_cycle(mail_app, TODAY, creditor=SLUG)
    assert cycle.draft_ids
    with session_scope(mail_app.engine) as s:
        for draft_id in cycle.draft_ids:
            for officer in ("alice", "bob"):  # a four-eyes step needs a second officer
                if s.get(Draft, draft_id).status == "pending":
                    approve_draft(
                        s, draft_id, officer, mail_app.policies, mail_app.settings.smtp_from
                    )
        approved = s.exec(select(Draft).where(Draft.status == "approved")).all()
        durand = next(d for d in approved if "factures@durand-elec.example" in (d.to_addrs or ""))
        case = s.get(Case, durand.case_id)

    dry = run("send")
    assert dry.exit_code == 0 and "nothing was sent" in dry.output and "--yes" in dry.output
    assert smtp_server.messages == []

    mailbox = build_mailbox(mail_app.settings)
    try:
        sent_report = asyncio.run(
            send_outbox(mail_app, build_sender(mail_app.settings), mailbox, NOW)
        )
    finally:
        mailbox.close()

    assert sorted(sent_report.sent) == sorted(d.id for d in approved)
    again = run("send", "--yes", "--json")  # nothing left to send: nothing resent
    assert again.exit_code == 0 and json.loads(again.output)["sent"] == []
    assert len(smtp_server.messages) == len(approved)
    delivered = {tuple(m.rcpt_tos): parse(m.data) for m in smtp_server.messages}
    sent = delivered[("factures@durand-elec.example",)]
    assert sent["Message-ID"].strip() == f"<{durand.message_id}>"
    assert sent["Reply-To"] == f"recouvrement+{case.ref}@recouvra.example"
    assert (
        f"[{case.ref}]" in sent["Subject"]
        and "EBP-26003" in sent.get_body(("plain",)).get_content()
    )
    assert sent.get_body(("html",)) is not None

    client = imap_account.client()
    client.append("INBOX", debtor_reply(sent))
    client.append("INBOX", b"From: promo@shop.example\r\nSubject: Offre\r\n\r\nPromotion\r\n")
    client.append("INBOX", b"\x01\x02\x03 garbage, not a message \xff")
    client.logout()

    fetched = run("fetch", "--json")

    assert fetched.exit_code == 0, fetched.output
    summary = json.loads(fetched.output)
    assert summary["fetched"] == 3 and summary["matched"] == {"thread": 1}
    with session_scope(mail_app.engine) as s:
        reply = s.exec(select(InboundMessage).where(InboundMessage.case_id == case.id)).one()
    assert reply.match_method == "thread" and reply.reply_text == REPLY
    assert reply.status in ("unanalysed", "analysed")
    unmatched = json.loads(run("inbox", "unmatched", "--json").output)
    assert [u["subject"] for u in unmatched] == ["Offre"]
    quarantined = json.loads(run("inbox", "quarantine", "--json").output)
    assert len(quarantined) == 1 and quarantined[0]["error"].startswith("unparsable")
    assert run("fetch").output.startswith("INBOX: 0 fetched")
