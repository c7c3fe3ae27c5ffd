"""Letters say only what is true: of the case's history, its attachments, its address."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from assistant.domain import CaseState, ClientHistory, DebtorFacts, InvoiceLine
from assistant.letters.formatting import formatter
from assistant.letters.rates import RateTable
from assistant.letters.render import LetterRenderer
from assistant.letters.validator import validate_letter, validate_text
from assistant.policy.loader import load_policy
from assistant.services.responses import remittance_invoices, response_context, response_step

ROOT = Path(__file__).resolve().parents[2]
ON = date(2026, 11, 26)
D = Decimal
ATELIER = load_policy(ROOT / "policies" / "atelier-bois.yaml")  # agency, FR, no en sign-off
DISTRIB = load_policy(ROOT / "policies" / "distrib-pro.yaml")  # in-house, has an en sign-off
DEBTOR = DebtorFacts(
    "C1", "Menuiserie Durand SAS", emails=("c@d.fr",), address="3 rue du Port, 44000 Nantes"
)
OLD = (
    InvoiceLine("FA-0001", ON - timedelta(days=150), D("900.00"), D("900.00"), issue_date=ON - timedelta(days=180)),
    InvoiceLine("FA-0002", ON - timedelta(days=130), D("400.00"), D("250.00"), issue_date=ON - timedelta(days=160)),
)  # fmt: skip


@pytest.fixture(scope="module")
def renderer() -> LetterRenderer:
    return LetterRenderer(ROOT / "templates", RateTable.packaged())


def letter_for(renderer, step, *, policy=ATELIER, debtor=DEBTOR, case=None, **kw):
    return renderer.render(policy=policy, step=policy.step(step), debtor=debtor,
                           case=case or CaseState("REF-7Q2K"), invoices=OLD,
                           history=ClientHistory(), on=ON, **kw)  # fmt: skip


def blocking_codes(letter, policy=ATELIER, debtor=DEBTOR, case=None):
    found = validate_letter(
        letter, policy=policy, debtor=debtor, case=case or CaseState("REF-7Q2K"), on=ON
    )
    return {f.code for f in found if f.blocking}, {f.code for f in found if not f.blocking}


@pytest.mark.parametrize("language", ["fr", "en"])
def test_an_old_debt_starting_at_reminder_2_gets_a_first_letter(renderer, language):
    # atelier-bois starts debts 120+ days old at reminder_2: nothing was ever sent.
    debtor = replace(DEBTOR, language=language)
    letter = letter_for(
        renderer, "reminder_2", debtor=debtor, case=CaseState("REF-7Q2K", steps_sent=())
    )
    said = (letter.subject + letter.text).lower()
    assert letter.subject.startswith(("[REF-7Q2K] Relance —", "[REF-7Q2K] Reminder —"))
    for untrue in ("deuxième", "second", "malgré", "despite", "précédent", "earlier"):
        assert untrue not in said


def test_the_next_letter_counts_what_was_sent_not_the_step_name(renderer):
    after_one = CaseState("REF-7Q2K", step_index=1, steps_sent=("reminder_2",),
                          last_contact_on=ON - timedelta(days=15), first_letter_on=ON - timedelta(days=15))  # fmt: skip
    letter = letter_for(renderer, "reminder_3", case=after_one)
    assert letter.subject.startswith("[REF-7Q2K] Deuxième relance")
    assert "Malgré notre précédent rappel" in letter.text
    assert "nos relances successives" not in letter.text and "Troisième" not in letter.subject
    notice = letter_for(renderer, "formal_notice", case=after_one)
    assert "Malgré notre précédente relance" in notice.text and "nos relances" not in notice.text


def test_french_elision_before_a_vowel(renderer):
    auto = replace(DEBTOR, name="Auto-École Martin")
    assert (
        "À l'attention d'Auto-École Martin" in letter_for(renderer, "reminder_1", debtor=auto).text
    )
    assert "À l'attention de Menuiserie Durand SAS" in letter_for(renderer, "reminder_1").text


def test_a_registered_formal_notice_without_a_postal_address_is_blocked(renderer):
    nowhere = replace(DEBTOR, address=None)
    blocking, _ = blocking_codes(
        letter_for(renderer, "formal_notice", debtor=nowhere, render_pdf=False), debtor=nowhere
    )
    assert "no_postal_address" in blocking
    blocking, _ = blocking_codes(letter_for(renderer, "formal_notice", render_pdf=False))
    assert "no_postal_address" not in blocking


def test_an_english_letter_without_an_english_sign_off_is_flagged(renderer):
    english = replace(DEBTOR, language="en")
    voice = ATELIER.voice.model_copy(update={"translations": {}})
    untranslated = ATELIER.model_copy(update={"voice": voice})
    letter = letter_for(renderer, "reminder_1", policy=untranslated, debtor=english)
    _, warnings = blocking_codes(letter, policy=untranslated, debtor=english)
    assert "untranslated_sign_off" in warnings
    _, warnings = blocking_codes(letter_for(renderer, "reminder_1", debtor=english), debtor=english)
    assert "untranslated_sign_off" not in warnings  # the shipped agency policy signs off in English
    letter = letter_for(renderer, "reminder_1", policy=DISTRIB, debtor=english)
    _, warnings = blocking_codes(letter, policy=DISTRIB, debtor=english)
    assert "untranslated_sign_off" not in warnings


def test_the_agency_letter_may_not_deny_the_indemnity_it_claims(renderer):
    later = CaseState("REF-7Q2K", step_index=2, steps_sent=("reminder_1", "reminder_2"))
    letter = letter_for(renderer, "reminder_3", case=later, render_pdf=False)
    assert letter.facts.penalties is not None and letter.facts.penalties.indemnity == D("80.00")
    args = dict(policy=ATELIER, debtor=DEBTOR, case=later, on=ON, step="reminder_3")
    assert not [
        f for f in validate_text(letter.subject, letter.text, letter.facts, **args) if f.blocking
    ]
    old = letter.text.replace(
        ".\nLes frais de la présente",
        " ; aucun frais de recouvrement n'est à votre charge.\nLes frais de la présente",
    )
    assert old != letter.text
    codes = {f.code for f in validate_text(letter.subject, old, letter.facts, **args)}
    assert "contradictory_fees" in codes


def test_a_step_with_a_statement_attaches_it_and_says_so(renderer):
    statement_policy = ATELIER.model_copy(
        update={"ladder": ATELIER.ladder.model_copy(update={"steps": [
            s.model_copy(update={"statement": s.name in ("reminder_2", "formal_notice")})
            for s in ATELIER.ladder.steps]})}
    )  # fmt: skip
    letter = letter_for(renderer, "reminder_2", policy=statement_policy)
    assert "Vous trouverez en pièce jointe le relevé de votre compte" in letter.text
    assert letter.attachments == ("statement",)
    assert letter.pdf is not None and letter.pdf.startswith(b"%PDF")
    blocking, _ = blocking_codes(letter, policy=statement_policy)
    assert not blocking
    # The formal notice carries the letter and, on a page of its own, the statement.
    notice = letter_for(renderer, "formal_notice", policy=statement_policy)
    assert notice.attachments == ("letter", "statement")
    single = letter_for(renderer, "formal_notice")
    assert notice.pdf.count(b"/Type /Page\n") == single.pdf.count(b"/Type /Page\n") + 1


def test_a_letter_promising_a_missing_attachment_is_blocked(renderer):
    letter = letter_for(renderer, "reminder_1")
    args = dict(policy=ATELIER, debtor=DEBTOR, case=CaseState("REF-7Q2K"), on=ON, step="reminder_1")
    promised = letter.text.replace(
        "Madame, Monsieur,", "Madame, Monsieur,\n\nVous trouverez ci-joint une copie de la facture."
    )
    codes = {
        f.code
        for f in validate_text(letter.subject, promised, letter.facts, attachments=(), **args)
        if f.blocking
    }
    assert "missing_attachment" in codes
    codes = {
        f.code
        for f in validate_text(
            letter.subject, promised, letter.facts, attachments=("invoice_copies",), **args
        )
        if f.blocking
    }
    assert "missing_attachment" not in codes


@pytest.mark.parametrize("language", ["fr", "en"])
def test_an_information_answer_attaches_the_statement_it_mentions(renderer, language):
    debtor = replace(DEBTOR, language=language)
    fmt = formatter("fr_FR" if language == "fr" else "en_GB")
    extra, dates, amounts = response_context("info_answer", {"asked": ["invoice_copy"]}, fmt, "EUR")
    step = response_step(ATELIER, "info_answer")
    letter = renderer.render(policy=ATELIER, step=step, debtor=debtor, case=CaseState("REF-7Q2K"),
                             invoices=OLD, history=ClientHistory(), on=ON, extra=extra,
                             extra_dates=dates, extra_amounts=amounts, statement=True)  # fmt: skip
    assert letter.attachments == ("statement",) and letter.pdf.startswith(b"%PDF")
    args = dict(policy=ATELIER, debtor=debtor, case=CaseState("REF-7Q2K"), on=ON, step=step)
    with_pdf = validate_text(
        letter.subject, letter.text, letter.facts, attachments=letter.attachments, **args
    )
    assert "missing_attachment" not in {f.code for f in with_pdf}
    without = validate_text(letter.subject, letter.text, letter.facts, attachments=(), **args)
    assert "missing_attachment" in {f.code for f in without if f.blocking}


def test_a_remittance_request_names_only_invoices_already_due():
    soon = InvoiceLine("FA-0003", ON + timedelta(days=10), D("300.00"), D("300.00"))
    assert [i.number for i in remittance_invoices([*OLD, soon], ON)] == ["FA-0001", "FA-0002"]
    assert [i.number for i in remittance_invoices([soon], ON)] == ["FA-0003"]


@pytest.mark.parametrize(
    "kind", ["ack_promise", "plan_proposal", "remittance_request", "info_answer"]
)
@pytest.mark.parametrize("tone", ["courteous", "neutral", "firm", "formal"])
@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("debtor_kind", ["company", "consumer"])
def test_every_answer_reads_right_and_passes_the_validator(
    renderer, kind, tone, language, debtor_kind
):
    from tests.unit.test_letters_render import assert_reads_right
    from tests.unit.test_response_letters import DETAILS

    debtor = replace(DEBTOR, name="Auto-École Durand" if debtor_kind == "company" else "Élodie Petit",
                     kind=debtor_kind, language=language)  # fmt: skip
    fmt = formatter("fr_FR" if language == "fr" else "en_GB")
    extra, dates, amounts = response_context(kind, DETAILS[kind], fmt, "EUR")
    step = response_step(DISTRIB, kind)
    case = CaseState("REF-7Q2K", step_index=1, steps_sent=("reminder_1",))
    letter = renderer.render(policy=DISTRIB, step=step, debtor=debtor, case=case, invoices=OLD,
                             history=ClientHistory(), on=ON, extra=extra, extra_dates=dates,
                             extra_amounts=amounts, tone=tone,
                             statement=kind == "info_answer")  # fmt: skip
    assert_reads_right(letter, debtor, first_letter=False)
    found = validate_text(letter.subject, letter.text, letter.facts, policy=DISTRIB, debtor=debtor,
                          case=case, on=ON, step=step, attachments=letter.attachments)  # fmt: skip
    assert [f for f in found if f.blocking] == []
