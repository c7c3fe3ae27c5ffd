"""Seed a small ledger with cases and approved drafts for the mail tests (no cycle needed)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage

from sqlmodel import select

from assistant.bootstrap import App
from assistant.db.engine import session_scope
from assistant.db.models import Case, Contact, Draft
from assistant.services.approval import approve_draft
from assistant.services.portfolio import ensure_creditor
from tests.helpers import seed_debtor
from tests.integration.servers import TODAY

SLUG = "atelier-bois"
# Thursday 26 Nov 2026, 10:00 in Paris: inside the policy's sending window.
NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@dataclass(frozen=True)
class Seeded:
    """A debtor with a case, as the mail tests need it."""

    case_id: int
    case_ref: str
    debtor_id: int
    email: str
    invoices: tuple[str, ...]


def seed_case(
    app: App,
    account_ref: str,
    name: str,
    email: str,
    invoices: list[tuple],
    case_ref: str,
    extra_emails: tuple[str, ...] = (),
) -> Seeded:
    """Add a debtor, its contact(s), invoices and an active case with `case_ref`."""
    with session_scope(app.engine) as s:
        creditor = ensure_creditor(s, app.policies[SLUG])
        debtor = seed_debtor(s, creditor, account_ref, name, invoices, TODAY, email=email)
        for extra in extra_emails:
            s.add(Contact(debtor_id=debtor.id, email=extra))
        case = Case(ref=case_ref, creditor_id=creditor.id, debtor_id=debtor.id)
        s.add(case)
        s.flush()
        return Seeded(case.id, case_ref, debtor.id, email, tuple(i[0] for i in invoices))


def add_draft(
    app: App,
    seeded: Seeded,
    *,
    step: str = "reminder_1",
    pdf: bytes | None = None,
    subject: str | None = None,
    outstanding: dict[str, str] | None = None,
    approve: bool = True,
    approver: str = "alice",
) -> int:
    """Add a draft stating the case's invoices, and approve it (Message-ID, threading, To)."""
    outstanding = outstanding or {}
    facts = {
        "case_ref": seeded.case_ref,
        "currency": "EUR",
        "invoices": [
            {"number": n, "outstanding": outstanding.get(n), "status": "open"}
            for n in seeded.invoices
        ],
    }
    with session_scope(app.engine) as s:
        draft = Draft(
            case_id=seeded.case_id,
            step=step,
            subject=subject or f"Relance — factures impayées [{seeded.case_ref}]",
            body_text=f"Madame, Monsieur,\n\nSauf erreur de notre part, les factures "
            f"{', '.join(seeded.invoices)} restent impayées.\n\nCordialement,\nCabinet Recouvra",
            body_html=f"<p>Madame, Monsieur,</p><p>Sauf erreur de notre part, les factures "
            f"<b>{', '.join(seeded.invoices)}</b> restent impayées.</p>",
            pdf=pdf,
            facts=facts,
            findings=[],
            created_at=NOW - timedelta(hours=2),
        )
        s.add(draft)
        s.flush()
        draft_id = draft.id
    if approve:
        with session_scope(app.engine) as s:
            approve_draft(s, draft_id, approver, app.policies, app.settings.smtp_from)
    return draft_id


def get_draft(app: App, draft_id: int) -> Draft:
    """Reload a draft."""
    with session_scope(app.engine) as s:
        return s.exec(select(Draft).where(Draft.id == draft_id)).one()


def parse(data: bytes) -> EmailMessage:
    """Parse bytes received by the SMTP server."""
    return message_from_bytes(data, policy=policy.default)  # type: ignore[return-value]
