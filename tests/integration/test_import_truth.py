"""The import says what it read, what it ignored and what it assumed; totals to check against."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, select

from assistant.db.models import Contact, Debtor
from assistant.importing import import_invoices
from assistant.policy import load_policies

ROOT = Path(__file__).resolve().parent.parent.parent
POLICIES = load_policies(ROOT / "policies")
SLUG = "atelier-bois"
TODAY = date(2026, 11, 26)
CANONICAL = (
    "debtor_ref;debtor_name;debtor_email;debtor_siren;debtor_language;invoice_number;due_date;"
    "amount;outstanding;Commercial\n"
    "C1;Dublin Joinery Ltd;ap@dublin.example;552100554;en;F-1;2026-10-01;100,00;100,00;Paul\n"
    "C2;Scierie Leduc;compta@leduc.example;;fr;F-2;2026-10-02;250,50;200,00;Anne\n"
)


def run(engine: sa.Engine, tmp_path: Path, text: str, policies=POLICIES):  # type: ignore[no-untyped-def]
    path = tmp_path / "export.csv"
    path.write_text(text, encoding="utf-8")
    return import_invoices(engine, path, SLUG, policies=policies, today=TODAY, actor="t")


def kinds(engine: sa.Engine) -> dict[str, str]:
    with Session(engine) as s:
        return {d.account_ref: d.kind for d in s.exec(select(Debtor)).all()}


def test_canonical_headers_are_read_and_the_summary_tells_the_truth(engine, tmp_path):
    report = run(engine, tmp_path, CANONICAL)
    assert report.ok, report.errors
    assert {"debtor_email", "debtor_siren", "debtor_language"} <= set(report.columns)
    with Session(engine) as s:
        emails = set(s.exec(select(Contact.email)).all())
        dublin = s.exec(select(Debtor).where(Debtor.account_ref == "C1")).one()
    assert emails == {"ap@dublin.example", "compta@leduc.example"}
    assert (dublin.siren, dublin.language) == ("552100554", "en")
    data = report.to_dict()
    assert data["ignored_columns"] == ["Commercial"]
    assert data["assumptions"] == [
        "no debtor type column: 2 debtors treated as businesses (add a debtor type column or "
        "set default_debtor_type in the policy)"
    ]
    assert data["totals"] == {
        "rows": 2,
        "debtors": 2,
        "amount": {"EUR": "350.50"},
        "outstanding": {"EUR": "300.00"},
    }
    # Existing keys are kept.
    assert {"ok", "rows", "created", "columns", "warnings", "errors"} <= set(data)


def test_a_type_column_with_particulier_makes_a_consumer(engine, tmp_path):
    text = (
        "Code client;Raison sociale;N° facture;Échéance;Montant;Type\n"
        "P1;Jeanne Petit;F-10;01/10/2026;80,00;particulier\n"
        "B1;Garage Martin;F-11;01/10/2026;800,00;professionnel\n"
        "B2;Boulangerie Roux;F-12;01/10/2026;90,00;B2B\n"
        "P2;Paul Durand;F-13;01/10/2026;60,00;B2C\n"
    )
    report = run(engine, tmp_path, text)
    assert report.ok, report.errors
    assert report.columns["debtor_type"] == "Type" and report.assumptions == []
    assert kinds(engine) == {"P1": "consumer", "B1": "company", "B2": "company", "P2": "consumer"}


def test_a_type_column_of_document_types_is_ignored_not_an_error(engine, tmp_path):
    text = (
        "Code client;Raison sociale;N° facture;Échéance;Montant;Type\n"
        "B1;Garage Martin;F-11;01/10/2026;800,00;FA\n"
        "B1;Garage Martin;A-11;01/10/2026;-80,00;AV\n"
    )
    report = run(engine, tmp_path, text)
    assert report.ok, report.errors
    assert "debtor_type" not in report.columns
    assert report.ignored_columns == ["Type (its cells are not debtor types)"]


def test_a_stray_value_in_a_type_column_is_a_located_error_not_a_silent_business(
    engine, tmp_path
):
    text = (
        "Code client;Raison sociale;N° facture;Échéance;Montant;Type\n"
        "P1;Jeanne Petit;F-10;01/10/2026;80,00;particulier\n"
        "B1;Garage Martin;F-11;01/10/2026;800,00;professionnel\n"
        "A1;Club de foot;F-12;01/10/2026;90,00;association\n"
    )
    report = run(engine, tmp_path, text)
    assert not report.ok  # nothing imported: the consumer is never charged business penalties
    assert report.columns["debtor_type"] == "Type"
    [error] = report.errors
    assert error.line == 4 and "association" in str(error.value) and "debtor type" in error.reason
    assert kinds(engine) == {}


def test_the_policy_default_debtor_type_applies_and_is_said(engine, tmp_path):
    consumer_first = {
        **POLICIES,
        SLUG: POLICIES[SLUG].model_copy(update={"default_debtor_type": "consumer"}),
    }
    report = run(engine, tmp_path, CANONICAL, policies=consumer_first)
    assert report.ok
    assert kinds(engine) == {"C1": "consumer", "C2": "consumer"}
    assert report.assumptions == [
        "no debtor type column: 2 debtors treated as consumers (the policy's default_debtor_type)"
    ]


LEDGER = (
    "Code client;Raison sociale;N° facture;Date facture;Échéance;Montant;Solde\n"
    "C1;Garage Martin;F-20;15/09/2026;15/10/2026;1 000,00;1 000,00\n"
    "C1;Garage Martin;F-21;19/11/2026;19/12/2026;300,00;300,00\n"
)


def outstanding(engine: sa.Engine) -> dict[str, tuple[int, str]]:
    from assistant.db.models import Invoice

    with Session(engine) as s:
        return {i.number: (i.outstanding_cents, i.status) for i in s.exec(select(Invoice)).all()}


def test_an_older_ledger_export_does_not_undo_a_later_payment(engine, tmp_path):
    from assistant.importing import import_payments

    assert run(engine, tmp_path, LEDGER).ok
    bank = tmp_path / "bank.csv"
    bank.write_text(
        "Date de règlement;Code client;N° facture;Montant réglé;Référence paiement\n"
        "24/11/2026;C1;F-20;1 000,00;VIR-1\n"
        "25/11/2026;C1;F-21;100,00;VIR-2\n",
        encoding="utf-8",
    )
    assert import_payments(engine, bank, SLUG, policies=POLICIES).ok
    assert outstanding(engine) == {"F-20": (0, "paid"), "F-21": (20000, "open")}
    # The ERP export of 19/11 (its latest date) lags the bank file: re-importing it
    # must neither reopen F-20 nor put the 100,00 back on F-21.
    again = run(engine, tmp_path, LEDGER)
    assert again.ok
    assert outstanding(engine) == {"F-20": (0, "paid"), "F-21": (20000, "open")}
    assert any("after 2026-11-19" in w for w in again.warnings)
    # An export made after the payments is the truth again (here: F-21 re-invoiced in full).
    later = run(engine, tmp_path, LEDGER.replace("19/11/2026;19/12/2026", "26/11/2026;26/12/2026"))
    assert later.ok
    assert outstanding(engine)["F-21"] == (30000, "open")
