"""The validator catches what a compliance officer would refuse to send."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from assistant.domain import CaseState, ClientHistory, DebtorFacts, InvoiceLine, LetterFacts
from assistant.letters.legal import L111_8_PARAGRAPHS
from assistant.letters.rates import RateTable
from assistant.letters.render import Letter, LetterRenderer
from assistant.letters.validator import (
    facts_to_dict,
    letter_facts_from_dict,
    validate_letter,
    validate_text,
)
from assistant.policy.schema import Policy

ROOT = Path(__file__).resolve().parents[2]
ON = date(2026, 11, 26)
D = Decimal
LADDER = {
    "steps": [
        {"name": "reminder_1", "days_after_due": 5, "template": "reminder_1", "min_days_since_previous": 0},
        {"name": "reminder_2", "days_after_due": 15, "template": "reminder_2", "min_days_since_previous": 7},
        {"name": "reminder_3", "days_after_due": 30, "template": "reminder_3", "tone": "firm", "show_penalties": True},
        {"name": "formal_notice", "days_after_due": 45, "template": "formal_notice", "tone": "formal",
         "formal_notice": True, "pdf": True, "deadline_days": 8, "show_penalties": True},
    ]
}  # fmt: skip
AGENCY_POLICY = Policy.model_validate(
    {
        "creditor": {
            "slug": "atelier-bois",
            "name": "Atelier du Bois Massif SARL",
            "address": "12 rue des Artisans, 69007 Lyon",
            "siren": "512345678",
            "phone": "04 78 00 00 01",
            "iban": "FR76 3000 4000 0100 0012 3456 789",
            "bic": "BNPAFRPPXXX",
        },
        "mode": "agency",
        "agency": {
            "name": "Cabinet Recouvra",
            "address": "8 place Bellecour, 69002 Lyon",
            "phone": "04 72 00 00 00",
            "mandate_reference": "MAND-2026-0042 du 2 janvier 2026",
        },
        "voice": {
            "sign_off": "Nous vous prions d'agréer, Madame, Monsieur, nos salutations distinguées.",
            "signature": ["Service recouvrement amiable"],
            "forbidden_words": ["tribunal", "poursuites", "mauvais payeur"],
        },
        "ladder": LADDER,
        "contact_cap": {"max_messages": 2, "per_days": 7},
    }
)
UK_POLICY = Policy.model_validate(
    {
        "creditor": {
            "slug": "thames",
            "name": "Thames Supplies Ltd",
            "address": "Unit 7, Barking IG11 0DQ",
            "iban": "GB29 NWBK 6016 1331 9268 19",
        },  # fmt: skip
        "language": "en",
        "jurisdiction": "UK",
        "voice": {"sign_off": "Kind regards,", "forbidden_words": ["county court"]},
        "ladder": LADDER,
        "terms": {"late_interest": {"rule": "boe_plus_8"}, "waive_for_key_accounts": True},
    }
)
COMPANY = DebtorFacts("C001", "Menuiserie Durand SAS", address="3 rue du Port, 44000 Nantes")
CONSUMER = DebtorFacts(
    "P001", "Jeanne Petit", kind="consumer", address="5 allée des Lilas, 69003 Lyon"
)
NEW_CASE = CaseState("REF-7Q2K")
INVOICES = (
    InvoiceLine(
        "F2026-0101", date(2026, 10, 17), D("1234.56"), D("1234.56"), issue_date=date(2026, 9, 17)
    ),
    InvoiceLine(
        "F2026-0102", date(2026, 11, 6), D("800.00"), D("300.00"), issue_date=date(2026, 10, 7)
    ),
)


@pytest.fixture(scope="module")
def renderer() -> LetterRenderer:
    return LetterRenderer(ROOT / "templates" / "letters", RateTable.packaged())


def draft(
    renderer, step="reminder_3", policy=AGENCY_POLICY, debtor=COMPANY, case=NEW_CASE, **kw
) -> Letter:
    return renderer.render(policy=policy, step=policy.step(step), debtor=debtor, case=case, invoices=INVOICES,
                           history=ClientHistory(), on=ON, render_pdf=False, **kw)  # fmt: skip


def check(letter: Letter, text: str | None = None, *, policy=AGENCY_POLICY, debtor=COMPANY, case=NEW_CASE,
          subject: str | None = None, on=ON) -> list:  # fmt: skip
    """Validate `letter` as an officer edited it (new text/subject), return blocking findings."""
    findings = validate_text(subject if subject is not None else letter.subject,
                             text if text is not None else letter.text, letter.facts,
                             policy=policy, debtor=debtor, case=case, on=on, step=letter.step)  # fmt: skip
    return [f for f in findings if f.blocking]


def codes(findings) -> set[str]:
    return {f.code for f in findings}


@pytest.mark.parametrize("step", ["reminder_1", "reminder_2", "reminder_3", "formal_notice"])
@pytest.mark.parametrize("policy", [AGENCY_POLICY, UK_POLICY], ids=["agency_fr", "uk_en"])
@pytest.mark.parametrize(
    "debtor",
    [COMPANY, CONSUMER, replace(COMPANY, language="en")],
    ids=["company", "consumer", "company_en"],
)
def test_a_fresh_letter_has_no_blocking_finding(renderer, step, policy, debtor):
    letter = draft(renderer, step, policy, debtor)
    assert check(letter, policy=policy, debtor=debtor) == []


def test_a_tampered_amount_is_caught(renderer):
    letter = draft(renderer)
    edited = letter.text.replace("Total restant dû : 1 534,56 €", "Total restant dû : 1 584,56 €")
    assert edited != letter.text
    [finding] = check(letter, edited)
    assert finding.code == "amount_mismatch"
    assert finding.message == "The amount 1 584,56 € is not in the ledger for this case."


@pytest.mark.parametrize(
    "written",
    [
        "1 250,00 €",
        "1250,00 EUR",
        "€1,250.00",
        "1,250.00",
        "1.250,00 EUR",
        "25 €",
        "EUR 980",
        "1 250 euros",
        "−40 €",
    ],
)
def test_amounts_are_read_in_french_and_english_formats(renderer, written):
    letter = draft(renderer, "reminder_1")
    edited = letter.text.replace(
        "Nous vous remercions", f"Un acompte de {written} a été reçu. Nous vous remercions"
    )
    assert codes(check(letter, edited)) == {"amount_mismatch"}


def test_amounts_that_are_in_the_ledger_pass_in_any_format(renderer):
    letter = draft(renderer, "reminder_1")
    edited = letter.text.replace(
        "Nous vous remercions",
        "Reste 300 € sur la facture F2026-0102 (soit 1534.56 EUR au total). Nous vous remercions",
    )
    assert check(letter, edited) == []


def test_numbers_that_are_not_amounts_are_ignored(renderer):
    letter = draft(renderer, "reminder_1")
    extra = ("Contact : 06 12 34 56 78, SIREN 834 567 890, notre référence REF-7Q2K, "
             "IBAN FR76 1234 5678 9012 3456 7890 123, voir l'article L441-10 et le 3e alinéa, sous 8 jours. ")  # fmt: skip
    assert (
        check(letter, letter.text.replace("Nous vous remercions", extra + "Nous vous remercions"))
        == []
    )


def test_a_wrong_date_is_caught(renderer):
    letter = draft(renderer, "formal_notice")
    edited = letter.text.replace(
        "au plus tard le 4 décembre 2026", "au plus tard le 14 décembre 2026"
    )
    found = check(letter, edited)
    assert "date_mismatch" in codes(found)
    assert any("14 décembre 2026" in f.message for f in found)
    assert "missing_deadline" in codes(found)  # the real deadline is gone too


@pytest.mark.parametrize(
    "written",
    [
        "18/10/2026",
        "2026-10-18",
        "18 octobre 2026",
        "18 October 2026",
        "October 18, 2026",
        "le 18 octobre",
    ],
)
def test_dates_are_read_in_every_usual_format(renderer, written):
    letter = draft(renderer, "reminder_1")
    edited = letter.text.replace(
        "Nous vous remercions", f"Votre courrier du {written} est bien reçu. Nous vous remercions"
    )
    assert codes(check(letter, edited)) == {"date_mismatch"}


def test_the_dates_of_the_case_pass(renderer):
    letter = draft(renderer, "reminder_1")
    edited = letter.text.replace(
        "Nous vous remercions",
        "Échéance le 17 octobre 2026, facture du 2026-09-17. Nous vous remercions",
    )
    assert check(letter, edited) == []


def test_an_unknown_invoice_number_is_caught(renderer):
    letter = draft(renderer, "reminder_1")
    edited = letter.text.replace("F2026-0102", "F2026-0112", 1)
    found = check(letter, edited)
    assert "unknown_invoice" in codes(found)
    assert any("F2026-0112" in f.message for f in found)


def test_court_like_wording_is_blocked(renderer):
    letter = draft(renderer, "reminder_2")
    edited = letter.text.replace(
        "Nous vous remercions", "Sans règlement, un Huissier passera. Nous vous remercions"
    )
    [finding] = check(letter, edited)
    assert finding.code == "banned_phrase" and "huissier" in finding.message


@pytest.mark.parametrize(
    "phrase", ["commandement de payer", "avis avant saisie", "une plainte pénale", "SOMMATION"]
)
def test_other_banned_phrases_in_french(renderer, phrase):
    letter = draft(renderer, "reminder_2")
    edited = letter.text.replace(
        "Nous vous remercions", f"Ceci vaut {phrase}. Nous vous remercions"
    )
    assert "banned_phrase" in codes(check(letter, edited))


def test_threats_in_english_are_blocked(renderer):
    letter = draft(renderer, "reminder_2", UK_POLICY)
    edited = letter.text.replace(
        "Please pay", "Otherwise we will take you to court and send bailiffs. Please pay"
    )
    assert codes(check(letter, edited, policy=UK_POLICY)) == {"banned_phrase"}


def test_the_policys_forbidden_words_are_blocked_whatever_the_case_or_accents(renderer):
    letter = draft(renderer, "reminder_2")
    edited = letter.text.replace(
        "Nous vous remercions",
        "Le TRIBUNAL sera saisi. Vous êtes un Mauvais Payeur. Nous vous remercions",
    )
    found = check(letter, edited)
    assert codes(found) == {"forbidden_word"}
    assert len(found) == 2


def test_words_are_matched_whole(renderer):
    letter = draft(renderer, "reminder_2")
    edited = letter.text.replace(
        "Nous vous remercions",
        "Nous pourrions saisir la juridiction ; nos arrestations — non. Nous vous remercions",
    )
    assert check(letter, edited) == []


def test_a_missing_l111_8_paragraph_blocks_an_agency_letter(renderer):
    letter = draft(renderer, "reminder_1")
    for index, paragraph in enumerate(L111_8_PARAGRAPHS, start=2):
        found = check(letter, letter.text.replace(paragraph, ""))
        assert codes(found) == {"missing_r124_4"}
        assert f"paragraph {index} of article L111-8" in found[0].message


def test_an_altered_l111_8_paragraph_blocks_too(renderer):
    letter = draft(renderer, "reminder_1")
    edited = letter.text.replace(
        "restent à la charge du créancier", "restent à la charge du débiteur"
    )
    assert codes(check(letter, edited)) == {"missing_r124_4"}


@pytest.mark.parametrize(
    ("removed", "what"),
    [
        ("MAND-2026-0042 du 2 janvier 2026", "mandate reference"),
        ("Les frais de la présente procédure de recouvrement amiable restent", "L111-8"),
        ("Principal : 1 534,56 € ; ", "principal, interest and other sums"),
    ],
)
def test_other_r124_4_mentions_are_required(renderer, removed, what):
    letter = draft(renderer, "reminder_1")
    found = check(letter, letter.text.replace(removed, ""))
    assert "missing_r124_4" in codes(found)
    assert any(what in f.message for f in found)


def test_the_r124_4_mentions_are_not_required_in_house(renderer):
    letter = draft(renderer, "reminder_1", UK_POLICY)
    assert "L111-8" not in letter.text
    assert check(letter, policy=UK_POLICY) == []


def test_penalties_shown_to_a_consumer_are_blocked(renderer):
    company_letter = draft(renderer, "reminder_3")
    consumer_letter = draft(renderer, "reminder_3", debtor=CONSUMER)
    block = company_letter.text.split("Conformément à l'article L441-10")[1].split("\n\n")[0]
    edited = consumer_letter.text.replace(
        "Nous vous demandons", f"Conformément à l'article L441-10{block}\n\nNous vous demandons"
    )
    found = check(consumer_letter, edited, debtor=CONSUMER)
    assert "penalties_to_consumer" in codes(found)
    # …and so is a letter whose facts carry penalties for a consumer
    assert "penalties_to_consumer" in codes(check(company_letter, debtor=CONSUMER))


def test_penalties_claimed_from_a_key_account_under_waiver_are_blocked(renderer):
    key = DebtorFacts("GC1", "Grande Surface SA", key_account=True)
    letter = draft(renderer, "reminder_3", UK_POLICY)  # drafted as if for an ordinary company
    found = check(letter, policy=UK_POLICY, debtor=key)
    assert "penalties_waived" in codes(found)
    assert draft(renderer, "reminder_3", UK_POLICY, key).facts.penalties is None


def test_a_rate_that_is_not_the_one_used_is_caught(renderer):
    letter = draft(renderer, "reminder_3")
    edited = letter.text.replace("soit 12,15 % l'an", "soit 15 % l'an")
    assert codes(check(letter, edited)) == {"rate_mismatch"}


def test_the_contact_cap_is_enforced(renderer):
    case = CaseState("REF-7Q2K", contact_dates=(ON - timedelta(days=6), ON - timedelta(days=1)))
    letter = draft(renderer, "reminder_1", case=case)
    found = check(letter, case=case)
    assert codes(found) == {"contact_cap"}
    assert "at most 2" in found[0].message
    older = CaseState("REF-7Q2K", contact_dates=(ON - timedelta(days=7), ON - timedelta(days=1)))
    assert check(draft(renderer, "reminder_1", case=older), case=older) == []


def test_the_minimum_interval_is_enforced(renderer):
    case = CaseState("REF-7Q2K", last_contact_on=ON - timedelta(days=5))
    letter = draft(renderer, "reminder_2", case=case)
    found = check(letter, case=case)
    assert codes(found) == {"min_interval"}
    assert "7 days" in found[0].message


def test_template_code_left_in_an_edit_is_blocked(renderer):
    letter = draft(renderer, "reminder_1")
    assert "template_error" in codes(check(letter, letter.text + "\n{{ total }}"))


def test_warnings_do_not_block(renderer):
    no_iban = Policy.model_validate(
        {
            **UK_POLICY.model_dump(),
            "creditor": {"slug": "x", "name": "X Ltd", "address": "1 High St"},
        }
    )
    letter = draft(renderer, "reminder_1", no_iban)
    findings = validate_letter(letter, policy=no_iban, debtor=COMPANY, case=NEW_CASE, on=ON)
    assert {f.code for f in findings} == {"no_payment_instructions"}
    assert not any(f.blocking for f in findings)
    edited = validate_text("Relance", letter.text.replace("Kind regards,", ""), letter.facts, policy=no_iban,
                           debtor=COMPANY, case=NEW_CASE, on=ON, step="reminder_1")  # fmt: skip
    assert {"missing_sign_off", "missing_case_token"} <= {f.code for f in edited if not f.blocking}


def test_the_subject_is_checked_as_well(renderer):
    letter = draft(renderer, "reminder_1")
    found = check(letter, subject=letter.subject + " — avis avant saisie, F2026-0999")
    assert codes(found) == {"banned_phrase", "unknown_invoice"}


def test_facts_survive_a_json_round_trip_and_an_edit_is_revalidated(renderer):
    import json

    later = replace(
        NEW_CASE,
        first_letter_on=date(2026, 10, 22),
        steps_sent=("reminder_1", "reminder_2", "reminder_3"),
    )
    letter = draft(renderer, "formal_notice", case=later)
    stored = json.loads(json.dumps(facts_to_dict(letter.facts)))
    facts: LetterFacts = letter_facts_from_dict(stored)
    assert facts == letter.facts
    kwargs = dict(policy=AGENCY_POLICY, debtor=COMPANY, case=NEW_CASE, on=ON, step="formal_notice")
    polite = letter.text.replace("Malgré nos relances", "Malgré nos relances amicables")
    assert [f for f in validate_text(letter.subject, polite, facts, **kwargs) if f.blocking] == []
    wrong = letter.text.replace("1 234,56 €", "1 334,56 €")
    assert "amount_mismatch" in codes(validate_text(letter.subject, wrong, facts, **kwargs))


def test_messages_speak_to_the_officer(renderer):
    letter = draft(renderer, "reminder_1")
    edited = letter.text.replace("F2026-0102", "F2026-0199", 1)
    [finding] = check(letter, edited)
    assert finding.message == "Invoice F2026-0199 is not one of the invoices of this case."
    assert finding.as_dict() == {
        "code": "unknown_invoice",
        "message": finding.message,
        "blocking": True,
    }


def test_the_sign_of_an_amount_counts(renderer):
    credit = InvoiceLine("F2026-0103", date(2026, 9, 1), D("-256.10"), D("-256.10"))
    letter = renderer.render(policy=UK_POLICY, step=UK_POLICY.step("reminder_1"), debtor=COMPANY, case=NEW_CASE,
                             invoices=(*INVOICES, credit), history=ClientHistory(), on=ON, render_pdf=False)  # fmt: skip
    assert "-€256.10" in letter.text
    assert check(letter, policy=UK_POLICY) == []
    assert codes(check(letter, letter.text.replace("-€256.10", "€256.10"), policy=UK_POLICY)) == {
        "amount_mismatch"
    }
