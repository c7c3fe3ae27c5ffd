"""Render one step of a policy's ladder, on a sample debtor or on a real case (read-only).

What `relance policy preview` and the workspace's policy editor show: the same renderer and
validator as the cycle, so a preview is the letter the step would write today.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from sqlmodel import Session

from assistant.domain import CaseState, ClientHistory, DebtorFacts, Finding, InvoiceLine
from assistant.letters.rates import RateTable
from assistant.letters.render import Letter, LetterRenderer
from assistant.letters.validator import validate_letter
from assistant.policy.schema import Policy
from assistant.services.case_file import find_case, load_case_file


class PreviewError(Exception):
    """The step or the case asked for does not exist."""


@dataclass(frozen=True)
class Preview:
    """A rendered letter and what the validator found in it."""

    letter: Letter
    findings: list[Finding]


def sample_case(on: date) -> tuple[DebtorFacts, CaseState, list[InvoiceLine]]:
    """Return the made-up debtor, case and invoices a preview uses without a real case."""
    debtor = DebtorFacts(
        ref="PREVIEW", name="Exemple Client SARL", emails=("compta@client.example",)
    )
    invoices = [
        InvoiceLine(
            "FA-2026-0101",
            on - timedelta(days=40),
            Decimal("1250.00"),
            Decimal("1250.00"),
            issue_date=on - timedelta(days=70),
        ),
        InvoiceLine(
            "FA-2026-0117",
            on - timedelta(days=20),
            Decimal("480.50"),
            Decimal("480.50"),
            issue_date=on - timedelta(days=50),
        ),
    ]
    return debtor, CaseState(ref="REF-PREV"), invoices


def preview_step(
    session: Session | None,
    policy: Policy,
    step_name: str,
    on: date,
    templates_dir: Path,
    case_ref: str | None = None,
) -> Preview:
    """Render `step_name` of `policy` for the case `case_ref` (of that creditor) or a sample."""
    try:
        step = policy.step(step_name)
    except KeyError:
        names = ", ".join(s.name for s in policy.ladder.steps)
        raise PreviewError(f"no step {step_name!r} in {policy.slug} (steps: {names})") from None
    debtor, state, invoices = sample_case(on)
    history = ClientHistory()
    if case_ref:
        found = find_case(session, case_ref) if session is not None else None
        if found is None or found[1] != policy.slug:
            raise PreviewError(f"no case {case_ref} for creditor {policy.slug}")
        facts = load_case_file(session, found[0], policy, on, thread=False)  # type: ignore[arg-type]
        debtor, state, invoices = facts.debtor, facts.state, list(facts.open_lines)
        history = facts.history
    renderer = LetterRenderer(templates_dir, RateTable.packaged())
    letter = renderer.render(
        policy=policy,
        step=step,
        debtor=debtor,
        case=state,
        invoices=invoices,
        history=history,
        on=on,
        render_pdf=False,
    )
    findings = validate_letter(letter, policy=policy, debtor=debtor, case=state, on=on)
    return Preview(letter, list(findings))
