"""Decide what an import changes: compare validated rows with the ledger's current state.

Pure: takes snapshots of existing debtors and invoices (plain values) and returns a plan of
inserts, updates and audit entries. The service loads the state and applies the plan; this
module never touches a session, a file or the clock (`today` is an argument).

Rules: the file is the truth for the invoices it lists (amount, outstanding, dates, currency,
debtor). Outstanding 0 → status paid, paid date from the file or `today`; a new row already
paid without a paid date keeps no paid date (it then does not count in the client history).
An invoice the file shows as owed again is reopened. Disputed, frozen and written-off statuses
are kept while something is owed. With `snapshot`, open, disputed and frozen invoices absent
from the file are settled (paid on `today`); written-off ones are left alone. Debtor fields
are only overwritten by non-empty cells; e-mail addresses are added, never removed.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache
from operator import attrgetter
from typing import Any

from assistant.domain import to_cents
from assistant.importing.rows import InvoiceRow, RowError

SETTLEABLE = ("open", "disputed", "frozen")


@dataclass(frozen=True)
class DebtorState:
    """A debtor as the ledger holds it (id None: to be created)."""

    id: int | None
    account_ref: str
    legal_name: str
    siren: str | None = None
    kind: str = "company"
    language: str | None = None
    key_account: bool = False
    emails: frozenset[str] = frozenset()
    address: str | None = None


@dataclass(frozen=True)
class InvoiceState:
    """An invoice as the ledger holds it (id None: to be created)."""

    id: int | None
    number: str
    debtor_ref: str
    due_date: date
    amount_cents: int
    outstanding_cents: int
    currency: str = "EUR"
    status: str = "open"
    issue_date: date | None = None
    paid_date: date | None = None


@dataclass(frozen=True)
class Change:
    """One audited state change: the entity, its key, and the fields before and after."""

    action: str
    entity: str
    key: str
    before: dict[str, Any]
    after: dict[str, Any]


@dataclass
class ImportPlan:
    """Everything an import will write; empty when the file brings nothing new."""

    new_debtors: list[DebtorState] = field(default_factory=list)
    debtor_updates: list[DebtorState] = field(default_factory=list)
    new_contacts: list[tuple[str, str]] = field(default_factory=list)  # (debtor_ref, email)
    new_invoices: list[InvoiceState] = field(default_factory=list)
    invoice_updates: list[InvoiceState] = field(default_factory=list)
    new_payments: list[dict[str, Any]] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    settled: int = 0
    unchanged: int = 0
    # With --snapshot: invoices settled because the file lacks them, out of `open_before`
    # settleable (open, disputed, frozen) invoices in the ledger before the import.
    snapshot_settled: int = 0
    open_before: int = 0

    @property
    def empty(self) -> bool:
        """Tell whether applying the plan would change nothing."""
        return not (
            self.new_debtors
            or self.debtor_updates
            or self.new_contacts
            or self.new_invoices
            or self.invoice_updates
            or self.new_payments
        )


@lru_cache(maxsize=32)
def _getter(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    get = attrgetter(*names)
    return (lambda state: (get(state),)) if len(names) == 1 else get


def _jsonable(state: Any, names: Iterable[str]) -> dict[str, Any]:
    names = tuple(names)
    return {
        n: v.isoformat() if isinstance(v, date) else v
        for n, v in zip(names, _getter(names)(state), strict=True)
    }


def plan_debtors(
    rows: Iterable[InvoiceRow], debtors: Mapping[str, DebtorState], plan: ImportPlan
) -> None:
    """Add the debtors and contacts to create or update to `plan`."""
    merged: dict[str, DebtorState] = {}
    for row in rows:
        cur = merged.get(row.debtor_ref)
        if cur is None:
            base = debtors.get(row.debtor_ref)
            cur = base or DebtorState(
                None, row.debtor_ref, row.debtor_name, kind=row.kind or "company"
            )
            if base and row.debtor_name != row.debtor_ref:
                cur = replace(cur, legal_name=row.debtor_name)
        fields: dict[str, Any] = {}
        if row.siren and row.siren != cur.siren:
            fields["siren"] = row.siren
        if row.address and row.address != cur.address:
            fields["address"] = row.address
        if row.kind and row.kind != cur.kind:
            fields["kind"] = row.kind
        if row.language and row.language != cur.language:
            fields["language"] = row.language
        if row.key_account is not None and row.key_account != cur.key_account:
            fields["key_account"] = row.key_account
        if row.emails and not cur.emails.issuperset(row.emails):
            fields["emails"] = cur.emails | frozenset(row.emails)
        merged[row.debtor_ref] = replace(cur, **fields) if fields else cur
    names = ("legal_name", "siren", "kind", "language", "key_account", "address")
    for ref, state in merged.items():
        old = debtors.get(ref)
        if old is None:
            plan.new_debtors.append(state)
            plan.changes.append(
                Change(
                    "debtor.created", "debtor", ref, {}, _jsonable(state, ("account_ref", *names))
                )
            )
        else:
            before = _jsonable(old, names)
            after = _jsonable(state, names)
            if before != after:
                plan.debtor_updates.append(state)
                diff = [k for k in names if before[k] != after[k]]
                plan.changes.append(
                    Change(
                        "debtor.updated",
                        "debtor",
                        ref,
                        {k: before[k] for k in diff},
                        {k: after[k] for k in diff},
                    )
                )
        known = old.emails if old else frozenset()
        for email in sorted(state.emails - known):
            plan.new_contacts.append((ref, email))
            plan.changes.append(Change("contact.added", "debtor", ref, {}, {"email": email}))


_INVOICE_FIELDS = (
    "debtor_ref",
    "issue_date",
    "due_date",
    "amount_cents",
    "outstanding_cents",
    "currency",
    "status",
    "paid_date",
)


def plan_invoices(
    rows: list[InvoiceRow],
    debtors: Mapping[str, DebtorState],
    invoices: Mapping[str, InvoiceState],
    *,
    snapshot: bool,
    today: date,
    payments: Mapping[str, Sequence[tuple[date, int]]] | None = None,
    as_of: date | None = None,
) -> ImportPlan:
    """Compare invoice rows with the ledger; settle missing open invoices when `snapshot`.

    `payments` are those already recorded per invoice (paid on, cents) and `as_of` the date
    of the export: a payment dated after it is one the export cannot know, so it is never
    undone (the invoice stays settled, or owes the file's amount less that payment).
    """
    plan = ImportPlan()
    plan_debtors(rows, debtors, plan)
    kept = plan_invoice_rows(rows, invoices, plan, today=today, payments=payments, as_of=as_of)
    if kept:
        plan.warnings.append(kept_warning(kept, as_of))
    if snapshot:
        settle_absent(invoices.values(), {row.number for row in rows}, plan, today)
    return plan


def plan_invoice_rows(
    rows: Iterable[InvoiceRow],
    invoices: Mapping[str, InvoiceState],
    plan: ImportPlan,
    *,
    today: date,
    payments: Mapping[str, Sequence[tuple[date, int]]] | None = None,
    as_of: date | None = None,
) -> int:
    """Add the invoices to create or update to `plan`; return how many keep later payments.

    `invoices` needs to hold (at least) the ledger's invoices with the rows' numbers, and
    `payments` their payments. Each row is planned on its own, so rows may come in chunks.
    """
    kept = 0
    for row in rows:
        old = invoices.get(row.number)
        outstanding = to_cents(row.outstanding)
        if old is not None and as_of is not None and outstanding > old.outstanding_cents:
            later = sum(c for d, c in (payments or {}).get(row.number, ()) if d > as_of)
            if later:
                outstanding = max(outstanding - later, old.outstanding_cents)
                kept += 1
        if old is None:
            paid = outstanding == 0
            new = InvoiceState(
                None,
                row.number,
                row.debtor_ref,
                row.due_date,
                to_cents(row.amount),
                outstanding,
                row.currency,
                "paid" if paid else "open",
                row.issue_date,
                row.paid_date if paid else None,
            )
            plan.new_invoices.append(new)
            plan.created += 1
            plan.changes.append(
                Change(
                    "invoice.created", "invoice", row.number, {}, _jsonable(new, _INVOICE_FIELDS)
                )
            )
            continue
        status, paid_date = old.status, old.paid_date
        if outstanding == 0:
            if status != "paid":
                status, paid_date = "paid", row.paid_date or today
            elif row.paid_date:
                paid_date = row.paid_date
        elif status == "paid":
            status, paid_date = "open", None
        new = replace(
            old,
            debtor_ref=row.debtor_ref,
            issue_date=row.issue_date or old.issue_date,
            due_date=row.due_date,
            amount_cents=to_cents(row.amount),
            outstanding_cents=outstanding,
            currency=row.currency,
            status=status,
            paid_date=paid_date,
        )
        record_update(plan, old, new, "invoice.updated")
    return kept


def kept_warning(kept: int, as_of: date | None) -> str:
    """Say that `kept` invoices keep payments dated after the export (`as_of`)."""
    return (
        f"{kept} invoice(s) keep payments imported with a date after {as_of.isoformat()}, "  # type: ignore[union-attr]
        "the latest date of this export: an older export does not undo them"
    )


def settle_absent(
    invoices: Iterable[InvoiceState], in_file: Container[str], plan: ImportPlan, today: date
) -> None:
    """Settle (paid on `today`) the open, disputed and frozen `invoices` not `in_file`.

    Counts each settleable invoice in `plan.open_before`, listed in the file or not.
    """
    for old in invoices:
        if old.status not in SETTLEABLE:
            continue
        plan.open_before += 1
        if old.number in in_file:
            continue
        new = replace(old, outstanding_cents=0, status="paid", paid_date=today)
        record_update(plan, old, new, "invoice.settled")
        plan.snapshot_settled += 1


# A snapshot settling more than this share of the open invoices gets a warning (and is refused
# when the user asked for a limit with --max-settle): a file cut in half, or one creditor's
# export of a few accounts, looks just like a ledger whose invoices were paid.
SNAPSHOT_SETTLE_LIMIT = 0.20


def _settled_share(plan: ImportPlan, limit: float) -> float | None:
    """Return the share of open invoices the snapshot settles, if it is above `limit`."""
    if not plan.open_before or plan.snapshot_settled <= limit * plan.open_before:
        return None
    return plan.snapshot_settled / plan.open_before


def mass_settle_refusal(plan: ImportPlan, limit: float = SNAPSHOT_SETTLE_LIMIT) -> str | None:
    """Return why a snapshot settling more than `limit` of the open invoices is refused."""
    share = _settled_share(plan, limit)
    if share is None:
        return None
    return (
        f"--snapshot would settle {plan.snapshot_settled} of the {plan.open_before} open "
        f"invoices ({share:.0%}, more than {limit:.0%}) because the file does not list them. "
        "If the file is the whole open ledger and they were all paid, import again with "
        "--allow-mass-settle; if it is partial (cut short, one part of the accounts), "
        "import it without --snapshot. Nothing was imported."
    )


def mass_settle_warning(plan: ImportPlan, limit: float = SNAPSHOT_SETTLE_LIMIT) -> str | None:
    """Return a warning when a snapshot settles more than `limit` of the open invoices."""
    share = _settled_share(plan, limit)
    if share is None:
        return None
    return (
        f"--snapshot settles {plan.snapshot_settled} of the {plan.open_before} open invoices "
        f"({share:.0%}) because the file does not list them: check that the file is the whole "
        "open ledger (a partial file settles the rest; --max-settle PERCENT refuses it)"
    )


def record_update(plan: ImportPlan, old: InvoiceState, new: InvoiceState, action: str) -> None:
    """Add the change from `old` to `new` to `plan` (or count it unchanged)."""
    if old == new:
        plan.unchanged += 1
        return
    before, after = _jsonable(old, _INVOICE_FIELDS), _jsonable(new, _INVOICE_FIELDS)
    diff = [k for k in _INVOICE_FIELDS if before[k] != after[k]]
    plan.invoice_updates.append(new)
    if action in ("invoice.settled", "invoice.paid"):
        plan.settled += 1
    else:
        plan.updated += 1
    plan.changes.append(
        Change(
            action, "invoice", new.number, {k: before[k] for k in diff}, {k: after[k] for k in diff}
        )
    )
