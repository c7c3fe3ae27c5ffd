"""Rules + learnt model: which side decides, when a human must look, when Relance acts alone;
the extra readings (also, schedule, new contacts, a promise inside a dispute)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from assistant.replies import Intent, PromiseReading, ReplyAnalysis, analyse_reply
from assistant.replies.combine import AUTOMATIC_THRESHOLD, combine
from assistant.replies.hybrid import HybridEngine
from assistant.replies.model import default_model, load_model
from assistant.replies.rules_engine import RulesEngine
from assistant.replies.training import Example, train

WED = datetime(2026, 11, 25, 14, 30, tzinfo=timezone(timedelta(hours=1)))


def rules(intent: Intent, confidence: float, **kw) -> ReplyAnalysis:
    return ReplyAnalysis(
        intent=intent,
        needs_human=False,
        confidence=confidence,
        reply_text="texte",
        evidence=["texte"],
        **kw,
    )


def probs(**named: float) -> dict[Intent, float]:
    rest = (1 - sum(named.values())) / (len(Intent) - len(named))
    return {i: named.get(i.value, rest) for i in Intent}


def test_agreement_is_automatic_and_keeps_the_rules_evidence() -> None:
    got = combine(
        rules(Intent.CLAIMS_PAID, 0.85), probs(claims_paid=0.95), threshold=AUTOMATIC_THRESHOLD
    )
    assert (got.intent, got.automatic, got.needs_human) == (Intent.CLAIMS_PAID, True, False)
    assert got.decided_by == "both" and got.evidence == ["texte"]


def test_the_model_decides_where_the_rules_read_other() -> None:
    got = combine(rules(Intent.OTHER, 0.4), probs(promise_to_pay=0.9))
    assert got.intent is Intent.PROMISE_TO_PAY and got.decided_by == "model"
    assert not got.automatic  # the sides did not agree: an officer confirms


def test_a_rules_cue_stands_unless_the_model_finds_it_implausible() -> None:
    kept = combine(rules(Intent.CLAIMS_PAID, 0.85), probs(request_info=0.6, claims_paid=0.3))
    overruled = combine(rules(Intent.CLAIMS_PAID, 0.85), probs(request_info=0.97, claims_paid=0.01))
    assert kept.intent is Intent.CLAIMS_PAID and kept.decided_by == "rules"
    assert overruled.intent is Intent.REQUEST_INFO and not overruled.automatic


@pytest.mark.parametrize(
    ("rules_intent", "model", "why"),
    [
        (Intent.DISPUTE, {"request_info": 0.99}, "the rules saw a dispute"),
        (Intent.REQUEST_INFO, {"request_info": 0.55, "dispute": 0.45}, "the model sees one"),
        (Intent.OTHER, {"hardship": 0.25, "legal": 0.2, "other": 0.3}, "together likely"),
    ],
)
def test_a_possible_sensitive_intent_from_either_side_needs_a_human(
    rules_intent: Intent, model: dict[str, float], why: str
) -> None:
    got = combine(rules(rules_intent, 0.85), probs(**model))
    assert got.needs_human, why
    assert got.intent in {Intent.DISPUTE, Intent.LEGAL, Intent.HARDSHIP} or any(
        i in {Intent.DISPUTE, Intent.LEGAL, Intent.HARDSHIP} for i in got.also
    ), why
    assert not got.automatic or got.intent is rules_intent


def test_a_promise_without_a_date_is_never_automatic() -> None:
    undated = rules(Intent.PROMISE_TO_PAY, 0.9, promise=PromiseReading(amount=Decimal("500")))
    dated = rules(Intent.PROMISE_TO_PAY, 0.9, promise=PromiseReading(date=date(2026, 12, 4)))
    assert not combine(undated, probs(promise_to_pay=0.99)).automatic
    assert combine(dated, probs(promise_to_pay=0.99)).automatic


def test_the_model_promise_borrows_the_date_the_rules_read() -> None:
    loose = PromiseReading(amount=Decimal("850"), currency="EUR", date=date(2026, 11, 26))
    got = combine(rules(Intent.OTHER, 0.4, loose_promise=loose), probs(promise_to_pay=0.9))
    assert got.promise == loose


def test_without_a_model_the_rules_reading_stands_and_is_not_automatic() -> None:
    r = rules(Intent.CLAIMS_PAID, 0.9)
    assert combine(r, None) == r.model_copy(update={"automatic": False})


# --- the readings, through the default engine ----------------------------------------------


def test_a_promise_inside_a_dispute_is_still_read() -> None:
    got = analyse_reply("Je vous règle 1 480 € le 15 mais pas les 40 € de pénalités.", WED)
    assert got.intent is Intent.DISPUTE and got.needs_human
    assert Intent.PROMISE_TO_PAY in got.also
    assert got.promise == PromiseReading(
        amount=Decimal("1480"), currency="EUR", date=date(2026, 12, 15)
    )


def test_a_partial_promise_keeps_its_own_amount() -> None:
    got = analyse_reply("Nous virerons 500 € vendredi, le reste à la fin du mois.", WED)
    assert got.intent is Intent.PROMISE_TO_PAY
    assert got.promise is not None and got.promise.amount == Decimal("500")
    assert got.promise.date == date(2026, 11, 27)


def test_a_schedule_lists_each_instalment() -> None:
    got = RulesEngine().analyse(
        "Nous proposons de régler en trois fois : 400 € le 30 novembre, 400 € le 30 décembre "
        "et 400 € le 30 janvier.",
        WED,
    )
    assert got.intent is Intent.PAYMENT_PLAN_REQUEST
    assert [(i.amount, i.date) for i in got.schedule or []] == [
        (Decimal("400"), date(2026, 11, 30)),
        (Decimal("400"), date(2026, 12, 30)),
        (Decimal("400"), date(2027, 1, 30)),
    ]
    assert got.to_contract_dict()["schedule"][0] == {
        "amount": 400.0,
        "currency": "EUR",
        "date": "2026-11-30",
    }


def test_a_single_promise_has_no_schedule() -> None:
    assert analyse_reply("Nous réglerons 1 250,00 € vendredi.", WED).schedule is None


def test_a_new_accounts_payable_address_is_extracted_but_not_a_signature() -> None:
    got = analyse_reply(
        "Bonjour, merci de nous envoyer un relevé de compte. Écrivez désormais à "
        "fournisseurs@martin.fr pour les factures.\nCordialement\nPaul\nEmail : paul@martin.fr",
        WED,
    )
    assert got.intent is Intent.REQUEST_INFO
    assert got.new_contacts == ["fournisseurs@martin.fr"]


# --- the model file ---------------------------------------------------------------------------


def test_the_shipped_model_is_small_and_loaded_only_when_used(tmp_path) -> None:
    from assistant.replies.model import shipped_model_path

    path = shipped_model_path()
    assert path.is_file() and path.stat().st_size < 5_000_000
    model = default_model()
    assert model is not None and set(model.intents) == set(Intent)
    got = HybridEngine(model).analyse("Nous réglerons 1 250,00 € vendredi.", WED)
    assert got.engine == "rules+model" and got.model_probabilities


def test_training_is_reproducible_and_the_file_round_trips(tmp_path) -> None:
    examples = [
        Example("nous paierons vendredi par virement", Intent.PROMISE_TO_PAY, "a"),
        Example("le paiement partira demain", Intent.PROMISE_TO_PAY, "b"),
        Example("la facture est deja payee", Intent.CLAIMS_PAID, "a"),
        Example("nous avons regle cette facture le 3", Intent.CLAIMS_PAID, "b"),
    ]
    first, second = train(examples), train(examples)
    first.save(tmp_path / "m.npz")
    again = load_model(tmp_path / "m.npz")
    text = "le virement partira vendredi"
    assert first.probabilities(text) == pytest.approx(second.probabilities(text))
    assert again.probabilities(text) == pytest.approx(first.probabilities(text), abs=1e-5)
    assert max(again.probabilities(text), key=again.probabilities(text).get) is (
        Intent.PROMISE_TO_PAY
    )


def test_training_needs_two_intents() -> None:
    with pytest.raises(ValueError, match="two intents"):
        train([Example("payé", Intent.CLAIMS_PAID, "a")] * 3)


def test_a_dispute_seen_beside_an_agreed_promise_goes_to_a_human() -> None:
    got = combine(
        rules(
            Intent.PROMISE_TO_PAY,
            0.9,
            also=[Intent.DISPUTE],
            promise=PromiseReading(amount=Decimal("450"), date=date(2026, 11, 27)),
        ),
        probs(promise_to_pay=0.97),
        threshold=AUTOMATIC_THRESHOLD,
    )
    assert got.intent is Intent.PROMISE_TO_PAY
    assert Intent.DISPUTE in got.also
    assert got.needs_human and not got.automatic


@pytest.mark.parametrize(
    "text",
    [
        "You quoted me $450 not $650. I'll pay $450 on Friday.",
        "Le devis était de 1 200 € et non 1 500 €, je vous règle 1 200 € vendredi.",
    ],
)
def test_paying_only_the_quoted_price_is_read_as_a_dispute_for_a_human(text: str) -> None:
    for engine in (RulesEngine(), HybridEngine()):
        got = analyse_reply(text, WED, engine=engine)
        assert Intent.DISPUTE in (got.intent, *got.also)
        assert got.needs_human and not got.automatic
