"""File adapter: read a CSV or XLSX export into raw rows with their file line numbers.

The only module of the importer that opens files. It detects the encoding (UTF-8 with or
without BOM, then Windows-1252, then Latin-1) and the CSV delimiter (`;`, `,`, tab, `|`), and
reads XLSX with openpyxl in read-only mode. It does not interpret headers or values.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from assistant.importing.values import Cell

DELIMITERS = (";", ",", "\t", "|")
_SAMPLE_LINES = 50


class FileReadError(ValueError):
    """The file cannot be read as a table."""


@dataclass
class RawTable:
    """Rows of a file as found: `rows` holds (1-based line number, cells)."""

    rows: list[tuple[int, list[Cell]]]
    source: str
    kind: str  # csv | xlsx
    encoding: str | None = None
    delimiter: str | None = None
    notes: list[str] = field(default_factory=list)


class TableReader(Protocol):
    """Anything that turns a path into a RawTable (the importer's file seam)."""

    def __call__(
        self,
        path: Path,
        *,
        delimiter: str | None = None,
        encoding: str | None = None,
        sheet: str | None = None,
    ) -> RawTable: ...


def read_table(
    path: Path,
    *,
    delimiter: str | None = None,
    encoding: str | None = None,
    sheet: str | None = None,
) -> RawTable:
    """Read `path` (CSV, TXT or XLSX) into a RawTable."""
    if not path.is_file():
        raise FileReadError(f"{path}: no such file")
    if path.suffix.lower() in {".xlsx", ".xlsm"}:
        return read_xlsx(path, sheet=sheet)
    if path.suffix.lower() == ".xls":
        raise FileReadError(f"{path}: old .xls files are not supported; save as .xlsx or CSV")
    return read_csv(path.read_bytes(), str(path), delimiter=delimiter, encoding=encoding)


def decode(data: bytes, encoding: str | None = None) -> tuple[str, str]:
    """Decode bytes: `encoding` when given, else UTF-8 (BOM or not), cp1252, latin-1."""
    if encoding:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError as exc:
            raise FileReadError(f"not valid {encoding} at byte {exc.start}") from exc
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    for candidate in ("utf-8", "cp1252"):
        try:
            return data.decode(candidate), candidate
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1"), "latin-1"


def sniff_delimiter(text: str) -> str:
    """Pick the delimiter that splits the first lines into the most consistent columns."""
    sample = [line for line in text.splitlines()[:_SAMPLE_LINES] if line.strip()]
    best, best_score = ";", (-1, -1)
    for delim in DELIMITERS:
        counts = [len(row) for row in csv.reader(sample, delimiter=delim)]
        if not counts:
            continue
        width, rows = Counter(counts).most_common(1)[0]
        score = (rows if width > 1 else 0, width)
        if score > best_score:
            best, best_score = delim, score
    return best


def read_csv(
    data: bytes, source: str, *, delimiter: str | None = None, encoding: str | None = None
) -> RawTable:
    """Parse CSV bytes; a quoted cell may span lines (the row keeps its first line)."""
    text, used = decode(data, encoding)
    delim = delimiter or sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    rows: list[tuple[int, list[Cell]]] = []
    start = 1
    try:
        for cells in reader:
            if any(c.strip() for c in cells):
                rows.append((start, list(cells)))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise FileReadError(f"{source}: line {reader.line_num}: {exc}") from exc
    return RawTable(rows=rows, source=source, kind="csv", encoding=used, delimiter=delim)


def read_xlsx(path: Path, sheet: str | None = None) -> RawTable:
    """Read the first (or named) sheet of a workbook; lines are the sheet's row numbers."""
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds
        raise FileReadError(f"{path}: not a readable XLSX workbook ({exc})") from exc
    try:
        if sheet is not None and sheet not in wb.sheetnames:
            raise FileReadError(f"{path}: no sheet {sheet!r} (sheets: {', '.join(wb.sheetnames)})")
        ws = wb[sheet] if sheet else wb.worksheets[0]
        rows: list[tuple[int, list[Cell]]] = []
        for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
            cells: list[Cell] = [v.strip() if isinstance(v, str) else v for v in values]
            if any(c is not None and c != "" for c in cells):
                rows.append((number, cells))
    finally:
        wb.close()
    return RawTable(rows=rows, source=str(path), kind="xlsx")
