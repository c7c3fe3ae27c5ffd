"""Hostile input files are refused early, with a located error: YAML bombs, zip bombs, huge cells."""

from __future__ import annotations

import json
import struct
import tracemalloc
import zlib
from pathlib import Path

import pytest
from openpyxl import Workbook
from typer.testing import CliRunner

from assistant.cli.main import app
from assistant.importing import reading
from assistant.importing.mapping import MappingError, load_mapping
from assistant.importing.reading import FileReadError, read_table
from assistant.policy import PolicyError, load_policies

ROOT = Path(__file__).resolve().parents[2]
HEADER = "Code client;Raison sociale;Email relance;N° pièce;Échéance;Montant TTC;Solde\n"
ROW = "CL1;Menuiserie Ménard;compta@menard.example;FA-{n};04/05/2026;100,00;{solde}\n"
MAPPING = """\
delimiter: ";"
encoding: utf-8
decimal: ","
date_format: "%d/%m/%Y"
columns:
  debtor_ref: "Code client"
  debtor_name: "Raison sociale"
  debtor_email: "Email relance"
  invoice_number: "N° pièce"
  due_date: "Échéance"
  amount: "Montant TTC"
  outstanding: "Solde"
"""


def billion_laughs(prefix: str) -> str:
    """Return a YAML document of ~1 KB that expands to 10^9 strings."""
    lines = [prefix, 'l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, 10):
        aliases = ",".join([f"*l{level - 1}"] * 10)
        lines.append(f"l{level}: &l{level} [{aliases}]")
    return "\n".join(lines) + "\n"


def zip_bomb(path: Path, members: int = 48, each: int = 64 << 20) -> None:
    """Write an XLSX-looking zip of ~3 MB whose sheets inflate to `members` x 64 MiB."""
    zeros = b"\0" * each
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    data = packer.compress(zeros) + packer.flush()
    crc = zlib.crc32(zeros)
    del zeros
    local, central, offset = bytearray(), bytearray(), 0
    for n in range(members):
        name = (f"xl/worksheets/sheet{n + 1}.xml").encode()
        fields = (20, 0, 8, 0, 0, crc, len(data), each, len(name), 0)
        header = struct.pack("<IHHHHHIIIHH", 0x04034B50, *fields) + name
        central += struct.pack("<IH", 0x02014B50, 20) + struct.pack("<HHHHHIIIHH", *fields)
        central += struct.pack("<HHHII", 0, 0, 0, 0, offset) + name
        local += header + data
        offset += len(header) + len(data)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, members, members, len(central), offset, 0)
    path.write_bytes(bytes(local + central) + end)


def import_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *args: str):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("RELANCE_DATABASE_URL", f"sqlite:///{tmp_path / 'limits.db'}")
    monkeypatch.setenv("RELANCE_POLICIES_DIR", str(ROOT / "policies"))
    monkeypatch.setenv("COLUMNS", "200")
    return CliRunner().invoke(app, ["import", "invoices", *args, "--creditor", "atelier-bois"])


def test_an_alias_bomb_in_a_policy_is_refused_at_its_line_in_bounded_memory(tmp_path):
    folder = tmp_path / "policies"
    folder.mkdir()
    bomb = folder / "bomb.yaml"
    bomb.write_text(billion_laughs("creditor:\n  slug: bomb\n  name: Bomb"))
    tracemalloc.start()
    try:
        with pytest.raises(PolicyError) as caught:
            load_policies(folder)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    issue = caught.value.issues[0]
    assert (issue.file, issue.line) == (str(bomb), 8)  # l4: the first line past 20,000 values
    assert "aliases" in issue.message
    assert peak < 20 << 20


def test_an_alias_bomb_in_a_mapping_is_refused_by_the_import_command(tmp_path, monkeypatch):
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(billion_laughs("delimiter: ';'"))
    data = tmp_path / "invoices.csv"
    data.write_text(HEADER + ROW.format(n=1, solde="100,00"), encoding="utf-8")
    with pytest.raises(MappingError) as caught:
        load_mapping(mapping)
    assert caught.value.issues[0].file == str(mapping) and caught.value.issues[0].line
    result = import_cli(tmp_path, monkeypatch, str(data), "--mapping", str(mapping))
    assert result.exit_code != 0 and isinstance(result.exception, SystemExit)
    assert f"{mapping}:" in result.output and "aliases" in result.output


def test_small_aliases_and_deep_nesting_are_told_apart(tmp_path):
    folder = tmp_path / "policies"
    folder.mkdir()
    deep = folder / "deep.yaml"
    deep.write_text("creditor:\n  name: " + "[" * 500 + "]" * 500 + "\n")
    with pytest.raises(PolicyError) as caught:
        load_policies(folder)
    assert caught.value.issues[0].line == 2 and "nested deeper" in caught.value.issues[0].message
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(MAPPING + "defaults: &d {currency: EUR}\nsheet: &s Feuil1\n")
    assert load_mapping(mapping).sheet == "Feuil1"


def test_a_3_mb_xlsx_zip_bomb_is_refused_before_any_inflating(tmp_path, monkeypatch):
    bomb = tmp_path / "invoices.xlsx"
    zip_bomb(bomb)
    assert bomb.stat().st_size < 4_000_000
    inflated: list[int] = []
    real = zlib.decompressobj
    monkeypatch.setattr(zlib, "decompressobj", lambda *a: inflated.append(1) or real(*a))
    with pytest.raises(FileReadError, match=r"decompress to 3,072 MiB \(at most 256 MiB\)"):
        read_table(bomb)
    assert inflated == []
    result = import_cli(tmp_path, monkeypatch, str(bomb))
    assert isinstance(result.exception, SystemExit) and "decompress to" in result.output


def test_a_member_compressed_like_a_bomb_is_refused_even_under_the_size_cap(tmp_path):
    bomb = tmp_path / "invoices.xlsx"
    zip_bomb(bomb, members=1, each=32 << 20)
    with pytest.raises(FileReadError, match=r"sheet1.xml is compressed [\d,]+ to 1"):
        read_table(bomb)


def test_a_sheet_wider_than_the_cap_is_refused_and_one_at_the_cap_is_read(tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["Code client", "Solde"])
    sheet.cell(row=3, column=reading.MAX_COLUMNS, value="last")
    book.save(tmp_path / "ok.xlsx")
    rows = read_table(tmp_path / "ok.xlsx").rows
    assert rows[-1][0] == 3 and rows[-1][1][-1] == "last"
    sheet.cell(row=4, column=reading.MAX_COLUMNS + 1, value="too far")
    book.save(tmp_path / "wide.xlsx")
    with pytest.raises(FileReadError, match="row 4: more than 1,000 columns"):
        read_table(tmp_path / "wide.xlsx")


def test_rows_beyond_the_cap_are_refused_in_csv_and_xlsx(tmp_path, monkeypatch):
    monkeypatch.setattr(reading, "MAX_ROWS", 3)
    csv_file = tmp_path / "long.csv"
    csv_file.write_text(HEADER + "".join(ROW.format(n=n, solde="1,00") for n in range(5)))
    with pytest.raises(FileReadError, match="line 4: more than 3 rows"):
        read_table(csv_file)
    book = Workbook()
    for n in range(5):
        book.active.append([f"CL{n}", n])
    book.save(tmp_path / "long.xlsx")
    with pytest.raises(FileReadError, match="more than 3 rows"):
        read_table(tmp_path / "long.xlsx")


@pytest.mark.parametrize("with_mapping", [False, True])
def test_cells_over_the_csv_module_limit_are_read_up_to_1_mib(tmp_path, monkeypatch, with_mapping):
    long_name = "Ménard " * 30_000  # 210,000 characters: over csv's default 131,072
    data = tmp_path / "invoices.csv"
    data.write_text(
        HEADER + ROW.format(n=1, solde="100,00").replace("Menuiserie Ménard", long_name),
        encoding="utf-8",
    )
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(MAPPING)
    args = [str(data), "--json"] + (["--mapping", str(mapping)] if with_mapping else [])
    result = import_cli(tmp_path, monkeypatch, *args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["created"] == 1


@pytest.mark.parametrize("with_mapping", [False, True])
def test_a_cell_over_1_mib_is_refused_with_its_line_and_column(tmp_path, monkeypatch, with_mapping):
    data = tmp_path / "invoices.csv"
    rows = ROW.format(n=1, solde="1,00") + ROW.format(n=2, solde="2" * (1 << 20) + "1")
    data.write_text(HEADER + rows, encoding="utf-8")
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(MAPPING)
    args = [str(data)] + (["--mapping", str(mapping)] if with_mapping else [])
    result = import_cli(tmp_path, monkeypatch, *args)
    assert result.exit_code != 0 and isinstance(result.exception, SystemExit)
    assert f"{data}: line 3, column 7: a cell of 1,048,577 characters" in result.output
