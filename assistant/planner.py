"""Decide the next step of the ladder for one case on one day (pure: no I/O, no clock).

The planner never drafts and never writes: it returns a `Plan` saying what should happen
and why, so the cycle service and the tests can read the reason in plain words.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Literal

from assistant.domain import CaseState, ClientHistory, DebtorFacts, InvoiceLine
from assistant.policy.schema import LadderStep, Policy

Action = Literal["draft", "handoff", "wait", "nothing"]


@dataclass(frozen=True)
class Plan:
    """What the assistant should do for a case today, and why."""

    action: Action
    reason: str
    step: LadderStep | None = None
    step_index: int | None = None
    invoices: tuple[InvoiceLine, ...] = ()
    tone: str | None = None
    mention_broken_promise: bool = False
    next_date: date | None = None

    @property
    def balance(self) -> Decimal:
        """Return the sum of outstanding amounts in the plan."""
        return sum((i.outstanding for i in self.invoices), Decimal("0"))


def actionable_invoices(
    invoices: Sequence[InvoiceLine], on: date, *, include_not_due: bool = False
) -> list[InvoiceLine]:
    """Return open invoices with money owed that are past due (or all open ones)."""
    out = []
    for inv in invoices:
        if inv.status != "open" or inv.outstanding <= 0:
            continue
        if include_not_due or inv.due_date < on:
            out.append(inv)
    return sorted(out, key=lambda i: (i.due_date, i.number))


def open_credit_notes(invoices: Sequence[InvoiceLine]) -> list[InvoiceLine]:
    """Return open credit notes (negative outstanding), which reduce the balance."""
    return [i for i in invoices if i.status == "open" and i.outstanding < 0]


def upcoming_invoices(
    step: LadderStep, invoices: Sequence[InvoiceLine], on: date
) -> list[InvoiceLine]:
    """Return the open invoices a pre-reminder may list: not yet due, due within its horizon."""
    horizon = on + timedelta(days=-step.days_after_due)
    return [
        i
        for i in actionable_invoices(invoices, on, include_not_due=True)
        if on <= i.due_date <= horizon
    ]


def step_invoices(
    step: LadderStep, invoices: Sequence[InvoiceLine], on: date
) -> tuple[InvoiceLine, ...]:
    """Return the invoices the letter of `step` lists on `on`, as the cycle selects them."""
    selected = (
        upcoming_invoices(step, invoices, on) if step.pre_due else actionable_invoices(invoices, on)
    )
    return tuple(selected) + tuple(open_credit_notes(invoices))


def open_balance(invoices: Sequence[InvoiceLine]) -> Decimal:
    """Return what the debtor owes on open invoices and credit notes, due or not."""
    return sum((i.outstanding for i in invoices if i.status == "open"), Decimal("0"))


def contacts_in_window(case: CaseState, policy: Policy, on: date) -> int:
    """Count messages sent to the case within the policy's contact-cap window."""
    start = on - timedelta(days=policy.contact_cap.per_days - 1)
    return sum(1 for d in case.contact_dates if start <= d <= on)


def choose_tone(
    policy: Policy, step: LadderStep, debtor: DebtorFacts, history: ClientHistory
) -> str:
    """Pick the tone: the step's, a debtor override's, or the courteous history variant."""
    override = policy.override_for(debtor.ref)
    if override and override.tone:
        return override.tone
    rule = policy.history_tone
    if (
        rule
        and step.name in rule.courteous_at_steps
        and history.paid_invoices >= rule.min_paid_invoices
        and (history.on_time_rate or 0) >= rule.punctual_on_time_rate
    ):
        return "courteous"
    return step.tone


def _first_step_index(policy: Policy, oldest_days_late: int, overdue: bool) -> int:
    steps = policy.ladder.steps
    old = policy.ladder.old_debts
    if old and oldest_days_late >= old.days_overdue:
        return policy.ladder.index(old.start_at)
    index = 0
    # A pre-reminder ("falls due on …") makes no sense once the invoice is overdue.
    while overdue and index < len(steps) - 1 and steps[index].pre_due:
        index += 1
    return index


def plan_case(
    policy: Policy,
    debtor: DebtorFacts,
    case: CaseState,
    invoices: Sequence[InvoiceLine],
    history: ClientHistory,
    on: date,
) -> Plan:
    """Return what to do for `case` on `on` under `policy`."""
    override = policy.override_for(debtor.ref)
    if override and override.exclude:
        return Plan("nothing", "excluded from automated dunning by a policy override")
    if case.status == "handoff" or case.open_handoff:
        return Plan("nothing", "with a human (hand-off open): automated dunning is stopped")
    if case.status == "paused":
        return Plan("nothing", "paused by an officer")

    overdue = actionable_invoices(invoices, on)
    credits = open_credit_notes(invoices)
    steps = policy.ladder.steps
    pre_due_possible = case.step_index == -1 and steps[0].pre_due and not overdue
    if not overdue and not pre_due_possible:
        return Plan("nothing", "no overdue invoice")

    if pre_due_possible:
        upcoming = upcoming_invoices(steps[0], invoices, on)
        if not upcoming:
            return Plan("nothing", "no invoice overdue or falling due soon")
        selected = upcoming
    else:
        selected = overdue

    balance = sum((i.outstanding for i in selected), Decimal("0")) + sum(
        (i.outstanding for i in credits), Decimal("0")
    )
    if balance <= 0:
        return Plan("nothing", "credit notes cover the overdue invoices")
    if balance < policy.minimum_amount:
        return Plan(
            "nothing", f"balance {balance} below the policy minimum {policy.minimum_amount}"
        )
    letter_invoices = tuple(selected) + tuple(credits)

    if case.pending_promise_until and on <= case.pending_promise_until:
        return Plan(
            "wait",
            f"promise to pay pending until {case.pending_promise_until.isoformat()}",
            next_date=case.pending_promise_until + timedelta(days=1),
        )

    if case.snoozed_until and on < case.snoozed_until:
        return Plan(
            "wait",
            f"debtor away: no contact before {case.snoozed_until.isoformat()}",
            next_date=case.snoozed_until,
        )

    rules = policy.handoff
    released = case.released
    open_total = open_balance(invoices)
    # An officer resumed the case: the rules that fired then stay quiet until the facts change.
    more_broken = released is None or case.broken_promises > released.broken_promises
    larger = released is None or open_total > released.balance
    if case.broken_promises >= rules.broken_promises and more_broken:
        return Plan(
            "handoff",
            f"{case.broken_promises} broken promise(s): policy hands off at "
            f"{rules.broken_promises}",
            invoices=letter_invoices,
        )
    if rules.amount_threshold is not None and balance >= rules.amount_threshold and larger:
        return Plan(
            "handoff",
            f"balance {balance} at or above the hand-off threshold {rules.amount_threshold}",
            invoices=letter_invoices,
        )

    oldest_late = max((i.days_late(on) for i in overdue), default=0)
    if case.step_index < 0:
        index = _first_step_index(policy, oldest_late, bool(overdue))
    else:
        index = case.step_index + 1

    if index >= len(steps):
        if released is not None and not (more_broken or larger):
            return Plan(
                "nothing",
                f"ladder complete; resumed by an officer on {released.on.isoformat()}: no "
                "hand-off until a new broken promise or a larger balance",
            )
        last = case.last_contact_on or on
        due = last + timedelta(days=rules.days_after_last_step)
        if on >= due:
            return Plan(
                "handoff",
                "the ladder is complete and the debt is still unpaid",
                invoices=letter_invoices,
            )
        return Plan("wait", f"ladder complete: hand-off on {due.isoformat()}", next_date=due)

    step = steps[index]
    if not case.broken_promise_pending and not step.pre_due and oldest_late < step.days_after_due:
        when = min(i.due_date for i in overdue) + timedelta(days=step.days_after_due)
        return Plan(
            "wait",
            f"{step.name} is due on {when.isoformat()}",
            step=step,
            step_index=index,
            next_date=when,
        )
    if case.last_contact_on is not None:
        earliest = case.last_contact_on + timedelta(days=step.min_days_since_previous)
        if on < earliest:
            return Plan(
                "wait",
                f"minimum interval: no contact before {earliest.isoformat()}",
                step=step,
                step_index=index,
                next_date=earliest,
            )
    if contacts_in_window(case, policy, on) >= policy.contact_cap.max_messages:
        cap = policy.contact_cap
        return Plan(
            "wait",
            f"contact cap reached ({cap.max_messages} per {cap.per_days} days)",
            step=step,
            step_index=index,
            next_date=on + timedelta(days=1),
        )

    return Plan(
        "draft",
        f"{step.name} ({'after a broken promise' if case.broken_promise_pending else 'on schedule'})",
        step=step,
        step_index=index,
        invoices=letter_invoices,
        tone=choose_tone(policy, step, debtor, history),
        mention_broken_promise=case.broken_promise_pending,
    )
