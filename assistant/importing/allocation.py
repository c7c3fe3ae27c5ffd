"""Decide where payments go: the named invoice, else the debtor's oldest open invoices.

Pure, like `plan`: takes the ledger state as values and returns an ImportPlan. A payment is
known by its reference, or by a hash of its content when the export gives none, so importing
the same file twice records nothing new.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from assistant.domain import to_cents
from assistant.importing.plan import Change, DebtorState, ImportPlan, InvoiceState, record_update
from assistant.importing.rows import PaymentRow, RowError
from assistant.importing.values import fold


def payment_reference(row: PaymentRow, occurrence: int) -> str:
    """Return the row's reference, or a stable hash of its content when it has none."""
    if row.reference:
        return row.reference
    content = "|".join(
        str(x)
        for x in (
            row.debtor_ref,
            row.debtor_name,
            row.invoice_number,
            row.amount,
            row.currency,
            row.paid_on,
            occurrence,
        )
    )
    return "auto-" + hashlib.sha256(content.encode()).hexdigest()[:16]


def plan_payments(
    rows: list[PaymentRow],
    debtors: Mapping[str, DebtorState],
    invoices: Mapping[str, InvoiceState],
    known_references: set[str],
    columns: Mapping[str, str],
) -> ImportPlan:
    """Allocate new payments to the named invoice, else to the debtor's oldest open invoices."""
    plan = ImportPlan()
    state = dict(invoices)
    by_name: dict[str, list[str]] = {}
    for d in debtors.values():
        by_name.setdefault(fold(d.legal_name), []).append(d.account_ref)
    by_debtor: dict[str, list[str]] = {}
    for inv in sorted(invoices.values(), key=lambda s: (s.due_date, s.number)):
        by_debtor.setdefault(inv.debtor_ref, []).append(inv.number)
    occurrences: dict[tuple[Any, ...], int] = {}
    for row in rows:
        key = (row.debtor_ref, row.debtor_name, row.invoice_number, row.amount, row.paid_on)
        occurrences[key] = occurrences.get(key, 0) + 1
        reference = payment_reference(row, occurrences[key])
        if reference in known_references:
            plan.unchanged += 1
            continue
        debtor_ref, error = _payment_debtor(row, debtors, state, by_name, columns)
        if error:
            plan.errors.append(error)
            continue
        assert debtor_ref is not None
        targets = _payment_targets(row, by_debtor.get(debtor_ref, []), state, columns, plan)
        if targets is None:
            continue
        left = to_cents(row.amount)
        allocations = []
        for number in targets:
            inv = state[number]
            take = min(left, inv.outstanding_cents)
            if take <= 0:
                continue
            rest = inv.outstanding_cents - take
            new = replace(
                inv,
                outstanding_cents=rest,
                status="paid" if rest == 0 else inv.status,
                paid_date=row.paid_on if rest == 0 else inv.paid_date,
            )
            state[number] = new
            allocations.append({"invoice": number, "cents": take})
            left -= take
            if left == 0:
                break
        if left:
            plan.warnings.append(
                f"line {row.line}: {left / 100:.2f} {row.currency} of payment "
                f"{reference} not allocated (nothing left open)"
            )
        first = allocations[0]["invoice"] if len(allocations) == 1 else row.invoice_number
        plan.new_payments.append(
            {
                "reference": reference,
                "debtor_ref": debtor_ref,
                "invoice_number": first,
                "amount_cents": to_cents(row.amount),
                "currency": row.currency,
                "paid_on": row.paid_on,
            }
        )
        plan.created += 1
        plan.changes.append(
            Change(
                "payment.recorded",
                "payment",
                reference,
                {},
                {
                    "debtor_ref": debtor_ref,
                    "amount_cents": to_cents(row.amount),
                    "paid_on": row.paid_on.isoformat(),
                    "allocations": allocations,
                    "unallocated_cents": left,
                },
            )
        )
    for number, new in state.items():
        old = invoices[number]
        if new != old:
            paid = new.status == "paid" and old.status != "paid"
            record_update(plan, old, new, "invoice.paid" if paid else "invoice.updated")
    return plan


def _payment_debtor(
    row: PaymentRow,
    debtors: Mapping[str, DebtorState],
    invoices: Mapping[str, InvoiceState],
    by_name: dict[str, list[str]],
    columns: Mapping[str, str],
) -> tuple[str | None, RowError | None]:
    def err(fld: str, value: str | None, reason: str) -> tuple[None, RowError]:
        return None, RowError(row.line, columns.get(fld, fld), value or "", reason)

    inv = invoices.get(row.invoice_number) if row.invoice_number else None
    if row.invoice_number and inv is None:
        return err("invoice_number", row.invoice_number, "unknown invoice for this creditor")
    if row.debtor_ref:
        if row.debtor_ref not in debtors:
            return err("debtor_ref", row.debtor_ref, "unknown customer for this creditor")
        if inv and inv.debtor_ref != row.debtor_ref:
            return err(
                "invoice_number",
                row.invoice_number,
                f"invoice belongs to customer {inv.debtor_ref}, not {row.debtor_ref}",
            )
        return row.debtor_ref, None
    if inv:
        return inv.debtor_ref, None
    refs = by_name.get(fold(row.debtor_name or ""), [])
    if len(refs) != 1:
        reason = "unknown customer name" if not refs else "several customers have this name"
        return err("debtor_name", row.debtor_name, reason)
    return refs[0], None


def _payment_targets(
    row: PaymentRow,
    oldest_first: list[str],
    state: Mapping[str, InvoiceState],
    columns: Mapping[str, str],
    plan: ImportPlan,
) -> list[str] | None:
    if row.invoice_number:
        inv = state[row.invoice_number]
        if inv.currency != row.currency:
            plan.errors.append(
                RowError(
                    row.line,
                    columns.get("currency", "currency"),
                    row.currency,
                    f"invoice is in {inv.currency}",
                )
            )
            return None
        return [row.invoice_number]
    return [
        n
        for n in oldest_first
        if state[n].status == "open"
        and state[n].outstanding_cents > 0
        and state[n].currency == row.currency
    ]
