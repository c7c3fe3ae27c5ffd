"""An officer's "resume" of a hand-off holds until the facts change (planner side, pure)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from assistant.domain import CaseState, ClientHistory, DebtorFacts, HandoffRelease, InvoiceLine
from assistant.planner import plan_case
from assistant.policy.loader import load_policy

ROOT = Path(__file__).resolve().parents[2]
TODAY = date(2026, 11, 26)
DEBTOR = DebtorFacts(ref="C001", name="Boulangerie Martin SARL", emails=("c@m.example",))


@pytest.fixture(scope="module")
def policy():
    base = load_policy(ROOT / "policies" / "atelier-bois.yaml")
    rules = base.handoff.model_copy(update={"amount_threshold": Decimal("5000")})
    return base.model_copy(update={"handoff": rules})


def inv(number: str, days_late: int, amount: str) -> InvoiceLine:
    a = Decimal(amount)
    return InvoiceLine(number, TODAY - timedelta(days=days_late), a, a)


BIG = [inv("FA-1", 20, "6000.00")]
RESUMED = CaseState("REF-1", step_index=0, last_contact_on=TODAY - timedelta(days=14),
                    released=HandoffRelease(TODAY - timedelta(days=2), Decimal("6000.00"), 0))  # fmt: skip


def plan(policy, case, invoices=BIG):  # type: ignore[no-untyped-def]
    return plan_case(policy, DEBTOR, case, invoices, ClientHistory(), TODAY)


def test_above_the_threshold_without_a_decision_hands_off(policy):
    assert plan(policy, replace(RESUMED, released=None)).action == "handoff"


def test_a_resumed_case_is_dunned_not_handed_off_again_on_the_same_facts(policy):
    p = plan(policy, RESUMED)
    assert (p.action, p.step.name) == ("draft", "reminder_2")


def test_a_larger_balance_hands_off_again(policy):
    assert plan(policy, RESUMED, [*BIG, inv("FA-2", 10, "900.00")]).action == "handoff"


def test_a_new_broken_promise_hands_off_again(policy):
    rules = policy.handoff.model_copy(update={"broken_promises": 1, "amount_threshold": None})
    strict = policy.model_copy(update={"handoff": rules})
    released = replace(
        RESUMED, broken_promises=1, released=replace(RESUMED.released, broken_promises=1)
    )
    assert plan(strict, released).action != "handoff"
    assert plan(strict, replace(released, broken_promises=2)).action == "handoff"


def test_a_resumed_case_at_the_end_of_the_ladder_stays_with_the_officer(policy):
    done = replace(RESUMED, step_index=len(policy.ladder.steps) - 1,
                   last_contact_on=TODAY - timedelta(days=40))  # fmt: skip
    p = plan(policy, done)
    assert p.action == "nothing" and "resumed by an officer" in p.reason
    assert plan(policy, replace(done, released=None)).action == "handoff"
