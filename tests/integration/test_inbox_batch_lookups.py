"""The inbox files a fetched batch with look-ups loaded for the whole batch; what filing one
message writes (a contact, a letter, a case) is seen by the messages filed after it."""

from __future__ import annotations

import pytest
from sqlmodel import select

from assistant.db.engine import session_scope
from assistant.db.mail_models import InboundMessage
from assistant.db.models import Contact
from assistant.mail import build_mailbox
from assistant.services.inbox import ingest_inbox
from tests.integration.mailworld import add_draft, seed_case
from tests.integration.test_inbox import append, bounce, mail, mark_sent

pytestmark = pytest.mark.integration


def by_subject(app) -> dict[str, InboundMessage]:
    with session_scope(app.engine) as s:
        return {r.subject or f"#{r.id}": r for r in s.exec(select(InboundMessage)).all()}


def test_a_contact_recorded_while_filing_is_known_to_the_next_message_of_the_batch(
    mail_app, imap_account
):
    martin = seed_case(
        mail_app, "C001", "Boulangerie Martin SARL", "compta@boulangerie-martin.fr",
        [("FA-2026-0101", 12, 125000)], "REF-7Q2K",
    )  # fmt: skip
    garage = seed_case(
        mail_app, "C002", "Garage des Lilas SAS", "factures@garage-lilas.fr",
        [("FA-2026-0201", 20, 30000)], "REF-8R3M",
    )  # fmt: skip
    append(
        imap_account,
        mail("compta@boulangerie-martin.fr", "Paiement", "Je paierai le 4 décembre."),
        mail("j.nouveau@gmail.com", "Question", "Bonjour, je reprends le dossier du garage."),
    )
    seen = []

    def handle_reply(session, inbound, case):
        """Records, while filing the first reply, the gmail address as a known contact."""
        seen.append(case.ref)
        if case.ref == "REF-7Q2K":
            session.add(
                Contact(debtor_id=garage.debtor_id, email="j.nouveau@gmail.com", source="officer")
            )

    box = build_mailbox(mail_app.settings)
    try:
        report = ingest_inbox(mail_app, box, analyse=handle_reply)
    finally:
        box.close()

    assert report.fetched == 2 and not report.unmatched
    assert seen == ["REF-7Q2K", "REF-8R3M"]
    row = by_subject(mail_app)["Question"]
    assert row.case_id == garage.case_id and row.match_method == "sender"
    assert by_subject(mail_app)["Paiement"].case_id == martin.case_id


def test_a_bounce_and_a_reply_in_one_batch_are_filed_as_one_at_a_time(mail_app, imap_account):
    garage = seed_case(
        mail_app, "C002", "Garage des Lilas SAS", "factures@garage-lilas.fr",
        [("FA-2026-0201", 20, 30000)], "REF-8R3M",
    )  # fmt: skip
    message_id = mark_sent(mail_app, add_draft(mail_app, garage))
    append(
        imap_account,
        bounce("factures@garage-lilas.fr", message_id),
        mail(
            "factures@garage-lilas.fr",
            "Re: Relance [REF-8R3M]",
            "Payé hier.",
            headers={"In-Reply-To": f"<{message_id}>"},
        ),
    )

    box = build_mailbox(mail_app.settings)
    try:
        report = ingest_inbox(mail_app, box, analyse=False)
    finally:
        box.close()

    assert report.bounces == 1 and report.invalidated == ["factures@garage-lilas.fr"]
    row = by_subject(mail_app)["Re: Relance [REF-8R3M]"]
    # the address no longer receives mail, but it is still the debtor's known address: its
    # reply, in the thread of our letter, is filed to the case (the trust rules, unchanged)
    assert row.case_id == garage.case_id and row.status == "unanalysed"
    with session_scope(mail_app.engine) as s:
        contact = s.exec(select(Contact).where(Contact.email == "factures@garage-lilas.fr")).one()
        assert contact.valid is False
