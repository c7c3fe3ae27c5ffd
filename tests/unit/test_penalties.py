"""Late-payment penalties as a French or British credit manager would compute them."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest

from assistant.domain import DebtorFacts, InvoiceLine, Penalties
from assistant.letters.penalties import balance_periods, compute_penalties, effective_terms
from assistant.letters.rates import MissingRateError, RateTable
from assistant.policy.schema import LateInterest, Policy, Terms

RATES = RateTable.packaged()
COMPANY = DebtorFacts(ref="C001", name="Menuiserie Durand SAS")
KEY_ACCOUNT = DebtorFacts(ref="GC001", name="Grande Surface SA", key_account=True)
CONSUMER = DebtorFacts(ref="P001", name="Jeanne Petit", kind="consumer")
ECB = Terms()  # ECB + 10 points, 40 € per late invoice
D = Decimal


def inv(number: str, due: date, amount: str, outstanding: str | None = None) -> InvoiceLine:
    return InvoiceLine(number, due, D(amount), D(outstanding or amount))


def test_packaged_table_gives_the_rate_of_each_half_year():
    assert RATES.ecb(date(2024, 3, 1)) == D("4.50")
    assert RATES.ecb(date(2024, 7, 1)) == D("4.25")
    assert RATES.ecb(date(2026, 6, 30)) == D("2.15")
    assert RATES.boe(date(2025, 2, 1)) == D("4.75")


def test_a_missing_half_year_is_a_clear_error():
    with pytest.raises(MissingRateError, match=r"2015H2.*reference_rates\.yaml"):
        RATES.ecb(date(2015, 9, 1))


@pytest.mark.parametrize(
    ("due", "on", "amount", "rate", "interest"),
    [
        # 1 000 € due 31/01/2026, 30 days late, ECB 2.15 + 10 = 12.15 % → 9.986 → 9,99 €
        (date(2026, 1, 31), date(2026, 3, 2), "1000.00", "12.15", "9.99"),
        # fell due in H1 2025 (3.15 %) and still unpaid in H2: the H1 rate applies throughout
        (date(2025, 6, 30), date(2025, 8, 29), "1000.00", "13.15", "21.62"),
        # fell due on 1 July 2024: H2 rate 4.25 %
        (date(2024, 7, 1), date(2024, 7, 31), "2500.00", "14.25", "29.28"),
        # one day late on a small invoice
        (date(2026, 11, 25), date(2026, 11, 26), "80.00", "12.15", "0.03"),
    ],
)
def test_interest_is_principal_times_rate_times_days_over_365(due, on, amount, rate, interest):
    p = compute_penalties([inv("F1", due, amount)], ECB, COMPANY, on, RATES)
    assert p.rate_percent == D(rate)
    assert p.interest == D(interest)
    assert p.per_invoice == (("F1", D(interest), D("40.00")),)


def test_interest_runs_on_what_is_still_owed_not_the_invoice_amount():
    due, on = date(2026, 9, 1), date(2026, 10, 1)
    p = compute_penalties([inv("F1", due, "1000.00", "500.00")], ECB, COMPANY, on, RATES)
    assert p.interest == D("4.99")  # 500 × 12.15 % × 30 / 365 = 4.993


def test_cents_are_rounded_half_up():
    terms = Terms(late_interest=LateInterest(rule="fixed", rate=D("36.5")))
    # 5 € × 36.5 % × 1 / 365 = 0.005 exactly → 0,01 € (not banker's 0,00 €)
    p = compute_penalties(
        [inv("F1", date(2026, 5, 1), "5.00")], terms, COMPANY, date(2026, 5, 2), RATES
    )
    assert p.interest == D("0.01")


def test_forty_euros_per_late_invoice_and_nothing_for_one_not_yet_due():
    on = date(2026, 11, 26)
    invoices = [
        inv("F1", on - timedelta(days=40), "100.00"),
        inv("F2", on - timedelta(days=10), "200.00"),
        inv("F3", on + timedelta(days=5), "300.00"),
    ]
    p = compute_penalties(invoices, ECB, COMPANY, on, RATES)
    assert p.indemnity == D("80.00")
    assert [n for n, _, _ in p.per_invoice] == ["F1", "F2"]
    assert p.total == p.interest + D("80.00")


def test_indemnity_amount_comes_from_the_terms():
    terms = Terms(indemnity_amount=D("50"), late_interest=LateInterest(rule="none"))
    p = compute_penalties(
        [inv("F1", date(2026, 1, 1), "100.00")], terms, COMPANY, date(2026, 2, 1), RATES
    )
    assert (p.interest, p.indemnity, p.rate_percent) == (D("0.00"), D("50.00"), None)


def test_invoices_due_in_different_half_years_leave_no_single_rate():
    on = date(2026, 9, 1)
    invoices = [inv("F1", date(2025, 5, 1), "100.00"), inv("F2", date(2026, 8, 1), "100.00")]
    p = compute_penalties(invoices, ECB, COMPANY, on, RATES)
    assert p.rate_percent is None
    # F1: 13.15 % (H1 2025) × 488 days = 17.58; F2: 12.15 % (H2 2026) × 31 days = 1.03
    assert [i for _, i, _ in p.per_invoice] == [D("17.58"), D("1.03")]
    assert p.interest == D("18.61")


def test_a_consumer_never_owes_penalties():
    p = compute_penalties(
        [inv("F1", date(2026, 1, 1), "900.00")], ECB, CONSUMER, date(2026, 6, 1), RATES
    )
    assert p == Penalties()


def test_key_accounts_are_spared_when_the_creditor_waives():
    waiving = Terms(waive_for_key_accounts=True)
    invoices = [inv("F1", date(2026, 1, 1), "900.00")]
    on = date(2026, 6, 1)
    assert compute_penalties(invoices, waiving, KEY_ACCOUNT, on, RATES).total == 0
    assert compute_penalties(invoices, ECB, KEY_ACCOUNT, on, RATES).total > 0
    assert compute_penalties(invoices, waiving, COMPANY, on, RATES).total > 0


@pytest.mark.parametrize(
    ("outstanding", "indemnity"),
    [("999.99", "40.00"), ("1000.00", "70.00"), ("9999.99", "70.00"), ("10000.00", "100.00")],
)
def test_uk_statutory_compensation_depends_on_the_size_of_the_debt(outstanding, indemnity):
    terms = Terms(late_interest=LateInterest(rule="boe_plus_8"))
    on = date(2026, 3, 31)
    p = compute_penalties([inv("INV-1", date(2026, 1, 30), outstanding)], terms, COMPANY, on, RATES)
    assert p.indemnity == D(indemnity)
    assert p.rate_percent == D("12.00")  # Bank of England 4.00 % + 8 points


def _policy(**overrides) -> Policy:
    data = {
        "creditor": {"slug": "acme", "name": "Acme SAS", "address": "1 rue A, 75001 Paris"},
        "voice": {"sign_off": "Cordialement,"},
        "ladder": {
            "steps": [{"name": "reminder_1", "days_after_due": 5, "template": "reminder_1"}]
        },
        "terms": {"waive_for_key_accounts": True},
        "overrides": [
            {
                "debtor_ref": "C9",
                "terms": {"late_interest": {"rule": "none"}, "recovery_indemnity": False},
            },
            {"debtor_ref": "C10", "terms": {"late_interest": {"rule": "fixed", "rate": 10}}},
        ],
    }
    data.update(overrides)
    return Policy.model_validate(data)


def test_effective_terms_apply_the_debtor_override():
    policy = _policy()
    assert effective_terms(policy, "C1") == policy.terms
    c10 = effective_terms(policy, "C10")
    assert (c10.late_interest.rule, c10.late_interest.rate) == ("fixed", D("10"))
    assert c10.recovery_indemnity and c10.waive_for_key_accounts  # the rest is kept


def test_an_override_can_switch_penalties_off_for_one_debtor():
    policy = _policy()
    debtor = DebtorFacts(ref="C9", name="Partenaire SA")
    invoices = [inv("F1", date(2026, 1, 1), "900.00")]
    p = compute_penalties(invoices, effective_terms(policy, "C9"), debtor, date(2026, 6, 1), RATES)
    assert p == Penalties()


def test_indemnity_bands_written_in_the_policy_set_the_amount_by_invoice_size():
    from assistant.policy.schema import IndemnityBand

    terms = Terms(
        late_interest=LateInterest(rule="none"),
        indemnity_bands=[
            IndemnityBand(below=D("500"), amount=D("15")),
            IndemnityBand(amount=D("60")),
        ],
    )
    on = date(2026, 3, 1)
    due = on - timedelta(days=10)
    p = compute_penalties(
        [inv("S", due, "499.99"), inv("L", due, "500.00")], terms, COMPANY, on, RATES
    )
    assert p.per_invoice == (("S", D("0.00"), D("15.00")), ("L", D("0.00"), D("60.00")))


def test_the_shipped_uk_policy_carries_the_statutory_bands_as_data():
    from pathlib import Path

    from assistant.policy import load_policy

    root = Path(__file__).resolve().parents[2]
    terms = load_policy(root / "policies" / "thames-supplies.yaml").terms
    bands = [(b.below, b.amount) for b in terms.indemnity_bands]
    assert bands == [(D("1000"), D("40")), (D("10000"), D("70")), (None, D("100"))]


def paid(invoice: InvoiceLine, *payments: tuple[date, str]) -> InvoiceLine:
    return replace(invoice, payments=tuple((d, D(a)) for d, a in payments))


def test_interest_follows_the_balance_between_payments():
    due, on = date(2026, 1, 31), date(2026, 3, 2)  # 30 days late, 2026 H1: 12.15 %
    invoice = paid(inv("F1", due, "1000.00", "400.00"), (date(2026, 2, 15), "600.00"))
    p = compute_penalties([invoice], ECB, COMPANY, on, RATES)
    # 1 000 × 12.15 % × 15 / 365 = 4.993 150 (31/01 → 15/02, before the payment)
    # + 400 × 12.15 % × 15 / 365 = 1.997 260 (15/02 → 02/03) = 6.990 41 → 6,99 €
    assert p.interest == D("6.99")
    # Today's balance over the whole period would have claimed 400 × 12.15 % × 30 / 365 = 3,99 €.


def test_a_payment_before_the_due_date_only_lowers_the_first_balance():
    due = date(2026, 9, 1)
    invoice = paid(
        inv("F1", due, "1000.00", "500.00"),
        (due - timedelta(days=10), "200.00"),
        (due + timedelta(days=10), "300.00"),
    )
    p = compute_penalties([invoice], ECB, COMPANY, due + timedelta(days=30), RATES)
    # 800 × 12.15 % × 10 / 365 = 2.663 01 + 500 × 12.15 % × 20 / 365 = 3.328 77 → 5,99 €
    assert p.interest == D("5.99")


def test_a_reduction_with_no_recorded_payment_never_raises_the_claim():
    due = date(2026, 9, 1)
    # 1 000 invoiced, 400 left, only a 300 payment on day 15 is known: the 300 unexplained
    # are taken as gone from the start (700 then 400), never as still owed (1 000).
    invoice = paid(inv("F1", due, "1000.00", "400.00"), (due + timedelta(days=15), "300.00"))
    p = compute_penalties([invoice], ECB, COMPANY, due + timedelta(days=30), RATES)
    # 700 × 12.15 % × 15 / 365 = 3.495 21 + 400 × 12.15 % × 15 / 365 = 1.997 26 → 5,49 €
    assert p.interest == D("5.49")


def test_balance_periods_cut_at_each_payment_and_keep_the_due_date_rate():
    due, on = date(2025, 6, 1), date(2025, 8, 1)
    invoice = paid(
        inv("F1", due, "900.00", "300.00"),
        (date(2025, 7, 1), "400.00"),
        (date(2025, 6, 11), "200.00"),
    )
    assert balance_periods(invoice, on) == [
        (due, date(2025, 6, 11), D("900.00")),
        (date(2025, 6, 11), date(2025, 7, 1), D("700.00")),
        (date(2025, 7, 1), on, D("300.00")),
    ]
    p = compute_penalties([invoice], ECB, COMPANY, on, RATES)
    assert p.rate_percent == D("13.15")  # fell due in 2025 H1: that rate throughout
    # 13.15 % / 365 × (900 × 10 + 700 × 20 + 300 × 31) = 32 300 × 0.000 360 274 = 11.636 85
    assert p.interest == D("11.64")
