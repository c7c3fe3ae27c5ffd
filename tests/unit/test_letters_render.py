"""Rendered letters, read the way the debtor and the collection officer read them."""

from __future__ import annotations

import html as htmllib
import re
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from assistant.domain import CaseState, ClientHistory, DebtorFacts, InvoiceLine
from assistant.letters.legal import L111_8_PARAGRAPHS
from assistant.letters.rates import RateTable
from assistant.letters.render import Letter, LetterRenderer, LetterTemplateError
from assistant.letters.validator import validate_letter
from assistant.policy.loader import load_policy
from assistant.policy.schema import LateInterest, Policy, Terms

ROOT = Path(__file__).resolve().parents[2]
ON = date(2026, 11, 26)
D = Decimal
STEPS = ["pre_reminder", "reminder_1", "reminder_2", "reminder_3", "formal_notice"]
TONES = ["courteous", "neutral", "firm", "formal"]
LADDER = {
    "steps": [
        {"name": "pre_reminder", "days_after_due": -5, "template": "pre_reminder", "min_days_since_previous": 0, "pre_due": True},
        {"name": "reminder_1", "days_after_due": 5, "template": "reminder_1", "min_days_since_previous": 0},
        {"name": "reminder_2", "days_after_due": 15, "template": "reminder_2", "tone": "neutral"},
        {"name": "reminder_3", "days_after_due": 30, "template": "reminder_3", "tone": "firm", "show_penalties": True},
        {"name": "formal_notice", "days_after_due": 45, "template": "formal_notice", "tone": "formal",
         "formal_notice": True, "pdf": True, "deadline_days": 8, "show_penalties": True},
    ]
}  # fmt: skip
CREDITOR = {
    "slug": "atelier-bois",
    "name": "Atelier du Bois Massif SARL",
    "address": "12 rue des Artisans, 69007 Lyon",
    "siren": "512345678",
    "email": "compta@atelier-bois.example",
    "phone": "04 78 00 00 01",
    "iban": "FR76 3000 4000 0100 0012 3456 789",
    "bic": "BNPAFRPPXXX",
    "bank_name": "BNP Paribas Lyon Gerland",
}
AGENCY = {
    "name": "Cabinet Recouvra",
    "address": "8 place Bellecour, 69002 Lyon",
    "email": "recouvrement@recouvra.example",
    "phone": "04 72 00 00 00",
    "mandate_reference": "MAND-2026-0042 du 2 janvier 2026",
}
VOICE_FR = {
    "sign_off": "Nous vous prions d'agréer, Madame, Monsieur, nos salutations distinguées.",
    "signature": ["Service recouvrement amiable", "Cabinet Recouvra — 04 72 00 00 00"],
    "forbidden_words": ["huissier", "saisie", "tribunal", "poursuites"],
}
VOICE_EN = {
    "sign_off": "Kind regards,",
    "signature": ["Credit Control"],
    "forbidden_words": ["bailiff", "county court"],
}


def make_policy(kind: str) -> Policy:
    """Build one of four creditors: agency_fr, inhouse_fr, uk_en, us_en."""
    base = {"ladder": LADDER}
    if kind == "agency_fr":
        data = {**base, "creditor": CREDITOR, "mode": "agency", "agency": AGENCY, "voice": VOICE_FR}
    elif kind == "inhouse_fr":
        creditor = {**CREDITOR, "slug": "distrib", "name": "DistriPro Équipements SAS",
                    "payment_url": "https://paiement.distrib-pro.example/factures"}  # fmt: skip
        data = {**base, "creditor": creditor, "voice": {**VOICE_FR, "sign_off": "Bien cordialement,"},
                "terms": {"late_interest": {"rule": "fixed", "rate": 12}, "waive_for_key_accounts": True}}  # fmt: skip
    elif kind == "uk_en":
        creditor = {"slug": "thames", "name": "Thames Supplies Ltd", "address": "Unit 7, Riverside Trade Park, Barking IG11 0DQ",
                    "phone": "020 7946 0123", "iban": "GB29 NWBK 6016 1331 9268 19", "email": "credit@thames.example"}  # fmt: skip
        data = {**base, "creditor": creditor, "language": "en", "jurisdiction": "UK", "voice": VOICE_EN,
                "terms": {"late_interest": {"rule": "boe_plus_8"}}}  # fmt: skip
    else:
        creditor = {"slug": "hudson", "name": "Hudson Home Services LLC", "address": "200 Main Street, Albany, NY 12207",
                    "payment_url": "https://pay.hudson.example", "email": "billing@hudson.example"}  # fmt: skip
        data = {**base, "creditor": creditor, "language": "en", "jurisdiction": "US", "voice": VOICE_EN,
                "terms": {"late_interest": {"rule": "none"}, "recovery_indemnity": False}}  # fmt: skip
    return Policy.model_validate(data)


POLICIES = {k: make_policy(k) for k in ("agency_fr", "inhouse_fr", "uk_en", "us_en")}
CURRENCY = {"agency_fr": "EUR", "inhouse_fr": "EUR", "uk_en": "GBP", "us_en": "USD"}
TOTAL_SHOWN = {"fr": "1 534,56 €", "EUR": "€1,534.56", "GBP": "£1,534.56", "USD": "$1,534.56"}


def invoices_for(step: str, currency: str = "EUR") -> tuple[InvoiceLine, ...]:
    """Two invoices: overdue (due 40 and 20 days ago), or not yet due for the pre-reminder."""
    shift = -5 if step == "pre_reminder" else 40
    due1, due2 = ON - timedelta(days=shift), ON - timedelta(days=shift - 20)
    return (
        InvoiceLine("F2026-0101", due1, D("1234.56"), D("1234.56"), currency, issue_date=due1 - timedelta(days=30)),
        InvoiceLine("F2026-0102", due2, D("800.00"), D("300.00"), currency, issue_date=due2 - timedelta(days=30)),
    )  # fmt: skip


@pytest.fixture(scope="module")
def renderer() -> LetterRenderer:
    return LetterRenderer(ROOT / "templates" / "letters", RateTable.packaged())


def render(
    renderer,
    policy_key="agency_fr",
    step="reminder_1",
    *,
    debtor=None,
    case=None,
    invoices=None,
    **kw,
) -> Letter:
    policy = POLICIES[policy_key]
    return renderer.render(
        policy=policy,
        step=policy.step(step),
        debtor=debtor or DebtorFacts("C001", "Menuiserie Durand SAS"),
        case=case or CaseState("REF-7Q2K"),
        invoices=invoices or invoices_for(step, CURRENCY[policy_key]),
        history=ClientHistory(),
        on=ON,
        **{"render_pdf": False, **kw},
    )


NEVER_IN_A_FIRST_LETTER = ("malgré", "despite", "deuxième", "troisième", "second reminder",
                           "third reminder", "précédent", "earlier reminder", "nos relances")  # fmt: skip


def history_for(step: str, history: str) -> tuple[CaseState, bool]:
    """Return the case history (first letter, or every earlier dunning step sent) and
    whether a broken promise is to be mentioned."""
    if history == "first_letter" or step == "pre_reminder":
        return CaseState("REF-7Q2K"), False
    earlier = tuple(STEPS[1 : STEPS.index(step)])
    case = CaseState("REF-7Q2K", step_index=STEPS.index(step) - 1, steps_sent=earlier,
                     last_contact_on=ON - timedelta(days=20), first_letter_on=ON - timedelta(days=60))  # fmt: skip
    return case, True


def sentences(text: str) -> list[str]:
    return [x.strip() for x in re.split(r"(?<=[.!?])\s+|\n+", text) if len(x.strip()) > 25]


def assert_reads_right(letter: Letter, debtor: DebtorFacts, first_letter: bool) -> None:
    """French (and English) typography and truthfulness a reader would notice."""
    text = letter.text
    assert f"de {debtor.name}" not in text  # élision: d'Auto-École, d'Élodie
    if letter.language == "fr":
        assert f"À l'attention d'{debtor.name}" in text
    said = sentences(text)
    assert len(said) == len(set(said)), [x for x in said if said.count(x) > 1]
    assert text.count("Malgré") <= 1 and text.count("Despite") <= 1
    if first_letter:
        shown = (letter.subject + "\n" + text).lower()
        assert not [w for w in NEVER_IN_A_FIRST_LETTER if w in shown], letter.subject


@pytest.mark.parametrize("policy_key", list(POLICIES))
@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("tone", TONES)
@pytest.mark.parametrize("kind", ["company", "consumer"])
@pytest.mark.parametrize("history", ["first_letter", "after_reminders"])
def test_every_letter_reads_right_and_passes_the_validator(
    renderer, policy_key, language, step, tone, kind, history
):
    policy = POLICIES[policy_key]
    debtor = DebtorFacts(
        "C001",
        "Auto-École Durand SARL" if kind == "company" else "Élodie Petit",
        kind=kind,
        language=language,
        address="3 rue du Port, 44000 Nantes",
    )
    case, broken = history_for(step, history)
    letter = render(renderer, policy_key, step, debtor=debtor, case=case, tone=tone,
                    broken_promise=broken)  # fmt: skip
    assert_reads_right(letter, debtor, case.steps_sent is None)
    assert (letter.language, letter.tone, letter.step) == (language, tone, step)
    assert letter.subject.startswith("[REF-7Q2K] ")
    assert "F2026-0101, F2026-0102" in letter.subject
    expected_total = (
        TOTAL_SHOWN["fr"] if language == "fr" and CURRENCY[policy_key] == "EUR" else None
    )
    if language == "en":
        expected_total = TOTAL_SHOWN[CURRENCY[policy_key]]
    if expected_total:
        assert expected_total in letter.text
    assert "F2026-0101" in letter.html and "<table" in letter.html
    assert policy.voice.closing(language)[0] in letter.text

    agency_fr = policy_key == "agency_fr"
    for paragraph in L111_8_PARAGRAPHS:
        assert (paragraph in letter.text) is agency_fr
        assert (paragraph in htmllib.unescape(letter.html)) is agency_fr

    penalty_words = (
        "pénalités de retard",
        "indemnité forfaitaire",
        "late-payment interest",
        "compensation",
    )
    shows_penalties = any(w in letter.text for w in penalty_words)
    if kind == "consumer":
        assert letter.facts.penalties is None
        assert not shows_penalties
    elif step in ("reminder_3", "formal_notice") and policy_key != "us_en":
        assert letter.facts.penalties is not None and shows_penalties
    else:
        assert not shows_penalties

    if step == "formal_notice":
        deadline = ON + timedelta(days=8)
        assert letter.facts.deadline == deadline
        assert {
            "fr": "4 décembre 2026",
            "en": "December 4, 2026" if policy_key == "us_en" else "4 December 2026",
        }[language] in letter.text

    findings = validate_letter(letter, policy=policy, debtor=debtor, case=case, on=ON)
    assert [f for f in findings if f.blocking] == []


def test_french_amounts_and_dates_are_written_the_french_way(renderer):
    letter = render(renderer, "agency_fr", "reminder_3")
    assert "Total restant dû : 1 534,56 €" in letter.text
    assert "échue le 17/10/2026 : 1 234,56 €" in letter.text
    assert "300,00 € restant dû sur 800,00 €" in letter.text
    assert "soit 12,15 % l'an" in letter.text  # ECB 2.15 % (H2 2026) + 10 points
    assert "indemnité forfaitaire 40,00 €" in letter.text
    assert "Total dû, pénalités comprises : 1 " in letter.text
    assert "1\u00a0534,56\u00a0€" in letter.html  # no line break inside an amount


def test_the_agency_letter_splits_the_debt_and_names_everyone(renderer):
    text = render(renderer, "agency_fr", "reminder_3").text
    assert "Cabinet Recouvra, qui exerce une activité de recouvrement amiable de créances" in text
    assert (
        "pour le compte de son client Atelier du Bois Massif SARL (12 rue des Artisans, 69007 Lyon)"
        in text
    )
    assert "Mandat : MAND-2026-0042 du 2 janvier 2026." in text
    assert "Fondement de la créance : factures F2026-0101, F2026-0102." in text
    assert "Principal : 1 534,56 € ; Intérêts : " in text
    # The indemnity the letter claims is named under "autres sommes", and the L111-8 rule is
    # stated without denying it (no "aucun frais de recouvrement n'est à votre charge").
    assert (
        "Autres sommes : 80,00 € (indemnité forfaitaire pour frais de recouvrement due de plein "
        "droit en vertu de l'article L441-10 du Code de commerce)." in text
    )
    assert (
        "Les frais de la présente procédure de recouvrement amiable restent à la charge du créancier"
        in text
    )
    assert "aucun frais de recouvrement n'est à votre charge" not in text


def test_later_agency_letters_recall_the_first_one_and_skip_the_gdpr_notice(renderer):
    first = render(renderer, "agency_fr", "reminder_1")
    assert (
        "Données personnelles : le responsable du traitement est Atelier du Bois Massif SARL"
        in first.text
    )
    later_case = CaseState("REF-7Q2K", last_contact_on=date(2026, 11, 1), first_letter_on=date(2026, 11, 1),
                           first_letter_ref="REF-7Q2K/1")  # fmt: skip
    later = render(renderer, "agency_fr", "reminder_2", case=later_case)
    assert "Première lettre : référence REF-7Q2K/1 du 1 novembre 2026." in later.text
    assert "Données personnelles" not in later.text


def test_an_english_letter_for_a_french_agency_keeps_the_french_legal_text(renderer):
    debtor = DebtorFacts("C001", "Dublin Joinery Ltd", language="en")
    letter = render(renderer, "agency_fr", "reminder_1", debtor=debtor)
    assert letter.language == "en"
    assert "Dear Sir or Madam," in letter.text
    assert (
        "Principal: €1,534.56; Interest: €0.00; Other sums: €0.00.\n"
        "The costs of this amicable recovery are borne by the creditor" in letter.text
    )
    assert all(p in letter.text for p in L111_8_PARAGRAPHS)


def test_british_letters_claim_statutory_interest_and_compensation(renderer):
    two_sent = CaseState("REF-7Q2K", step_index=2, steps_sent=("reminder_1", "reminder_2"))
    letter = render(renderer, "uk_en", "reminder_3", case=two_sent)
    assert letter.subject.startswith("[REF-7Q2K] Third reminder")
    assert (
        "8 percentage points above the Bank of England base rate, i.e. 12.00% a year" in letter.text
    )
    assert "compensation £40.00" in letter.text
    assert "Total outstanding: £1,534.56" in letter.text


def test_us_consumers_get_the_debt_collection_disclosure_and_an_opt_out(renderer):
    consumer = DebtorFacts("P1", "John Smith", kind="consumer")
    letter = render(renderer, "us_en", "reminder_1", debtor=consumer)
    assert "This is an attempt to collect a debt" in letter.text
    assert "reply with the word STOP" in letter.text
    assert "This is an attempt to collect a debt" in letter.html
    assert letter.text.index("Dear John Smith,") >= 0
    company = render(renderer, "us_en", "reminder_1")
    assert "attempt to collect a debt" not in company.text
    uk_consumer = render(renderer, "uk_en", "reminder_1", debtor=consumer)
    assert "attempt to collect a debt" not in uk_consumer.text


def test_key_accounts_see_no_penalties_when_the_creditor_waives_them(renderer):
    key = DebtorFacts("GC001", "Grande Surface SA", key_account=True)
    letter = render(renderer, "inhouse_fr", "reminder_3", debtor=key)
    assert letter.facts.penalties is None
    assert "pénalités" not in letter.text
    normal = render(renderer, "inhouse_fr", "reminder_3")
    assert "au taux contractuel de 12,00 % l'an" in normal.text


def test_the_formal_notice_states_a_dated_deadline_and_comes_as_a_pdf(renderer):
    letter = render(renderer, "agency_fr", "formal_notice", render_pdf=True)
    assert letter.subject.startswith("[REF-7Q2K] Mise en demeure de payer")
    assert "au plus tard le 4 décembre 2026, soit dans un délai de 8 jours" in letter.text
    assert "pourra engager une action en justice" in letter.text
    assert letter.pdf is not None and letter.pdf.startswith(b"%PDF")
    assert render(renderer, "agency_fr", "formal_notice").pdf is None  # render_pdf=False
    assert render(renderer, "agency_fr", "reminder_3", render_pdf=True).pdf is None


def test_the_english_formal_notice_pdf(renderer):
    letter = render(renderer, "uk_en", "formal_notice", render_pdf=True)
    assert "no later than 4 December 2026, that is within 8 days" in letter.text
    assert letter.pdf is not None and letter.pdf.startswith(b"%PDF")


def test_the_subject_lists_three_invoices_then_an_ellipsis(renderer):
    base = invoices_for("reminder_1")[0]
    many = tuple(replace(base, number=f"F2026-01{n:02d}") for n in range(1, 6))
    letter = render(renderer, "agency_fr", "reminder_1", invoices=many)
    assert letter.subject == "[REF-7Q2K] Relance — factures F2026-0101, F2026-0102, F2026-0103, …"
    assert "F2026-0105" in letter.text


def test_one_invoice_reads_in_the_singular(renderer):
    letter = render(renderer, "agency_fr", "reminder_1", invoices=invoices_for("reminder_1")[:1])
    assert letter.subject == "[REF-7Q2K] Relance — facture F2026-0101"
    assert "la facture suivante, arrivée à échéance, reste à ce jour impayée" in letter.text


def test_a_broken_promise_is_mentioned(renderer):
    one_sent = CaseState("REF-7Q2K", step_index=1, steps_sent=("reminder_1",))
    letter = render(renderer, "agency_fr", "reminder_2", broken_promise=True, case=one_sent)
    assert "Le règlement que vous nous aviez annoncé ne nous est pas parvenu" in letter.text
    # One "Malgré" in the letter, not "Malgré votre engagement… Malgré notre précédent rappel".
    assert letter.text.count("Malgré") == 1


def test_the_tone_changes_the_wording(renderer):
    courteous = render(renderer, "agency_fr", "reminder_1", tone="courteous").text
    firm = render(renderer, "agency_fr", "reminder_1", tone="firm").text
    assert "Sauf erreur de notre part" in courteous and "Sauf erreur de notre part" not in firm
    assert courteous != firm


def test_language_and_tone_come_from_the_debtor_then_its_override_then_the_policy(renderer):
    data = POLICIES["agency_fr"].model_dump()
    data["overrides"] = [{"debtor_ref": "C77", "language": "en", "tone": "firm"}]
    policy = Policy.model_validate(data)
    debtor = DebtorFacts("C77", "Irish Branch Ltd")
    kwargs = dict(policy=policy, debtor=debtor, case=CaseState("REF-1"), invoices=invoices_for("reminder_1"),
                  history=ClientHistory(), on=ON, render_pdf=False)  # fmt: skip
    letter = renderer.render(step=policy.step("reminder_1"), **kwargs)
    assert (letter.language, letter.tone) == ("en", "firm")
    fr = renderer.render(
        step=policy.step("reminder_1"), **{**kwargs, "debtor": replace(debtor, language="fr")}
    )
    assert fr.language == "fr"
    planner_tone = renderer.render(step=policy.step("reminder_1"), tone="courteous", **kwargs)
    assert planner_tone.tone == "courteous"


def test_html_escapes_what_comes_from_the_ledger(renderer):
    debtor = DebtorFacts("C001", "<b>Dupont & Fils</b>", kind="consumer", language="en")
    letter = render(renderer, "us_en", "reminder_1", debtor=debtor)
    assert "&lt;b&gt;Dupont &amp; Fils&lt;/b&gt;" in letter.html
    assert "<b>Dupont" not in letter.html


def test_an_unknown_template_is_a_clear_error(renderer):
    policy = POLICIES["agency_fr"]
    step = policy.step("reminder_1").model_copy(update={"template": "reminder_9"})
    with pytest.raises(LetterTemplateError, match="reminder_9"):
        renderer.render(policy=policy, step=step, debtor=DebtorFacts("C1", "X"), case=CaseState("REF-1"),
                        invoices=invoices_for("reminder_1"), history=ClientHistory(), on=ON)  # fmt: skip


def test_the_project_templates_folder_is_accepted_too():
    renderer = LetterRenderer(ROOT / "templates", RateTable.packaged())
    assert render(renderer, "agency_fr", "reminder_1").subject.startswith("[REF-7Q2K]")


@pytest.mark.parametrize("path", sorted((ROOT / "policies").glob("*.yaml")), ids=lambda p: p.stem)
def test_every_step_of_every_shipped_policy_renders_clean(renderer, path):
    policy = load_policy(path)
    debtor = DebtorFacts("C001", "Menuiserie Durand SAS", address="3 rue du Port, 44000 Nantes")
    for step in policy.ladder.steps:
        invoices = invoices_for("pre_reminder" if step.pre_due else "reminder_1")
        case = CaseState("REF-7Q2K")
        letter = renderer.render(policy=policy, step=step, debtor=debtor, case=case, invoices=invoices,
                                 history=ClientHistory(), on=ON, render_pdf=False)  # fmt: skip
        findings = validate_letter(letter, policy=policy, debtor=debtor, case=case, on=ON)
        assert [f for f in findings if f.blocking] == [], (path.name, step.name)


def test_a_credit_note_is_deducted_not_claimed(renderer):
    invoice = invoices_for("reminder_1")[0]
    credit = InvoiceLine(
        "AV2026-0007", date(2026, 9, 1), D("-200.00"), D("-200.00"), issue_date=date(2026, 9, 1)
    )
    letter = render(renderer, "agency_fr", "reminder_3", invoices=(invoice, credit))
    assert "- Avoir AV2026-0007 du 01/09/2026, à déduire : -200,00 €" in letter.text
    assert "Total restant dû : 1 034,56 €" in letter.text
    assert [n for n, _, _ in letter.facts.penalties.per_invoice] == ["F2026-0101"]
    english = render(renderer, "uk_en", "reminder_1", invoices=(invoice, credit))
    assert "- Credit note AV2026-0007 dated 01/09/2026, to be deducted: -€200.00" in english.text


def test_an_english_letter_from_a_french_policy_signs_off_in_english():
    from datetime import date, timedelta
    from decimal import Decimal
    from pathlib import Path

    from assistant.domain import CaseState, ClientHistory, DebtorFacts, InvoiceLine
    from assistant.letters.rates import RateTable
    from assistant.letters.render import LetterRenderer
    from assistant.letters.validator import validate_letter
    from assistant.policy.loader import load_policy

    root = Path(__file__).resolve().parents[2]
    policy = load_policy(root / "policies" / "distrib-pro.yaml")
    on = date(2026, 11, 26)
    debtor = DebtorFacts(
        ref="X1", name="Bailey & Harris LLP", language="en", emails=("a@b.example",)
    )
    invoice = InvoiceLine(
        "F2026-00472", on - timedelta(days=10), Decimal("100.00"), Decimal("100.00")
    )
    letter = LetterRenderer(root / "templates", RateTable.packaged()).render(
        policy=policy,
        step=policy.step("reminder_1"),
        debtor=debtor,
        case=CaseState(ref="REF-ABCD"),
        invoices=[invoice],
        history=ClientHistory(),
        on=on,
    )
    assert "Kind regards," in letter.text and "Bien cordialement" not in letter.text
    assert not validate_letter(
        letter, policy=policy, debtor=debtor, case=CaseState(ref="REF-ABCD"), on=on
    )


def test_a_credit_note_is_named_as_one_in_the_subject_and_the_agency_block(renderer):
    invoice = invoices_for("reminder_1")[0]
    credit = InvoiceLine(
        "AV2026-0007", date(2026, 9, 1), D("-200.00"), D("-200.00"), issue_date=date(2026, 9, 1)
    )
    letter = render(renderer, "agency_fr", "reminder_3", invoices=(invoice, credit))
    assert letter.subject.endswith("— facture F2026-0101, avoir AV2026-0007")
    assert "Facture et avoir concernés :" in letter.text
    assert "Fondement de la créance : facture F2026-0101 ; à déduire : avoir AV2026-0007 (-200,00 €)." in letter.text  # fmt: skip
    assert "Principal : 1 034,56 €" in letter.text
    assert "factures" not in letter.subject and "impayées" not in letter.text
    acme = DebtorFacts("C002", "Acme Ltd", language="en")
    english = render(renderer, "agency_fr", "reminder_1", invoices=(invoice, credit), debtor=acme)
    assert english.subject.endswith("— invoice F2026-0101, credit note AV2026-0007")
    assert "Basis of the debt: invoice F2026-0101; to be deducted: credit note AV2026-0007 (-€200.00)." in english.text  # fmt: skip
    assert "Invoice and credit note concerned:" in english.text
    assert "Total outstanding: €1,034.56" in english.text
    policy = POLICIES["agency_fr"]
    for shown, debtor in ((letter, DebtorFacts("C001", "Menuiserie Durand SAS")), (english, acme)):
        findings = validate_letter(shown, policy=policy, debtor=debtor, case=CaseState("REF-7Q2K"), on=ON)  # fmt: skip
        assert [f for f in findings if f.blocking] == []


def test_the_subject_names_at_most_three_documents_invoices_first():
    from assistant.letters.render import subject_documents

    assert subject_documents("fr", ["F1", "F2"], ["AV1", "AV2"]) == "F1, F2, avoir AV1, …"
    assert subject_documents("en", ["F1"], ["AV1", "AV2"]) == "F1, credit notes AV1, AV2"
    assert subject_documents("fr", ["F1", "F2", "F3"], ["AV1"]) == "F1, F2, F3, …"


def test_an_agency_names_the_creditor_s_terms_not_its_own(renderer):
    fixed = POLICIES["agency_fr"].model_copy(
        update={"terms": Terms(late_interest=LateInterest(rule="fixed", rate=D("12")))}
    )
    letter = renderer.render(
        policy=fixed, step=fixed.step("reminder_3"), debtor=DebtorFacts("C001", "Menuiserie Durand SAS"),
        case=CaseState("REF-7Q2K"), invoices=invoices_for("reminder_3"), history=ClientHistory(),
        on=ON, render_pdf=False,
    )  # fmt: skip
    assert "nos conditions générales" not in letter.text
    assert "Conformément aux conditions générales de vente d'Atelier du Bois Massif SARL" in letter.text  # fmt: skip


def test_an_english_letter_from_a_french_creditor_cites_the_french_law_for_the_indemnity(renderer):
    letter = render(renderer, "inhouse_fr", "reminder_3", debtor=DebtorFacts("C002", "Acme Ltd", language="en"))  # fmt: skip
    assert "article L441-10 of the French Commercial Code" in letter.text
    no_interest = POLICIES["inhouse_fr"].model_copy(
        update={"terms": Terms(late_interest=LateInterest(rule="none"))}
    )
    only_indemnity = renderer.render(
        policy=no_interest, step=no_interest.step("reminder_3"), debtor=DebtorFacts("C002", "Acme Ltd", language="en"),
        case=CaseState("REF-7Q2K"), invoices=invoices_for("reminder_3"), history=ClientHistory(),
        on=ON, render_pdf=False,
    )  # fmt: skip
    assert "Under article L441-10 of the French Commercial Code, each invoice paid late carries a fixed recovery indemnity of €40.00." in only_indemnity.text  # fmt: skip


def test_credit_notes_are_listed_without_blank_lines_between_them(renderer):
    invoice = invoices_for("reminder_1")[0]
    credits = tuple(
        InvoiceLine(f"AV-{n}", date(2026, 9, n), D("-10.00"), D("-10.00"), issue_date=date(2026, 9, n))
        for n in (1, 2)
    )  # fmt: skip
    for key in ("agency_fr", "uk_en"):
        text = render(renderer, key, "reminder_1", invoices=(invoice, *credits)).text
        listed = text[text.index("- Invoice" if key == "uk_en" else "- Facture") :]
        assert "\n\n-" not in listed.split("Total")[0], key
