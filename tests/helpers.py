"""Test helpers: build an app on a test database and seed a small ledger directly."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from sqlmodel import Session

from assistant.bootstrap import App, build_app
from assistant.config import Settings
from assistant.db.models import Contact, Creditor, Debtor, Invoice

ROOT = Path(__file__).resolve().parent.parent


def make_app(db_url: str, actor: str = "tester") -> App:
    """Build an App on `db_url` with the shipped policies and templates."""
    settings = Settings(
        database_url=db_url,
        policies_dir=ROOT / "policies",
        templates_dir=ROOT / "templates",
        _env_file=None,
    )  # type: ignore[call-arg]
    return build_app(settings, actor=actor)


def seed_debtor(
    session: Session,
    creditor: Creditor,
    ref: str,
    name: str,
    invoices: list[tuple],
    on: date,
    *,
    email: str | None = "compta@{ref}.example",
    kind: str = "company",
    key_account: bool = False,
    language: str | None = None,
    address: str | None = "2 rue de la Paix, 75002 Paris",
) -> Debtor:
    """Add a debtor with invoices given as (number, days_late, amount_cents[, status, outstanding])."""
    debtor = Debtor(
        creditor_id=creditor.id,
        account_ref=ref,
        legal_name=name,
        kind=kind,
        key_account=key_account,
        language=language,
        address=address,
    )
    session.add(debtor)
    session.flush()
    if email:
        session.add(Contact(debtor_id=debtor.id, email=email.format(ref=ref.lower())))
    for spec in invoices:
        number, days_late, cents = spec[:3]
        status = spec[3] if len(spec) > 3 else "open"
        outstanding = spec[4] if len(spec) > 4 else (0 if status == "paid" else cents)
        due = on - timedelta(days=days_late)
        session.add(
            Invoice(
                creditor_id=creditor.id,
                debtor_id=debtor.id,
                number=number,
                issue_date=due - timedelta(days=30),
                due_date=due,
                amount_cents=cents,
                outstanding_cents=outstanding,
                status=status,
                paid_date=due if status == "paid" else None,
            )
        )
    session.flush()
    return debtor
