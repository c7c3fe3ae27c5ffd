"""The validator's shortcuts never hide a finding the full check would make.

The validator skips work where it can prove nothing is to be found (no attachment word, no
space before a month-first date, an invoice shape already known). These edits sit right at
the edge of each shortcut.
"""

from __future__ import annotations

import re
import sys
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from assistant.domain import CaseState, ClientHistory, DebtorFacts, InvoiceLine
from assistant.letters.rates import RateTable
from assistant.letters.render import LetterRenderer, renderer_for
from assistant.letters.validator import UNUSUAL_SPACES, validate_letter, validate_text
from assistant.policy.loader import load_policy

ROOT = Path(__file__).resolve().parents[2]
ON = date(2026, 11, 26)
D = Decimal
ATELIER = load_policy(ROOT / "policies" / "atelier-bois.yaml")
THAMES = load_policy(ROOT / "policies" / "thames-supplies.yaml")
DEBTOR = DebtorFacts(
    "C1", "Menuiserie Durand SAS", emails=("c@d.fr",), address="3 rue du Port, 44000 Nantes"
)
LINES = (
    InvoiceLine("FA-0001", ON - timedelta(days=40), D("900.00"), D("900.00"), issue_date=ON - timedelta(days=70)),
    InvoiceLine("FA-0002", ON - timedelta(days=30), D("400.00"), D("250.00"), issue_date=ON - timedelta(days=60)),
)  # fmt: skip


@pytest.fixture(scope="module")
def renderer() -> LetterRenderer:
    return LetterRenderer(ROOT / "templates", RateTable.packaged())


def letter_for(renderer, policy=ATELIER, step="reminder_1", invoices=LINES):
    return renderer.render(policy=policy, step=policy.step(step), debtor=DEBTOR,
                           case=CaseState("REF-7Q2K"), invoices=invoices,
                           history=ClientHistory(), on=ON)  # fmt: skip


def blocking(letter, text, policy=ATELIER, attachments=()):
    found = validate_text(letter.subject, text, letter.facts, policy=policy, debtor=DEBTOR,
                          case=CaseState("REF-7Q2K"), on=ON, step=letter.step,
                          attachments=attachments)  # fmt: skip
    return {f.code for f in found if f.blocking}


@pytest.mark.parametrize("space", ["\u2028", "\u0085", "\u1680"])
def test_an_attachment_announced_across_an_unusual_line_break_is_still_caught(renderer, space):
    # Folding drops these breaks, so "ci-<break>joint" reads "ci-joint" as written.
    letter = letter_for(renderer)
    text = letter.text.replace("Madame, Monsieur,", f"Madame, Monsieur,\n\nVoir ci-{space}joint.")
    assert "missing_attachment" in blocking(letter, text)


def test_a_letter_without_any_attachment_word_needs_no_attachment(renderer):
    letter = letter_for(renderer)
    assert "missing_attachment" not in blocking(letter, letter.text)


def test_invoice_numbers_of_one_shape_are_told_apart_whatever_their_digits(renderer):
    letter = letter_for(renderer)
    first = letter.text.replace("FA-0002", "FA-9999")
    second = letter_for(renderer, invoices=(LINES[0],))  # same shape, cached from the first
    assert "unknown_invoice" in blocking(letter, first)
    assert "unknown_invoice" in blocking(second, second.text.replace("FA-0001", "FA-0003"))
    assert "unknown_invoice" not in blocking(letter, letter.text)


@pytest.mark.parametrize("before", [" ", "\n", "\u00a0"])
def test_a_month_first_date_after_any_space_is_read(renderer, before):
    letter = letter_for(renderer, policy=THAMES)
    wrong = letter.text.replace("Dear", f"Paid on December{before}3, 2025.\n\nDear", 1)
    assert wrong != letter.text
    assert "date_mismatch" in blocking(letter, wrong, policy=THAMES)


def test_the_shared_renderer_gives_the_same_letters_as_a_fresh_one():
    fresh = LetterRenderer(ROOT / "templates", RateTable.packaged())
    shared = renderer_for(ROOT / "templates")
    assert renderer_for(ROOT / "templates") is shared
    for policy in (ATELIER, THAMES):
        for step in policy.ladder.steps:
            a, b = letter_for(fresh, policy, step.name), letter_for(shared, policy, step.name)
            assert (a.subject, a.text, a.html, a.facts) == (b.subject, b.text, b.html, b.facts)
            case = CaseState("REF-7Q2K")
            assert validate_letter(a, policy=policy, debtor=DEBTOR, case=case, on=ON) == (
                validate_letter(b, policy=policy, debtor=DEBTOR, case=case, on=ON)
            )


def test_the_unusual_spaces_are_every_space_folding_may_drop():
    dropped = re.compile(r"[^\S\x00-\x7f\u00a0\u202f]")
    every = {chr(c) for c in range(sys.maxunicode + 1) if dropped.match(chr(c))}
    assert set(UNUSUAL_SPACES) == every
