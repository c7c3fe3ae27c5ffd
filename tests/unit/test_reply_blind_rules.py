"""General rules added after the blind rounds (hand3_* corpus): one variant per rule, not the
corpus sentences themselves, so a regression in the rule shows here by name."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from functools import partial

import pytest

from assistant.replies import analyse_reply as _analyse_reply
from assistant.replies.dates import find_dates
from assistant.replies.rules_engine import RulesEngine
from assistant.replies.text import mask_distractors, normalise

# These phrasebooks pin the rules engine's own reading; the combined reading (rules + learnt
# model, the default engine) is pinned by test_reply_combine.py and measured by the bench.
analyse_reply = partial(_analyse_reply, engine=RulesEngine())

PARIS = timezone(timedelta(hours=1))
WED = datetime(2026, 11, 25, 14, 30, tzinfo=PARIS)
MID_NOV = datetime(2026, 11, 13, 11, 0, tzinfo=PARIS)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        # hand-off intents written without the usual keywords
        ("Le client final ne nous a toujours pas payé, on est coincés.", "hardship"),
        (
            "Nous avons perdu notre plus gros client, je ne sais pas quand je pourrai payer.",
            "hardship",
        ),
        ("Our bank account has been frozen by the bank, we can't make payments.", "hardship"),
        ("Mon principal client est en liquidation et ne me paie plus.", "hardship"),
        ("I'm not working at the moment after my operation, money is short.", "hardship"),
        ("Nous avons confié le dossier à notre conseil, adressez-vous à lui.", "legal"),
        ("Je vous informe que mon avocate prendra contact avec vous.", "legal"),
        ("We act for the debtor; please refrain from contacting our client directly.", "legal"),
        ("Votre société n'a aucun mandat pour recouvrer cette somme.", "legal"),
        ("Je ne veux plus être relancée, merci.", "stop_contact"),
        ("Ne m'appelez plus au bureau.", "stop_contact"),
        ("The delivery never happened, so the invoice will not be paid.", "dispute"),
        ("La commande a été livrée qu'à moitié.", "dispute"),
        ("Nous avons payé 300 €, le reste correspond à des heures jamais effectuées.", "dispute"),
        # not a hand-off
        ("Le comptable est malade, le paiement partira lundi.", "promise_to_pay"),
        (
            "Je ne veux pas aller au tribunal pour ça, je vous règle 200 € vendredi.",
            "promise_to_pay",
        ),
        ("Pouvez-vous me donner votre IBAN ? Celui de la facture est incomplet.", "request_info"),
        ("Payé ce matin, vous devriez l'avoir demain.", "claims_paid"),
        ("Nous avons bien reçu votre avoir, le solde sera réglé vendredi.", "promise_to_pay"),
        (
            "The transfer was made on the 2nd but it bounced. Could you confirm your bank details?",
            "request_info",
        ),
        ("La facture a été réglée en deux fois : 500 € le 2 et 500 € le 9.", "claims_paid"),
        (
            "Comme chaque mois nous payons le 10 : votre facture sera payée le 10 décembre.",
            "promise_to_pay",
        ),
        ("This is my personal inbox, please use ap@example.com instead.", "wrong_contact"),
        ("I'm on holiday until 7 December, I'll deal with this when I'm back.", "out_of_office"),
        (
            "Nos bureaux sont fermés jusqu'au 4 janvier, votre message sera traité à notre retour.",
            "out_of_office",
        ),
        ("Cheers, appreciate it.", "other"),
    ],
)
def test_intent(text: str, intent: str) -> None:
    assert analyse_reply(text, WED).intent.value == intent


@pytest.mark.parametrize(
    ("text", "received", "day", "amount"),
    [
        ("ok je vs paye demain les 200e", WED, date(2026, 11, 26), Decimal("200")),
        (
            "Payment of £760.40 is scheduled for the end of the month.",
            WED,
            date(2026, 11, 30),
            Decimal("760.40"),
        ),
        ("you'll have the $1,200 within a week", WED, date(2026, 12, 2), Decimal("1200")),
        ("Payment of €900 will be made EOD tomorrow.", WED, date(2026, 11, 26), Decimal("900")),
        ("Le paiement sera effectué sous 48h.", WED, date(2026, 11, 27), None),
        ("Nous vous réglerons fin novembre.", MID_NOV, date(2026, 11, 30), None),
        (
            "Nous vous adresserons un chèque de 700 € d'ici le 10.",
            WED,
            date(2026, 12, 10),
            Decimal("700"),
        ),
        ("Je vous envoie 600 € dans 10 jours.", WED, date(2026, 12, 5), Decimal("600")),
        (
            "We'll be paying on 15th December, £2,100.00.",
            WED,
            date(2026, 12, 15),
            Decimal("2100.00"),
        ),
        ("Pay you Friday, sorry!", WED, date(2026, 11, 27), None),
        ("Cheque for $500 will be in the post on Monday.", WED, date(2026, 11, 30), Decimal("500")),
    ],
)
def test_promise(text: str, received: datetime, day: date, amount: Decimal | None) -> None:
    got = analyse_reply(text, received)
    assert got.intent.value == "promise_to_pay"
    assert got.promise is not None
    assert got.promise.date == day
    assert got.promise.amount == amount


def test_within_hours_is_not_masked_as_a_time() -> None:
    norm = normalise("virement sous 48h, rendez-vous à 14h")
    assert "48h" in mask_distractors(norm)
    assert [h.date for h in find_dates(mask_distractors(norm), date(2026, 11, 25))] == [
        date(2026, 11, 27)
    ]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("je vous règle mille deux cents euros", Decimal("1200")),
        ("quatre-vingt-dix euros", Decimal("90")),
        ("deux mille cinq cents euros", Decimal("2500")),
        ("two thousand five hundred pounds", Decimal("2500")),
    ],
)
def test_amount_in_words(text: str, value: Decimal) -> None:
    from assistant.replies.amounts import find_amounts

    hits = find_amounts(normalise(text))
    assert [h.value for h in hits] == [value]


def test_typos_in_pay_words_and_weekdays() -> None:
    got = analyse_reply("je vais faire le virment de 300 euros jeudi", WED)
    assert got.intent.value == "promise_to_pay"
    assert got.promise is not None and got.promise.date == date(2026, 11, 26)
    got = analyse_reply("Will transfer £300 on wendesday", WED)
    assert got.promise is not None and got.promise.date == date(2026, 12, 2)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("Merci de ne pas me relancer avant le 20, je paierai ce jour-là.", "promise_to_pay"),
        ("Dès réception de votre RIB, nous ferons le virement.", "request_info"),
        ("As soon as you send the sort code we'll pay today.", "request_info"),
        ("Le virement n'a pas encore été effectué, il le sera lundi.", "promise_to_pay"),
        ("Puis-je payer par carte bancaire ?", "request_info"),
        ("L'huissier est déjà passé pour d'autres dettes, je n'ai plus rien.", "hardship"),
        ("We're waiting for our customer to pay us before we can pay you.", "hardship"),
        ("Please remove me from this thread, I'm not involved in payments.", "wrong_contact"),
    ],
)
def test_conditions_and_negations(text: str, intent: str) -> None:
    assert analyse_reply(text, WED).intent.value == intent


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        (
            "Le plombier n'est jamais venu, pourquoi paierais-je ? Je ne vois pas pourquoi je paierais.",
            "dispute",
        ),
        ("The installer never showed up - why should we pay?", "dispute"),
        ("Je ne suis plus gérant depuis la cession, voyez avec les repreneurs.", "wrong_contact"),
        (
            "Nous ne sommes pas référencés chez vous ? Voici le formulaire fournisseur à remplir.",
            "request_info",
        ),
        ("Could you send me a duplicate invoice? I lost the original.", "request_info"),
        ("Paid on 11/20 via ACH.", "claims_paid"),
        ("We never said we wouldn't pay - it'll go out on Friday.", "promise_to_pay"),
        ("Fine, Monday then.", "promise_to_pay"),
    ],
)
def test_round_13_rules(text: str, intent: str) -> None:
    assert analyse_reply(text, WED).intent.value == intent


def test_weekday_and_day_of_month_are_one_date_not_a_plan() -> None:
    got = analyse_reply("Payment of £3,000 will be made on Monday 21st, not this week.", WED)
    assert got.intent.value == "promise_to_pay"
    assert got.promise is not None and got.promise.amount == Decimal("3000")


# --- after the hh round (one variant per rule, written for the test) -----------------------


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("Le montant de CHF 4'315.60 sera versé vendredi.", Decimal("4315.60")),
        ("Nous réglerons EUR 12'400.- d'ici la fin du mois.", Decimal("12400")),
        ("We will pay USD 3’050.25 on Monday.", Decimal("3050.25")),
    ],
)
def test_swiss_thousands_are_read_whole(text: str, amount: Decimal) -> None:
    reading = analyse_reply(text, MID_NOV)
    assert reading.intent.value == "promise_to_pay"
    assert reading.promise is not None and reading.promise.amount == amount


@pytest.mark.parametrize(
    "text",
    [
        "Oups, je m'en occupe : je lance le virement maintenant.",
        "Apologies, I'm sending the payment now from my phone.",
    ],
)
def test_paying_now_is_a_promise_dated_the_day_received(text: str) -> None:
    reading = analyse_reply(text, WED)
    assert reading.intent.value == "promise_to_pay"
    assert reading.promise is not None and reading.promise.date == WED.date()


def test_a_payment_to_be_issued_on_a_date_is_dated_by_it() -> None:
    text = "Le règlement de 980,00 € sera émis le 2 décembre avec notre prochain lot de paiements."
    reading = analyse_reply(text, MID_NOV)
    assert reading.promise is not None and reading.promise.date == date(2026, 12, 2)
    assert not reading.needs_human


@pytest.mark.parametrize(
    "text",
    [
        # a statement broken out by site is a request, not a defect
        "Could you send a statement broken down by site? Our AP system needs it per branch.",
        # a hotel group's name is no hospital stay
        "Please invoice Riverside Hospitality Ltd rather than the hotel; send us a copy.",
        # a reference that contains UFC is no consumer association
        "Paid on 3 November, our payment reference PAY-UFC-118; remittance attached.",
        # fraud as the reason to check bank details is no accusation
        "With so much invoice fraud around, can someone call me to confirm the new IBAN?",
        # a bank's routing number that does not match is about details, not the debt
        "The transfer bounced: the routing number on your invoice doesn't match the bank.",
        # a condition on the paperwork is no hardship
        "We are unable to pay any invoice that does not quote our purchase order number.",
        # a labour-code obligation is no legal threat
        "Conformément à l'article L8222-1 du code du travail, merci de nous transmettre "
        "votre attestation de vigilance avant paiement.",
        # "stop" about a cheque is no request to stop contact
        "The cheque went out last week; tell me if you want me to stop it and wire instead.",
    ],
)
def test_surface_words_that_are_not_hand_off_cues(text: str) -> None:
    reading = analyse_reply(text, MID_NOV)
    seen = {reading.intent.value, *(i.value for i in reading.also)}
    assert not seen & {"insolvency", "legal", "dispute", "stop_contact", "hardship"}


@pytest.mark.parametrize(
    "text",
    [
        "Please stop to send me these reminders, I do not want them.",
        "Please stop the automated chasers, I am dealing with your director.",
        "Stop phoning me at work about this.",
        "Stop. Ne nous envoyez plus de mails.",
    ],
)
def test_stop_requests_in_other_words(text: str) -> None:
    reading = analyse_reply(text, MID_NOV)
    assert reading.intent.value == "stop_contact"
    assert reading.needs_human
