"""The inbox against a real IMAP server (Dovecot): fetch, store raw, parse, match, file."""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import pytest
from sqlmodel import select

from assistant.db.engine import session_scope
from assistant.db.mail_models import InboundMessage, MailboxState
from assistant.db.models import Contact, Draft, Task
from assistant.mail import build_mailbox
from assistant.mail.imap import ImapMailbox
from assistant.services.inbox import ingest_inbox, list_inbound
from tests.integration.mailworld import NOW, PDF, add_draft, get_draft, seed_case

pytestmark = pytest.mark.integration

AGENCY = "recouvrement@recouvra.example"
QUOTE = (
    "\n\nLe jeu. 26 nov. 2026 à 10:00, Cabinet Recouvra <recouvrement@recouvra.example> a écrit :\n"
    "> Madame, Monsieur,\n>\n> Sauf erreur de notre part, la facture FA-2026-0101 reste impayée.\n"
)


def mail(
    frm: str,
    subject: str,
    body: str,
    *,
    to: str = AGENCY,
    headers: dict | None = None,
    charset: str = "utf-8",
    html: str | None = None,
    attach: bytes | None = None,
    msgid: str | None = None,
) -> bytes:
    """Build a realistic message (as a debtor's client would) and return its bytes."""
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = frm, to, subject
    m["Date"] = format_datetime(NOW)
    m["Message-ID"] = msgid or make_msgid(domain=frm.rpartition("@")[2].strip(">"))
    for k, v in (headers or {}).items():
        m[k] = v
    if html is not None and not body:
        m.set_content(html, subtype="html", charset=charset)
    else:
        m.set_content(
            body, charset=charset, cte="quoted-printable" if charset == "utf-8" else "8bit"
        )
        if html is not None:
            m.add_alternative(html, subtype="html")
    if attach is not None:
        m.add_attachment(
            attach, maintype="application", subtype="pdf", filename="avis-virement.pdf"
        )
    return bytes(m)


def bounce(failed: str, original_msgid: str) -> bytes:
    """An RFC 3464 delivery-status report for `failed`."""
    boundary = "bnd-42"
    return (
        f"From: Mail Delivery System <MAILER-DAEMON@mx.recouvra.example>\r\n"
        f"To: {AGENCY}\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        f"Date: {format_datetime(NOW)}\r\nMessage-ID: <bounce-1@mx.recouvra.example>\r\n"
        f"Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"\r\n\r\n'
        f"--{boundary}\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
        f"I'm sorry to have to inform you that your message could not be delivered.\r\n"
        f"<{failed}>: host mx.example said: 550 5.1.1 User unknown\r\n\r\n"
        f"--{boundary}\r\nContent-Type: message/delivery-status\r\n\r\n"
        f"Reporting-MTA: dns; mx.recouvra.example\r\n\r\n"
        f"Final-Recipient: rfc822; {failed}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        f"Diagnostic-Code: smtp; 550 5.1.1 User unknown\r\n\r\n"
        f"--{boundary}\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"From: Cabinet Recouvra <{AGENCY}>\r\nTo: {failed}\r\nMessage-ID: <{original_msgid}>\r\n"
        f"Subject: Relance\r\n\r\n--{boundary}--\r\n"
    ).encode()


@pytest.fixture
def mailbox(mail_app) -> Iterator[ImapMailbox]:
    box = build_mailbox(mail_app.settings)
    yield box
    box.close()


@pytest.fixture
def world(mail_app):
    """Three debtors: two companies with own domains, one consumer on gmail."""
    martin = seed_case(
        mail_app,
        "C001",
        "Boulangerie Martin SARL",
        "compta@boulangerie-martin.fr",
        [("FA-2026-0101", 12, 125000)],
        "REF-7Q2K",
    )
    garage = seed_case(
        mail_app,
        "C002",
        "Garage des Lilas SAS",
        "factures@garage-lilas.fr",
        [("FA-2026-0201", 20, 30000)],
        "REF-8R3M",
    )
    durand = seed_case(
        mail_app,
        "C003",
        "Mme Durand",
        "j.durand@gmail.com",
        [("FA-2026-0301", 25, 50000)],
        "REF-9S4N",
    )
    return {"martin": martin, "garage": garage, "durand": durand}


def append(account, *messages: bytes, folder: str = "INBOX") -> None:
    client = account.client()
    try:
        for raw in messages:
            client.append(folder, raw)
    finally:
        client.logout()


def rows(app) -> dict[str, InboundMessage]:
    with session_scope(app.engine) as s:
        return {r.subject or f"#{r.id}": r for r in s.exec(select(InboundMessage)).all()}


def test_every_message_is_stored_parsed_and_matched_by_each_method(
    mail_app, world, mailbox, imap_account
):
    draft_id = add_draft(mail_app, world["martin"])
    sent_id = get_draft(mail_app, draft_id).message_id
    cp1252_body = (
        "Bonjour,\n\nCi-joint l’avis de virement pour la facture, réglée hier.\n\nBien à vous"
    )
    append(
        imap_account,
        mail(
            "Paul Martin <compta@boulangerie-martin.fr>",
            "RE: Relance [REF-7Q2K]",
            "Bonjour,\n\nNous réglerons la facture FA-2026-0101 par virement vendredi 4 décembre."
            "\n\nCordialement,\nPaul Martin" + QUOTE,
            headers={"In-Reply-To": f"<{sent_id}>", "References": f"<{sent_id}>"},
        ),
        mail(
            "Comptabilité <x@cabinet-compta.fr>",
            "TR: votre courrier [REF-8R3M]",
            "Nous transmettons.",
        ),
        mail(
            "Inconnu <inconnu@yahoo.fr>",
            "Question",
            "Bonjour, qui êtes-vous ?",
            to="recouvrement+ref-9s4n@recouvra.example",
        ),
        mail("factures@garage-lilas.fr", "Paiement", "Le paiement part demain."),
        mail(
            "Direction <direction@garage-lilas.fr>", "Contestation", "Nous contestons ce montant."
        ),
        mail("Julie <julie.durand@gmail.com>", "Facture", "Je vous ai écrit la semaine dernière."),
        mail(
            "Quelqu'un <autre@hotmail.fr>",
            "Facture FA-2026-0301",
            "Je paierai la facture FA-2026-0301.",
        ),
        mail("Spam <promo@shop.example>", "Offre", "Promotion exceptionnelle"),
        b"\x01\x02 this is not an e-mail at all \xff\xfe",  # (IMAP forbids NUL bytes)
        mail(
            "compta@boulangerie-martin.fr",
            "Avis de virement",
            cp1252_body,
            charset="cp1252",
            attach=PDF,
        ),
        mail(
            "factures@garage-lilas.fr",
            "HTML seulement",
            "",
            html="<html><body><p>Bonjour,</p><p>Le <b>virement</b> est parti ce matin.</p></body></html>",
            charset="windows-1252",
        ),
        mail(
            "compta@boulangerie-martin.fr",
            "Réponse automatique : absent",
            "Je suis absent jusqu'au 7.",
            headers={"Auto-Submitted": "auto-replied"},
        ),
    )

    report = ingest_inbox(mail_app, mailbox, batch_size=5)

    assert report.fetched == 12 and report.stored == 12 and report.duplicates == 0
    assert report.errors == []  # every matched reply went through the real reply handler
    got = rows(mail_app)
    ref = got
    by_case = {w.case_id: name for name, w in world.items()}

    def where(subject: str) -> tuple[str | None, str | None, str]:
        r = ref[subject]
        return by_case.get(r.case_id), r.match_method, r.status

    assert where("RE: Relance [REF-7Q2K]") == ("martin", "thread", "analysed")
    assert ref["RE: Relance [REF-7Q2K]"].reply_text == (
        "Bonjour,\n\nNous réglerons la facture FA-2026-0101 par virement vendredi 4 décembre."
        "\n\nCordialement,\nPaul Martin"
    )
    # Only a known contact's mail changes a case; the rest waits in triage, with the reason.
    assert where("Paiement") == ("garage", "sender", "analysed")

    def triage(subject: str) -> tuple[str, str | None, str]:
        r = ref[subject]
        assert r.case_id is None, subject
        return r.status, by_case.get(r.suggested_case_id), r.triage_reason

    assert triage("TR: votre courrier [REF-8R3M]") == (
        "unmatched", "garage", "sender x@cabinet-compta.fr is not a known contact of REF-8R3M"
    )  # fmt: skip
    assert triage("Question") == (  # a plus-address token, from a stranger
        "unmatched", "durand", "sender inconnu@yahoo.fr is not a known contact of REF-9S4N"
    )  # fmt: skip
    status, suggested, why = triage("Contestation")  # same company domain: policy says no
    assert (status, suggested) == ("unmatched", "garage")
    assert "replies.trust_sender_domain" in why
    assert triage("Facture") == (
        "unmatched", None, "no case found: no thread, case token, known sender or invoice"
    )  # fmt: skip
    assert triage("Facture FA-2026-0301") == (
        "unmatched", "durand",
        "invoice number of REF-9S4N quoted by autre@hotmail.fr, not a known contact",
    )  # fmt: skip
    assert where("Offre") == (None, None, "unmatched")
    assert where("Réponse automatique : absent")[2] == "auto_reply"
    remittance = ref["Avis de virement"]
    assert "l’avis de virement" in remittance.text and remittance.status == "analysed"
    assert remittance.attachments == [
        {"filename": "avis-virement.pdf", "content_type": "application/pdf", "size": len(PDF)}
    ]
    html_only = ref["HTML seulement"]
    assert html_only.has_html and "virement" in html_only.text and "<b>" not in html_only.text
    [garbage] = [r for r in got.values() if r.status == "quarantined"]
    assert garbage.raw.startswith(b"\x01\x02 this is not") and garbage.error.startswith(
        "unparsable"
    )
    assert report.quarantined == [garbage.id]
    assert sorted(report.unmatched) == sorted(r.id for r in got.values() if r.status == "unmatched")
    assert [r.subject for r in list_inbound(mail_app, "unmatched")] != []
    assert report.matched == {"thread": 1, "sender": 3}
    # every message was moved out of INBOX to the processed folder, none was lost
    client = imap_account.client()
    assert client.select_folder("INBOX")[b"EXISTS"] == 0
    assert client.select_folder("Processed")[b"EXISTS"] == 12
    client.logout()


def mark_sent(app, draft_id: int) -> str:
    """Record a draft as sent (as the outbox does); return its Message-ID."""
    with session_scope(app.engine) as s:
        draft = s.get(Draft, draft_id)
        draft.status, draft.sent_at = "sent", NOW
        s.add(draft)
        return draft.message_id


def test_a_bounce_invalidates_the_contact_and_opens_a_task(mail_app, world, mailbox, imap_account):
    draft_id = add_draft(mail_app, world["garage"])
    mark_sent(mail_app, draft_id)
    append(
        imap_account, bounce("factures@garage-lilas.fr", get_draft(mail_app, draft_id).message_id)
    )

    report = ingest_inbox(mail_app, mailbox)

    assert report.bounces == 1 and report.invalidated == ["factures@garage-lilas.fr"]
    with session_scope(mail_app.engine) as s:
        contact = s.exec(select(Contact).where(Contact.email == "factures@garage-lilas.fr")).one()
        assert contact.valid is False and "bounce" in contact.invalid_reason
        [task] = s.exec(select(Task)).all()
        assert task.kind == "contact_invalid" and task.case_id == world["garage"].case_id
        [row] = s.exec(select(InboundMessage)).all()
        assert row.status == "bounce" and row.case_id == world["garage"].case_id


def test_the_same_message_twice_is_stored_once_and_a_second_fetch_finds_nothing(
    mail_app, world, mailbox, imap_account
):
    raw = mail(
        "compta@boulangerie-martin.fr",
        "Paiement",
        "Payé ce jour.",
        msgid="<dup-1@boulangerie-martin.fr>",
    )
    no_id = b"From: compta@boulangerie-martin.fr\r\nSubject: sans id\r\n\r\nbonjour\r\n"
    append(imap_account, raw, raw, no_id, no_id)

    first = ingest_inbox(mail_app, mailbox)
    second = ingest_inbox(mail_app, mailbox)

    assert (first.fetched, first.stored, first.duplicates) == (4, 2, 2)
    assert second.fetched == 0
    with session_scope(mail_app.engine) as s:
        assert len(s.exec(select(InboundMessage)).all()) == 2


def test_uidvalidity_is_tracked_and_a_change_restarts_safely(
    mail_app, world, mailbox, imap_account
):
    settings = mail_app.settings.model_copy(
        update={"imap_folder": "Replies", "imap_processed_folder": None}
    )
    mail_app.settings = settings
    client = imap_account.client()
    client.create_folder("Replies")
    one = mail("compta@boulangerie-martin.fr", "un", "1", msgid="<one@boulangerie-martin.fr>")
    two = mail("compta@boulangerie-martin.fr", "deux", "2", msgid="<two@boulangerie-martin.fr>")
    client.append("Replies", one)

    first = ingest_inbox(mail_app, mailbox)
    with session_scope(mail_app.engine) as s:
        state = s.exec(select(MailboxState).where(MailboxState.folder == "Replies")).one()
        old_validity, last_uid = state.uidvalidity, state.last_uid
    assert first.stored == 1 and last_uid == 1
    client.select_folder("Replies")
    assert client.get_flags([1])[1] == (b"\\Seen",)  # no processed folder: flagged, kept

    # the folder is re-created (a server migration would do the same): UIDs start again
    client.unselect_folder()
    client.delete_folder("Replies")
    client.create_folder("Replies")
    client.append("Replies", one)
    client.append("Replies", two)
    client.logout()
    mailbox.close()

    second = ingest_inbox(mail_app, mailbox)

    assert second.uidvalidity_reset and second.fetched == 2
    assert second.stored == 1 and second.duplicates == 1
    with session_scope(mail_app.engine) as s:
        state = s.exec(select(MailboxState).where(MailboxState.folder == "Replies")).one()
        assert state.uidvalidity != old_validity and state.last_uid == 2


def test_matched_replies_go_to_the_analyser_in_one_call(mail_app, world, mailbox, imap_account):
    append(
        imap_account,
        mail("compta@boulangerie-martin.fr", "Paiement", "Je paierai le 4 décembre."),
        mail("promo@shop.example", "Offre", "Promo"),
    )
    calls = []

    def handle_reply(session, inbound, case):
        calls.append((inbound.reply_text, case.ref))
        inbound.analysis = {"intent": "promise_to_pay"}

    report = ingest_inbox(mail_app, mailbox, analyse=handle_reply)

    assert calls == [("Je paierai le 4 décembre.", "REF-7Q2K")]
    assert report.analysed == 1 and len(report.unmatched) == 1
    row = rows(mail_app)["Paiement"]
    assert row.status == "analysed" and row.analysis == {"intent": "promise_to_pay"}


def test_an_analyser_error_keeps_the_message_for_an_officer(mail_app, world, mailbox, imap_account):
    append(
        imap_account, mail("compta@boulangerie-martin.fr", "Paiement", "Je paierai le 4 décembre.")
    )

    def broken(session, inbound, case):
        raise RuntimeError("analyser down")

    report = ingest_inbox(mail_app, mailbox, analyse=broken)

    row = rows(mail_app)["Paiement"]
    assert row.status == "unanalysed" and "analyser down" in row.error
    assert row.case_id == world["martin"].case_id and report.errors
