"""Amount formats of docs/domain.md §4–5 and the distractors to ignore."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from functools import partial

import pytest

from assistant.replies import CaseContext
from assistant.replies import analyse_reply as _analyse_reply
from assistant.replies.amounts import find_amounts, parse_number
from assistant.replies.rules_engine import RulesEngine
from assistant.replies.text import mask_distractors, normalise

# These phrasebooks pin the rules engine's own reading; the combined reading (rules + learnt
# model, the default engine) is pinned by test_reply_combine.py and measured by the bench.
analyse_reply = partial(_analyse_reply, engine=RulesEngine())

RECEIVED = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def amounts(text: str) -> list[tuple[Decimal, str | None]]:
    return [(a.value, a.currency) for a in find_amounts(mask_distractors(normalise(text)))]


@pytest.mark.parametrize(
    ("text", "value", "currency"),
    [
        ("1 250,00 €", "1250", "EUR"),
        ("1250€", "1250", "EUR"),
        ("1.250,50 EUR", "1250.50", "EUR"),
        ("£1,250.00", "1250", "GBP"),
        ("$3,400.50", "3400.50", "USD"),
        ("EUR 980", "980", "EUR"),
        ("3.4k", "3400", None),
        ("3,4 k€", "3400", "EUR"),
        ("1250 euros", "1250", "EUR"),
        ("12,50 €", "12.50", "EUR"),
        ("1\u202f250,00\u00a0€", "1250", "EUR"),
    ],
)
def test_formats(text: str, value: str, currency: str | None) -> None:
    assert amounts(text) == [(Decimal(value), currency)]


@pytest.mark.parametrize(
    "text",
    [
        "SAS au capital de 10 000 €",
        "Tél : 01 23 45 67 89",
        "SIRET 123 456 789 00012",
        "IBAN FR76 3000 6000 0112 3456 7890 189",
        "75008 Paris",
        "facture n° 45872",
        "rappel à 14h30",
        "TVA 20 %",
        "Company No. 08123456",
    ],
)
def test_distractors_are_not_amounts(text: str) -> None:
    assert amounts(text) == []


def test_parse_number_separators() -> None:
    assert parse_number("1.250") == Decimal("1250")
    assert parse_number("1,250") == Decimal("1250")
    assert parse_number("1,5") == Decimal("1.5")
    assert parse_number("1 250,00") == Decimal("1250.00")


def promise_of(text: str, case: CaseContext | None = None):
    return analyse_reply(text, RECEIVED, case).promise


def test_promised_amount_not_the_signature_or_history() -> None:
    text = (
        "Bonjour,\n\nNous réglerons 980 € vendredi.\n\nCordialement,\nJean\n"
        "SARL Dupont au capital de 7 500 € - SIRET 812 345 678 00021\nTél : 04 72 00 11 22\n\n"
        "Le mar. 24 nov. 2026 à 10:12, Relance a écrit :\n> Montant dû : 2 400,00 €\n"
    )
    p = promise_of(text)
    assert p is not None and p.amount == Decimal("980") and p.currency == "EUR"


def test_balance_without_figure_has_no_amount() -> None:
    assert promise_of("Nous réglerons le solde vendredi.").amount is None
    assert promise_of("We will pay the balance on Friday.").amount is None


def test_committed_amount_not_the_total_owed() -> None:
    p = promise_of("Sur les 2 400 € dus, nous réglerons 1 000 € vendredi.")
    assert p.amount == Decimal("1000")


def test_invoice_numbers_are_not_amounts() -> None:
    p = promise_of("We will pay invoice INV-20931 on Friday.")
    assert p.amount is None
    case = CaseContext(invoice_numbers=("4587",))
    assert promise_of("Nous réglerons la 4587 vendredi.", case).amount is None


def test_k_suffix_takes_case_currency() -> None:
    p = promise_of("We will pay 3.4k on Friday.", CaseContext(currency="GBP"))
    assert p.amount == Decimal("3400") and p.currency == "GBP"
