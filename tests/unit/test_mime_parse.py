"""Parsing raw debtor replies: corpus round-trip, charsets, auto-replies, bounces, bad input."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from assistant.mailparse.html_text import html_to_text
from assistant.mailparse.mime import MalformedMessage, ParsedMessage, parse_message
from assistant.mailparse.reply_text import extract_reply

CORPUS = Path(__file__).resolve().parent.parent / "fixtures" / "emails"
EMLS = sorted(CORPUS.glob("*.eml"))


def load(name: str) -> ParsedMessage:
    return parse_message((CORPUS / f"{name}.eml").read_bytes())


def test_corpus_is_large_and_mostly_french():
    assert len(EMLS) >= 60
    french = [p for p in EMLS if p.name.startswith("fr-")]
    assert len(french) / len(EMLS) >= 0.55


@pytest.mark.parametrize("path", EMLS, ids=lambda p: p.stem)
def test_corpus_reply_text_matches_expected(path):
    expected = path.with_suffix(".expected.txt").read_text(encoding="utf-8").strip()
    parsed = parse_message(path.read_bytes())
    assert extract_reply(parsed.text).strip() == expected


def test_threading_headers_and_addresses():
    msg = load("fr-gmail-web-promise-alternative-qp")
    assert msg.message_id == "reply-001.REF-7Q2K@mail.example.net"
    assert msg.in_reply_to == "relance.REF-7Q2K.001@ateliers-berthier.fr"
    assert msg.references == ("relance.REF-7Q2K.001@ateliers-berthier.fr",)
    assert msg.from_name == "Julien Marchand"
    assert msg.from_addr == "julien.marchand@gmail.com"
    assert "relances+ref-7q2k@ateliers-berthier.fr" in msg.recipient_addrs
    assert msg.date == datetime(2026, 11, 24, 10, 3, 27, tzinfo=UTC)
    assert "[REF-7Q2K]" in msg.subject
    assert msg.html is not None and "gmail_quote" in msg.html


def test_forward_to_accountant_keeps_creditor_in_cc_candidates():
    msg = load("fr-gmail-forward-to-accountant-cc-creditor")
    assert msg.to_addrs == ("sophie@cabinet-compta.fr",)
    assert "relances+ref-2edc@ateliers-berthier.fr" in msg.cc_addrs
    assert "relances+ref-2edc@ateliers-berthier.fr" in msg.recipient_addrs


def test_rfc2047_subject_and_sender_name_are_decoded():
    msg = load("fr-outlook-desktop-promise-cp1252-qp-siret-signature")
    assert msg.from_name == "Julie Lefèvre"
    assert msg.subject == "RE : [REF-7Q2K] Facture FA-2026-0142 - relance"


@pytest.mark.parametrize(
    ("name", "needle"),
    [
        ("fr-outlook-desktop-promise-cp1252-qp-siret-signature", "1 240,00 €"),
        ("fr-outlook-iso-8859-15-euro-sign-qp", "1 240 €"),
        ("fr-thunderbird-payment-terms-sig-delimiter-iso-8859-1-base64", "Frédéric Aubert"),
        ("fr-outlook-mislabelled-utf8-actually-cp1252-8bit", "Désolé"),
        ("fr-webmail-unknown-charset-label-fallback-cp1252", "Gisèle"),
        ("fr-laposte-webmail-html-only-windows-1252-base64", "activité"),
        ("fr-orange-webmail-html-only-iso-8859-1-qp", "1240 €"),
    ],
)
def test_charsets_and_transfer_encodings_decode_accents(name, needle):
    assert needle in load(name).text


def test_html_only_message_gets_readable_text_with_quote_marked():
    msg = load("fr-outlook-com-html-only-divrplyfwdmsg-sick-leave")
    assert msg.html is not None
    assert msg.text.startswith("Bonjour,")
    assert "> De : Service relances" in msg.text


def test_attachments_are_listed_with_type_and_size():
    msg = load("fr-html-related-inline-logo-with-rib-and-receipt-attachments")
    names = {a.filename: a for a in msg.attachments}
    assert set(names) == {"logo.png", "RIB_Roy_SARL.pdf", "Justificatif_paiement_partiel.pdf"}
    assert names["RIB_Roy_SARL.pdf"].content_type == "application/pdf"
    assert names["RIB_Roy_SARL.pdf"].size > 100


@pytest.mark.parametrize(
    "name",
    [
        "fr-outlook-auto-reply-auto-submitted-absence",
        "en-exchange-automatic-reply-auto-generated",
        "fr-webmail-auto-reply-subject-only-no-headers",
        "fr-gmx-auto-reply-x-autoreply-header",
        "en-ticketing-autoresponder-x-autorespond-precedence-bulk",
    ],
)
def test_auto_replies_are_flagged(name):
    msg = load(name)
    assert msg.is_auto_reply
    assert not msg.is_bounce


def test_human_replies_are_not_auto_replies_even_with_outlook_suppress_header():
    msg = load("en-outlook-desktop-paid-confidentiality-disclaimer-qp")
    assert msg.headers["X-Auto-Response-Suppress"] == "All"
    assert not msg.is_auto_reply
    human = [p for p in EMLS if "auto" not in p.stem and "bounce" not in p.stem]
    assert not any(parse_message(p.read_bytes()).is_auto_reply for p in human)


@pytest.mark.parametrize(
    ("name", "recipient", "status"),
    [
        ("en-postfix-bounce-multipart-report-user-unknown", "paul.martin@exemple-sarl.fr", "5.1.1"),
        (
            "fr-exchange-online-bounce-non-remis-multipart-report",
            "comptabilite@boulangerie-roux.fr",
            "5.1.10",
        ),
        ("en-exim-bounce-plain-x-failed-recipients", "jdoe@closed-company.example", "5.1.1"),
    ],
)
def test_bounces_report_failed_recipient_and_status(name, recipient, status):
    msg = load(name)
    assert msg.is_bounce
    assert not msg.is_auto_reply
    assert msg.bounced_recipients == (recipient,)
    assert msg.bounce_status == status


def test_broken_date_and_bad_encoded_word_are_tolerated():
    msg = load("fr-malformed-headers-bad-date-and-encoded-word")
    assert msg.date is None
    assert msg.subject.startswith("Re: [REF-5EDC]")
    assert msg.in_reply_to == "relance.REF-5EDC.060@ateliers-berthier.fr"


@pytest.mark.parametrize("raw", [b"", b"   \r\n", b"\x00\xff\xfe garbage without headers"])
def test_unreadable_input_raises_malformed_message(raw):
    with pytest.raises(MalformedMessage) as err:
        parse_message(raw)
    assert err.value.reason


@pytest.mark.parametrize(
    "raw",
    [
        b"From: a@b.c\nSubject: x\n\n",
        b"From: =?utf-8?Q?broken\nSubject: =?x-bogus?B?////?=\n\nbody \xe9\xff",
        b"From: a@b.c\nContent-Type: multipart/mixed; boundary=zz\n\n--zz\nContent-Type: text/plain\n\nhi",
        b"From: a@b.c\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n!!!notb64",
        b"Date: Tue, 24 Nov 2026 10:12:00\nFrom: <>\nTo: ,,,\nMessage-ID: <>\n\n\xc3\x28",
    ],
)
def test_damaged_but_readable_messages_parse(raw):
    msg = parse_message(raw)
    assert isinstance(msg.text, str)
    assert isinstance(extract_reply(msg.text), str)


def test_html_to_text_marks_blockquotes_and_drops_styles():
    html = (
        "<style>p{color:red}</style><p>Bonjour,</p><p>Paiement le 30.</p>"
        "<blockquote>Relance<br>FA-2026-0142</blockquote><script>x()</script>"
    )
    assert html_to_text(html) == "Bonjour,\n\nPaiement le 30.\n\n> Relance\n> FA-2026-0142"


@pytest.mark.parametrize(
    "html",
    ["<" * 100_000, "<a" * 50_000, '<a b="' * 20_000, "<div>" * 50_000, "<blockquote>x" * 5000],
)
def test_html_to_text_survives_hostile_markup(html):
    # A bound no sane parse comes near (milliseconds); catastrophic backtracking takes minutes.
    start = time.perf_counter()
    assert isinstance(html_to_text(html), str)
    assert time.perf_counter() - start < 10.0
