"""`relance import documents DIR --creditor SLUG` registers invoice copies by number."""
# ruff: noqa: F811 (the `relance` fixture is imported from the core CLI tests)

from __future__ import annotations

from tests.e2e.test_core_cli import as_json, relance  # noqa: F401

CSV = (
    "debtor_ref;debtor_name;debtor_email;invoice_number;due_date;amount\n"
    "C1;Scierie Leduc SARL;compta@leduc.example;FA-7001;2026-10-20;900,00\n"
)


def test_import_documents_registers_matching_files_and_names_the_others(relance, tmp_path):
    csv = tmp_path / "invoices.csv"
    csv.write_text(CSV, encoding="utf-8")
    relance("import", "invoices", str(csv), "--creditor", "atelier-bois")
    copies = tmp_path / "copies"
    copies.mkdir()
    (copies / "FA-7001.pdf").write_bytes(b"%PDF-1.4 FA-7001")
    (copies / "FA-9999.pdf").write_bytes(b"%PDF-1.4 FA-9999")
    dry = as_json(
        relance(
            "import", "documents", str(copies), "--creditor", "atelier-bois", "--dry-run", "--json"
        )
    )
    assert dry["registered"] == [{"file": "FA-7001.pdf", "invoice": "FA-7001"}]
    done = as_json(
        relance("import", "documents", str(copies), "--creditor", "atelier-bois", "--json")
    )
    assert done["registered"] == dry["registered"] and done["unmatched"] == ["FA-9999.pdf"]
    again = relance("import", "documents", str(copies), "--creditor", "atelier-bois")
    assert (
        "1 already registered" in again.stdout and "no invoice matches FA-9999.pdf" in again.stdout
    )
    relance("import", "documents", str(copies), "--creditor", "nobody", code=2)
