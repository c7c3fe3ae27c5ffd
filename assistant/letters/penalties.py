"""Late-payment penalties owed on overdue invoices (pure: no clock, no I/O).

Rules (Code de commerce L441-10 and the UK Late Payment Act), all driven by policy terms:

* interest per invoice = Σ over the periods between payments of (balance outstanding in
  that period × annual rate × days of the period / 365), rounded half-up to the cent once
  per invoice; with no payment recorded, outstanding × rate × days late / 365. The balance
  of each period is rebuilt backwards from today's outstanding and the dated payments, so
  a payment not recorded never raises the claim. The letter total is the sum of the
  rounded lines;
* the rate is fixed by the half-year in which the invoice fell due (ECB rate of 1 January
  for H1, of 1 July for H2, + 10 points; or BoE base rate + 8 points) and kept for the
  whole late period — the common reading of L441-10 and of the UK Act's "reference rate";
* a flat recovery indemnity per late invoice: `terms.indemnity_amount` (40 €), or the
  policy's `terms.indemnity_bands` by invoice size (UK: £40 / £70 / £100 below £1,000 /
  below £10,000 / above; a UK policy without bands gets these);
* nothing for a consumer, nothing when the creditor waives penalties for key accounts.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from assistant.domain import CENT, DebtorFacts, InvoiceLine, Penalties
from assistant.letters.rates import RateTable
from assistant.policy.schema import Policy, Terms

ECB_MARGIN = Decimal("10")
BOE_MARGIN = Decimal("8")
UK_INDEMNITY_BANDS: tuple[tuple[Decimal | None, Decimal], ...] = (
    (Decimal("1000"), Decimal("40")),
    (Decimal("10000"), Decimal("70")),
    (None, Decimal("100")),
)
_DAYS_A_YEAR = Decimal(365)
ZERO = Decimal("0.00")


def effective_terms(policy: Policy, debtor_ref: str) -> Terms:
    """Return the policy terms with the debtor's override (if any) applied."""
    override = policy.override_for(debtor_ref)
    if override is None or override.terms is None:
        return policy.terms
    changes = {
        key: value
        for key, value in (
            ("late_interest", override.terms.late_interest),
            ("recovery_indemnity", override.terms.recovery_indemnity),
            ("indemnity_amount", override.terms.indemnity_amount),
            ("indemnity_bands", override.terms.indemnity_bands),
        )
        if value is not None
    }
    return policy.terms.model_copy(update=changes) if changes else policy.terms


def penalties_waived(terms: Terms, debtor: DebtorFacts) -> bool:
    """Tell whether the creditor gives up penalties for this debtor (key-account waiver)."""
    return terms.waive_for_key_accounts and debtor.key_account


def penalties_allowed(terms: Terms, debtor: DebtorFacts) -> bool:
    """Tell whether any penalty may be claimed from this debtor at all."""
    if debtor.kind == "consumer" or penalties_waived(terms, debtor):
        return False
    return terms.late_interest.rule != "none" or terms.recovery_indemnity


def annual_rate(terms: Terms, due_date: date, rates: RateTable) -> Decimal | None:
    """Return the late-interest rate (percent a year) for an invoice due on `due_date`."""
    rule = terms.late_interest.rule
    if rule == "ecb_plus_10":
        return rates.ecb(due_date) + ECB_MARGIN
    if rule == "boe_plus_8":
        return rates.boe(due_date) + BOE_MARGIN
    if rule == "fixed":
        return terms.late_interest.rate
    return None


def indemnity_for(terms: Terms, invoice: InvoiceLine) -> Decimal:
    """Return the flat recovery indemnity owed for one late invoice."""
    if not terms.recovery_indemnity:
        return ZERO
    bands = [(b.below, b.amount) for b in terms.indemnity_bands]
    if not bands and terms.late_interest.rule == "boe_plus_8":
        bands = list(UK_INDEMNITY_BANDS)  # a UK policy written before bands were data
    for ceiling, amount in bands:
        if ceiling is None or invoice.outstanding < ceiling:
            return amount.quantize(CENT)
    return terms.indemnity_amount.quantize(CENT)


def balance_periods(invoice: InvoiceLine, on: date) -> list[tuple[date, date, Decimal]]:
    """Return the late periods of `invoice` up to `on`: (from, to, balance owed meanwhile).

    The first period starts on the due date; each payment made after it ends a period (a
    payment on day d stops interest on its amount from day d). Balances are rebuilt
    backwards from today's outstanding: before a payment, the balance was the balance after
    it plus the payment, and never more than the invoice's amount. Payments made on or
    before the due date, or after `on`, only shape the balance, they do not cut the period.
    """
    start = invoice.due_date
    if on <= start:
        return []
    balance = invoice.outstanding + sum(
        (amount for paid_on, amount in invoice.payments if paid_on > on), ZERO
    )
    cuts = sorted(
        ((paid_on, amount) for paid_on, amount in invoice.payments if start < paid_on <= on),
        reverse=True,
    )
    periods: list[tuple[date, date, Decimal]] = []
    end = on
    for paid_on, amount in cuts:
        if paid_on < end:
            periods.append((paid_on, end, balance))
        end = paid_on
        balance += amount
    periods.append((start, end, balance))
    cap = invoice.amount if invoice.amount > 0 else None  # never more than was invoiced
    return [
        (begin, end, min(balance, cap) if cap is not None else balance)
        for begin, end, balance in reversed(periods)
        if end > begin
    ]


def late_interest(invoice: InvoiceLine, rate_percent: Decimal, on: date) -> Decimal:
    """Return the interest owed on `invoice` on `on`, period by period of its balance,
    rounded half-up to the cent (once, on the sum)."""
    raw = sum(
        (
            balance * rate_percent / 100 * (end - begin).days / _DAYS_A_YEAR
            for begin, end, balance in balance_periods(invoice, on)
            if balance > 0
        ),
        Decimal(0),
    )
    return raw.quantize(CENT, rounding=ROUND_HALF_UP)


def compute_penalties(
    invoices: Sequence[InvoiceLine],
    terms: Terms,
    debtor: DebtorFacts,
    on: date,
    rates: RateTable,
) -> Penalties:
    """Compute interest and indemnities owed on `on` for the late invoices."""
    if not penalties_allowed(terms, debtor):
        return Penalties()
    lines: list[tuple[str, Decimal, Decimal]] = []
    used_rates: set[Decimal] = set()
    for invoice in invoices:
        days = invoice.days_late(on)
        if days <= 0 or invoice.outstanding <= 0:
            continue
        rate = annual_rate(terms, invoice.due_date, rates)
        interest = ZERO
        if rate is not None:
            used_rates.add(rate)
            interest = late_interest(invoice, rate, on)
        lines.append((invoice.number, interest, indemnity_for(terms, invoice)))
    if not lines:
        return Penalties()
    return Penalties(
        interest=sum((i for _, i, _ in lines), ZERO),
        indemnity=sum((x for _, _, x in lines), ZERO),
        rate_percent=used_rates.pop() if len(used_rates) == 1 else None,
        per_invoice=tuple(lines),
    )
