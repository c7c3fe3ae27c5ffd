"""File adapter: read a CSV or XLSX export into raw rows with their file line numbers.

The only module of the importer that opens files. It detects the encoding (UTF-8 with or
without BOM, then Windows-1252, then Latin-1) and the CSV delimiter (`;`, `,`, tab, `|`), and
streams XLSX worksheets with expat (`xlsx_stream`; openpyxl's reader is kept to cross-check
it). It does not interpret headers or values.

Limits keep a hostile file from exhausting memory or time: a workbook's zip members are
checked (declared sizes, compression ratio) before anything is decompressed, rows and columns
are capped, and a CSV cell may hold at most 1 MiB.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from assistant.importing.spill import SpilledRows
from assistant.importing.values import Cell

DELIMITERS = (";", ",", "\t", "|")
_SAMPLE_LINES = 50

MAX_ROWS = 1_048_576  # a spreadsheet's own limit
MAX_COLUMNS = 1_000
MAX_CELL_CHARS = 1 << 20  # 1 MiB: more than any invoice field
MAX_XLSX_UNCOMPRESSED = 256 << 20  # bytes, all zip members together
MAX_CSV_BYTES = 256 << 20
MAX_XLSX_RATIO = 200  # uncompressed / compressed, for members above 1 MiB
_RATIO_FLOOR = 1 << 20


class FileReadError(ValueError):
    """The file cannot be read as a table."""


@dataclass
class RawTable:
    """Rows of a file as found: `rows` holds (1-based line number, cells)."""

    rows: Sequence[tuple[int, list[Cell]]]  # a list, or rows spilled to disk (`open_table`)
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
    if path.stat().st_size > MAX_CSV_BYTES:
        raise FileReadError(f"{path}: larger than {MAX_CSV_BYTES >> 20} MiB; split the export")
    return read_csv(path.read_bytes(), str(path), delimiter=delimiter, encoding=encoding)


def open_table(
    path: Path,
    *,
    delimiter: str | None = None,
    encoding: str | None = None,
    sheet: str | None = None,
) -> RawTable:
    """Read `path` as `read_table` does, with its rows kept in a temp file, not in memory.

    The rows, lines, encoding and delimiter are those `read_table` gives, and so are the
    errors. The file is parsed once; the rows stream back from disk each time they are read.
    Close the table's rows (`rows.close()`) when done, or let them be collected.
    """
    if not path.is_file():
        raise FileReadError(f"{path}: no such file")
    if path.suffix.lower() in {".xlsx", ".xlsm"}:
        return RawTable(rows=SpilledRows(_xlsx_rows(path, sheet)), source=str(path), kind="xlsx")
    if path.suffix.lower() == ".xls":
        raise FileReadError(f"{path}: old .xls files are not supported; save as .xlsx or CSV")
    if path.stat().st_size > MAX_CSV_BYTES:
        raise FileReadError(f"{path}: larger than {MAX_CSV_BYTES >> 20} MiB; split the export")
    used = _stream_encoding(path, encoding)
    if used is None:  # `decode` refuses the file (or sees what a stream cannot): say why
        return read_csv(path.read_bytes(), str(path), delimiter=delimiter, encoding=encoding)
    if delimiter:
        delim = delimiter
    else:
        previous = csv.field_size_limit()
        csv.field_size_limit(max(path.stat().st_size + 1, previous))  # see read_csv
        try:
            delim = sniff_delimiter(_text_head(path, used))
        finally:
            csv.field_size_limit(previous)
    rows = SpilledRows(_csv_rows(path, str(path), used, delim))
    return RawTable(rows=rows, source=str(path), kind="csv", encoding=used, delimiter=delim)


_READ_CHUNK = 1 << 20


def _stream_encoding(path: Path, encoding: str | None) -> str | None:
    """Return the codec `decode` picks for the file, checked a chunk at a time (None: it fails)."""
    with path.open("rb") as fh:
        head = fh.read(3)
    if encoding:
        candidates = [encoding]
    elif head.startswith(b"\xef\xbb\xbf"):
        candidates = ["utf-8-sig"]
    elif head.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates = ["utf-16"]
    else:
        candidates = ["utf-8", "cp1252", "latin-1"]
    for candidate in candidates:
        try:
            decoder = codecs.getincrementaldecoder(candidate)(errors="strict")
            with path.open("rb") as fh:
                while chunk := fh.read(_READ_CHUNK):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
        except (UnicodeDecodeError, LookupError):
            continue
        return candidate
    return None


def _text_head(path: Path, encoding: str) -> str:
    """Return enough decoded text from the start of the file for `sniff_delimiter`."""
    size = 1 << 16
    with path.open(encoding=encoding, newline="") as fh:
        text = fh.read(size)
        while len(text.splitlines()) <= _SAMPLE_LINES + 2:
            more = fh.read(size)
            if not more:
                break
            text += more
            size *= 2
    return text


def _csv_rows(
    path: Path, source: str, encoding: str, delim: str
) -> Iterator[tuple[int, list[Cell]]]:
    """Yield the rows `read_csv` would give, parsing the file as a stream."""
    previous = csv.field_size_limit()
    csv.field_size_limit(max(path.stat().st_size + 1, previous))  # see read_csv
    try:
        with path.open(encoding=encoding, newline="") as fh:
            reader = csv.reader(fh, delimiter=delim)
            count, start = 0, 1
            try:
                for cells in reader:
                    _check_row(source, start, count, cells)
                    if any(c.strip() for c in cells):
                        count += 1
                        yield start, list(cells)
                    start = reader.line_num + 1
            except csv.Error as exc:
                raise FileReadError(f"{source}: line {reader.line_num}: {exc}") from exc
    finally:
        csv.field_size_limit(previous)


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
    # The csv module refuses fields over 128 KiB by default: lift that to the whole text (it
    # is in memory already) and apply our own cap below, with the cell's line and column.
    previous = csv.field_size_limit()
    csv.field_size_limit(max(len(text) + 1, previous))
    try:
        delim = delimiter or sniff_delimiter(text)
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
        rows: list[tuple[int, list[Cell]]] = []
        start = 1
        try:
            for cells in reader:
                _check_row(source, start, len(rows), cells)
                if any(c.strip() for c in cells):
                    rows.append((start, list(cells)))
                start = reader.line_num + 1
        except csv.Error as exc:
            raise FileReadError(f"{source}: line {reader.line_num}: {exc}") from exc
    finally:
        csv.field_size_limit(previous)
    return RawTable(rows=rows, source=source, kind="csv", encoding=used, delimiter=delim)


def _check_row(source: str, line: int, count: int, cells: list[str]) -> None:
    """Refuse a row beyond the caps (rows, columns, cell size), naming line and column."""
    if count >= MAX_ROWS:
        raise FileReadError(f"{source}: line {line}: more than {MAX_ROWS:,} rows")
    if len(cells) > MAX_COLUMNS:
        raise FileReadError(f"{source}: line {line}: more than {MAX_COLUMNS:,} columns")
    for number, cell in enumerate(cells, start=1):
        if len(cell) > MAX_CELL_CHARS:
            raise FileReadError(
                f"{source}: line {line}, column {number}: a cell of {len(cell):,} characters "
                f"(at most {MAX_CELL_CHARS:,})"
            )


def read_xlsx(path: Path, sheet: str | None = None) -> RawTable:
    """Read the first (or named) sheet of a workbook; lines are the sheet's row numbers.

    The rows come from `xlsx_stream.iter_xlsx_rows` (expat, one row at a time, after the
    zip checks). Cells once stripped: text, numbers (floats), dates (`date`, or `datetime` when
    the cell has a time), booleans, error cells as their text (`#N/A`), None for an empty
    cell. Each row is as wide as its last non-empty cell.
    """
    return RawTable(rows=list(_xlsx_rows(path, sheet)), source=str(path), kind="xlsx")


def _xlsx_rows(path: Path, sheet: str | None) -> Iterator[tuple[int, list[Cell]]]:
    """Yield (sheet row number, cells) of each non-blank row: the one XLSX row source.

    Both `read_xlsx` and the streamed `open_table` read workbooks through here. The streaming
    reader (`xlsx_stream.iter_xlsx_rows`) runs the zip-bomb and size checks before anything is
    inflated, and holds one row at a time.
    """
    from assistant.importing.xlsx_stream import iter_xlsx_rows

    return iter_xlsx_rows(path, sheet)


def read_xlsx_openpyxl(path: Path, sheet: str | None = None) -> RawTable:
    """Read a workbook with openpyxl (the reference reader, kept to cross-check `read_xlsx`)."""
    from openpyxl import load_workbook

    check_zip(path)
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds
        raise FileReadError(f"{path}: not a readable XLSX workbook ({exc})") from exc
    try:
        if sheet is not None and sheet not in wb.sheetnames:
            raise FileReadError(f"{path}: no sheet {sheet!r} (sheets: {', '.join(wb.sheetnames)})")
        ws = wb[sheet] if sheet else wb.worksheets[0]
        rows: list[tuple[int, list[Cell]]] = []
        # Each row as wide as its own last cell (not padded to the sheet's declared size or
        # to the cap: padding 10 real cells to 1,001 made reading 10 times slower).
        ws.reset_dimensions()  # type: ignore[union-attr]
        values_by_row = ws.iter_rows(values_only=True)
        for number, values in enumerate(values_by_row, start=1):
            if number > MAX_ROWS:
                raise FileReadError(f"{path}: more than {MAX_ROWS:,} rows")
            if len(values) > MAX_COLUMNS and any(v not in (None, "") for v in values[MAX_COLUMNS:]):
                raise FileReadError(f"{path}: row {number}: more than {MAX_COLUMNS:,} columns")
            cells: list[Cell] = [
                v.strip() if isinstance(v, str) else v for v in values[:MAX_COLUMNS]
            ]
            if any(c is not None and c != "" for c in cells):
                rows.append((number, cells))
    finally:
        wb.close()
    return RawTable(rows=rows, source=str(path), kind="xlsx")


def check_zip(path: Path) -> None:
    """Refuse a workbook whose zip members would decompress beyond the caps (a zip bomb).

    Reads only the zip directory; Python's zipfile never inflates a member beyond the size
    declared there, so the check holds for what openpyxl reads next.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise FileReadError(f"{path}: not a readable XLSX workbook ({exc})") from exc
    total = sum(m.file_size for m in members)
    if total > MAX_XLSX_UNCOMPRESSED:
        raise FileReadError(
            f"{path}: the workbook would decompress to {total / 2**20:,.0f} MiB "
            f"(at most {MAX_XLSX_UNCOMPRESSED >> 20} MiB); export it as CSV"
        )
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > _RATIO_FLOOR and ratio > MAX_XLSX_RATIO:
            raise FileReadError(
                f"{path}: {member.filename} is compressed {ratio:,.0f} to 1 "
                f"(at most {MAX_XLSX_RATIO} to 1): not an export, refused"
            )
