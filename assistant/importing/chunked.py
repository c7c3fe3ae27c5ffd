"""The second pass of a streamed invoice import: plan and write a chunk at a time.

The checked rows wait in the import's temp table (`staging.StagedRows`). This pass reads them
back in three sweeps, each loading from the ledger only what its chunk needs:

1. debtors, a chunk of debtors at a time with all their rows (a debtor's fields merge over
   every row of the file), in the order the file first names them;
2. invoices, a chunk of rows at a time in file order (each row is planned on its own);
3. with `snapshot`, the open invoices the file does not list, a chunk at a time by id.

So the audit events and the new rows' ids come in the order a whole-file plan gives them.
Planning stays in `plan.py`; with `write` None nothing is written (dry runs, refusals).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.engine import Connection

from assistant.importing.plan import (
    ImportPlan,
    kept_warning,
    plan_debtors,
    plan_invoice_rows,
    settle_absent,
)
from assistant.importing.staging import STAGED, StagedRows
from assistant.importing.store import (
    Keys,
    apply_plan,
    load_debtors,
    load_invoice_payments,
    load_invoices_numbered,
    settleable_invoices,
)

CHUNK_ROWS = 5000  # invoice rows planned and written together
CHUNK_DEBTORS = 2000  # debtors merged and written together


@dataclass(frozen=True)
class WriteTo:
    """Where and as whom a chunk's plan is written."""

    creditor_id: int
    actor: str
    source: str
    now: datetime


@dataclass
class Outcome:
    """What the chunks of an import did (or would do): the sums of their plans."""

    created: int = 0
    updated: int = 0
    settled: int = 0
    unchanged: int = 0
    snapshot_settled: int = 0
    debtors_created: int = 0
    debtors_updated: int = 0
    contacts_added: int = 0
    wrote: bool = False
    warnings: list[str] = field(default_factory=list)

    def add(self, plan: ImportPlan) -> None:
        self.created += plan.created
        self.updated += plan.updated
        self.settled += plan.settled
        self.unchanged += plan.unchanged
        self.snapshot_settled += plan.snapshot_settled
        self.debtors_created += len(plan.new_debtors)
        self.debtors_updated += len(plan.debtor_updates)
        self.contacts_added += len(plan.new_contacts)


def plan_in_chunks(
    conn: Connection,
    staged: StagedRows,
    creditor_id: int | None,
    *,
    snapshot: bool,
    today: date,
    as_of: date | None,
    write: WriteTo | None,
    chunk_rows: int = CHUNK_ROWS,
    chunk_debtors: int = CHUNK_DEBTORS,
    progress: Callable[[int, int], None] | None = None,
) -> Outcome:
    """Plan the staged rows against the ledger (of `creditor_id`, None: a new creditor)."""
    out = Outcome()
    total = max(staged.count * 2, 1)
    done = 0

    def apply(plan: ImportPlan, refs: Keys, numbers: Keys) -> None:
        out.add(plan)
        if write is not None and not plan.empty:
            apply_plan(
                conn,
                write.creditor_id,
                plan,
                write.actor,
                write.source,
                None,
                now=write.now,
                debtor_keys=refs,
                invoice_keys=numbers,
            )
            out.wrote = True

    for chunk in staged.by_debtor(chunk_debtors):
        debtors = load_debtors(conn, creditor_id, chunk.refs)[0] if creditor_id else {}
        plan = ImportPlan()
        plan_debtors(chunk.rows, debtors, plan)
        apply(plan, chunk.refs, ())
        done += len(chunk.rows)
        if progress:
            progress(done, total)
    kept = 0
    for chunk in staged.in_file_order(chunk_rows):
        plan = ImportPlan()
        numbers = chunk.numbers if chunk.numbers is not None else ()
        invoices = load_invoices_numbered(conn, creditor_id, numbers) if creditor_id else {}
        payments = (
            load_invoice_payments(conn, creditor_id, numbers) if invoices and creditor_id else {}
        )
        kept += plan_invoice_rows(
            chunk.rows, invoices, plan, today=today, payments=payments, as_of=as_of
        )
        apply(plan, chunk.refs, numbers)
        done += len(chunk.rows)
        if progress:
            progress(done, total)
    if kept:
        out.warnings.append(kept_warning(kept, as_of))
    if snapshot and creditor_id:
        after = 0
        while olds := settleable_invoices(conn, creditor_id, STAGED, after, chunk_rows):
            after = olds[-1].id or 0
            plan = ImportPlan()
            settle_absent(olds, (), plan, today)
            apply(plan, {o.debtor_ref for o in olds}, [o.number for o in olds])
    return out
