"""Grow an imported SQLite portfolio N times over, for the cycle's memory series.

    python bench/grow_portfolio.py SOURCE.db TARGET.db --times 10

Importing 1,000,000 generated invoices takes a long time on a loaded 2-core machine (the
XLSX reader is the bound, see notes/speed.md). This makes the same size in seconds: it
copies SOURCE (a database `bench/cycle_speed.py --keep DIR` cached) and adds N - 1 copies of
its debtors, contacts, invoices and payments, with shifted ids and a `-R<k>` suffix on
account references, invoice numbers and payment references (so every unique key holds and
every copy gets its own cases). Each copy has the same dates and amounts as the source, so
the cycle plans and drafts N times the source's letters. Save TARGET as
`imported-portfolio-<N × invoices>-7.db` next to an empty `portfolio-<N × invoices>-7/.done`
folder in the `--keep` folder and `bench/cycle_speed.py --invoices <N × invoices>` uses it.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
from pathlib import Path

# table: (columns shifted by a copy's id offsets, text columns that get the copy's suffix)
COPIED = {
    "debtor": ({"id": "debtor"}, ("account_ref",)),
    "contact": ({"id": "contact", "debtor_id": "debtor"}, ()),
    "invoice": ({"id": "invoice", "debtor_id": "debtor"}, ("number",)),
    "payment": ({"id": "payment", "debtor_id": "debtor", "invoice_id": "invoice"}, ("reference",)),
}


def grow(source: Path, target: Path, times: int) -> None:
    """Copy `source` to `target` and add `times - 1` shifted copies of its ledger."""
    shutil.copyfile(source, target)
    db = sqlite3.connect(target)
    top = {t: db.execute(f"SELECT COALESCE(MAX(id), 0) FROM {t}").fetchone()[0] for t in COPIED}
    with db:
        for k in range(1, times):
            for table, (shifted, suffixed) in COPIED.items():
                columns = [r[1] for r in db.execute(f"PRAGMA table_info({table})")]
                values = []
                for c in columns:
                    if c in shifted:
                        values.append(f"{c} + {k * top[shifted[c]]}")
                    elif c in suffixed:
                        values.append(f"{c} || '-R{k}'")
                    else:
                        values.append(c)
                db.execute(
                    f"INSERT INTO {table} ({', '.join(columns)}) "
                    f"SELECT {', '.join(values)} FROM {table} WHERE id <= {top[table]}"
                )
    db.close()


def main(argv: list[str] | None = None) -> int:
    """Parse options and grow the portfolio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("target", type=Path)
    parser.add_argument("--times", type=int, default=10)
    args = parser.parse_args(argv)
    grow(args.source, args.target, args.times)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
