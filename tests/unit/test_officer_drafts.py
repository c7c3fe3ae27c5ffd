"""The officer's draft decisions are pure: which step, which invoices, which tone."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from assistant.domain import CaseState, ClientHistory, DebtorFacts, InvoiceLine
from assistant.policy import load_policies
from assistant.services.case_file import CaseFile
from assistant.services.officer_drafts import (
    DraftRefused,
    check_tone,
    choose_step,
    clean_instruction,
)

ROOT = Path(__file__).resolve().parents[2]
TODAY = date(2026, 11, 26)
POLICY = load_policies(ROOT / "policies")["atelier-bois"]


def case_file(lines: list[InvoiceLine], step_index: int = -1) -> CaseFile:
    return CaseFile(
        case_id=1, ref="REF-TEST", status="active", creditor="atelier-bois", creditor_id=1,
        debtor_id=1, debtor=DebtorFacts(ref="C1", name="Client SARL", emails=("a@b.example",)),
        state=CaseState(ref="REF-TEST", step_index=step_index), lines=tuple(lines),
        history=ClientHistory(), live_drafts=(),
    )  # fmt: skip


def invoice(number: str, days_late: int, amount: str) -> InvoiceLine:
    value = Decimal(amount)
    return InvoiceLine(number, TODAY - timedelta(days=days_late), value, value)


def test_a_case_due_for_its_first_reminder_is_written_at_that_step():
    step, invoices, _ = choose_step(POLICY, case_file([invoice("FA-1", 8, "500.00")]), TODAY)
    assert step.name == "reminder_1" and [i.number for i in invoices] == ["FA-1"]


def test_nothing_overdue_is_refused_with_the_reason():
    with pytest.raises(DraftRefused, match="REF-TEST has no overdue invoice"):
        choose_step(POLICY, case_file([invoice("FA-2", -10, "500.00")]), TODAY)


def test_the_chat_may_soften_a_letter_never_escalate_it():
    firm = POLICY.step("reminder_3")
    check_tone("courteous", firm)
    check_tone(None, firm)
    with pytest.raises(DraftRefused, match="firmer than step reminder_1"):
        check_tone("firm", POLICY.step("reminder_1"))
    with pytest.raises(DraftRefused, match="unknown tone 'rude'"):
        check_tone("rude", firm)


def test_an_instruction_is_one_bounded_line_and_never_empty():
    assert clean_instruction("  be\n gentle  ") == "be gentle"
    assert len(clean_instruction("x" * 2000)) == 500
    with pytest.raises(DraftRefused, match="instruction is required"):
        clean_instruction(" \n ")
