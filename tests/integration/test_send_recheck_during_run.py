"""The outbox reads its approved drafts a page at a time; a change to a case that arrives while
earlier letters of the same run go out (after the page was read) still stops that case's letter."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from sqlmodel import Session, select

from assistant.db.engine import session_scope
from assistant.db.models import Case, Contact, Handoff, Invoice, Promise
from assistant.mail import build_mailbox, build_sender
from assistant.services.case_control import open_handoff
from assistant.services.outbox import send_outbox
from tests.integration.mailworld import NOW, Seeded, add_draft, get_draft, parse, seed_case
from tests.integration.test_outbox import no_sleep

pytestmark = pytest.mark.integration


def _invoice(s: Session, number: str) -> Invoice:
    return s.exec(select(Invoice).where(Invoice.number == number)).one()


def paid(s: Session, c: Seeded) -> None:
    inv = _invoice(s, c.invoices[0])
    inv.status, inv.outstanding_cents = "paid", 0


def part_paid(s: Session, c: Seeded) -> None:
    _invoice(s, c.invoices[0]).outstanding_cents = 4000


def disputed(s: Session, c: Seeded) -> None:
    _invoice(s, c.invoices[0]).status = "disputed"


def frozen(s: Session, c: Seeded) -> None:
    _invoice(s, c.invoices[0]).status = "frozen"


def handed_off(s: Session, c: Seeded) -> None:
    s.add(Handoff(case_id=c.case_id, reason="dispute", summary="contests the invoice"))


def stop_contact(s: Session, c: Seeded) -> None:
    case = s.get(Case, c.case_id)
    assert case is not None
    open_handoff(s, case, "stop_contact", "asks us to stop writing", "inbox")


def promised(s: Session, c: Seeded) -> None:
    s.add(Promise(case_id=c.case_id, due_on=date(2026, 12, 5), amount_cents=10000))


def paused(s: Session, c: Seeded) -> None:
    case = s.get(Case, c.case_id)
    assert case is not None
    case.status = "paused"


def contact_gone(s: Session, c: Seeded) -> None:
    contact = s.exec(select(Contact).where(Contact.debtor_id == c.debtor_id)).one()
    contact.valid, contact.invalid_reason = False, "bounce 5.1.1"


def renamed(s: Session, c: Seeded) -> None:
    contact = s.exec(select(Contact).where(Contact.debtor_id == c.debtor_id)).one()
    contact.name = "Mme Durand"


CHANGES: dict[str, tuple[Callable[[Session, Seeded], None], str | None]] = {
    "paid": (paid, "is paid"),
    "part_paid": (part_paid, "changed from 100.00 to 40.00"),
    "disputed": (disputed, "is disputed"),
    "frozen": (frozen, "is frozen"),
    "handed_off": (handed_off, "hand-off"),
    "stop_contact": (stop_contact, None),  # the hand-off withdraws the letter itself
    "promised": (promised, "promise"),
    "paused": (paused, "paused"),
    "contact_gone": (contact_gone, "no valid contact"),
}


async def test_changes_after_the_page_was_read_stop_the_later_letters(mail_app, smtp_server):
    first = seed_case(
        mail_app, "C100", "Premier SA", "a@premier.fr", [("FB-100", 20, 10000)], "REF-BBB2"
    )
    cases = {
        name: seed_case(
            mail_app, f"C1{k:02d}", f"Client {name}", f"{name.replace('_', '-')}@client.fr",
            [(f"FB-1{k:02d}", 20, 10000)], f"REF-C{k:02d}Z",
        )
        for k, name in enumerate([*CHANGES, "untouched", "renamed"], start=10)
    }  # fmt: skip
    first_id = add_draft(mail_app, first)
    ids = {
        name: add_draft(mail_app, c, outstanding={c.invoices[0]: "100.00"})
        for name, c in cases.items()
    }

    def meanwhile(event: str, draft_id: int, _detail: str) -> None:
        """While the first letter goes out (the page is read), every other case changes."""
        if event == "sending" and draft_id == first_id:
            with session_scope(mail_app.engine) as s:
                for name, (change, _) in CHANGES.items():
                    change(s, cases[name])
                renamed(s, cases["renamed"])

    mailbox = build_mailbox(mail_app.settings)
    try:
        report = await send_outbox(
            mail_app, build_sender(mail_app.settings), mailbox, NOW, sleep=no_sleep,
            progress=meanwhile,
        )  # fmt: skip
    finally:
        mailbox.close()

    assert sorted(report.sent) == sorted([first_id, ids["untouched"], ids["renamed"]])
    assert sorted(m.rcpt_tos[0] for m in smtp_server.messages) == sorted(
        ["a@premier.fr", "untouched@client.fr", "renamed@client.fr"]
    )
    for name, (_, reason) in CHANGES.items():
        draft = get_draft(mail_app, ids[name])
        assert draft.status != "sent" and draft.sent_at is None, name
        if reason is not None:
            assert draft.status == "pending", name
            assert reason in (draft.review_reason or ""), (name, draft.review_reason)
    # the letter to a renamed contact is addressed with the name as it is at send time
    renamed_msg = next(
        parse(m.data) for m in smtp_server.messages if m.rcpt_tos == ["renamed@client.fr"]
    )
    assert "Mme Durand" in renamed_msg["To"]
