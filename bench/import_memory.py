"""Peak memory of importing ONE invoice file, per creditor and portfolio size.

    python bench/import_memory.py --series 10000 100000 1000000 [--keep DIR]

`bench/import_speed.py` imports the three creditors of a portfolio in one process, so its
peak is that of the largest file, whatever its format. This script imports each creditor's
file in a child process of its own on an empty SQLite database and prints the child's peak
RSS, so the CSV files (read as a stream) and the XLSX file (whose reader is swapped
separately) can be told apart. The XLSX size cap is lifted as in `import_speed.py`.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.floors import (  # noqa: E402
    AS_OF,
    SLUGS,
    Timer,
    build,
    database,
    invoice_file,
    load_average,
    machine,
    peak_rss_mb,
    portfolio,
    run_child,
)
from bench.import_speed import lift_xlsx_cap  # noqa: E402


def child(args: argparse.Namespace) -> None:
    """Import one creditor's invoice file; print rows, seconds and peak RSS as JSON."""
    from assistant.importing.service import import_invoices

    folder, work = Path(args.folder), Path(args.work)
    lift_xlsx_cap(folder)
    with database("sqlite", work / "memory.db") as url:
        app = build(url)
        _ = app.engine
        with Timer() as t:
            report = import_invoices(
                app,
                invoice_file(folder, args.slug),
                args.slug,
                mapping=folder / args.slug / "mapping.yaml",
                today=AS_OF,
            )
        app.close()
    if not report.ok:
        raise SystemExit(f"import of {args.slug} failed: {report.errors[:5]}")
    print(json.dumps({"rows": report.rows, "seconds": t.seconds, "peak_rss_mb": peak_rss_mb()}))


def main(argv: list[str] | None = None) -> int:
    """Parse options, run one child per size and creditor, print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    parser.add_argument("--slug", help=argparse.SUPPRESS)
    parser.add_argument("--series", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--keep", type=Path, help="keep the generated portfolios in DIR")
    args = parser.parse_args(argv)
    if args.child:
        child(args)
        return 0

    def go(work: Path) -> list[dict[str, Any]]:
        out = []
        for size in args.series:
            folder = portfolio(work, size)
            for slug in SLUGS:
                got = run_child(
                    Path(__file__),
                    ["--folder", str(folder), "--work", str(work), "--slug", slug],
                )
                kind = invoice_file(folder, slug).suffix.lstrip(".")
                out.append({"invoices": size, "slug": slug, "format": kind, **got})
        return out

    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        rows = go(args.keep)
    else:
        with tempfile.TemporaryDirectory(prefix="relance-bench-memory-") as tmp:
            rows = go(Path(tmp))
    print(f"{machine()}, load {load_average()}\n")
    print(
        "| Portfolio | Creditor | File | Rows | Import s | Peak RSS MiB |\n|---|---|---|---|---|---|"
    )
    for r in rows:
        print(
            f"| {r['invoices']:,} | {r['slug']} | {r['format']} | {r['rows']:,} | "
            f"{r['seconds']:.1f} | {r['peak_rss_mb']:.0f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
