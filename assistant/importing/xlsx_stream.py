"""Stream the rows of an XLSX worksheet one at a time, with memory that does not grow with rows.

`iter_xlsx_rows(path, sheet)` yields `(row number, cells)` for each non-blank row, the way
`read_xlsx` has always given them: the sheet's own 1-based row numbers, the sheet's own
column indexes (empty columns on the left kept as None), each row as wide as its last
non-empty cell, text stripped (an empty text is None), numbers as floats, date-formatted
numbers as `date` / `datetime` / `time` / `timedelta` exactly as python-calamine converts them,
booleans, and error cells as the text Excel shows (`#N/A`, `#DIV/0!`).

How: `check_zip` runs first (nothing is inflated before the zip-bomb and size checks), then
the worksheet member is inflated 64 KiB at a time and fed to expat (C), whose handlers keep
only the current row. Held in memory besides: the shared strings (unique texts, within the
size cap), one flag per cell style (date, duration or neither) and a small memo of converted
dates. The workbook parts (workbook.xml, its relationships, styles.xml) are read the same way,
keeping only the attributes needed.
"""

from __future__ import annotations

import math
import re
import zipfile
from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import IO, Any
from xml.parsers import expat

from assistant.importing import reading
from assistant.importing.reading import FileReadError, check_zip
from assistant.importing.values import Cell

_CHUNK = 1 << 16
_NS_SEP = "\x01"  # expat joins namespace and local name with this: never in an XML name
_REL_WORKSHEET = "/worksheet"
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

# What a number format makes of a number (calamine's CellFormat).
_PLAIN, _DATETIME, _DURATION = 0, 1, 2
_BUILTIN_DATES = {14, 15, 16, 17, 18, 19, 20, 21, 22, 45, 47}
_BUILTIN_DURATIONS = {46}

_MS_PER_DAY = 86_400_000.0
_EPOCH = datetime(1899, 12, 30)
_DIFF_1904 = 1462.0
_MEMO_LIMIT = 1 << 16


def iter_xlsx_rows(path: Path, sheet: str | None = None) -> Iterator[tuple[int, list[Cell]]]:
    """Yield (sheet row number, cells) for each non-blank row of the first or named sheet.

    Raises FileReadError for a file that is not a workbook, a missing sheet, a zip member
    beyond the caps, a row number beyond MAX_ROWS, a non-empty cell beyond MAX_COLUMNS, a text
    longer than MAX_CELL_CHARS, rows out of order or a malformed worksheet.
    """
    check_zip(path)
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise FileReadError(f"{path}: not a readable XLSX workbook ({exc})") from exc
    with archive:
        book = _Workbook.read(archive, path)
        member = book.worksheet(sheet)
        strings = _shared_strings(archive, book.strings_member, path)
        kinds = _style_kinds(archive, book.styles_member, path)
        try:
            stream = archive.open(member)
        except (KeyError, zipfile.BadZipFile, OSError) as exc:
            raise FileReadError(f"{path}: not a readable XLSX workbook ({exc})") from exc
        with stream:
            yield from _SheetReader(path, strings, kinds, book.date1904).rows(stream)


# --- workbook parts -------------------------------------------------------------------------


def _local(name: str) -> str:
    """The local part of an expat name `namespace<sep>local` (or the name itself)."""
    return name.rpartition(_NS_SEP)[2]


def _new_parser(path: Path, namespaces: bool) -> Any:
    parser = expat.ParserCreate(namespace_separator=_NS_SEP) if namespaces else expat.ParserCreate()
    parser.buffer_text = True

    def refuse_entities(*_: object) -> None:
        raise FileReadError(f"{path}: the workbook declares XML entities; refused")

    parser.EntityDeclHandler = refuse_entities  # no entity expansion, whatever expat allows
    return parser


def _feed(parser: Any, stream: IO[bytes], path: Path, member: str) -> Iterator[None]:
    """Feed `stream` to `parser` one chunk at a time, yielding after each chunk."""
    try:
        while chunk := stream.read(_CHUNK):
            parser.Parse(chunk, False)
            yield
        parser.Parse(b"", True)
    except expat.ExpatError as exc:
        raise FileReadError(f"{path}: {member} is not well-formed XML ({exc})") from exc
    except (zipfile.BadZipFile, OSError, EOFError) as exc:  # a corrupt member, a bad CRC
        raise FileReadError(f"{path}: not a readable XLSX workbook ({exc})") from exc
    yield


def _attributes(
    archive: zipfile.ZipFile, member: str, path: Path, keep: Callable[[list[str], dict], None]
) -> None:
    """Parse a small part, calling `keep(open element local names, attributes)` per element."""
    try:
        stream = archive.open(member)
    except KeyError:
        return
    except (zipfile.BadZipFile, OSError) as exc:
        raise FileReadError(f"{path}: not a readable XLSX workbook ({exc})") from exc
    parser = _new_parser(path, namespaces=True)
    stack: list[str] = []

    def start(name: str, attrs: dict) -> None:
        stack.append(_local(name))
        keep(stack, {_local(k): v for k, v in attrs.items()})  # `r:id` is `id`

    def end(_name: str) -> None:
        stack.pop()

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    with stream:
        for _ in _feed(parser, stream, path, member):
            pass


def _part_path(base: str, target: str) -> str:
    """Resolve a relationship target against the folder of its source part."""
    parts = [] if target.startswith("/") else base.split("/")
    for piece in target.lstrip("/").split("/"):
        if piece == "..":
            if parts:
                parts.pop()
        elif piece not in ("", "."):
            parts.append(piece)
    return "/".join(parts)


class _Workbook:
    """The sheets of a workbook (in order), where its parts are, and its date system."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sheets: list[tuple[str, str]] = []  # (name, relationship id)
        self.targets: dict[str, tuple[str, str]] = {}  # id -> (member, type)
        self.date1904 = False
        self.strings_member = "xl/sharedStrings.xml"
        self.styles_member = "xl/styles.xml"

    @classmethod
    def read(cls, archive: zipfile.ZipFile, path: Path) -> _Workbook:
        book = cls(path)
        names = set(archive.namelist())
        if "xl/workbook.xml" not in names:
            raise FileReadError(f"{path}: not a readable XLSX workbook (no xl/workbook.xml)")

        def workbook(stack: list[str], attrs: dict) -> None:
            if stack[-1] == "workbookPr":
                book.date1904 = attrs.get("date1904", "").lower() in ("1", "true")
            elif stack[-1] == "sheet" and len(stack) >= 2 and stack[-2] == "sheets":
                rid = attrs.get("id", "")
                book.sheets.append((attrs.get("name", ""), rid))

        def relationships(stack: list[str], attrs: dict) -> None:
            if stack[-1] == "Relationship":
                target = _part_path("xl", attrs.get("Target", ""))
                book.targets[attrs.get("Id", "")] = (target, attrs.get("Type", ""))
                if attrs.get("Type", "").endswith("/sharedStrings"):
                    book.strings_member = target
                elif attrs.get("Type", "").endswith("/styles"):
                    book.styles_member = target

        _attributes(archive, "xl/workbook.xml", path, workbook)
        _attributes(archive, "xl/_rels/workbook.xml.rels", path, relationships)
        return book

    def worksheet(self, sheet: str | None) -> str:
        """The zip member of the named sheet, or of the first worksheet."""
        names = [name for name, _ in self.sheets]
        if sheet is not None:
            if sheet not in names:
                raise FileReadError(f"{self.path}: no sheet {sheet!r} (sheets: {', '.join(names)})")
            rid = self.sheets[names.index(sheet)][1]
            member, kind = self.targets.get(rid, ("", ""))
            if member and not kind.endswith(_REL_WORKSHEET):
                raise FileReadError(f"{self.path}: sheet {sheet!r} is not a worksheet (a chart?)")
        else:
            member = next(
                (
                    self.targets[rid][0]
                    for _, rid in self.sheets
                    if rid in self.targets and self.targets[rid][1].endswith(_REL_WORKSHEET)
                ),
                "",
            )
            if not member:
                raise FileReadError(f"{self.path}: the workbook has no worksheet")
        if not member:
            raise FileReadError(f"{self.path}: not a readable XLSX workbook (sheet {sheet!r})")
        return member


def _style_kinds(archive: zipfile.ZipFile, member: str, path: Path) -> dict[str, int]:
    """Map each cell style index (as written in `s="…"`) to _PLAIN, _DATETIME or _DURATION."""
    custom: dict[str, str] = {}
    xf_formats: list[str] = []

    def keep(stack: list[str], attrs: dict) -> None:
        if stack[-1] == "numFmt" and len(stack) >= 2 and stack[-2] == "numFmts":
            custom[attrs.get("numFmtId", "")] = attrs.get("formatCode", "")
        elif stack[-1] == "xf" and len(stack) >= 2 and stack[-2] == "cellXfs":
            xf_formats.append(attrs.get("numFmtId", "0"))

    _attributes(archive, member, path, keep)
    kinds: dict[str, int] = {}
    for index, fmt in enumerate(xf_formats):
        if fmt in custom:
            kind = number_format_kind(custom[fmt])
        else:
            number = int(fmt) if fmt.isdigit() else -1
            kind = (
                _DATETIME
                if number in _BUILTIN_DATES
                else _DURATION
                if number in _BUILTIN_DURATIONS
                else _PLAIN
            )
        if kind != _PLAIN:
            kinds[str(index)] = kind
    return kinds


def number_format_kind(code: str) -> int:
    """Tell a date/time format from a duration (`[h]:mm`) or a plain number format.

    The rule of calamine (and openpyxl): only the first section counts; quoted text, escaped
    (`\\`), skipped (`_`) and fill (`*`) characters are literals; a bracket such as `[Red]` or
    `[$-40C]` is skipped, but `[h]`, `[mm]` or `[s]` make a duration; `d`, `m`, `h`, `y`, `s`
    outside brackets, or AM/PM, make a date.
    """
    escaped = quoted = ampm = hms = False
    brackets = 0
    prev = " "
    for ch in code:
        if escaped:
            escaped = False
        elif ch in "_\\*":
            escaped = True
        elif quoted:
            if ch == '"':
                quoted = False
        elif ch == '"':
            quoted = True
        elif ch == ";":
            return _PLAIN
        elif ch == "[":
            brackets += 1
        elif ch == "]" and brackets == 1 and hms:
            return _DURATION
        elif ch == "]":
            brackets = max(brackets - 1, 0)
        elif ch in "aA" and not ampm and brackets == 0:
            ampm = True
        elif ch in "pm/PM" and ampm and brackets == 0:
            return _DATETIME
        elif ch in "dmhysDMHYS" and not ampm and brackets == 0:
            return _DATETIME
        elif not (hms and ch.lower() == prev.lower()):
            hms = prev == "[" and ch in "mhsMHS"
        prev = ch
    return _PLAIN


def _shared_strings(archive: zipfile.ZipFile, member: str, path: Path) -> list[str]:
    """The shared strings, rich text runs joined, phonetic runs (`rPh`) left out."""
    strings: list[str] = []
    try:
        stream = archive.open(member)
    except KeyError:
        return strings
    except (zipfile.BadZipFile, OSError) as exc:
        raise FileReadError(f"{path}: not a readable XLSX workbook ({exc})") from exc
    parser = _new_parser(path, namespaces=False)
    texts: list[str] = []
    in_text = False
    rph = 0  # depth of phonetic runs (`rPh`), whose text is left out
    names: dict[str, str] = {}  # `si` or `x:si` -> `si`, with the root's prefix

    def start(name: str, _attrs: dict) -> None:
        nonlocal in_text, rph
        if not names:  # the root, `sst` or `x:sst`: every name shares its prefix
            prefix = name[: -len("sst")] if name.endswith("sst") else ""
            names.update({prefix + n: n for n in ("si", "t", "rPh")})
        local = names.get(name)
        if local == "t":
            in_text = rph == 0
        elif local == "si":
            texts.clear()
        elif local == "rPh":
            rph += 1

    def end(name: str) -> None:
        nonlocal in_text, rph
        local = names.get(name)
        if local == "t":
            in_text = False
        elif local == "si":
            strings.append("".join(texts))
        elif local == "rPh":
            rph -= 1

    def chars(data: str) -> None:
        if in_text:
            texts.append(data)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    with stream:
        for _ in _feed(parser, stream, path, member):
            pass
    return strings


# --- cell values ----------------------------------------------------------------------------


def _round_half_away(x: float) -> int:
    """Round like Rust's f64::round (halves away from zero), exactly."""
    whole = math.floor(x) if x >= 0 else math.ceil(x)
    rest = abs(x - whole)
    return int(whole) + (0 if rest < 0.5 else 1 if x >= 0 else -1)


def excel_serial(value: float, kind: int, date1904: bool) -> Any:
    """Convert a date- or duration-formatted number as python-calamine 0.9 does.

    A duration is a `timedelta` (milliseconds). A date under 1 is a `time`; a whole number a
    `date`; any other a `datetime`; with the 1900 leap-year bug (serial 60 is 1900-02-28) and
    the 1904 system. Out of `datetime`'s range, the number itself.
    """
    if not math.isfinite(value):
        return value
    if kind == _DURATION:
        try:
            return timedelta(milliseconds=_round_half_away(value * _MS_PER_DAY))
        except OverflowError:
            return value
    serial = value + _DIFF_1904 if date1904 else value
    if serial < 60.0:
        serial += 1.0
    ms = _round_half_away(serial * _MS_PER_DAY)
    if value < 1.0:
        of_day = ms % 86_400_000
        return time(
            of_day // 3_600_000, of_day // 60_000 % 60, of_day // 1000 % 60, of_day % 1000 * 1000
        )
    try:
        moment = _EPOCH + timedelta(milliseconds=ms)
    except OverflowError:
        return value
    if value.is_integer() and value < 2.0**64:
        return moment.date()
    return moment


_ISO_DATETIME = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d)(?::(\d\d)(?:\.(\d{1,9}))?)?\Z")
_ISO_TIME = re.compile(r"(\d\d):(\d\d)(?::(\d\d)(?:\.(\d{1,9}))?)?\Z")
_ISO_DATE = re.compile(r"(\d{4})-(\d\d)-(\d\d)\Z")


def iso_cell(text: str) -> Any:
    """A `t="d"` cell (ISO 8601 text) as python-calamine gives it, or the text itself."""
    try:
        if "T" in text:
            if m := _ISO_DATETIME.match(text):
                y, mo, d, h, mi, s, frac = m.groups()
                micro = int((frac or "0").ljust(9, "0")[:6])
                return datetime(int(y), int(mo), int(d), int(h), int(mi), int(s or 0), micro)
        elif ":" in text:
            if m := _ISO_TIME.match(text):
                h, mi, s, frac = m.groups()
                return time(int(h), int(mi), int(s or 0), int((frac or "0").ljust(9, "0")[:6]))
        elif m := _ISO_DATE.match(text):
            return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        pass
    return text


def _column_index(letters: str) -> int:
    """0-based index of column letters (`A` is 0, `AA` is 26); -1 when not letters."""
    index = 0
    for ch in letters:
        code = ord(ch) - 64
        if not 1 <= code <= 26:
            code = ord(ch) - 96
            if not 1 <= code <= 26:
                return -1
        index = index * 26 + code
    return index - 1 if letters else -1


# --- the worksheet --------------------------------------------------------------------------


class _SheetReader:
    """Expat handlers that build one row at a time; finished rows wait in `done`.

    For speed, only the start of elements calls Python: the text goes straight into a list
    (`texts.append`, no Python frame), and a cell is finished when the next cell, row or other
    element starts. A value's text is then everything since its `<v>` or `<is>` started: its
    own text, and at most the white space that indents the XML (the value is stripped anyway).
    Only a rich inline string (`<is><r>…`) needs the ends of its runs: an end handler is set
    for the time of that cell.
    """

    def __init__(self, path: Path, strings: list[str], kinds: dict[str, int], date1904: bool):
        self.path = path
        self.strings = strings
        self.kinds = kinds
        self.date1904 = date1904

    def rows(self, stream: IO[bytes]) -> Iterator[tuple[int, list[Cell]]]:  # noqa: C901
        path, strings, kinds, date1904 = self.path, self.strings, self.kinds, self.date1904
        max_rows, max_columns = reading.MAX_ROWS, reading.MAX_COLUMNS
        max_chars = reading.MAX_CELL_CHARS
        done: list[tuple[int, list[Cell]]] = []
        columns: dict[str, int] = {}  # column letters -> index, filled as met
        memo: dict[tuple[str, int], Any] = {}  # (serial text, kind) -> date value
        digits = "0123456789"
        inline_types = ("inlineStr", "is")
        texts: list[str] = []  # the text met since the current row started
        parser = _new_parser(path, namespaces=False)

        # Element names with the prefix the root element uses (`c`, or `x:c`), set at the root.
        C = V = T = IS = ROW = R = RPH = F = "\x00"
        started = False
        # The row being read.
        in_row = False
        row_number = 0  # its number (0 until known: a row may take it from its first cell)
        last_row = 0  # the number of the previous row
        cells: list[Cell] = []  # (a `time` or `timedelta` too, as calamine gave them)
        # The cell being read.
        cattrs: dict[str, str] = {}
        col = -1
        source = 0  # where its value comes from: 0 nowhere (yet), 1 <v>, 2 <is>
        mark = 0  # where its value's text starts in `texts`
        stop = -1  # where it stops (-1: at the end)
        rich: list[str] | None = None  # the runs of a rich inline string
        run_mark = 0
        rph = 0  # depth of phonetic runs

        def fail(message: str) -> FileReadError:
            return FileReadError(f"{path}: {message}")

        def where() -> str:
            return f"row {row_number or last_row + 1}, column {col + 1}"

        def set_row(number: str) -> None:
            nonlocal row_number
            value = int(number) if number.isdigit() else 0
            if value < 1:
                raise fail(f"row {number[:20]!r}: not a row number")
            if value > max_rows:
                raise fail(f"more than {max_rows:,} rows")
            if value <= last_row:
                raise fail(f"row {value} comes after row {last_row}: rows out of order")
            row_number = value

        def column(ref: str) -> int:
            letters = ref.rstrip(digits)
            index = _column_index(letters)
            if index < 0 or len(letters) == len(ref):
                raise fail(f"a cell reference {ref[:20]!r} is not valid")
            columns[letters] = index
            return index

        def end_row() -> None:
            nonlocal in_row, last_row
            in_row = False
            if not row_number:
                set_row(str(last_row + 1))
            last_row = row_number
            if cells:
                done.append((row_number, cells))

        def start(name: str, attrs: dict[str, str]) -> None:
            nonlocal C, V, T, IS, ROW, R, RPH, F, started, in_row, row_number, cells
            nonlocal cattrs, col, source, mark, stop, rich, run_mark, rph
            if name == C:
                if source == 2 and rich is None and stop < 0 and len(texts) == mark + 1:
                    # the common inline string, finished here (a call less per cell)
                    value = texts[mark].strip()
                    if value:
                        if col >= max_columns or len(value) > max_chars:
                            check(value)
                        if col == len(cells):
                            cells.append(value)
                        else:
                            place(value)
                elif source:
                    finish()
                cattrs = attrs
                source = 0
                ref = attrs.get("r")
                if ref is None:
                    col += 1
                    return
                index = columns.get(ref.rstrip(digits))
                col = column(ref) if index is None else index
                if not row_number:  # a row without its number takes its first cell's
                    set_row(ref.lstrip(_LETTERS))
            elif name == V:
                source, mark, stop = 1, len(texts), -1
            elif name == IS:
                source, mark, stop, rich = 2, len(texts), -1, None  # (calamine: the last wins)
            elif name == T:
                if rich is not None and not rph:
                    run_mark = len(texts)
            elif name == ROW:
                if source:
                    finish()
                texts.clear()  # (within a row, `mark` and `stop` index the row's texts)
                if in_row:
                    end_row()
                in_row = True
                cells = []
                col = -1
                number = attrs.get("r")
                row_number = 0
                if number is not None:
                    set_row(number)
            elif name == R and source == 2 and rich is None:
                rich = []  # a rich inline string: follow the ends of its runs
                rph = 0
                parser.EndElementHandler = rich_end
            elif name == RPH and source == 2:
                if rich is not None:
                    rph += 1
                elif stop < 0:
                    stop = len(texts)  # phonetic text is not part of the value
            elif name == F:
                source = 0  # a formula's own text is not a value (calamine: the last one wins)
            elif not started:
                started = True
                prefix = name[: -len("worksheet")] if name.endswith("worksheet") else ""
                # expat hands out the names it interned: compare with those very strings
                C, V, T, IS, ROW, R, RPH, F = (
                    parser.intern.setdefault(prefix + n, prefix + n)
                    for n in ("c", "v", "t", "is", "row", "r", "rPh", "f")
                )
            elif source and rich is None:
                finish()  # after the cells (or an element of a cell's own): the value is whole

        def rich_end(name: str) -> None:
            nonlocal rph
            if rich is None:
                return
            if name == T:
                if not rph:
                    rich.append("".join(texts[run_mark:]))
            elif name == RPH:
                rph -= 1
            elif name == IS or name == C:
                parser.EndElementHandler = None

        def finish() -> None:
            nonlocal source
            kind = source
            source = 0
            if stop >= 0:
                raw = "".join(texts[mark:stop])
            elif len(texts) == mark + 1:
                raw = texts[mark]
            else:
                raw = "".join(texts[mark:])
            if kind == 2:
                value: Any = raw if rich is None else "".join(rich)
            else:
                typ = cattrs.get("t")
                if typ is None and raw and "_" not in raw and raw.isascii():
                    try:  # the common number, converted here
                        number = float(raw)
                    except ValueError:
                        value = raw
                    else:
                        style = cattrs.get("s")
                        if style is not None and kinds.get(style):
                            value = cell_value(raw, typ)
                        else:
                            value = number
                else:
                    value = cell_value(raw, typ)
                if value is None:
                    return
            if value.__class__ is str:
                if len(value) > max_chars:
                    check(value)
                value = value.strip()
                if not value:
                    return
            if col >= max_columns:
                check(value)
            if col == len(cells):
                cells.append(value)
            else:
                place(value)

        def check(value: Any) -> None:
            if col >= max_columns:
                raise fail(f"row {row_number or last_row + 1}: more than {max_columns:,} columns")
            if len(value) > max_chars:
                raise fail(
                    f"{where()}: a cell of {len(value):,} characters (at most {max_chars:,})"
                )

        def place(value: Any) -> None:
            width = len(cells)
            if col > width:
                cells.extend([None] * (col - width))
                cells.append(value)
            else:
                cells[col] = value

        def cell_value(raw: str, typ: str | None) -> Any:
            if typ is None or typ == "n":
                try:
                    if "_" in raw or not raw.isascii():  # float() takes `1_0` and other digits
                        raise ValueError(raw)
                    number = float(raw)
                except ValueError:
                    if typ is None or not raw.strip():
                        return raw  # calamine keeps a non-number as text; nothing is empty
                    raise fail(f"{where()}: {raw.strip()[:40]!r} is not a number") from None
                style = cattrs.get("s")
                kind = kinds.get(style) if style is not None else None
                if not kind:
                    return number
                key = (raw, kind)
                converted = memo.get(key)
                if converted is None:
                    if len(memo) >= _MEMO_LIMIT:
                        memo.clear()
                    converted = memo[key] = excel_serial(number, kind, date1904)
                return converted
            if typ == "s":
                raw = raw.strip()
                if not raw:
                    return None
                try:
                    index = int(raw)
                except ValueError:
                    index = 0  # as calamine reads an unreadable index
                if not 0 <= index < len(strings):
                    raise fail(f"{where()}: shared string {raw[:20]!r} does not exist")
                return strings[index]
            if typ == "str" or typ == "e":
                return raw
            if typ == "b":
                raw = raw.strip()
                return raw != "0" if raw else None
            if typ == "d":
                raw = raw.strip()
                return iso_cell(raw) if raw else None
            if typ in inline_types:
                return None  # a <v> in an inline string cell is ignored, as calamine does
            raise fail(f"{where()}: unknown cell type {str(typ)[:20]!r}")

        parser.StartElementHandler = start
        parser.CharacterDataHandler = texts.append
        for _ in _feed(parser, stream, path, "the worksheet"):
            if done:
                yield from done
                done.clear()
        if source:
            finish()
        if in_row:
            end_row()
        yield from done
