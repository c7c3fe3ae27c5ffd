"""Payment plans against the policy's limits: check a stated plan, propose one (pure).

No clock, no database: the caller passes the day the request was received.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal

from assistant.policy.schema import PaymentPlanLimits

#: The first proposed instalment falls due this many days after the request (at most).
FIRST_INSTALMENT_DAYS = 7
#: Days between two proposed instalments.
INSTALMENT_SPACING_DAYS = 30


@dataclass(frozen=True)
class Instalment:
    """One instalment of a proposed payment plan."""

    amount: Decimal
    due_on: date


def plan_within_limits(instalments: list[Instalment], limits: PaymentPlanLimits, on: date) -> bool:
    """Tell whether a plan fits the policy's limits (count, minimum, duration)."""
    if not instalments or len(instalments) > limits.max_instalments:
        return False
    if any(i.amount <= 0 for i in instalments):
        return False
    # The last instalment may be smaller: it is what remains.
    if any(i.amount < limits.min_instalment for i in instalments[:-1]):
        return False
    if min(i.due_on for i in instalments) < on:
        return False
    return max(i.due_on for i in instalments) <= on + timedelta(days=limits.max_duration_days)


def plan_total(instalments: list[Instalment]) -> Decimal:
    """Return what a plan pays in total."""
    return sum((i.amount for i in instalments), Decimal("0"))


def propose_plan(balance: Decimal, limits: PaymentPlanLimits, on: date) -> list[Instalment] | None:
    """Split `balance` into monthly instalments within the limits, or None."""
    if balance <= 0:
        return None
    first_days = min(FIRST_INSTALMENT_DAYS, limits.max_duration_days)
    # Every instalment, the last included, must fall within the maximum duration.
    by_duration = (limits.max_duration_days - first_days) // INSTALMENT_SPACING_DAYS + 1
    most = max(1, min(limits.max_instalments, by_duration))
    count = 1
    while count < most and balance / (count + 1) >= limits.min_instalment:
        count += 1
    base = (balance / count).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    amounts = [base] * (count - 1) + [balance - base * (count - 1)]
    first = on + timedelta(days=first_days)
    return [
        Instalment(a, first + timedelta(days=INSTALMENT_SPACING_DAYS * i))
        for i, a in enumerate(amounts)
    ]
