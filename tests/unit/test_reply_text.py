"""What the reply extractor keeps and drops, on bodies shaped like real debtor replies."""

from __future__ import annotations

import random
import time

import pytest

from assistant.mailparse.reply_text import ReplyParts, extract_reply, split_reply

REMINDER = (
    "Bonjour,\n\nSauf erreur de notre part, la facture FA-2026-0142 reste impayée.\n\n"
    "Cordialement,\nService relances"
)


def quoted(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.split("\n"))


def test_gmail_french_attribution_wrapped_over_two_lines_ends_the_reply():
    body = (
        "Je paie vendredi.\n\nLe mar. 24 nov. 2026 à 10:12, Service relances <\n"
        "relances+REF-7Q2K@ateliers-berthier.fr> a écrit :\n\n" + quoted(REMINDER)
    )
    assert extract_reply(body) == "Je paie vendredi."


def test_gmail_english_attribution_with_wrote_on_next_line_ends_the_reply():
    body = (
        "Paid today.\n\nOn Tue, Nov 24, 2026 at 10:12 AM Accounts Receivable "
        "<ar@example.com>\nwrote:\n\n" + quoted(REMINDER)
    )
    assert extract_reply(body) == "Paid today."


def test_outlook_french_header_block_without_quote_marks_is_history():
    body = (
        "Le règlement partira le 4 décembre.\n\n"
        "De : Service relances <relances@ateliers-berthier.fr>\n"
        "Envoyé : mardi 24 novembre 2026 10:12\nÀ : Julie Lefèvre\n"
        "Objet : [REF-7Q2K] Facture FA-2026-0142\n\n" + REMINDER
    )
    assert extract_reply(body) == "Le règlement partira le 4 décembre."


@pytest.mark.parametrize(
    "separator",
    [
        "-----Message d'origine-----",
        "-----Original Message-----",
        "________________________________",
        "---------- Forwarded message ---------",
        "-------- Message transféré --------",
        "Début du message réexpédié :",
    ],
)
def test_separator_lines_end_the_reply(separator):
    body = f"Voir ci-dessous.\n\n{separator}\nDe : X <x@example.com>\n\n{REMINDER}"
    assert extract_reply(body) == "Voir ci-dessous."


def test_apple_mail_french_attribution_and_iphone_footer_are_dropped():
    body = (
        "Je passe demain avec le chèque.\n\nEnvoyé de mon iPhone\n\n"
        "> Le 24 nov. 2026 à 10:12, Service relances <r@example.fr> a écrit :\n>\n"
        + quoted(REMINDER)
    )
    assert extract_reply(body) == "Je passe demain avec le chèque."


@pytest.mark.parametrize(
    "footer",
    [
        "Envoyé de mon iPhone",
        "Envoyé depuis mon smartphone Samsung Galaxy.",
        "Envoyé à partir de Outlook pour Android<https://aka.ms/AAb9ysg>",
        "Obtenez Outlook pour iOS<https://aka.ms/o0ukef>",
        "Get Outlook for iOS",
        "Sent from my iPhone",
        "Sent from my Galaxy",
        "Sent from Yahoo Mail for iPhone",
        "Sent from Mail for Windows",
    ],
)
def test_mobile_footers_are_removed(footer):
    assert extract_reply(f"Je règle ce soir.\n\n{footer}") == "Je règle ce soir."


def test_a_sentence_starting_like_a_footer_is_kept():
    body = "Sent from my desk, because the mobile app keeps crashing."
    assert extract_reply(body) == body


def test_closing_words_and_name_are_kept_but_the_contact_block_is_dropped():
    body = (
        "Bonjour,\n\nVirement effectué ce jour.\n\nCordialement,\n\nJulie Lefèvre\n"
        "Responsable administrative\nLefèvre Menuiserie SARL - 8 rue des Artisans, 69007 Lyon\n"
        "Tél. : 04 78 12 34 56\nSARL au capital de 20 000 € - SIRET 812 345 678 00021"
    )
    assert extract_reply(body) == (
        "Bonjour,\n\nVirement effectué ce jour.\n\nCordialement,\n\nJulie Lefèvre"
    )


def test_split_reply_can_strip_the_closing_words_and_reports_the_signature():
    body = "Virement effectué.\n\nCordialement,\nJulie Lefèvre\nGérante\nTél. : 04 78 12 34 56"
    parts = split_reply(body, keep_signoff=False)
    assert isinstance(parts, ReplyParts)
    assert parts.reply == "Virement effectué."
    assert "Tél. : 04 78 12 34 56" in parts.signature


def test_text_after_a_closing_line_that_reads_like_prose_is_kept():
    body = "Thanks,\nwill pay by end of month.\n\nMike"
    assert extract_reply(body) == body


def test_postscript_after_the_signature_is_kept():
    body = "Paiement vendredi.\n\nCordialement,\nLuc\nGirard Élec\n\nPS : notre RIB a changé."
    assert (
        extract_reply(body)
        == "Paiement vendredi.\n\nCordialement,\nLuc\n\nPS : notre RIB a changé."
    )


def test_signature_delimiter_drops_everything_below():
    body = "OK pour le 30.\n-- \nFrédéric Aubert\nTél : +33 4 76 00 11 22"
    assert extract_reply(body) == "OK pour le 30."


def test_legal_disclaimer_and_environment_footer_are_dropped():
    body = (
        "Facture bloquée faute de bon de commande.\n\n"
        "Ce message et toutes les pièces jointes sont confidentiels et établis à l'intention "
        "exclusive de ses destinataires.\n\nP Pensez à l'environnement avant d'imprimer ce message."
    )
    assert extract_reply(body) == "Facture bloquée faute de bon de commande."


def test_english_disclaimer_is_dropped():
    body = (
        "Payment released today.\n\nThis email and any attachments are confidential and "
        "intended solely for the addressee."
    )
    assert extract_reply(body) == "Payment released today."


def test_bottom_posted_reply_under_a_quote_is_kept():
    body = (
        "Le 24/11/2026 à 10:12, Service relances a écrit :\n"
        + quoted(REMINDER)
        + "\n\nJe paie lundi."
    )
    assert extract_reply(body) == "Je paie lundi."


def test_inline_answers_between_quoted_lines_are_kept_in_order():
    body = (
        "Le 24/11/2026 à 10:12, Service relances a écrit :\n> La facture reste impayée.\n\n"
        "Elle a été payée par chèque.\n\n> Merci de nous indiquer la date.\n\nLe 20 novembre."
    )
    assert extract_reply(body) == "Elle a été payée par chèque.\n\nLe 20 novembre."


def test_unquoted_text_under_an_attribution_is_history():
    body = (
        "Reçu, merci.\n\nOn Tue, Nov 24, 2026 at 10:12 AM, AR <ar@example.com> wrote:\n\n"
        + REMINDER
    )
    assert extract_reply(body) == "Reçu, merci."


def test_lines_that_merely_start_like_headers_are_not_cut():
    body = (
        "Le 30 novembre, je vous ferai un premier virement de 500 €.\n"
        "On Monday I will send the rest.\nMa comptable m'a écrit hier que tout était prêt.\n"
        "Date: Wednesday 3, December\nTime: 9:00"
    )
    assert extract_reply(body) == body


def test_crlf_bom_and_zero_width_spaces_do_not_hide_the_quote():
    body = (
        "\ufeffBonjour,\r\n\u200b\r\nJe paie demain.\r\n\r\n\u200bLe mar. 24 nov. 2026 à 10:12, "
        "X <x@example.fr> a écrit :\r\n\r\n> Relance"
    )
    assert extract_reply(body) == "Bonjour,\n\nJe paie demain."


def test_forwarded_reminder_keeps_only_the_forwarding_note():
    body = (
        "Peux-tu regarder cette relance ?\n\n---------- Forwarded message ---------\n"
        "De : Service relances <r@example.fr>\nDate: mar. 24 nov. 2026 à 10:12\n"
        "Subject: [REF-2EDC] Facture\nTo: <o@example.fr>\n\n" + REMINDER
    )
    assert extract_reply(body) == "Peux-tu regarder cette relance ?"


def test_external_sender_banner_is_dropped():
    body = (
        "CAUTION: This email originated from outside of the organization.\nDo not click links.\n\n"
        "Hi,\n\nUnder review.\n\nThanks\nOwen"
    )
    assert extract_reply(body) == "Hi,\n\nUnder review.\n\nThanks\nOwen"


def test_reply_made_only_of_quote_and_footer_is_empty():
    assert extract_reply("\n\nEnvoyé de mon iPhone\n\n> Le 24 nov. 2026 à 10:12, X a écrit :") == ""


@pytest.mark.parametrize(
    "weird",
    [
        "",
        "\n\n",
        ">",
        "--",
        "\x00\x01\x02",
        "a" * 50_000,
        ">" * 1000,
        "On\n" * 500,
        "*" * 20_000,
        "\t" * 50_000 + "a",
        "Cordialement,\nJean\n" + "1 " * 20_000,
        ("*" * 999 + "\n") * 100,
    ],
)
def test_never_raises_nor_stalls_on_odd_input(weird):
    # A bound no sane run comes near; catastrophic backtracking would take minutes.
    start = time.perf_counter()
    assert isinstance(extract_reply(weird), str)
    assert time.perf_counter() - start < 10.0


def test_never_raises_on_random_text():
    rng = random.Random(7)
    alphabet = "ab >-_:\n\r\tÉé€Le On wrote a écrit De : Objet :\u200b\ufeff"
    for _ in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 400)))
        assert isinstance(extract_reply(text), str)
