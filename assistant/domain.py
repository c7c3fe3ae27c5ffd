"""Value objects shared by the pure decision modules (planner, letters, validator).

They carry facts read from the ledger; they know nothing of sessions, clocks or files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

CENT = Decimal("0.01")


def to_cents(amount: Decimal) -> int:
    """Convert a Decimal amount to integer cents (half-up)."""
    return int((amount.quantize(CENT, rounding="ROUND_HALF_UP") * 100).to_integral_value())


def from_cents(cents: int) -> Decimal:
    """Convert integer cents to a Decimal amount with two places."""
    return (Decimal(cents) / 100).quantize(CENT)


@dataclass(frozen=True)
class InvoiceLine:
    """One invoice as the ledger holds it."""

    number: str
    due_date: date
    amount: Decimal
    outstanding: Decimal
    currency: str = "EUR"
    status: str = "open"
    issue_date: date | None = None
    paid_date: date | None = None
    # Payments recorded against this invoice: (paid on, amount), any order. Late interest
    # follows the balance they leave; without them it runs on `outstanding` throughout.
    payments: tuple[tuple[date, Decimal], ...] = ()

    def days_late(self, on: date) -> int:
        """Return the days past due on `on` (0 when not yet due)."""
        return max(0, (on - self.due_date).days)


@dataclass(frozen=True)
class DebtorFacts:
    """Who the debtor is, as the letters and rules need it."""

    ref: str
    name: str
    kind: str = "company"  # company | consumer
    language: str | None = None
    key_account: bool = False
    emails: tuple[str, ...] = ()
    address: str | None = None


@dataclass(frozen=True)
class ClientHistory:
    """How a debtor has paid over the last 12 months."""

    paid_invoices: int = 0
    on_time_rate: float | None = None
    average_days_late: float | None = None
    promises_kept: int = 0
    promises_broken: int = 0
    open_disputes: int = 0

    @property
    def punctual(self) -> bool:
        """Tell whether the debtor usually pays on time (≥ 90 % over ≥ 3 invoices)."""
        return self.paid_invoices >= 3 and (self.on_time_rate or 0) >= 0.9


@dataclass(frozen=True)
class HandoffRelease:
    """An officer's decision to resume a handed-off case, with the facts it was taken on."""

    on: date
    balance: Decimal  # open balance then (every open invoice and credit note)
    broken_promises: int


@dataclass(frozen=True)
class CaseState:
    """Where a case stands on the ladder."""

    ref: str
    status: str = "active"
    step_index: int = -1
    last_contact_on: date | None = None
    contact_dates: tuple[date, ...] = ()
    pending_promise_until: date | None = None
    broken_promise_pending: bool = False
    broken_promises: int = 0
    open_handoff: bool = False
    first_letter_on: date | None = None
    first_letter_ref: str | None = None
    snoozed_until: date | None = None  # out of office: no contact before this day
    # Names of the ladder steps actually sent, oldest first (None: history not loaded).
    steps_sent: tuple[str, ...] | None = None
    released: HandoffRelease | None = None  # last "resume" of a hand-off by an officer


@dataclass(frozen=True)
class Penalties:
    """Late-payment amounts owed on top of the principal."""

    interest: Decimal = Decimal("0.00")
    indemnity: Decimal = Decimal("0.00")
    rate_percent: Decimal | None = None
    per_invoice: tuple[tuple[str, Decimal, Decimal], ...] = ()  # (number, interest, indemnity)

    @property
    def total(self) -> Decimal:
        """Return interest plus indemnities."""
        return self.interest + self.indemnity


@dataclass(frozen=True)
class Finding:
    """One problem the validator found in a draft."""

    code: str
    message: str
    blocking: bool = True

    def as_dict(self) -> dict[str, object]:
        """Return a JSON-ready form."""
        return {"code": self.code, "message": self.message, "blocking": self.blocking}


@dataclass(frozen=True)
class LetterFacts:
    """Every figure a letter may state: the validator checks text against these."""

    case_ref: str
    invoices: tuple[InvoiceLine, ...]
    total_outstanding: Decimal
    currency: str
    penalties: Penalties | None
    letter_date: date
    deadline: date | None = None
    extra_dates: tuple[date, ...] = ()
    extra_amounts: tuple[Decimal, ...] = field(default_factory=tuple)
