"""The XLSX reader (`xlsx_stream`, expat) reads what the reference readers read.

Same row numbers, same cells once stripped, same rows and errors after checking as openpyxl,
and the same cells with the same Python types as python-calamine (the reader the importer used
before; a dev dependency now, kept to check this one): on the shipped example, on messy
workbooks built with openpyxl (title rows, blank rows, a table that starts in column B, merged
headers, dates as dates, serials or text, numbers stored as text, several sheets) and on
hand-written XML like other writers' (shared strings, rich text, inline strings, error cells,
formulas, custom date formats, the 1904 date system, cells and rows without references).
Hostile workbooks are refused with the reason and nothing inflated beyond the caps.
"""

from __future__ import annotations

import tracemalloc
import zipfile
import zlib
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from assistant.importing import reading
from assistant.importing.mapping import parse_mapping
from assistant.importing.reading import (
    FileReadError,
    RawTable,
    read_table,
    read_xlsx,
    read_xlsx_openpyxl,
)
from assistant.importing.rows import parse_invoice_rows
from assistant.importing.values import Cell, cell_text
from assistant.importing.xlsx_stream import iter_xlsx_rows, number_format_kind

ROOT = Path(__file__).resolve().parents[2]
HEADER = ["Code client", "Client", "N° facture", "Date facture", "Échéance", "Montant TTC", "Solde"]


def _same(value: Cell) -> Any:
    """What a user would see of a cell: openpyxl says 1 and 2026-01-02 00:00, calamine 1.0."""
    if isinstance(value, str) and not value:
        return None
    if isinstance(value, datetime) and value.time() == time(0):
        return value.date()
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def _rows(table: RawTable) -> list[tuple[int, list[Any]]]:
    out = []
    for line, cells in table.rows:
        same = [_same(c) for c in cells]
        while same and same[-1] is None:
            same.pop()
        out.append((line, same))
    return out


def _calamine_rows(path: Path, sheet: str | None = None) -> list[tuple[int, list[Any]]]:
    """The rows as the importer's python-calamine reader gave them (before `xlsx_stream`)."""
    calamine = pytest.importorskip("python_calamine")
    wb = calamine.CalamineWorkbook.from_path(str(path))
    try:
        if sheet is None:
            kinds = [(m.name, m.typ) for m in wb.sheets_metadata]
            sheet = next(n for n, t in kinds if t == calamine.SheetTypeEnum.WorkSheet)
        ws = wb.get_sheet_by_name(sheet)
        if ws.start is None:
            return []
        pad: list[Any] = [None] * ws.start[1]
        rows = []
        for number, values in enumerate(ws.iter_rows(), start=1):
            cells = [(v.strip() or None) if isinstance(v, str) else v for v in values]
            while cells and cells[-1] is None:
                cells.pop()
            if cells:
                rows.append((number, pad + cells))
        return rows
    finally:
        wb.close()


def _typed(rows: list[tuple[int, list[Any]]]) -> list[tuple[int, list[tuple[type, Any]]]]:
    """Rows with each cell's type beside it: 1.0 is not 1, date(…) is not datetime(…)."""
    return [(line, [(type(c), c) for c in cells]) for line, cells in rows]


def _assert_same(path: Path, sheet: str | None = None, errors: bool = False) -> RawTable:
    """Read `path` with the three readers and compare them cell by cell.

    With `errors`, error cells (`#N/A`) are left out of the calamine comparison: calamine
    reads them as empty cells, this reader and openpyxl as their text.
    """
    new, old = read_xlsx(path, sheet), read_xlsx_openpyxl(path, sheet)
    assert _rows(new) == _rows(old)
    assert [_trim([cell_text(c) for c in cells], "") for _, cells in new.rows] == [
        _trim([cell_text(c) for c in cells], "") for _, cells in old.rows
    ]
    _assert_like_calamine(path, sheet, errors)
    return new


def _assert_like_calamine(path: Path, sheet: str | None = None, errors: bool = False) -> None:
    streamed = list(iter_xlsx_rows(path, sheet))
    assert streamed == read_xlsx(path, sheet).rows
    if errors:
        streamed = [(n, [None if _is_error(c) else c for c in cells]) for n, cells in streamed]
        streamed = [(n, cells) for n, cells in ((n, _trim(c)) for n, c in streamed) if cells]
    assert _typed(streamed) == _typed(_calamine_rows(path, sheet))


def _is_error(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("#") and value[-1:] in "!?A"


def _trim(cells: list[Any], empty: Any = None) -> list[Any]:
    while cells and cells[-1] == empty:
        cells = cells[:-1]
    return cells


def _checked(table: RawTable, mapping: Any = None) -> tuple[list[Any], list[Any]]:
    parsed = parse_invoice_rows(table, mapping)
    return parsed.rows, parsed.errors


def _messy(path: Path) -> None:
    wb = Workbook()
    cover = wb.active
    cover.title = "Notes"
    cover["A1"] = "Export du 26/11/2026"
    ws = wb.create_sheet("Balance")
    ws["B1"] = "Grand livre clients"
    ws.merge_cells("B1:H1")
    for col, head in enumerate(HEADER, start=2):
        ws.cell(row=3, column=col, value=f"  {head} ")
    rows = [
        ["C1", "Alpha SARL", "F-1", datetime(2026, 9, 1), date(2026, 10, 1), 1234.5, 1234.5],
        ["C1", "Alpha SARL", "F-2", "01/09/2026", 46296, "99,90", "0"],
        None,  # a blank row: the next line keeps its own number
        ["C2", "  Béta  ", 20261002, 46266, "2026-10-15", 12, 12.25],
        ["C2", "Béta", "F-4", datetime(2026, 9, 3, 14, 30), "hier", "beaucoup", None],
        ["C3", "Gamma", "F-5", None, None, True, -3],
        ["Total", None, None, None, None, 1346.65, 1246.75],
    ]
    for offset, values in enumerate(rows):
        for col, value in enumerate(values or [], start=2):
            ws.cell(row=4 + offset, column=col, value=value)
    ws.cell(row=7, column=6).number_format = "dd/mm/yyyy"  # a serial shown as a date
    ws.cell(row=12, column=12).number_format = "0.00"  # a styled empty cell far right
    wb.save(path)


def test_the_shipped_example_workbook_reads_the_same() -> None:
    path = ROOT / "examples" / "distrib-pro" / "invoices.xlsx"
    table = _assert_same(path)
    old = read_xlsx_openpyxl(path)
    mapping = parse_mapping((path.parent / "mapping.yaml").read_text(encoding="utf-8"))
    assert _checked(table, mapping) == _checked(old, mapping)
    assert table.rows[0][0] == 1 and len(table.rows) > 10


def test_a_messy_workbook_reads_the_same_cell_by_cell(tmp_path: Path) -> None:
    path = tmp_path / "messy.xlsx"
    _messy(path)
    table = _assert_same(path, "Balance")
    assert [line for line, _ in table.rows] == [1, 3, 4, 5, 7, 8, 9, 10]
    assert table.rows[1][1][:2] == [None, "Code client"]  # the table starts in column B
    assert _checked(table) == _checked(read_xlsx_openpyxl(path, "Balance"))
    rows, errors = _checked(table)
    assert [(r.line, r.number, str(r.amount)) for r in rows] == [
        (4, "F-1", "1234.50"),
        (5, "F-2", "99.90"),
    ]
    assert [(e.line, e.column, e.value) for e in errors] == [
        (7, "Solde", "12.25"),
        (8, "Échéance", "hier"),
        (8, "Montant TTC", "beaucoup"),
        (9, "Échéance", ""),
        (9, "Montant TTC", "True"),
    ]
    assert _rows(read_xlsx(path)) == _rows(read_xlsx_openpyxl(path))  # the first sheet


def test_an_unknown_sheet_is_refused_with_the_sheet_names(tmp_path: Path) -> None:
    path = tmp_path / "messy.xlsx"
    _messy(path)
    with pytest.raises(FileReadError, match=r"no sheet 'Feuil1' \(sheets: Notes, Balance\)"):
        read_table(path, sheet="Feuil1")


NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"


def _styles(formats: list[str], custom: dict[int, str] | None = None) -> str:
    """styles.xml's content: cell style n has number format `formats[n]`; custom codes."""
    codes = "".join(
        f"<numFmt numFmtId='{i}' formatCode='{code}'/>" for i, code in (custom or {}).items()
    )
    xfs = "".join(f"<xf numFmtId='{f}' applyNumberFormat='1'/>" for f in formats)
    return (
        (f"<numFmts count='{len(custom or {})}'>{codes}</numFmts>" if custom else "")
        + "<fonts count='1'><font><sz val='11'/></font></fonts>"
        "<fills count='1'><fill><patternFill patternType='none'/></fill></fills>"
        "<borders count='1'><border><left/><right/><top/><bottom/><diagonal/></border>"
        "</borders><cellStyleXfs count='1'><xf/></cellStyleXfs>"
        f"<cellXfs count='{len(formats)}'>{xfs}</cellXfs><cellStyles count='1'>"
        "<cellStyle name='Normal' xfId='0' builtinId='0'/></cellStyles>"
    )


DATE_STYLES = _styles(["0", "14"])


def _book(
    path: Path,
    sheets: list[tuple[str, str]],
    *,
    strings: str = "",
    styles: str = DATE_STYLES,
    workbook_pr: str = "",
    first_kind: str = "worksheet",
    prefix: str = "",
) -> None:
    """Write a workbook by hand: `sheets` are (name, sheetData XML), in the workbook's order.

    The worksheet members are numbered backwards (the first sheet is the last file), so the
    order comes from workbook.xml, not from the file names. `first_kind` may make the first
    sheet a chartsheet; `prefix` writes the SpreadsheetML elements as `x:c`, `x:row`…
    """
    p = f"{prefix}:" if prefix else ""
    xmlns = f"xmlns:{prefix}='{NS}'" if prefix else f"xmlns='{NS}'"
    entries, rels, files, types = [], [], {}, []
    ct = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    for n, (name, data) in enumerate(sheets, start=1):
        member = f"sheet{len(sheets) + 1 - n}.xml"
        kind = first_kind if n == 1 else "worksheet"
        folder = "worksheets" if kind == "worksheet" else "chartsheets"
        entries.append(f"<{p}sheet name='{name}' sheetId='{n}' r:id='rId{n}'/>")
        rels.append(f"<Relationship Id='rId{n}' Type='{REL}/{kind}' Target='{folder}/{member}'/>")
        root = f"{p}worksheet" if kind == "worksheet" else f"{p}chartsheet"
        types.append(f"<Override PartName='/xl/{folder}/{member}' ContentType='{ct}.{kind}+xml'/>")
        files[f"xl/{folder}/{member}"] = (
            f"<{root} {xmlns}><{p}sheetData>{data}</{p}sheetData></{root}>"
        )
    rels.append(f"<Relationship Id='rIdS' Type='{REL}/sharedStrings' Target='sharedStrings.xml'/>")
    rels.append(f"<Relationship Id='rIdT' Type='{REL}/styles' Target='/xl/styles.xml'/>")
    files |= {
        "[Content_Types].xml": (
            "<Types xmlns='http://schemas.openxmlformats.org/package/2006/content-types'>"
            "<Default Extension='rels' ContentType='application/vnd.openxmlformats-package."
            "relationships+xml'/><Default Extension='xml' ContentType='application/xml'/>"
            "<Override PartName='/xl/workbook.xml' ContentType='application/vnd.openxmlformats-"
            f"officedocument.spreadsheetml.sheet.main+xml'/>{''.join(types)}"
            f"<Override PartName='/xl/sharedStrings.xml' ContentType='{ct}.sharedStrings+xml'/>"
            f"<Override PartName='/xl/styles.xml' ContentType='{ct}.styles+xml'/></Types>"
        ),
        "_rels/.rels": (
            f"<Relationships xmlns='{PKG}'><Relationship Id='rId1' "
            f"Type='{REL}/officeDocument' Target='xl/workbook.xml'/></Relationships>"
        ),
        "xl/workbook.xml": (
            f"<{p}workbook {xmlns} xmlns:r='{REL}'>{workbook_pr}<{p}sheets>{''.join(entries)}"
            f"</{p}sheets></{p}workbook>"
        ),
        "xl/_rels/workbook.xml.rels": f"<Relationships xmlns='{PKG}'>{''.join(rels)}</Relationships>",
        "xl/sharedStrings.xml": f"<{p}sst {xmlns}>{strings}</{p}sst>",
        "xl/styles.xml": f"<{p}styleSheet {xmlns}>{styles}</{p}styleSheet>",
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text)


def _excel_like(path: Path, cells: str, strings: list[str]) -> None:
    """Write a minimal workbook as Excel does: shared strings, a date style, no dimension."""
    shared = "".join(f"<si><t xml:space='preserve'>{s}</t></si>" for s in strings)
    _book(path, [("Feuil1", cells)], strings=shared)


_STRINGS = ["Code client", "Client", "N° facture", "Échéance", "Solde", "C1", "Alpha", " F-1 "]


def _sheet(solde: str) -> str:
    head = "".join(f"<c r='{c}2' t='s'><v>{i}</v></c>" for i, c in enumerate("ABCDE"))
    row = (
        "<c r='A4' t='s'><v>5</v></c><c r='B4' t='s'><v>6</v></c><c r='C4' t='s'><v>7</v></c>"
        f"<c r='D4' s='1'><v>46296</v></c>{solde}"
        "<c r='F4' t='str'><f>B4</f><v>Alpha</v></c><c r='G4' t='b'><v>1</v></c>"
    )
    return f"<row r='2'>{head}</row><row r='4'>{row}</row>"


def test_shared_strings_styles_and_formulas_read_like_excel_wrote_them(tmp_path: Path) -> None:
    path = tmp_path / "excel.xlsx"
    _excel_like(path, _sheet("<c r='E4'><f>1+1</f><v>120.5</v></c>"), _STRINGS)
    table = _assert_same(path)
    assert table.rows == [
        (2, ["Code client", "Client", "N° facture", "Échéance", "Solde"]),
        (4, ["C1", "Alpha", "F-1", date(2026, 10, 1), 120.5, "Alpha", True]),
    ]


def test_an_error_cell_is_read_as_excel_shows_it_and_refused_on_its_line(tmp_path: Path) -> None:
    path = tmp_path / "excel.xlsx"
    _excel_like(
        path, _sheet("<c r='E4' t='e'><f>VLOOKUP(A4,X!A:B,2,0)</f><v>#N/A</v></c>"), _STRINGS
    )
    table = read_table(path)
    assert table.rows[1][1][:5] == ["C1", "Alpha", "F-1", date(2026, 10, 1), "#N/A"]
    _assert_same(path, errors=True)
    rows, errors = _checked(table)
    assert rows == [] and (4, "Solde", "#N/A") in [(e.line, e.column, e.value) for e in errors]


# --- the cases other writers produce ---------------------------------------------------------


def _row(number: int | None, cells: str) -> str:
    return f"<row r='{number}'>{cells}</row>" if number else f"<row>{cells}</row>"


def test_inline_strings_and_rich_text_read_as_their_plain_text(tmp_path: Path) -> None:
    path = tmp_path / "inline.xlsx"
    shared = (
        "<si><t>Code client</t></si>"
        "<si><r><rPr><b/></rPr><t>Mon</t></r><r><t xml:space='preserve'>tant </t></r>"
        "<r><t>TTC</t></r></si>"
        "<si><t>東京</t><rPh sb='0' eb='2'><t>トウキョウ</t></rPh><phoneticPr fontId='1'/></si>"
    )
    cells = _row(
        1, "<c r='A1' t='s'><v>0</v></c><c r='B1' t='s'><v>1</v></c><c r='C1' t='s'><v>2</v></c>"
    ) + _row(
        2,
        "<c r='A2' t='inlineStr'><is><t> C1 </t></is></c>"
        "<c r='B2' t='inlineStr'><is><r><t>12</t></r><r><rPr><i/></rPr><t>,50</t></r></is></c>"
        "<c r='C2' t='inlineStr'><is><t>大阪</t><rPh sb='0' eb='2'><t>オオサカ</t></rPh></is></c>"
        "<c r='D2' t='inlineStr'><is><t>   </t></is></c>",
    )
    _book(path, [("Feuil1", cells)], strings=shared)
    table = _assert_same(path)
    assert table.rows == [(1, ["Code client", "Montant TTC", "東京"]), (2, ["C1", "12,50", "大阪"])]


def test_dates_in_the_1904_system_read_as_excel_shows_them(tmp_path: Path) -> None:
    path = tmp_path / "mac.xlsx"
    cells = _row(1, "<c r='A1' s='1'><v>44834</v></c><c r='B1' s='1'><v>0</v></c>")
    _book(path, [("Feuil1", cells)], workbook_pr="<workbookPr date1904='1'/>")
    _assert_same(path)
    assert read_xlsx(path).rows == [(1, [date(2026, 10, 1), time(0, 0)])]
    _book(path, [("Feuil1", cells)], workbook_pr="<workbookPr date1904='true'/>")
    assert read_xlsx(path).rows == [(1, [date(2026, 10, 1), time(0, 0)])]
    _book(path, [("Feuil1", cells)], workbook_pr="<workbookPr date1904='0'/>")
    assert read_xlsx(path).rows == [(1, [date(2022, 9, 30), time(0, 0)])]


CUSTOM_FORMATS = {
    164: "dd/mm/yyyy",
    165: "[$-40C]d mmmm yyyy;@",
    166: "yyyy-mm-dd hh:mm:ss",
    167: "#,##0.00 [$€-40C]",
    168: '0.00" jours"',
    169: "[h]:mm:ss",
    170: "[Red]#,##0;[Blue]-#,##0",
    171: "h:mm AM/PM",
    172: "\\d0",
    173: '"Y: "0.00"m"',
    174: "mmm-yy",
    175: "General",
}


def test_custom_and_builtin_number_formats_tell_dates_from_numbers(tmp_path: Path) -> None:
    path = tmp_path / "formats.xlsx"
    formats = ["0", "14", "22", "45", "46", "47", "4", "49", *map(str, CUSTOM_FORMATS)]
    values = ["46296", "46296.5", "46296.75", "0.25", "1.5", "0.0001", "1234.5", "7"]
    values += ["46296", "46296", "46296.5", "46296", "12", "2.25", "-5", "0.75", "3", "4"]
    values += ["46296", "46296"]
    cells = "".join(f"<c s='{n}'><v>{v}</v></c>" for n, v in enumerate(values))
    _book(path, [("Feuil1", _row(1, cells))], styles=_styles(formats, CUSTOM_FORMATS))
    _assert_same(path)
    assert read_xlsx(path).rows[0][1] == [
        46296.0,
        datetime(2026, 10, 1, 12, 0),
        datetime(2026, 10, 1, 18, 0),
        time(6, 0),
        timedelta(days=1, hours=12),
        time(0, 0, 8, 640000),
        1234.5,
        7.0,
        date(2026, 10, 1),
        date(2026, 10, 1),
        datetime(2026, 10, 1, 12, 0),
        46296.0,
        12.0,
        timedelta(days=2, hours=6),
        -5.0,
        time(18, 0),
        3.0,
        4.0,
        date(2026, 10, 1),
        46296.0,
    ]


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("DD/MM/YY", 1),
        ("H:MM:SS;@", 1),
        ("#,##0\\ [$\\u20bd-46D]", 0),
        ('m"M"d"D";@', 1),
        ("[h]:mm:ss", 2),
        ('"Y: "0.00"m";"Y: "-0.00"m";"Y: <num>m";@', 0),
        ('"$"#,##0_);[Red]("$"#,##0)', 0),
        ("0_ ;[Red]\\-0\\ ", 0),
        ("\\Y000000", 0),
        ('#,##0.0####" YMD"', 0),
        ("[h]", 2),
        ("[ss]", 2),
        ("[s].000", 2),
        ("[m]", 2),
        ("[Blue]\\+[h]:mm;[Red]\\-[h]:mm;[Green][h]:mm", 2),
        ("[>=100][Magenta][s].00", 2),
        ("[>=100][Magenta].00", 0),
        ("[>=100][Magenta]General", 0),
        ("ha/p\\\\m", 1),
        ('#,##0.00\\ _M"H"_);[Red]#,##0.00\\ _M"S"_)', 0),
        ("#,##0*y", 0),
        ("*-yyyy-mm-dd", 1),
    ],
)
def test_number_formats_are_classified_like_calamine_and_openpyxl(code: str, kind: int) -> None:
    assert number_format_kind(code) == kind  # 0 a number, 1 a date or time, 2 a duration


def test_edge_serials_read_like_calamine(tmp_path: Path) -> None:
    path = tmp_path / "serials.xlsx"
    serials = ["1", "59", "60", "61", "366", "0.5", "-1", "46296.99999999", "2958465", "3000000"]
    serials += ["1e3", "46296.0000001", "0.999999999"]
    cells = "".join(f"<c s='1'><v>{v}</v></c>" for v in serials)
    _book(path, [("Feuil1", _row(1, cells))])
    _assert_like_calamine(path)  # openpyxl refuses serials beyond 9999-12-31
    assert read_xlsx(path).rows[0][1][:3] == [
        date(1900, 1, 1),
        date(1900, 2, 28),
        date(1900, 2, 28),
    ]
    assert read_xlsx(path).rows[0][1][-4] == 3000000.0  # beyond 9999-12-31: the number


def test_cells_and_rows_without_references_take_the_next_place(tmp_path: Path) -> None:
    path = tmp_path / "norefs.xlsx"
    cells = (
        "<row><c t='inlineStr'><is><t>A</t></is></c><c><v>1</v></c></row>"  # row 1
        "<row r='3'><c><v>2</v></c><c r='D3'><v>3</v></c><c><v>4</v></c></row>"
        "<row><c r='B4'><v>5</v></c></row>"  # row 4
        "<row><c r='C7'><v>6</v></c></row>"  # a row without number takes its first cell's
        "<row><c><v>7</v></c></row>"  # row 8
    )
    _book(path, [("Feuil1", cells)])
    assert read_xlsx(path).rows == [
        (1, ["A", 1.0]),
        (3, [2.0, None, None, 3.0, 4.0]),
        (4, [None, 5.0]),
        (7, [None, None, 6.0]),
        (8, [7.0]),
    ]
    assert list(iter_xlsx_rows(path))[:3] == read_xlsx_openpyxl(path).rows[:3]


def test_error_cells_read_as_their_text_like_openpyxl(tmp_path: Path) -> None:
    path = tmp_path / "errors.xlsx"
    cells = _row(
        2,
        "<c r='A2' t='e'><f>1/0</f><v>#DIV/0!</v></c><c r='B2' t='e'><v>#REF!</v></c>"
        "<c r='C2' t='e'><v>#NAME?</v></c><c r='D2'><v>12.5</v></c>",
    )
    _book(path, [("Feuil1", cells)])
    table = _assert_same(path, errors=True)
    assert table.rows == [(2, ["#DIV/0!", "#REF!", "#NAME?", 12.5])]


def test_the_first_sheet_is_the_workbook_s_first_worksheet(tmp_path: Path) -> None:
    path = tmp_path / "sheets.xlsx"
    first, second = _row(1, "<c t='inlineStr'><is><t>un</t></is></c>"), _row(1, "<c><v>2</v></c>")
    _book(path, [("Un", first), ("Deux", second)])
    assert read_xlsx(path).rows == [(1, ["un"])]  # sheet2.xml, listed first
    assert read_xlsx(path, "Deux").rows == [(1, [2.0])]
    _book(path, [("Graphique", ""), ("Deux", second)], first_kind="chartsheet")
    assert read_xlsx(path).rows == [(1, [2.0])]
    _assert_like_calamine(path)  # openpyxl cannot open this hand-made chartsheet
    with pytest.raises(FileReadError, match=r"no sheet 'Trois' \(sheets: Graphique, Deux\)"):
        read_xlsx(path, "Trois")
    with pytest.raises(FileReadError, match=r"sheet 'Graphique' is not a worksheet"):
        read_xlsx(path, "Graphique")


def test_prefixed_spreadsheetml_reads_the_same(tmp_path: Path) -> None:
    path = tmp_path / "prefixed.xlsx"
    cells = (
        "<x:row r='1'><x:c r='A1' t='s'><x:v>0</x:v></x:c><x:c r='B1' s='1'><x:v>46296</x:v>"
        "</x:c><x:c r='C1' t='inlineStr'><x:is><x:t>in</x:t></x:is></x:c></x:row>"
    )
    _book(path, [("Feuil1", cells)], strings="<x:si><x:t>sh</x:t></x:si>", prefix="x")
    assert list(iter_xlsx_rows(path)) == [(1, ["sh", date(2026, 10, 1), "in"])]


# --- hostile workbooks -----------------------------------------------------------------------


def test_a_huge_declared_row_number_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "far.xlsx"
    _book(path, [("Feuil1", _row(1, "<c><v>1</v></c>") + _row(99_999_999, "<c><v>2</v></c>"))])
    with pytest.raises(FileReadError, match=r"more than 1,048,576 rows"):
        read_table(path)
    _book(path, [("Feuil1", "<row><c r='A99999999'><v>2</v></c></row>")])
    with pytest.raises(FileReadError, match=r"more than 1,048,576 rows"):
        read_table(path)


def test_a_cell_beyond_the_column_cap_is_refused_and_an_empty_one_ignored(tmp_path: Path) -> None:
    path = tmp_path / "wide.xlsx"
    _book(path, [("Feuil1", _row(1, "<c r='A1'><v>1</v></c><c r='XFD1' s='1'/>"))])
    assert read_table(path).rows == [(1, [1.0])]  # a styled empty cell far right
    _book(path, [("Feuil1", _row(1, "<c r='A1'><v>1</v></c><c r='ZZZZZZ1'><v>2</v></c>"))])
    with pytest.raises(FileReadError, match="row 1: more than 1,000 columns"):
        read_table(path)


def test_a_cell_longer_than_the_cap_is_refused_with_its_place(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(reading, "MAX_CELL_CHARS", 10)
    path = tmp_path / "long.xlsx"
    _book(
        path, [("Feuil1", _row(3, "<c r='B3' t='inlineStr'><is><t>x" + "y" * 20 + "</t></is></c>"))]
    )
    with pytest.raises(FileReadError, match=r"row 3, column 2: a cell of 21 characters"):
        read_table(path)
    _book(
        path,
        [("Feuil1", _row(4, "<c r='C4' t='s'><v>0</v></c>"))],
        strings="<si><t>" + "z" * 11 + "</t></si>",
    )
    with pytest.raises(FileReadError, match=r"row 4, column 3: a cell of 11 characters"):
        read_table(path)


def test_rows_out_of_order_and_broken_xml_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.xlsx"
    _book(path, [("Feuil1", _row(5, "<c><v>1</v></c>") + _row(3, "<c><v>2</v></c>"))])
    with pytest.raises(FileReadError, match="row 3 comes after row 5"):
        read_table(path)
    _book(path, [("Feuil1", _row(1, "<c><v>1</v></c>") + "<row r='2'><c><v>2</v></row>")])
    with pytest.raises(FileReadError, match="not well-formed XML"):
        read_table(path)
    _book(path, [("Feuil1", _row(1, "<c t='s'><v>7</v></c>"))])
    with pytest.raises(FileReadError, match="row 1, column 1: shared string '7' does not exist"):
        read_table(path)


def test_entity_declarations_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "laughs.xlsx"
    _book(path, [("Feuil1", _row(1, "<c t='inlineStr'><is><t>&lol;</t></is></c>"))])
    with zipfile.ZipFile(path) as archive:
        parts = {n: archive.read(n) for n in archive.namelist()}
    doctype = b'<!DOCTYPE w [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
    parts["xl/worksheets/sheet1.xml"] = doctype + parts["xl/worksheets/sheet1.xml"]
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    with pytest.raises(FileReadError, match="declares XML entities"):
        read_table(path)


def _bomb_member(path: Path, declared: int, real: int) -> None:
    """A workbook whose sheet inflates to `real` bytes of spaces but declares `declared`."""
    _book(path, [("Feuil1", _row(1, "<c><v>1</v></c>"))])
    with zipfile.ZipFile(path) as archive:
        parts = {n: archive.read(n) for n in archive.namelist()}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            if name != "xl/worksheets/sheet1.xml":
                archive.writestr(name, data)
        sheet = parts["xl/worksheets/sheet1.xml"]
        body = sheet[:-12] + b" " * (real - len(sheet)) + sheet[-12:]
        archive.writestr("xl/worksheets/sheet1.xml", body)
    if declared != real:  # rewrite the declared size in both headers
        data = bytearray(path.read_bytes())
        for sig, at in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
            start = 0
            while (start := data.find(sig, start)) >= 0:
                name_len = int.from_bytes(data[start + at + 4 : start + at + 6], "little")
                offset = 30 if sig == b"PK\x03\x04" else 46
                if data[start + offset : start + offset + name_len].endswith(b"sheet1.xml"):
                    data[start + at : start + at + 4] = declared.to_bytes(4, "little")
                start += 4
        path.write_bytes(bytes(data))


def test_a_zip_bomb_is_refused_before_anything_is_inflated(tmp_path, monkeypatch) -> None:
    path = tmp_path / "bomb.xlsx"
    _bomb_member(path, 8 << 20, 8 << 20)  # 8 MiB of spaces: compressed more than 200 to 1
    inflated: list[int] = []
    real = zlib.decompressobj
    monkeypatch.setattr(zlib, "decompressobj", lambda *a: inflated.append(1) or real(*a))
    with pytest.raises(FileReadError, match=r"sheet1.xml is compressed [\d,]+ to 1"):
        next(iter_xlsx_rows(path))
    assert inflated == []


def test_a_member_larger_than_it_declares_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "liar.xlsx"
    _bomb_member(path, 1_000, 200_000)
    with pytest.raises(FileReadError, match="not a readable XLSX workbook|not well-formed"):
        list(iter_xlsx_rows(path))


# --- memory ----------------------------------------------------------------------------------


def _long_sheet(rows: int) -> Iterator[str]:
    for n in range(1, rows + 1):
        yield (
            f"<row r='{n}'><c r='A{n}' t='inlineStr'><is><t>C{n % 977}</t></is></c>"
            f"<c r='B{n}' t='s'><v>{n % 3}</v></c><c r='C{n}' s='1'><v>{46000 + n % 400}</v></c>"
            f"<c r='D{n}'><v>{n * 1.25}</v></c></row>"
        )


def _peak_while_streaming(path: Path) -> tuple[int, int]:
    tracemalloc.start()
    try:
        count = sum(1 for _ in iter_xlsx_rows(path))
        return count, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_streaming_memory_does_not_grow_with_the_rows(tmp_path: Path) -> None:
    shared = "<si><t>a</t></si><si><t>b</t></si><si><t>c</t></si>"
    small, large = tmp_path / "small.xlsx", tmp_path / "large.xlsx"
    _book(small, [("Feuil1", "".join(_long_sheet(2_000)))], strings=shared)
    _book(large, [("Feuil1", "".join(_long_sheet(40_000)))], strings=shared)
    (n_small, peak_small), (n_large, peak_large) = map(_peak_while_streaming, (small, large))
    assert (n_small, n_large) == (2_000, 40_000)
    assert peak_large < peak_small + (1 << 20)  # 20 times the rows, not 1 MiB more


def test_indented_xml_reads_like_compact_xml(tmp_path: Path) -> None:
    compact, indented = tmp_path / "compact.xlsx", tmp_path / "indented.xlsx"
    cells = (
        "<row r='1'><c r='A1' t='s'><v>0</v></c><c r='B1' s='1'><f>TODAY()</f><v>46296</v></c>"
        "<c r='C1' t='inlineStr'><is><r><t xml:space='preserve'>Mon </t></r><r><rPr><b/></rPr>"
        "<t>tant</t></r></is></c><c r='D1' t='b'><v>0</v></c><c r='E1' t='str'><v>x</v></c>"
        "<c r='F1' t='inlineStr'><is><t>un</t><rPh><t>ウン</t></rPh></is></c></row>"
    )
    pretty = cells.replace("><", ">\n    <")
    shared = "<si><t>Code</t></si>"
    _book(compact, [("Feuil1", cells)], strings=shared)
    _book(indented, [("Feuil1", pretty)], strings=shared.replace("><", ">\n  <"))
    expected = [(1, ["Code", date(2026, 10, 1), "Mon tant", False, "x", "un"])]
    assert read_xlsx(compact).rows == expected
    assert read_xlsx(indented).rows == expected
    _assert_like_calamine(indented)
