"""Import services on a real database (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, func, select

from assistant.db.models import (
    AuditEvent,
    Case,
    Contact,
    Creditor,
    Debtor,
    Invoice,
    Payment,
    Promise,
)
from assistant.importing import ImportFailed, import_invoices, import_payments, load_histories
from assistant.policy import load_policies

ROOT = Path(__file__).resolve().parent.parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "imports"
SLUG = "atelier-bois"
TODAY = date(2026, 11, 26)


@pytest.fixture(scope="module")
def policies() -> dict:
    return load_policies(ROOT / "policies")


def _count(engine: sa.Engine, model: type) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(model)).one()


def _invoices(engine: sa.Engine) -> dict[str, Invoice]:
    with Session(engine) as s:
        return {i.number: i for i in s.exec(select(Invoice)).all()}


def _import(engine: sa.Engine, policies: dict, name: str, **kw: object):  # type: ignore[no-untyped-def]
    return import_invoices(
        engine, FIXTURES / name, SLUG, policies=policies, today=TODAY, actor="tester", **kw
    )  # type: ignore[arg-type]


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_sage_export_is_imported(engine: sa.Engine, policies: dict) -> None:
    report = _import(engine, policies, "sage_balance_agee_cp1252.csv")
    assert report.ok, report.errors
    assert (
        report.rows,
        report.created,
        report.debtors_created,
        report.contacts_added,
        report.skipped,
    ) == (6, 6, 4, 4, 1)
    with Session(engine) as s:
        creditor = s.exec(select(Creditor)).one()
        assert (creditor.slug, creditor.name) == (SLUG, policies[SLUG].creditor.name)
        lefevre = s.exec(select(Debtor).where(Debtor.account_ref == "CLI0001")).one()
        assert lefevre.legal_name == "Boulangerie Lefèvre & Fils"
        emails = s.exec(select(Contact.email).where(Contact.debtor_id == lefevre.id)).all()
        assert sorted(emails) == ["compta@lefevre.example", "gerant@lefevre.example"]
        cote = s.exec(select(Debtor).where(Debtor.account_ref == "CLI0003")).one()
        assert cote.kind == "consumer"
        actions = s.exec(select(AuditEvent.action, func.count()).group_by(AuditEvent.action)).all()
    invoices = _invoices(engine)
    assert invoices["FA2026-0120"].amount_cents == 1234560
    assert invoices["FA2026-0117"].outstanding_cents == 120000
    assert invoices["AV2026-0007"].amount_cents == -15000  # credit note
    assert dict(actions) == {
        "creditor.created": 1,
        "debtor.created": 4,
        "contact.added": 4,
        "invoice.created": 6,
        "import.invoices": 1,
    }


def test_reimport_changes_nothing_and_writes_no_audit(engine: sa.Engine, policies: dict) -> None:
    _import(engine, policies, "sage_balance_agee_cp1252.csv")
    events = _count(engine, AuditEvent)
    before = {n: i.updated_at for n, i in _invoices(engine).items()}
    again = _import(engine, policies, "sage_balance_agee_cp1252.csv")
    assert (again.created, again.updated, again.settled, again.unchanged) == (0, 0, 0, 6)
    assert _count(engine, AuditEvent) == events
    assert {n: i.updated_at for n, i in _invoices(engine).items()} == before


def test_newer_file_updates_outstanding_and_pays(
    engine: sa.Engine, policies: dict, tmp_path: Path
) -> None:
    first = (
        "Code client;Raison sociale;N° facture;Échéance;Montant TTC;Reste dû;Date de règlement\n"
        "C1;Alpha;F1;01/10/2026;100,00;100,00;\nC1;Alpha;F2;01/10/2026;200,00;200,00;\n"
        "C1;Alpha;F3;01/10/2026;300,00;300,00;\n"
    )
    newer = (
        "Code client;Raison sociale;N° facture;Échéance;Montant TTC;Reste dû;Date de règlement\n"
        "C1;Alpha;F1;01/10/2026;100,00;40,00;\nC1;Alpha;F2;01/10/2026;200,00;0,00;\n"
        "C1;Alpha;F3;01/10/2026;300,00;0;15/11/2026\n"
    )
    import_invoices(engine, _write(tmp_path, "a.csv", first), SLUG, policies=policies, today=TODAY)
    report = import_invoices(
        engine, _write(tmp_path, "b.csv", newer), SLUG, policies=policies, today=TODAY
    )
    assert (report.updated, report.created) == (3, 0)
    inv = _invoices(engine)
    assert (inv["F1"].outstanding_cents, inv["F1"].status) == (4000, "open")
    assert (inv["F2"].status, inv["F2"].paid_date) == ("paid", TODAY)
    assert (inv["F3"].status, inv["F3"].paid_date) == ("paid", date(2026, 11, 15))
    with Session(engine) as s:
        updated = s.exec(select(AuditEvent).where(AuditEvent.action == "invoice.updated")).all()
    payload = next(e.payload for e in updated if e.payload["key"] == "F1")
    assert payload["before"] == {"outstanding_cents": 10000}
    assert payload["after"] == {"outstanding_cents": 4000}


def test_snapshot_settles_open_invoices_missing_from_the_file(
    engine: sa.Engine, policies: dict
) -> None:
    _import(engine, policies, "sage_balance_agee_cp1252.csv")
    report = _import(
        engine,
        policies,
        "custom_headers.csv",
        mapping=FIXTURES / "custom_headers.yaml",
        snapshot=True,
    )
    assert (report.created, report.settled, report.snapshot_settled) == (2, 6, 6)
    inv = _invoices(engine)
    assert all(
        inv[n].status == "paid" and inv[n].outstanding_cents == 0 and inv[n].paid_date == TODAY
        for n in inv
        if n.startswith(("FA", "AV"))
    )
    assert inv["P-78"].outstanding_cents == 200000
    with Session(engine) as s:
        settled = s.exec(select(func.count()).where(AuditEvent.action == "invoice.settled")).one()
    assert settled == 6


def test_one_bad_row_and_nothing_is_written(engine: sa.Engine, policies: dict) -> None:
    report = _import(engine, policies, "bad_rows.csv")
    assert not report.ok
    assert [e.line for e in report.errors] == [2, 3, 4, 6, 7, 8]
    assert all(e.reason for e in report.errors)
    for model in (Creditor, Debtor, Invoice, AuditEvent):
        assert _count(engine, model) == 0


def test_dry_run_reports_and_writes_nothing(engine: sa.Engine, policies: dict) -> None:
    report = _import(engine, policies, "sage_balance_agee_cp1252.csv", dry_run=True)
    assert report.ok and report.dry_run and report.created == 6
    assert _count(engine, Creditor) == 0 and _count(engine, AuditEvent) == 0


def test_file_level_problems_raise(engine: sa.Engine, policies: dict, tmp_path: Path) -> None:
    with pytest.raises(ImportFailed, match="unknown creditor 'nobody'"):
        import_invoices(engine, FIXTURES / "quickbooks_en.csv", "nobody", policies=policies)
    with pytest.raises(ImportFailed, match="ambiguous headers.*mapping"):
        _import(engine, policies, "ambiguous_headers.csv")
    with pytest.raises(ImportFailed, match="no column found"):
        _import(engine, policies, "custom_headers.csv")
    empty = tmp_path / "empty.csv"
    empty.write_text("Code client;N° facture;Échéance;Montant TTC\n", encoding="utf-8")
    with pytest.raises(ImportFailed, match="snapshot would settle"):
        import_invoices(engine, empty, SLUG, snapshot=True, policies=policies)
    assert import_invoices(engine, empty, SLUG, policies=policies).rows == 0
    with pytest.raises(ImportFailed, match="no such file"):
        _import(engine, policies, "missing.csv")


@pytest.mark.parametrize(
    "name",
    [
        "ebp_utf8_bom.csv",
        "cegid_tab_dots.txt",
        "quickbooks_en.csv",
        "xero_uk_dates.csv",
        "us_dates.csv",
    ],
)
def test_every_sample_export_imports(engine: sa.Engine, policies: dict, name: str) -> None:
    report = _import(engine, policies, name)
    assert report.ok, report.errors
    assert report.created == report.rows > 0


def test_xlsx_with_date_cells_numbers_and_a_title_row(
    engine: sa.Engine, policies: dict, tmp_path: Path
) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["Export grand livre clients"])
    ws.append([])
    ws.append(
        [
            "Code client",
            "Client",
            "N° facture",
            "Date facture",
            "Échéance",
            "Montant TTC",
            "Reste dû",
            "Grand compte",
            "Langue",
        ]
    )
    ws.append(
        [
            "X1",
            "Xylo SA",
            "XF-1",
            datetime(2026, 9, 1),
            datetime(2026, 10, 1),
            1234.5,
            1234.5,
            "oui",
            "EN",
        ]
    )
    ws.append(["X1", "Xylo SA", 20261002, "01/09/2026", 46296, 99, 0, "non", None])
    path = tmp_path / "ledger.xlsx"
    wb.save(path)
    report = import_invoices(engine, path, SLUG, policies=policies, today=TODAY)
    assert report.ok, report.errors
    assert report.header_line == 3
    inv = _invoices(engine)
    assert inv["XF-1"].due_date == date(2026, 10, 1) and inv["XF-1"].amount_cents == 123450
    assert inv["20261002"].due_date == date(2026, 10, 1) and inv["20261002"].status == "paid"
    with Session(engine) as s:
        xylo = s.exec(select(Debtor)).one()
    assert xylo.key_account is False and xylo.language == "en"  # the last row's flag wins

    ws.append(["X2", "Zeta", "XF-3", "hier", datetime(2026, 10, 1), "beaucoup", 1])
    wb.save(path)
    bad = import_invoices(engine, path, SLUG, policies=policies, today=TODAY)
    assert [(e.line, e.column) for e in bad.errors] == [(6, "Date facture"), (6, "Montant TTC")]


def test_payments_are_allocated_once(engine: sa.Engine, policies: dict) -> None:
    _import(engine, policies, "sage_balance_agee_cp1252.csv")
    report = import_payments(engine, FIXTURES / "payments_fr.csv", SLUG, policies=policies)
    assert report.ok, report.errors
    assert (report.created, report.settled, report.updated) == (3, 1, 2)
    inv = _invoices(engine)
    assert (inv["FA2026-0101"].status, inv["FA2026-0101"].paid_date) == ("paid", date(2026, 11, 20))
    assert inv["FA2026-0117"].outstanding_cents == 70000  # oldest open invoice of CLI0001
    assert inv["FA2026-0120"].outstanding_cents == 1224560
    with Session(engine) as s:
        refs = sorted(p.reference for p in s.exec(select(Payment)).all())
    assert refs[:2] == ["VIR-88001", "VIR-88002"] and refs[2].startswith("auto-")
    events = _count(engine, AuditEvent)
    again = import_payments(engine, FIXTURES / "payments_fr.csv", SLUG, policies=policies)
    assert (again.created, again.unchanged) == (0, 3)
    assert _count(engine, AuditEvent) == events and _count(engine, Payment) == 3


def test_payment_for_unknown_invoice_writes_nothing(
    engine: sa.Engine, policies: dict, tmp_path: Path
) -> None:
    _import(engine, policies, "sage_balance_agee_cp1252.csv")
    path = _write(
        tmp_path,
        "p.csv",
        "Date de règlement;Code client;N° facture;Montant réglé\n"
        "20/11/2026;CLI0001;FA2026-0101;10,00\n20/11/2026;CLI0001;FA-NOPE;10,00\n"
        "20/11/2026;CLI0009;;-5,00\n",
    )
    report = import_payments(engine, path, SLUG, policies=policies)
    assert [(e.line, e.column) for e in report.errors] == [(3, "N° facture"), (4, "Montant réglé")]
    assert _count(engine, Payment) == 0
    assert _invoices(engine)["FA2026-0101"].outstanding_cents == 123456


def test_histories_from_paid_rows_promises_and_disputes(engine: sa.Engine, policies: dict) -> None:
    _import(engine, policies, "ebp_utf8_bom.csv")
    with Session(engine) as s:
        durand = s.exec(select(Debtor).where(Debtor.account_ref == "411DUR")).one()
        bright = s.exec(select(Debtor).where(Debtor.account_ref == "411BRI")).one()
        creditor_id, durand_id, bright_id = durand.creditor_id, durand.id or 0, bright.id or 0
        case = Case(ref="REF-TEST", creditor_id=creditor_id, debtor_id=bright.id or 0)
        s.add(case)
        s.flush()
        s.add(Promise(case_id=case.id or 0, due_on=date(2026, 10, 1), status="kept"))
        s.add(
            Promise(
                case_id=case.id or 0,
                due_on=date(2026, 11, 1),
                status="broken",
                resolved_on=date(2026, 11, 5),
            )
        )
        s.add(Promise(case_id=case.id or 0, due_on=date(2024, 11, 1), status="broken"))
        disputed = s.exec(select(Invoice).where(Invoice.number == "EBP-26005")).one()
        disputed.status = "disputed"
        s.add(disputed)
        s.commit()
        histories = load_histories(s, creditor_id, TODAY)
        only = load_histories(s, creditor_id, TODAY, debtor_ids=[bright_id])
    h = histories[durand_id]
    assert (h.paid_invoices, h.on_time_rate, h.average_days_late) == (2, 0.5, 8.0)
    b = histories[bright_id]
    assert (b.paid_invoices, b.promises_kept, b.promises_broken, b.open_disputes) == (0, 1, 1, 1)
    assert set(only) == {bright_id}


def test_statement_count_does_not_grow_with_rows(
    engine: sa.Engine, policies: dict, tmp_path: Path
) -> None:
    lines = ["Code client;Raison sociale;Email;N° facture;Échéance;Montant TTC;Solde"]
    lines += [
        f"C{i % 97};Client {i % 97};c{i % 97}@x.example;F{i};01/10/2026;{i},50;{i},50"
        for i in range(1, 1201)
    ]
    path = _write(tmp_path, "big.csv", "\n".join(lines) + "\n")
    statements: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    report = import_invoices(engine, path, SLUG, policies=policies, today=TODAY)
    assert report.created == 1200 and report.debtors_created == 97
    assert len(statements) < 40, len(statements)
