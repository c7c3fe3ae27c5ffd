"""Benchmark: what following the balance's history costs the cycle's loading and letters.

`python bench/interest_history.py DB_URL [--runs 5]` times, on an existing database (e.g. the
one `relance demo --database FILE` builds), for every creditor:

* `load_portfolio` as the cycle calls it (it now also reads the payments of the unsettled
  invoices), and the payments query alone, so its share of the load is visible;
* `compute_penalties` over every debtor's invoices, with the payments (periods between
  payments) and without them (today's balance over the whole period, the former rule).

It prints the median and range of each figure and the load average. Read-only.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import date

from sqlmodel import Session, col, select

from assistant.db.engine import make_engine
from assistant.db.models import Creditor, Invoice, Payment
from assistant.domain import DebtorFacts
from assistant.letters.penalties import compute_penalties
from assistant.letters.rates import RateTable
from assistant.policy.schema import Terms
from assistant.services.portfolio import load_portfolio


def timed(fn: Callable[[], object], runs: int) -> list[float]:
    """Return the wall times (ms) of `runs` calls of `fn`."""
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def show(label: str, times: list[float]) -> None:
    print(
        f"{label:<44} median {statistics.median(times):8.2f} ms"
        f"  range {min(times):.2f}–{max(times):.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("db_url")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--date", default="2026-12-03")
    args = parser.parse_args()
    on = date.fromisoformat(args.date)
    engine = make_engine(args.db_url)
    rates = RateTable.packaged()
    company = DebtorFacts(ref="X", name="X")
    print(f"load average {os.getloadavg()[0]:.2f} / {os.getloadavg()[1]:.2f}")
    with Session(engine) as session:
        for creditor in session.exec(select(Creditor)).all():
            print(f"\n{creditor.slug}")

            def load(c: Creditor = creditor) -> object:
                return load_portfolio(session, c, on)

            def payments_only(c: Creditor = creditor) -> object:
                return session.exec(
                    select(col(Payment.invoice_id), col(Payment.paid_on), col(Payment.amount_cents))
                    .join(Invoice, col(Invoice.id) == Payment.invoice_id)
                    .where(
                        Invoice.creditor_id == c.id,
                        col(Invoice.status).not_in(["paid", "written_off"]),
                    )
                ).all()

            show("load_portfolio (with payments)", timed(load, args.runs))
            show("payments query alone", timed(payments_only, args.runs))
            pf = load_portfolio(session, creditor, on)
            lines = [pf.invoice_lines(d) for d in pf.invoices]
            bare = [[replace(i, payments=()) for i in ls] for ls in lines]
            with_payments = sum(1 for ls in lines for i in ls if i.payments)
            print(f"{sum(map(len, lines))} unsettled invoices, {with_payments} with payments")

            def penalties(groups: list = lines) -> object:
                return [compute_penalties(g, Terms(), company, on, rates) for g in groups]

            show("compute_penalties, periods between payments", timed(penalties, args.runs))
            show(
                "compute_penalties, payments ignored",
                timed(lambda groups=bare: penalties(groups), args.runs),  # type: ignore[misc]
            )
            changed = [
                (a.per_invoice, b.per_invoice)
                for a, b in zip(penalties(lines), penalties(bare), strict=True)  # type: ignore[call-overload]
                if a.per_invoice != b.per_invoice
            ]
            print(f"debtors whose interest changes: {len(changed)}")


if __name__ == "__main__":
    main()
