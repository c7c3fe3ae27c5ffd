"""Import benchmark against its floor: the importer versus reading the file plus a bulk insert.

    python bench/import_speed.py [--invoices 100000] [--backend sqlite|postgresql] [--runs 3]
    python bench/import_speed.py --series 10000 100000 [1000000]

Each run is a child process with an empty database. It times `import_invoices` of the three
creditors of a generated portfolio (1 debtor per 5 invoices), then the floor of that work on
the same machine in the same run: `read_table` of the same files (the reader the importer
uses) plus a Core `executemany` INSERT of the rows the import wrote (creditors, debtors,
invoices) into another empty database. It prints the medians with their range, rows/s, the
ratio import / floor and the run's peak RSS. PostgreSQL needs RELANCE_TEST_DATABASE_URL.
"""

from __future__ import annotations

import argparse
import json
import sys
import zipfile
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
    floor_main,
    fmt,
    invoice_file,
    load_average,
    peak_rss_mb,
    portfolio,
    run_child,
    spread,
)

CHUNK = 5000


def import_all(app: Any, folder: Path) -> int:
    """Import the invoices of every creditor of `folder`; return the rows read."""
    from assistant.importing.service import import_invoices

    rows = 0
    for slug in SLUGS:
        report = import_invoices(
            app,
            invoice_file(folder, slug),
            slug,
            mapping=folder / slug / "mapping.yaml",
            today=AS_OF,
        )
        if not report.ok:
            raise SystemExit(f"import of {slug} failed: {report.errors[:5]}")
        rows += report.rows
    return rows


def floor(source: Any, target: Any, folder: Path) -> tuple[float, float]:
    """Time reading the files and bulk-inserting the rows `source` holds; return both (s)."""
    import sqlalchemy as sa

    from assistant.db.models import Creditor, Debtor, Invoice
    from assistant.importing.mapping import load_mapping
    from assistant.importing.reading import read_table

    with Timer() as read:
        for slug in SLUGS:
            mp = load_mapping(folder / slug / "mapping.yaml")
            read_table(
                invoice_file(folder, slug),
                delimiter=mp.delimiter,
                encoding=mp.encoding,
                sheet=mp.sheet,
            )
    written = 0.0
    with source.engine.connect() as src, target.engine.begin() as dst:
        for model in (Creditor, Debtor, Invoice):
            table: sa.Table = model.__table__  # type: ignore[attr-defined]
            result = src.execution_options(stream_results=True).execute(sa.select(table))
            for part in result.mappings().partitions(CHUNK):  # reading is not timed
                rows = [dict(r) for r in part]
                with Timer() as t:
                    dst.execute(sa.insert(table), rows)
                written += t.seconds
    return read.seconds, written


def lift_xlsx_cap(folder: Path) -> int | None:
    """Raise the XLSX size cap to fit this portfolio's workbook if it is larger; return MiB.

    At 1,000,000 invoices the generated workbook holds about 360 MiB of XML, over the
    importer's 256 MiB cap: the bench lifts the cap for that run (and says so) rather than
    measure a refusal.
    """
    from assistant.importing import reading

    sizes = []
    for slug in SLUGS:
        path = invoice_file(folder, slug)
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as archive:
                sizes.append(sum(m.file_size for m in archive.infolist()))
    if not sizes or max(sizes) <= reading.MAX_XLSX_UNCOMPRESSED:
        return None
    reading.MAX_XLSX_UNCOMPRESSED = max(sizes) + 1
    return (max(sizes) >> 20) + 1


def child(args: argparse.Namespace) -> None:
    """Run one import and its floor; print the figures as JSON."""
    folder = Path(args.folder)
    work = Path(args.work)
    cap = lift_xlsx_cap(folder)
    with database(args.backend, work / "import.db") as url:
        app = build(url)
        _ = app.engine  # the schema is created before the clock starts
        with Timer() as t:
            rows = import_all(app, folder)
        import_rss = peak_rss_mb()
        with database(args.backend, work / "floor.db") as floor_url:
            target = build(floor_url)
            _ = target.engine
            read_s, insert_s = floor(app, target, folder)
            target.close()
        app.close()
    figures = {
        "rows": rows,
        "import_s": t.seconds,
        "floor_read_s": read_s,
        "floor_insert_s": insert_s,
        "import_peak_rss_mb": import_rss,
        "xlsx_cap_mib": cap,
    }
    print(json.dumps(figures))


def measure(invoices: int, backend: str, runs: int, work: Path) -> dict[str, Any]:
    """Run `runs` children on one portfolio size; return medians and ranges."""
    folder = portfolio(work, invoices)
    results = [
        run_child(
            Path(__file__),
            ["--backend", backend, "--folder", str(folder), "--work", str(work)],
        )
        for _ in range(runs)
    ]
    rows = results[0]["rows"]
    floors = [r["floor_read_s"] + r["floor_insert_s"] for r in results]
    return {
        "invoices": invoices,
        "backend": backend,
        "runs": runs,
        "rows": rows,
        "load": load_average(),
        "import_s": spread([r["import_s"] for r in results]),
        "rows_per_s": spread([rows / r["import_s"] for r in results]),
        "floor_s": spread(floors),
        "floor_read_s": spread([r["floor_read_s"] for r in results]),
        "floor_insert_s": spread([r["floor_insert_s"] for r in results]),
        "ratio": spread([r["import_s"] / f for r, f in zip(results, floors, strict=True)]),
        "peak_rss_mb": spread([r["import_peak_rss_mb"] for r in results]),
        "xlsx_cap_mib": results[0].get("xlsx_cap_mib"),
    }


def table(rows: list[dict[str, Any]]) -> str:
    """Return the figures as a Markdown table."""
    head = (
        "| Invoices | Backend | Import s | Rows/s | Floor s (read + insert) | "
        "Import / floor | Peak RSS MiB | Load |\n|---|---|---|---|---|---|---|---|"
    )
    lines = [
        f"| {r['invoices']:,} | {r['backend']} | {fmt(r['import_s'], 1)} | "
        f"{fmt(r['rows_per_s'])} | {fmt(r['floor_s'], 1)} "
        f"({r['floor_read_s']['median']:.1f} + {r['floor_insert_s']['median']:.1f}) | "
        f"{fmt(r['ratio'], 1, '×')} | {fmt(r['peak_rss_mb'])} | {r['load']} |"
        for r in rows
    ]
    notes = [
        f"\n{r['invoices']:,} invoices: the XLSX cap was lifted to {r['xlsx_cap_mib']} MiB "
        "for this run (the workbook is larger than the importer accepts)."
        for r in rows
        if r.get("xlsx_cap_mib")
    ]
    return "\n".join([head, *lines, *notes])


def main(argv: list[str] | None = None) -> int:
    """Parse options, measure, print the table."""
    return floor_main(
        argv,
        __doc__,
        child,
        measure,
        table,
        prefix="relance-import-",
        keep_help="keep generated portfolios in this folder",
    )


if __name__ == "__main__":
    raise SystemExit(main())
