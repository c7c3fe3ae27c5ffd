"""The XLSX reader (python-calamine) reads what the reference reader (openpyxl) reads.

Same row numbers, same cells once stripped, same rows and errors after checking: on the shipped
example, on messy workbooks built with openpyxl (title rows, blank rows, a table that starts
in column B, merged headers, dates as dates, serials or text, numbers stored as text, several
sheets) and on hand-written XML like Excel's own (shared strings, error cells, formulas).
"""

from __future__ import annotations

import zipfile
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from assistant.importing.mapping import parse_mapping
from assistant.importing.reading import (
    FileReadError,
    RawTable,
    has_error_cells,
    read_table,
    read_xlsx,
    read_xlsx_openpyxl,
)
from assistant.importing.rows import parse_invoice_rows
from assistant.importing.values import Cell, cell_text

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


def _assert_same(path: Path, sheet: str | None = None) -> RawTable:
    new, old = read_xlsx(path, sheet), read_xlsx_openpyxl(path, sheet)
    assert _rows(new) == _rows(old)
    assert [[cell_text(c) for c in cells] for _, cells in new.rows] == [
        [cell_text(c) for c in cells] for _, cells in old.rows
    ]
    return new


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


def _excel_like(path: Path, cells: str, strings: list[str]) -> None:
    """Write a minimal workbook as Excel does: shared strings, a date style, no dimension."""
    shared = "".join(f"<si><t xml:space='preserve'>{s}</t></si>" for s in strings)
    ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    files = {
        "[Content_Types].xml": (
            "<Types xmlns='http://schemas.openxmlformats.org/package/2006/content-types'>"
            "<Default Extension='rels' ContentType='application/vnd.openxmlformats-package."
            "relationships+xml'/><Default Extension='xml' ContentType='application/xml'/>"
            "<Override PartName='/xl/workbook.xml' ContentType='application/vnd.openxmlformats-"
            "officedocument.spreadsheetml.sheet.main+xml'/><Override PartName='/xl/worksheets/"
            "sheet1.xml' ContentType='application/vnd.openxmlformats-officedocument."
            "spreadsheetml.worksheet+xml'/><Override PartName='/xl/sharedStrings.xml' "
            "ContentType='application/vnd.openxmlformats-officedocument.spreadsheetml."
            "sharedStrings+xml'/><Override PartName='/xl/styles.xml' ContentType='application/"
            "vnd.openxmlformats-officedocument.spreadsheetml.styles+xml'/></Types>"
        ),
        "_rels/.rels": (
            "<Relationships xmlns='http://schemas.openxmlformats.org/package/2006/relationships'>"
            f"<Relationship Id='rId1' Type='{rel}/officeDocument' Target='xl/workbook.xml'/>"
            "</Relationships>"
        ),
        "xl/workbook.xml": (
            f"<workbook xmlns='{ns}' xmlns:r='{rel}'><sheets>"
            "<sheet name='Feuil1' sheetId='1' r:id='rId1'/></sheets></workbook>"
        ),
        "xl/_rels/workbook.xml.rels": (
            "<Relationships xmlns='http://schemas.openxmlformats.org/package/2006/relationships'>"
            f"<Relationship Id='rId1' Type='{rel}/worksheet' Target='worksheets/sheet1.xml'/>"
            f"<Relationship Id='rId2' Type='{rel}/sharedStrings' Target='sharedStrings.xml'/>"
            f"<Relationship Id='rId3' Type='{rel}/styles' Target='styles.xml'/>"
            "</Relationships>"
        ),
        "xl/sharedStrings.xml": f"<sst xmlns='{ns}'>{shared}</sst>",
        "xl/styles.xml": (
            f"<styleSheet xmlns='{ns}'><fonts count='1'><font><sz val='11'/></font></fonts>"
            "<fills count='1'><fill><patternFill patternType='none'/></fill></fills>"
            "<borders count='1'><border><left/><right/><top/><bottom/><diagonal/></border>"
            "</borders><cellStyleXfs count='1'><xf/>"
            "</cellStyleXfs><cellXfs count='2'><xf numFmtId='0'/><xf numFmtId='14' "
            "applyNumberFormat='1'/></cellXfs><cellStyles count='1'><cellStyle name='Normal' "
            "xfId='0' builtinId='0'/></cellStyles></styleSheet>"
        ),
        "xl/worksheets/sheet1.xml": f"<worksheet xmlns='{ns}'><sheetData>{cells}</sheetData></worksheet>",
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text)


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
    assert not has_error_cells(path)
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
    assert has_error_cells(path)
    table = read_table(path)
    assert table.rows[1][1][:5] == ["C1", "Alpha", "F-1", datetime(2026, 10, 1), "#N/A"]
    rows, errors = _checked(table)
    assert rows == [] and (4, "Solde", "#N/A") in [(e.line, e.column, e.value) for e in errors]
