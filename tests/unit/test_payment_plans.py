from datetime import date, timedelta
from decimal import Decimal

from assistant.policy.schema import PaymentPlanLimits
from assistant.services.replies import Instalment, plan_within_limits, propose_plan

ON = date(2026, 11, 26)
LIMITS = PaymentPlanLimits(max_instalments=4, min_instalment=Decimal("150"), max_duration_days=120)


def test_a_proposed_plan_sums_to_the_balance_and_respects_the_limits():
    plan = propose_plan(Decimal("1000.01"), LIMITS, ON)
    assert sum(i.amount for i in plan) == Decimal("1000.01")
    assert len(plan) == 4 and all(i.amount >= Decimal("150") for i in plan)
    assert plan_within_limits(plan, LIMITS, ON)


def test_a_small_balance_is_not_split_below_the_minimum_instalment():
    plan = propose_plan(Decimal("250"), LIMITS, ON)
    assert [i.amount for i in plan] == [Decimal("250")]


def test_a_stated_plan_outside_the_limits_is_refused():
    months = [Instalment(Decimal("200"), ON + timedelta(days=30 * k)) for k in range(1, 7)]
    assert not plan_within_limits(months, LIMITS, ON)  # 6 instalments > 4
    tiny = [
        Instalment(Decimal("50"), ON + timedelta(days=30)),
        Instalment(Decimal("50"), ON + timedelta(days=60)),
    ]
    assert not plan_within_limits(tiny, LIMITS, ON)
    far = [Instalment(Decimal("500"), ON + timedelta(days=200))]
    assert not plan_within_limits(far, LIMITS, ON)
