"""Write a generated ledger as the files three ERPs export, with a mapping file beside each.

Used by `generate.py` (which loads it by path); no randomness here, so the same ledger always
gives the same bytes. Standard library and openpyxl only.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

Ledger = Any  # generate.Ledger: debtors, invoices, payments and the creditor's spec


def fr_amount(value: Decimal) -> str:
    """Format like a French export: `-1 234,56`."""
    return f"{value:,.2f}".replace(",", " ").replace(".", ",")


def uk_amount(value: Decimal) -> str:
    """Format like an English export: `-1,234.56`."""
    return f"{value:,.2f}"


def _csv_bytes(rows: list[list[str]], delimiter: str, encoding: str, bom: bool = False) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    data = buf.getvalue().encode(encoding)
    return b"\xef\xbb\xbf" + data if bom else data


def _yes(flag: bool) -> str:
    return "Oui" if flag else "Non"


SAGE_MAPPING = """\
# Sage-like "balance âgée / grand livre clients" export (Windows-1252, `;`, decimal comma).
delimiter: ";"
encoding: cp1252
decimal: ","
date_format: "%d/%m/%Y"
columns:              # canonical field: header in the file
  debtor_ref: "Code client"
  debtor_name: "Raison sociale"
  debtor_email: "Email relance"
  debtor_siren: "SIREN"
  invoice_number: "N° pièce"
  issue_date: "Date pièce"
  due_date: "Échéance"
  amount: "Montant TTC"
  outstanding: "Solde"
  paid_date: "Date de règlement"
defaults:
  currency: EUR
  debtor_type: company
  debtor_language: fr
"""
SAGE_PAYMENTS_MAPPING = """\
# Bank receipts not yet matched in the ERP (Windows-1252, `;`, decimal comma).
delimiter: ";"
encoding: cp1252
decimal: ","
date_format: "%d/%m/%Y"
columns:
  debtor_ref: "Code client"
  invoice_number: "N° pièce"
  amount: "Montant"
  paid_date: "Date de règlement"
  payment_ref: "Référence"
defaults:
  currency: EUR
"""
XLSX_MAPPING = """\
# ERP "Balance clients" workbook (one sheet, header on row 1, real dates and numbers).
sheet: "Balance clients"
header_row: 1
columns:              # canonical field: header in the file
  debtor_ref: "Compte"
  debtor_name: "Raison sociale"
  debtor_siren: "SIREN"
  debtor_email: "E-mail"
  debtor_type: "Type client"
  debtor_language: "Langue"
  key_account: "Grand compte"
  invoice_number: "N° facture"
  issue_date: "Date facture"
  due_date: "Date d'échéance"
  amount: "Montant TTC"
  outstanding: "Reste dû"
  currency: "Devise"
  paid_date: "Date de règlement"
"""
XLSX_PAYMENTS_MAPPING = """\
# Bank receipts exported by the treasury tool (UTF-8 with BOM, `;`, decimal comma).
delimiter: ";"
encoding: utf-8-sig
decimal: ","
date_format: "%d/%m/%Y"
columns:
  debtor_ref: "Compte"
  invoice_number: "N° facture"
  amount: "Montant"
  currency: "Devise"
  paid_date: "Date de règlement"
  payment_ref: "Référence"
"""
UK_MAPPING = """\
# UK accounting package "Aged debtors" export (UTF-8, `,`, `1,234.56`, ISO dates).
delimiter: ","
encoding: utf-8
decimal: "."
date_format: "%Y-%m-%d"
columns:              # canonical field: header in the file
  debtor_ref: "Account"
  debtor_name: "Customer"
  debtor_email: "Email"
  invoice_number: "Invoice No"
  issue_date: "Invoice date"
  due_date: "Due date"
  amount: "Amount"
  outstanding: "Balance"
  currency: "Currency"
  paid_date: "Paid date"
defaults:
  currency: GBP
  debtor_type: company
  debtor_language: en
"""
UK_PAYMENTS_MAPPING = """\
# Bank receipts (UTF-8, `,`, `1,234.56`, ISO dates).
delimiter: ","
encoding: utf-8
decimal: "."
date_format: "%Y-%m-%d"
columns:
  debtor_ref: "Account"
  invoice_number: "Invoice No"
  amount: "Amount"
  currency: "Currency"
  paid_date: "Payment date"
  payment_ref: "Reference"
defaults:
  currency: GBP
"""


def write_sage_csv(ledger: Ledger, folder: Path) -> None:
    """Write a Sage-like `;` Windows-1252 export with French numbers and dd/mm/yyyy dates."""
    head = [
        "Code client",
        "Raison sociale",
        "Email relance",
        "SIREN",
        "N° pièce",
        "Date pièce",
        "Échéance",
        "Montant TTC",
        "Solde",
        "Date de règlement",
    ]
    rows = [head] + [
        [
            r.debtor.ref,
            r.debtor.name,
            r.debtor.email,
            r.debtor.siren or "",
            r.number,
            f"{r.issue_date:%d/%m/%Y}",
            f"{r.due_date:%d/%m/%Y}",
            fr_amount(r.amount),
            fr_amount(r.outstanding),
            f"{r.paid_date:%d/%m/%Y}" if r.paid_date else "",
        ]
        for r in ledger.invoices
    ]
    (folder / "invoices.csv").write_bytes(_csv_bytes(rows, ";", "cp1252"))
    pay = [["Code client", "N° pièce", "Montant", "Date de règlement", "Référence"]] + [
        [
            p.debtor_ref,
            p.invoice_number,
            fr_amount(p.amount),
            f"{p.paid_date:%d/%m/%Y}",
            p.reference,
        ]
        for p in ledger.payments
    ]
    (folder / "payments.csv").write_bytes(_csv_bytes(pay, ";", "cp1252"))
    (folder / "mapping.yaml").write_text(SAGE_MAPPING, encoding="utf-8")
    (folder / "payments-mapping.yaml").write_text(SAGE_PAYMENTS_MAPPING, encoding="utf-8")


def write_uk_csv(ledger: Ledger, folder: Path) -> None:
    """Write an English `,` UTF-8 export with `1,234.56` amounts and ISO dates."""
    head = [
        "Account",
        "Customer",
        "Email",
        "Invoice No",
        "Invoice date",
        "Due date",
        "Amount",
        "Balance",
        "Currency",
        "Paid date",
    ]
    rows = [head] + [
        [
            r.debtor.ref,
            r.debtor.name,
            r.debtor.email,
            r.number,
            r.issue_date.isoformat(),
            r.due_date.isoformat(),
            uk_amount(r.amount),
            uk_amount(r.outstanding),
            r.currency,
            r.paid_date.isoformat() if r.paid_date else "",
        ]
        for r in ledger.invoices
    ]
    (folder / "invoices.csv").write_bytes(_csv_bytes(rows, ",", "utf-8"))
    pay = [["Account", "Invoice No", "Amount", "Currency", "Payment date", "Reference"]] + [
        [
            p.debtor_ref,
            p.invoice_number,
            uk_amount(p.amount),
            ledger.spec.currency,
            p.paid_date.isoformat(),
            p.reference,
        ]
        for p in ledger.payments
    ]
    (folder / "payments.csv").write_bytes(_csv_bytes(pay, ",", "utf-8"))
    (folder / "mapping.yaml").write_text(UK_MAPPING, encoding="utf-8")
    (folder / "payments-mapping.yaml").write_text(UK_PAYMENTS_MAPPING, encoding="utf-8")


def write_xlsx(ledger: Ledger, folder: Path, as_of: date) -> None:
    """Write an ERP workbook with real date and number cells (byte-stable for a seed)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Balance clients")
    head = [
        "Compte",
        "Raison sociale",
        "SIREN",
        "E-mail",
        "Type client",
        "Langue",
        "Grand compte",
        "N° facture",
        "Date facture",
        "Date d'échéance",
        "Montant TTC",
        "Reste dû",
        "Devise",
        "Date de règlement",
    ]
    widths = [10, 38, 12, 40, 14, 8, 13, 14, 13, 15, 14, 14, 8, 17]
    for letter, width in zip("ABCDEFGHIJKLMN", widths, strict=True):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for text in head:
        cell = WriteOnlyCell(ws, value=text)
        cell.font = bold
        header.append(cell)
    ws.append(header)

    def dated(value: date | None) -> WriteOnlyCell | None:
        if value is None:
            return None
        cell = WriteOnlyCell(ws, value=value)
        cell.number_format = "DD/MM/YYYY"
        return cell

    def money(value: Decimal) -> WriteOnlyCell:
        cell = WriteOnlyCell(ws, value=float(value))
        cell.number_format = "#,##0.00"
        return cell

    for r in ledger.invoices:
        d = r.debtor
        ws.append(
            [
                d.ref,
                d.name,
                d.siren,
                d.email,
                "Particulier" if d.kind == "consumer" else "Professionnel",
                d.language.upper(),
                _yes(d.key_account),
                r.number,
                dated(r.issue_date),
                dated(r.due_date),
                money(r.amount),
                money(r.outstanding),
                r.currency,
                dated(r.paid_date),
            ]
        )
    stamp = datetime(as_of.year, as_of.month, as_of.day, 6, 0, 0)
    wb.properties.creator = "DistriPro ERP"
    wb.properties.created = stamp
    buf = io.BytesIO()
    wb.save(buf)
    (folder / "invoices.xlsx").write_bytes(_stable_zip(buf.getvalue(), stamp))
    pay = [["Compte", "N° facture", "Montant", "Devise", "Date de règlement", "Référence"]] + [
        [
            p.debtor_ref,
            p.invoice_number,
            fr_amount(p.amount),
            ledger.spec.currency,
            f"{p.paid_date:%d/%m/%Y}",
            p.reference,
        ]
        for p in ledger.payments
    ]
    (folder / "payments.csv").write_bytes(_csv_bytes(pay, ";", "utf-8", bom=True))
    (folder / "mapping.yaml").write_text(XLSX_MAPPING, encoding="utf-8")
    (folder / "payments-mapping.yaml").write_text(XLSX_PAYMENTS_MAPPING, encoding="utf-8")


def _stable_zip(data: bytes, stamp: datetime) -> bytes:
    """Rewrite an XLSX with fixed timestamps so the same seed gives the same bytes."""
    iso = stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                text = content.decode("utf-8")
                text = re.sub(r"(<dcterms:modified[^>]*>)[^<]*", rf"\g<1>{iso}", text)
                content = text.encode("utf-8")
            fixed = zipfile.ZipInfo(info.filename, date_time=stamp.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            dst.writestr(fixed, content)
    return out.getvalue()
