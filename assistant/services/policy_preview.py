"""Render one step of a policy's ladder, on a sample debtor or on a real case (read-only).

What `relance policy preview` and the workspace's policy editor show: invoices are selected by
the planner's own `step_invoices` and the letter is rendered and validated by the cycle's own
code, so a preview is the letter the step would write that day.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from sqlmodel import Session

from assistant.db.models import Case
from assistant.domain import CaseState, ClientHistory, DebtorFacts, Finding, InvoiceLine
from assistant.letters.rates import RateTable
from assistant.letters.render import Letter, LetterRenderer
from assistant.planner import Plan, choose_tone, step_invoices
from assistant.policy.schema import LadderStep, Policy
from assistant.services.case_file import find_case, load_case_file


class PreviewError(Exception):
    """The step or the case asked for does not exist, or the step would draft nothing."""


@dataclass(frozen=True)
class Preview:
    """A rendered letter and what the validator found in it."""

    letter: Letter
    findings: list[Finding]


@dataclass(frozen=True)
class PreviewCase:
    """Who and what a preview writes about: a sample or a real case's facts."""

    debtor: DebtorFacts
    state: CaseState
    invoices: list[InvoiceLine]
    history: ClientHistory


# The currency a creditor of each jurisdiction invoices in, for the made-up sample.
HOME_CURRENCY = {"FR": "EUR", "UK": "GBP", "US": "USD"}
_SAMPLE_DEBTORS = {
    "FR": ("Exemple Client SARL", "5 rue de l'Exemple, 69002 Lyon", "FA-2026-"),
    "UK": ("Example Customer Ltd", "5 Example Street, Leeds LS1 4AP", "INV-2026-"),
    "US": ("Example Customer Inc.", "5 Example Street, Springfield, IL 62701", "INV-2026-"),
}


def sample_case(
    on: date, step: LadderStep | None = None, policy: Policy | None = None
) -> PreviewCase:
    """Return the made-up debtor, case and invoices a preview uses without a real case.

    The sample is a company of the policy's jurisdiction, invoiced in its currency (a UK
    policy previews in pounds, with the Late Payment Act bands: £70 on the £1,250 invoice,
    £40 on the £480.50 one). One invoice falls due within three days so a pre-reminder has
    something true to say.
    """
    country = policy.jurisdiction if policy is not None else "FR"
    name, address, prefix = _SAMPLE_DEBTORS[country]
    currency = HOME_CURRENCY[country]
    debtor = DebtorFacts(
        ref="PREVIEW",
        name=name,
        emails=("compta@client.example" if country == "FR" else "accounts@client.example",),
        address=address,
    )
    ahead = -step.days_after_due if step is not None else 3
    soon = on + timedelta(days=max(0, min(3, ahead)))
    invoices = [
        InvoiceLine(
            prefix + number,
            due,
            Decimal(amount),
            Decimal(amount),
            currency=currency,
            issue_date=due - timedelta(days=30),
        )
        for number, due, amount in (
            ("0101", on - timedelta(days=40), "1250.00"),
            ("0117", on - timedelta(days=20), "480.50"),
            ("0142", soon, "312.00"),
        )
    ]
    return PreviewCase(debtor, CaseState(ref="REF-PREV"), invoices, ClientHistory())


def step_of(policy: Policy, step_name: str) -> LadderStep:
    """Return the ladder step `step_name` of `policy` (PreviewError naming the steps)."""
    try:
        return policy.step(step_name)
    except KeyError:
        names = ", ".join(s.name for s in policy.ladder.steps)
        raise PreviewError(f"no step {step_name!r} in {policy.slug} (steps: {names})") from None


def preview_case(
    session: Session | None, policy: Policy, step: LadderStep, on: date, case_ref: str | None
) -> PreviewCase:
    """Return the facts of `case_ref` (one of `policy`'s creditor) or the sample."""
    if not case_ref:
        return sample_case(on, step, policy)
    found = find_case(session, case_ref) if session is not None else None
    if found is None or found[1] != policy.slug:
        raise PreviewError(f"no case {case_ref} for creditor {policy.slug}")
    facts = load_case_file(session, found[0], policy, on, thread=False)  # type: ignore[arg-type]
    return PreviewCase(facts.debtor, facts.state, list(facts.open_lines), facts.history)


def render_step(
    renderer: LetterRenderer, policy: Policy, step: LadderStep, case: PreviewCase, on: date
) -> Preview:
    """Select the invoices and render the letter of `step` exactly as the cycle drafts it."""
    from assistant.services.cycle import _Due, _render

    invoices = step_invoices(step, case.invoices, on)
    if not any(i.outstanding > 0 for i in invoices):
        what = "falls due within the pre-reminder's horizon" if step.pre_due else "is overdue"
        raise PreviewError(
            f"no invoice {what} on {on.isoformat()}: the cycle would not draft {step.name}"
        )
    plan = Plan(
        "draft",
        "preview",
        step=step,
        step_index=policy.ladder.index(step.name),
        invoices=invoices,
        tone=choose_tone(policy, step, case.debtor, case.history),
        mention_broken_promise=case.state.broken_promise_pending,
    )
    due = _Due(Case(ref=case.state.ref), case.debtor, case.state, plan, case.history)
    letter, findings = _render(renderer, policy, due, on)
    return Preview(letter, list(findings))


def preview_step(
    session: Session | None,
    policy: Policy,
    step_name: str,
    on: date,
    templates_dir: Path,
    case_ref: str | None = None,
) -> Preview:
    """Render `step_name` of `policy` for the case `case_ref` (of that creditor) or a sample."""
    step = step_of(policy, step_name)
    case = preview_case(session, policy, step, on, case_ref)
    renderer = LetterRenderer(templates_dir, RateTable.packaged())
    return render_step(renderer, policy, step, case, on)


def letter_difference(old: Letter, new: Letter, html: bool = False) -> list[str]:
    """Return a unified diff from `old` to `new` (subject and body), empty when the same."""
    before = f"Subject: {old.subject}\n\n" + (old.html if html else old.text)
    after = f"Subject: {new.subject}\n\n" + (new.html if html else new.text)
    return list(
        difflib.unified_diff(
            before.splitlines(), after.splitlines(), "live", "preview", lineterm="", n=1
        )
    )
