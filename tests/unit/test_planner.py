"""The planner on a table of situations a credit team meets every day."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from assistant.domain import CaseState, ClientHistory, DebtorFacts, InvoiceLine
from assistant.planner import plan_case
from assistant.policy.loader import load_policy

ROOT = Path(__file__).resolve().parents[2]
TODAY = date(2026, 11, 26)


@pytest.fixture(scope="module")
def policy():
    return load_policy(ROOT / "policies" / "atelier-bois.yaml")


def inv(number: str, days_late: int, amount: str = "1000.00", **kw) -> InvoiceLine:
    a = Decimal(amount)
    return InvoiceLine(
        number=number,
        due_date=TODAY - timedelta(days=days_late),
        amount=a,
        outstanding=kw.pop("outstanding", a),
        **kw,
    )


DEBTOR = DebtorFacts(ref="C001", name="Boulangerie Martin SARL", emails=("compta@martin.example",))
NEW = CaseState(ref="REF-7Q2K")
NOHIST = ClientHistory()


def plan(policy, invoices, case=NEW, history=NOHIST, debtor=DEBTOR, on=TODAY):
    return plan_case(policy, debtor, case, invoices, history, on)


def test_first_reminder_groups_every_overdue_invoice(policy):
    p = plan(policy, [inv("FA-1", 6), inv("FA-2", 9, "250.00"), inv("FA-3", -10)])
    assert p.action == "draft"
    assert p.step.name == "reminder_1"
    assert [i.number for i in p.invoices] == ["FA-2", "FA-1"]  # not-yet-due FA-3 left out


def test_a_very_late_invoice_still_starts_at_step_one(policy):
    p = plan(policy, [inv("FA-1", 70)])
    assert (p.action, p.step.name) == ("draft", "reminder_1")


def test_old_debts_start_where_the_policy_says(policy):
    p = plan(policy, [inv("FA-1", 130)])
    assert (p.action, p.step.name) == ("draft", "reminder_2")


def test_too_early_for_the_first_step_waits_with_the_date(policy):
    p = plan(policy, [inv("FA-1", 2)])
    assert p.action == "wait"
    assert p.next_date == TODAY + timedelta(days=3)


def test_next_step_follows_the_previous_one_and_respects_the_interval(policy):
    case = replace(
        NEW,
        step_index=0,
        last_contact_on=TODAY - timedelta(days=3),
        contact_dates=(TODAY - timedelta(days=3),),
    )
    p = plan(policy, [inv("FA-1", 20)], case=case)
    assert p.action == "wait" and "minimum interval" in p.reason
    case = replace(
        case, last_contact_on=TODAY - timedelta(days=8), contact_dates=(TODAY - timedelta(days=8),)
    )
    p = plan(policy, [inv("FA-1", 20)], case=case)
    assert (p.action, p.step.name, p.tone) == ("draft", "reminder_2", "neutral")


def test_contact_cap_blocks_a_third_message_in_seven_days(policy):
    case = replace(
        NEW,
        step_index=0,
        last_contact_on=TODAY - timedelta(days=1),
        contact_dates=(TODAY - timedelta(days=1), TODAY - timedelta(days=4)),
    )
    lenient = policy.model_copy(
        update={
            "ladder": policy.ladder.model_copy(
                update={
                    "steps": [
                        s.model_copy(update={"min_days_since_previous": 0})
                        for s in policy.ladder.steps
                    ]
                }
            )
        }
    )
    p = plan(lenient, [inv("FA-1", 20)], case=case)
    assert p.action == "wait" and "contact cap" in p.reason


def test_paid_disputed_and_frozen_invoices_leave_the_statement(policy):
    invoices = [
        inv("FA-1", 20, status="paid", outstanding=Decimal("0")),
        inv("FA-2", 20, status="disputed"),
        inv("FA-3", 20, status="frozen"),
        inv("FA-4", 20),
    ]
    p = plan(policy, invoices)
    assert [i.number for i in p.invoices] == ["FA-4"]
    assert plan(policy, invoices[:3]).action == "nothing"


def test_below_the_minimum_amount_nothing_happens(policy):
    p = plan(policy, [inv("FA-1", 20, "49.99")])
    assert p.action == "nothing" and "minimum" in p.reason


def test_credit_notes_reduce_the_balance(policy):
    p = plan(policy, [inv("FA-1", 20, "300.00"), inv("AV-1", 0, "-280.00")])
    assert p.action == "nothing"
    p = plan(policy, [inv("FA-1", 20, "900.00"), inv("AV-1", 0, "-100.00")])
    assert p.action == "draft" and p.balance == Decimal("800.00")


def test_a_pending_promise_pauses_the_ladder_until_date_plus_grace(policy):
    case = replace(NEW, step_index=1, pending_promise_until=TODAY + timedelta(days=2))
    p = plan(policy, [inv("FA-1", 40)], case=case)
    assert p.action == "wait" and "promise" in p.reason


def test_a_broken_promise_moves_up_one_step_and_says_so(policy):
    case = replace(
        NEW,
        step_index=1,
        last_contact_on=TODAY - timedelta(days=20),
        broken_promise_pending=True,
        broken_promises=1,
    )
    p = plan(policy, [inv("FA-1", 20)], case=case)
    assert (p.action, p.step.name, p.mention_broken_promise) == ("draft", "reminder_3", True)


def test_too_many_broken_promises_hand_the_case_to_a_human(policy):
    case = replace(NEW, step_index=1, broken_promises=2, broken_promise_pending=True)
    assert plan(policy, [inv("FA-1", 40)], case=case).action == "handoff"


def test_after_the_last_step_the_case_is_handed_off_in_time(policy):
    case = replace(NEW, step_index=3, last_contact_on=TODAY - timedelta(days=5))
    assert plan(policy, [inv("FA-1", 80)], case=case).action == "wait"
    case = replace(case, last_contact_on=TODAY - timedelta(days=15))
    assert plan(policy, [inv("FA-1", 80)], case=case).action == "handoff"


def test_large_balances_go_to_a_human(policy):
    assert plan(policy, [inv("FA-1", 20, "15000.00")]).action == "handoff"


def test_cases_with_a_human_or_excluded_are_left_alone(policy):
    assert plan(policy, [inv("FA-1", 20)], case=replace(NEW, status="handoff")).action == "nothing"
    assert plan(policy, [inv("FA-1", 20)], case=replace(NEW, open_handoff=True)).action == "nothing"
    assert plan(policy, [inv("FA-1", 20)], case=replace(NEW, status="paused")).action == "nothing"


def test_punctual_payers_get_the_courteous_variant_at_step_two(policy):
    case = replace(NEW, step_index=0, last_contact_on=TODAY - timedelta(days=10))
    good = ClientHistory(paid_invoices=10, on_time_rate=0.95, average_days_late=1.0)
    assert plan(policy, [inv("FA-1", 20)], case=case, history=good).tone == "courteous"
    bad = ClientHistory(paid_invoices=10, on_time_rate=0.5, average_days_late=20.0)
    assert plan(policy, [inv("FA-1", 20)], case=case, history=bad).tone == "neutral"


def test_an_out_of_office_reply_reschedules_after_the_return_date(policy):
    case = replace(NEW, snoozed_until=TODAY + timedelta(days=4))
    p = plan(policy, [inv("FA-1", 20)], case=case)
    assert p.action == "wait" and p.next_date == TODAY + timedelta(days=4)
    assert (
        plan(policy, [inv("FA-1", 24)], case=case, on=TODAY + timedelta(days=4)).action == "draft"
    )
