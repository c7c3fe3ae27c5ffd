"""XLSX reading benchmark: the streaming reader against python-calamine and openpyxl.

    python bench/xlsx_read.py [--invoices 100000] [--runs 3] [--readers stream calamine openpyxl]
    python bench/xlsx_read.py --file path/to/invoices.xlsx

Reads the distrib-pro workbook of a generated portfolio (or `--file`) once per reader and
run, each in its own child process, the readers taking turns so that a change of load hits
them alike. Every reader walks all the rows and builds each row's cells the way `read_xlsx`
gives them, without keeping the rows (so the peak memory is the reader's own):

- `stream`: `xlsx_stream.iter_xlsx_rows` (expat, one row at a time);
- `calamine`: python-calamine 0.9 with the row building the importer used before (the whole
  sheet is held on the Rust side);
- `calamine+scan`: the same after the scan for error cells (`t="e"`) that the importer's
  calamine reader made first, to send such workbooks to openpyxl: the old `read_xlsx`;
- `openpyxl`: openpyxl in read-only mode, `values_only`.

Prints, per reader, the median and range of the wall time, the CPU time of the child (it
counts less of the other processes' load), rows/s, the peak RSS and the ratio of CPU time to
calamine's, with the load average. python-calamine must be installed (`pip install -e '.[dev]'`).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.floors import (  # noqa: E402
    fmt,
    load_average,
    machine,
    peak_rss_mb,
    portfolio,
    run_child,
    spread,
)

READERS = ("stream", "calamine", "calamine+scan", "openpyxl")


def read_stream(path: Path) -> int:
    from assistant.importing.xlsx_stream import iter_xlsx_rows

    return sum(1 for _ in iter_xlsx_rows(path))


def read_calamine(path: Path) -> int:
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(str(path))
    ws = wb.get_sheet_by_name(wb.sheet_names[0])
    rows = 0
    pad: list[Any] = [None] * (ws.start[1] if ws.start else 0)
    for values in ws.iter_rows():
        cells = [(v.strip() or None) if isinstance(v, str) else v for v in values]
        while cells and cells[-1] is None:
            cells.pop()
        if cells:
            cells = pad + cells
            rows += 1
    wb.close()
    return rows


def read_calamine_scan(path: Path) -> int:
    """The old `read_xlsx`: scan the worksheets for error cells, then read with calamine."""
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                with archive.open(name) as member:
                    tail = b""
                    while chunk := member.read(1 << 20):
                        if b' t="e"' in tail + chunk or b" t='e'" in tail + chunk:
                            raise SystemExit("error cells: the old reader used openpyxl")
                        tail = chunk[-16:]
    return read_calamine(path)


def read_openpyxl(path: Path) -> int:
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=True)
    ws = wb.worksheets[0]
    ws.reset_dimensions()  # type: ignore[union-attr]
    rows = 0
    for values in ws.iter_rows(values_only=True):
        cells = [v.strip() if isinstance(v, str) else v for v in values]
        if any(c is not None and c != "" for c in cells):
            rows += 1
    wb.close()
    return rows


def child(reader: str, path: Path) -> None:
    """Read `path` with `reader` once; print the figures as JSON."""
    from assistant.importing import reading

    size = sum(m.file_size for m in zipfile.ZipFile(path).infolist())
    reading.MAX_XLSX_UNCOMPRESSED = max(reading.MAX_XLSX_UNCOMPRESSED, size + 1)  # 1M invoices
    read = {
        "stream": read_stream,
        "calamine": read_calamine,
        "calamine+scan": read_calamine_scan,
        "openpyxl": read_openpyxl,
    }[reader]
    wall, cpu = time.perf_counter(), time.process_time()
    rows = read(path)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(
        json.dumps({"reader": reader, "rows": rows, "wall": wall, "cpu": cpu, "rss": peak_rss_mb()})
    )


def measure(path: Path, readers: list[str], runs: int) -> list[dict[str, Any]]:
    results: dict[str, list[dict[str, Any]]] = {r: [] for r in readers}
    loads = []
    for _ in range(runs):
        for reader in readers:  # the readers take turns
            loads.append(load_average())
            results[reader].append(
                run_child(Path(__file__), ["--reader", reader, "--file", str(path)])
            )
    xml = sum(m.file_size for m in zipfile.ZipFile(path).infolist())
    rows = []
    base = statistics.median(r["cpu"] for r in results["calamine"]) if "calamine" in results else 0
    for reader, runs_of in results.items():
        cpu = spread([r["cpu"] for r in runs_of])
        rows.append(
            {
                "reader": reader,
                "rows": runs_of[0]["rows"],
                "xml_mib": xml / 2**20,
                "wall": spread([r["wall"] for r in runs_of]),
                "cpu": cpu,
                "rows_per_s": spread([r["rows"] / r["wall"] for r in runs_of]),
                "rss": spread([r["rss"] for r in runs_of]),
                "cpu_vs_calamine": cpu["median"] / base if base else None,
                "load": "–".join(sorted({loads[0], loads[-1]})),
            }
        )
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    head = (
        "| Reader | Rows | XML MiB | Wall s | CPU s | Rows/s | Peak RSS MiB | CPU / calamine "
        "| Load |\n|---|---|---|---|---|---|---|---|---|"
    )
    lines = [head]
    for r in rows:
        ratio = f"{r['cpu_vs_calamine']:.2f}×" if r["cpu_vs_calamine"] else "–"
        lines.append(
            f"| {r['reader']} | {r['rows']:,} | {r['xml_mib']:.0f} | {fmt(r['wall'], 2)} "
            f"| {fmt(r['cpu'], 2)} | {fmt(r['rows_per_s'])} | {fmt(r['rss'])} | {ratio} "
            f"| {r['load']} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--reader", choices=READERS, help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help="an XLSX file (else a generated portfolio's)")
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--readers", nargs="+", choices=READERS, default=list(READERS))
    parser.add_argument("--keep", type=Path, help="keep the generated portfolio in this folder")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.child:
        child(args.reader, args.file)
        return 0
    if args.file:
        rows = measure(args.file, args.readers, args.runs)
    elif args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        folder = portfolio(args.keep, args.invoices)
        rows = measure(folder / "distrib-pro" / "invoices.xlsx", args.readers, args.runs)
    else:
        with tempfile.TemporaryDirectory(prefix="xlsx-read-") as tmp:
            folder = portfolio(Path(tmp), args.invoices)
            rows = measure(folder / "distrib-pro" / "invoices.xlsx", args.readers, args.runs)
    print(json.dumps(rows, indent=2) if args.json else f"{machine()}\n\n{table(rows)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
