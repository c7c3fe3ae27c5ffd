"""Triage from the command line, against Dovecot: `relance inbox unmatched` says which case a
stranger's message seems to be about and why it was not applied; `relance inbox attach`
applies it, audited; a second `relance fetch` of a busy mailbox is refused, saying who holds it."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from assistant.db.engine import session_scope
from assistant.db.models import AuditEvent, Case, Handoff
from assistant.services.inbox_lease import fetch_lease
from tests.e2e import test_mail_loop
from tests.integration import servers
from tests.integration.mailworld import seed_case
from tests.integration.test_inbox import append, mail

pytestmark = pytest.mark.integration

dovecot = servers.dovecot
imap_account = servers.imap_account
smtp_server = servers.smtp_server
mail_app = servers.mail_app
run = test_mail_loop.run  # the CLI, configured like `mail_app`

LISTED_KEYS = {
    "id", "received_at", "from", "subject", "message_id", "size", "snippet", "error",
    "attachments", "suggested_case", "reason",
}  # fmt: skip


@pytest.fixture
def martin(mail_app):
    return seed_case(
        mail_app, "C001", "Boulangerie Martin SARL", "compta@boulangerie-martin.fr",
        [("FA-2026-0101", 12, 125000)], "REF-7Q2K",
    )  # fmt: skip


def test_a_strangers_dispute_waits_in_triage_until_an_officer_attaches_it(
    mail_app, martin, imap_account, run
):
    append(
        imap_account,
        mail("Inconnu <x@tiers.example>", "Litige", "Nous contestons la facture FA-2026-0101."),
    )

    fetched = json.loads(run("fetch", "--json").output)

    assert fetched["stored"] == 1 and len(fetched["unmatched"]) == 1
    [row] = json.loads(run("inbox", "unmatched", "--json").output)
    assert set(row) == LISTED_KEYS
    assert row["suggested_case"] == "REF-7Q2K"
    assert (
        row["reason"] == "invoice number of REF-7Q2K quoted by x@tiers.example, not a known contact"
    )
    assert "REF-7Q2K" in run("inbox", "unmatched").output
    with session_scope(mail_app.engine) as s:
        assert s.exec(select(Case)).one().status == "active"  # nothing changed yet

    attached = run("inbox", "attach", str(row["id"]), "ref-7q2k", "--as", "alice")

    assert attached.exit_code == 0, attached.output
    assert f"message {row['id']} attached to REF-7Q2K" in attached.output
    assert "handed off (dispute)" in attached.output
    with session_scope(mail_app.engine) as s:
        assert s.exec(select(Case)).one().status == "handoff"
        assert len(s.exec(select(Handoff)).all()) == 1
        event = s.exec(select(AuditEvent).where(AuditEvent.action == "inbound.attached")).one()
        assert event.actor == "alice" and event.payload["case"] == "REF-7Q2K"
    assert json.loads(run("inbox", "unmatched", "--json").output) == []
    again = run("inbox", "attach", str(row["id"]), "REF-7Q2K")
    assert again.exit_code == 1
    assert f"message {row['id']} is analysed (case REF-7Q2K); it was not attached again" in (
        " ".join(again.output.split())
    )
    with session_scope(mail_app.engine) as s:
        assert len(s.exec(select(Handoff)).all()) == 1  # applied once


def test_a_second_fetch_of_a_busy_mailbox_is_refused_saying_who_holds_it(
    mail_app, martin, imap_account, run
):
    append(imap_account, mail("compta@boulangerie-martin.fr", "Paiement", "Payé ce jour."))
    s = mail_app.settings
    account = f"{s.imap_username}@{s.imap_host}:{s.imap_port}"

    with fetch_lease(mail_app.engine, account, "INBOX"):
        busy = run("fetch")

    assert busy.exit_code == 75
    text = " ".join(busy.output.split())
    assert "fetch not run" in text and "is fetching it (lease until" in text
    done = run("fetch", "--json")
    assert done.exit_code == 0 and json.loads(done.output)["stored"] == 1
