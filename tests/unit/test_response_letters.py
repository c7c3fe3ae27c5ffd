"""Answers to debtor replies, rendered from the shipped templates and read by the validator."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from assistant.domain import CaseState, ClientHistory, DebtorFacts, InvoiceLine
from assistant.letters.formatting import formatter, locale_for
from assistant.letters.rates import RateTable
from assistant.letters.render import LetterRenderer
from assistant.letters.validator import validate_text
from assistant.policy.loader import load_policy
from assistant.policy.schema import PaymentPlanLimits
from assistant.replies.plans import plan_within_limits, propose_plan
from assistant.services.responses import (
    RESPONSE_KINDS,
    response_context,
    response_findings,
    response_step,
)

ROOT = Path(__file__).resolve().parents[2]
ON = date(2026, 11, 26)
INVOICES = [
    InvoiceLine("FA-2026-0101", ON - timedelta(days=25), Decimal("1250.00"), Decimal("1250.00")),
    InvoiceLine("FA-2026-0102", ON - timedelta(days=20), Decimal("480.50"), Decimal("480.50")),
]
DETAILS = {
    "ack_promise": {"promise_date": date(2026, 12, 5), "promise_amount": Decimal("1250.00")},
    "plan_proposal": {
        "instalments": [
            (Decimal("900.00"), date(2026, 12, 15)),
            (Decimal("830.50"), date(2027, 1, 15)),
        ]
    },
    "remittance_request": {},
    "info_answer": {"asked": ["invoice_copy", "bank_details"]},
}
EXPECTED = {
    ("fr", "ack_promise"): "votre engagement de régler 1 250,00 € le 5 décembre 2026",
    ("fr", "plan_proposal"): "830,50 € au plus tard le 15 janvier 2027",
    ("fr", "remittance_request"): "l'avis de virement",
    ("fr", "info_answer"): "une copie des factures concernées",
    ("en", "ack_promise"): "your commitment to pay €1,250.00 on 5 December 2026",
    ("en", "plan_proposal"): "€830.50 by 15 January 2027",
    ("en", "remittance_request"): "the remittance advice",
    ("en", "info_answer"): "a copy of the invoices concerned",
}


@pytest.fixture(scope="module")
def renderer() -> LetterRenderer:
    return LetterRenderer(ROOT / "templates", RateTable.packaged())


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("kind", RESPONSE_KINDS)
def test_each_answer_states_its_figures_and_passes_the_validator(renderer, language, kind):
    policy = load_policy(ROOT / "policies/atelier-bois.yaml")
    debtor = DebtorFacts("C001", "Boulangerie Martin SARL", language=language, emails=("a@b.fr",))
    # Two letters in the last 7 days: the reminders' contact cap is reached.
    case = CaseState(
        "REF-7Q2K", step_index=1, last_contact_on=ON - timedelta(days=1),
        contact_dates=(ON - timedelta(days=5), ON - timedelta(days=1)),
        first_letter_on=ON - timedelta(days=5),
    )  # fmt: skip
    fmt = formatter(locale_for(language, policy.jurisdiction))
    extra, dates, amounts = response_context(kind, DETAILS[kind], fmt, "EUR")
    step = response_step(policy, kind)
    letter = renderer.render(
        policy=policy, step=step, debtor=debtor, case=case, invoices=INVOICES,
        history=ClientHistory(), on=ON, extra=extra, extra_dates=dates, extra_amounts=amounts,
    )  # fmt: skip
    flat = " ".join(letter.text.replace("\u202f", " ").replace("\u00a0", " ").split())
    assert EXPECTED[(language, kind)] in flat.replace("’", "'")
    assert letter.subject.startswith("[REF-7Q2K]") and letter.html.count("FA-2026-0101") >= 1
    args = dict(policy=policy, debtor=debtor, case=case, on=ON, step=step)
    raw = validate_text(letter.subject, letter.text, letter.facts, **args)
    assert {"contact_cap"} <= {f.code for f in raw}  # what a reminder would be held for…
    findings = response_findings(raw)
    assert [f for f in findings if f.blocking] == []  # …does not hold an answer
    # A figure the facts do not carry is still caught.
    wrong = letter.text.replace("5 décembre 2026", "6 décembre 2026").replace(
        "5 December 2026", "6 December 2026"
    )
    if wrong != letter.text:
        codes = {f.code for f in validate_text(letter.subject, wrong, letter.facts, **args)}
        assert "date_mismatch" in codes


def test_a_proposed_plan_never_ends_after_the_maximum_duration():
    limits = PaymentPlanLimits(
        max_instalments=6, min_instalment=Decimal("10"), max_duration_days=120
    )
    plan = propose_plan(Decimal("6000"), limits, ON)
    assert plan is not None and plan_within_limits(plan, limits, ON)
    assert max(i.due_on for i in plan) <= ON + timedelta(days=120)
    assert sum(i.amount for i in plan) == Decimal("6000")
