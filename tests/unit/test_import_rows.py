"""Row checks, import planning and client history: pure, no file, no database."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from assistant.domain import InvoiceLine
from assistant.importing.allocation import payment_reference, plan_payments
from assistant.importing.history import compute_history, window_start
from assistant.importing.plan import DebtorState, InvoiceState, plan_invoices
from assistant.importing.reading import RawTable, read_csv, read_table, sniff_delimiter
from assistant.importing.rows import InvoiceRow, PaymentRow, parse_invoice_rows

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "imports"
D = Decimal
TODAY = date(2026, 11, 26)


def _table(text: str, delimiter: str = ";") -> RawTable:
    return read_csv(text.encode("utf-8"), "t.csv", delimiter=delimiter)


def test_sage_export_cp1252_with_title_and_total_lines() -> None:
    parsed = parse_invoice_rows(read_table(FIXTURES / "sage_balance_agee_cp1252.csv"))
    assert parsed.errors == []
    assert parsed.header_line == 3 and parsed.skipped == 1
    first = parsed.rows[0]
    assert (first.line, first.debtor_ref, first.debtor_name) == (
        4,
        "CLI0001",
        "Boulangerie Lefèvre & Fils",
    )
    assert first.emails == ("compta@lefevre.example", "gerant@lefevre.example")
    assert (first.amount, first.due_date) == (D("1234.56"), date(2026, 5, 3))
    credit = next(r for r in parsed.rows if r.number == "AV2026-0007")
    assert credit.is_credit_note and credit.outstanding == D("-150.00")
    assert {r.kind for r in parsed.rows} == {"company", "consumer", None}


def test_encodings_and_delimiters_are_detected() -> None:
    ebp = read_table(FIXTURES / "ebp_utf8_bom.csv")
    assert (ebp.encoding, ebp.delimiter) == ("utf-8-sig", ";")
    cegid = read_table(FIXTURES / "cegid_tab_dots.txt")
    assert (cegid.encoding, cegid.delimiter) == ("cp1252", "\t")
    qb = read_table(FIXTURES / "quickbooks_en.csv")
    assert (qb.encoding, qb.delimiter) == ("utf-8", ",")
    latin = read_csv("Code;Nom\nC1;\x81Ã©\n".encode("latin-1"), "x")
    assert latin.encoding == "latin-1"
    assert sniff_delimiter("a;b;c\n1,5;2,5;3\n4,0;5;6\n") == ";"


def test_cegid_dotted_dates_and_thousands() -> None:
    rows = parse_invoice_rows(read_table(FIXTURES / "cegid_tab_dots.txt")).rows
    assert rows[1].amount == D("10500.00") and rows[1].outstanding == D("5250.00")
    assert rows[0].due_date == date(2026, 10, 31) and rows[0].siren == "552100554"


def test_english_export_with_quotes_and_parentheses() -> None:
    rows = parse_invoice_rows(read_table(FIXTURES / "quickbooks_en.csv")).rows
    assert rows[0].debtor_name == "Acme Widgets, Ltd" and rows[0].currency == "GBP"
    assert rows[1].emails == ("ap@acme.example", "finance@acme.example")
    assert rows[3].amount == D("-120.00")


def test_us_dates_only_when_proven_and_for_the_whole_file() -> None:
    rows = parse_invoice_rows(read_table(FIXTURES / "us_dates.csv")).rows
    assert rows[0].issue_date == date(2026, 11, 2) and rows[0].due_date == date(2026, 12, 31)
    uk = parse_invoice_rows(read_table(FIXTURES / "xero_uk_dates.csv")).rows
    assert uk[0].issue_date == date(2026, 9, 1)


def test_a_row_contradicting_the_date_order_is_refused() -> None:
    text = "N° facture;Client;Échéance;Montant\nF1;A;31/12/2026;1\nF2;A;12/31/2026;1\n"
    parsed = parse_invoice_rows(_table(text))
    assert [(e.line, e.column, e.reason) for e in parsed.errors] == [
        (3, "Échéance", "not a date in this column's dd/mm order")
    ]


def test_every_bad_row_is_reported() -> None:
    parsed = parse_invoice_rows(read_table(FIXTURES / "bad_rows.csv"))
    got = [(e.line, e.column, e.value) for e in parsed.errors]
    assert got == [
        (2, "Échéance", "31/09/2026"),
        (3, "Échéance", ""),
        (4, "Montant TTC", "deux cents"),
        (6, "N° facture", "B-004"),
        (7, "Reste dû", "150,00"),
        (8, "Échéance", "01/09/2026"),
    ]
    assert "already on line 5" in parsed.errors[3].reason
    assert [r.number for r in parsed.rows] == ["B-004", "B-007"]


def test_identical_duplicate_rows_count_once() -> None:
    text = "N° facture;Client;Échéance;Montant\nF1;A;01/10/2026;10\nF1;A;01/10/2026;10\n"
    parsed = parse_invoice_rows(_table(text))
    assert len(parsed.rows) == 1 and parsed.duplicates == 1 and parsed.errors == []


def test_repeated_header_rows_are_skipped() -> None:
    text = (
        "N° facture;Client;Échéance;Montant\nF1;A;01/10/2026;10\n"
        "N° facture;Client;Échéance;Montant\nF2;A;01/10/2026;10\n;Total;;20\n"
    )
    parsed = parse_invoice_rows(_table(text))
    assert (len(parsed.rows), parsed.skipped, parsed.errors) == (2, 2, [])


def test_an_extra_cell_points_at_the_delimiter() -> None:
    text = "N° facture;Client;Échéance;Montant\nF1;A;01/10/2026;10;a@b.fr\n"
    parsed = parse_invoice_rows(_table(text))
    assert "check the delimiter" in parsed.errors[0].reason


def test_credit_note_bounds() -> None:
    text = (
        "N° facture;Client;Échéance;Montant;Solde\nA1;A;01/10/2026;-10;-12\n"
        "A2;A;01/10/2026;10;-1\nA3;A;01/10/2026;-10;-4\n"
    )
    parsed = parse_invoice_rows(_table(text))
    assert [e.line for e in parsed.errors] == [2, 3]
    assert parsed.rows[0].outstanding == D("-4.00")


def _row(
    number: str,
    ref: str = "C1",
    outstanding: str = "100",
    amount: str = "100",
    paid: date | None = None,
    **kw: object,
) -> InvoiceRow:
    return InvoiceRow(
        line=2,
        debtor_ref=ref,
        debtor_name=f"Name {ref}",
        number=number,
        due_date=date(2026, 10, 1),
        amount=D(amount),
        outstanding=D(outstanding),
        paid_date=paid,
        **kw,
    )  # type: ignore[arg-type]


def _inv(
    number: str,
    ref: str = "C1",
    outstanding: int = 10000,
    status: str = "open",
    due: date = date(2026, 10, 1),
) -> InvoiceState:
    return InvoiceState(1, number, ref, due, 10000, outstanding, "EUR", status)


DEBTORS = {"C1": DebtorState(1, "C1", "Name C1", emails=frozenset({"a@c1.fr"}))}


def test_plan_reimport_changes_nothing() -> None:
    plan = plan_invoices([_row("F1")], DEBTORS, {"F1": _inv("F1")}, snapshot=True, today=TODAY)
    assert plan.empty and plan.changes == [] and plan.unchanged == 1


def test_plan_newer_file_updates_and_pays() -> None:
    rows = [
        _row("F1", outstanding="40"),
        _row("F2", outstanding="0"),
        _row("F3", outstanding="0", paid=date(2026, 11, 2)),
    ]
    existing = {n: _inv(n) for n in ("F1", "F2", "F3")}
    plan = plan_invoices(rows, DEBTORS, existing, snapshot=False, today=TODAY)
    after = {s.number: s for s in plan.invoice_updates}
    assert after["F1"].outstanding_cents == 4000 and after["F1"].status == "open"
    assert (after["F2"].status, after["F2"].paid_date) == ("paid", TODAY)
    assert after["F3"].paid_date == date(2026, 11, 2)
    assert plan.updated == 3


def test_plan_reopens_an_invoice_the_file_says_is_owed_again() -> None:
    plan = plan_invoices(
        [_row("F1")],
        DEBTORS,
        {"F1": _inv("F1", outstanding=0, status="paid")},
        snapshot=False,
        today=TODAY,
    )
    assert plan.invoice_updates[0].status == "open"


def test_plan_snapshot_settles_missing_open_invoices_only() -> None:
    existing = {
        "F1": _inv("F1"),
        "F2": _inv("F2"),
        "F3": _inv("F3", status="written_off"),
        "F4": _inv("F4", outstanding=0, status="paid"),
    }
    plan = plan_invoices([_row("F1")], DEBTORS, existing, snapshot=True, today=TODAY)
    assert [(s.number, s.status, s.outstanding_cents) for s in plan.invoice_updates] == [
        ("F2", "paid", 0)
    ]
    assert plan.settled == 1 and plan.changes[-1].action == "invoice.settled"
    assert not plan_invoices([_row("F1")], DEBTORS, existing, snapshot=False, today=TODAY).settled


def test_plan_debtors_and_contacts() -> None:
    rows = [
        _row("F1", emails=("a@c1.fr", "b@c1.fr"), siren="552100554"),
        _row("F2", ref="C2", emails=("x@c2.fr",)),
        _row("F3", ref="C2", emails=("y@c2.fr",)),
    ]
    plan = plan_invoices(rows, DEBTORS, {}, snapshot=False, today=TODAY)
    assert [d.account_ref for d in plan.new_debtors] == ["C2"]
    assert plan.debtor_updates[0].siren == "552100554"
    assert sorted(plan.new_contacts) == [("C1", "b@c1.fr"), ("C2", "x@c2.fr"), ("C2", "y@c2.fr")]


def _pay(
    amount: str, ref: str | None = "C1", invoice: str | None = None, reference: str | None = None
) -> PaymentRow:
    return PaymentRow(
        line=2,
        amount=D(amount),
        paid_on=date(2026, 11, 20),
        debtor_ref=ref,
        invoice_number=invoice,
        reference=reference,
    )


def test_payments_go_to_oldest_open_invoices_first() -> None:
    invoices = {
        "F1": _inv("F1", due=date(2026, 9, 1)),
        "F2": _inv("F2", due=date(2026, 8, 1)),
        "F3": _inv("F3", due=date(2026, 7, 1), status="disputed"),
    }
    plan = plan_payments([_pay("150")], DEBTORS, invoices, set(), {})
    after = {s.number: s for s in plan.invoice_updates}
    assert after["F2"].status == "paid" and after["F2"].paid_date == date(2026, 11, 20)
    assert after["F1"].outstanding_cents == 5000 and "F3" not in after
    assert plan.created == 1 and plan.settled == 1 and plan.updated == 1


def test_payment_named_invoice_overpaid_warns() -> None:
    plan = plan_payments(
        [_pay("120", invoice="F1", reference="V1")], DEBTORS, {"F1": _inv("F1")}, set(), {}
    )
    assert plan.invoice_updates[0].outstanding_cents == 0
    assert "20.00 EUR" in plan.warnings[0]


def test_payment_errors_and_idempotence() -> None:
    invoices = {"F1": _inv("F1")}
    cols = {"debtor_ref": "Code client", "invoice_number": "N° facture"}
    plan = plan_payments(
        [_pay("10", ref="ZZ"), _pay("10", invoice="NOPE")], DEBTORS, invoices, set(), cols
    )
    assert [(e.column, e.reason) for e in plan.errors] == [
        ("Code client", "unknown customer for this creditor"),
        ("N° facture", "unknown invoice for this creditor"),
    ]
    row = _pay("10")
    known = {payment_reference(row, 1)}
    again = plan_payments([row], DEBTORS, invoices, known, cols)
    assert again.empty and again.unchanged == 1
    assert payment_reference(row, 1) != payment_reference(row, 2)


def _paid(due: date, paid: date, amount: str = "100") -> InvoiceLine:
    return InvoiceLine(
        number=f"F{due}{paid}",
        due_date=due,
        amount=D(amount),
        outstanding=D("0"),
        status="paid",
        paid_date=paid,
    )


def test_history_over_the_last_twelve_months() -> None:
    on = date(2026, 11, 26)
    invoices = [
        _paid(date(2026, 1, 10), date(2026, 1, 10)),  # on time
        _paid(date(2026, 3, 1), date(2026, 3, 11)),  # 10 days late
        _paid(date(2026, 6, 1), date(2026, 5, 20)),  # early
        _paid(date(2025, 6, 1), date(2025, 7, 1)),  # outside the window
        _paid(date(2026, 6, 1), date(2026, 6, 30), "-50"),  # credit note: ignored
    ]
    h = compute_history(invoices, 2, 1, 1, on)
    assert h.paid_invoices == 3
    assert h.on_time_rate == pytest.approx(2 / 3)
    assert h.average_days_late == pytest.approx(10 / 3)
    assert (h.promises_kept, h.promises_broken, h.open_disputes) == (2, 1, 1)
    assert not h.punctual


def test_history_without_paid_invoices() -> None:
    h = compute_history([], 0, 0, 0, date(2026, 11, 26))
    assert h.paid_invoices == 0 and h.on_time_rate is None and h.average_days_late is None
    assert window_start(date(2028, 2, 29)) == date(2027, 2, 28)
