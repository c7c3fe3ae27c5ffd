"""An officer reads a case's timeline and acts on it in a real browser."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from sqlmodel import select

from assistant.db.engine import session_scope
from assistant.db.mail_models import InboundMessage
from assistant.db.models import AuditEvent, Case, Creditor, Debtor, Payment
from assistant.services.replies import handle_reply
from tests.web.conftest import ready, sign_in

REPLY = (
    "Bonjour,\n\nNous vous réglerons la facture le 30 décembre 2026.\n\nCordialement,\nM. Durand\n"
)
QUOTED = "\n> Madame, Monsieur,\n> Sauf erreur de notre part, la facture FA-2026-0001 reste due.\n"


def case_of(app, account: str) -> str:  # type: ignore[no-untyped-def]
    """Return the ref of the case of the debtor `account`."""
    with session_scope(app.engine) as s:
        return s.exec(
            select(Case.ref)
            .join(Debtor, Debtor.id == Case.debtor_id)
            .where(Debtor.account_ref == account)
        ).one()


def _reply_and_payment(app, ref: str) -> None:  # type: ignore[no-untyped-def]
    """A debtor's reply (through the real analyser) and a part payment on the case."""
    with session_scope(app.engine) as s:
        case = s.exec(select(Case).where(Case.ref == ref)).one()
        inbound = InboundMessage(
            folder="INBOX",
            raw=(REPLY + QUOTED).encode(),
            raw_sha256="x" * 64,
            subject=f"Re: [{ref}] Relance",
            from_addr="compta@b001.example",
            text=REPLY + QUOTED,
            reply_text=REPLY.strip(),
            case_id=case.id,
            status="received",
            received_at=datetime.now(UTC),
        )
        s.add(inbound)
        s.flush()
        handle_reply(s, inbound, case, app=app)
        creditor = s.exec(select(Creditor).where(Creditor.id == case.creditor_id)).one()
        s.add(
            Payment(
                creditor_id=creditor.id,
                debtor_id=case.debtor_id,
                reference="VIR-778899",
                amount_cents=20000,
                paid_on=date.today(),
            )
        )


def test_the_timeline_shows_letters_the_reading_of_a_reply_promises_and_payments(page, workspace):
    ref = case_of(workspace.app, "B001")
    _reply_and_payment(workspace.app, ref)
    sign_in(page, "alice")
    page.goto(f"/cases/{ref}")
    ready(page)
    timeline = page.locator("#timeline")
    kinds = set(
        timeline.locator("li[data-kind]").evaluate_all("els => els.map(e => e.dataset.kind)")
    )
    assert {"letter", "reply", "promise", "payment", "audit"} <= kinds
    reply = timeline.locator("li.reply")
    assert reply.locator(".intent").inner_text() == "promise_to_pay"
    assert reply.locator("mark.evidence").count() >= 1
    assert "30 décembre 2026" in reply.locator("blockquote").inner_text()
    quoted = reply.locator("details.quoted")
    assert not quoted.locator("pre").is_visible()  # folded until opened
    quoted.locator("summary").click()
    assert "reste due" in quoted.locator("pre").inner_text()
    assert "VIR-778899" in timeline.locator("li.payment").inner_text()


def test_notes_pause_and_resume_are_recorded_with_the_officer_name(page, workspace):
    ref = case_of(workspace.app, "B002")
    sign_in(page, "alice")
    page.goto(f"/cases/{ref}")
    ready(page)
    page.fill("#note-text", "Called the accountant, invoice approved for payment")
    page.click("#add-note")
    page.wait_for_url(re.compile(r"notice="))
    assert "invoice approved for payment" in page.locator("li.note").inner_text()
    page.fill("#pause-reason", "Waiting for the signed delivery note")
    page.click("#pause")
    page.wait_for_url(re.compile(r"notice="))
    assert page.locator("#case-status").inner_text() == "paused"
    page.fill("#resume-note", "Delivery note received")
    page.click("#resume")
    page.wait_for_url(re.compile(r"notice="))
    assert page.locator("#case-status").inner_text() == "active"
    with session_scope(workspace.app.engine) as s:
        events = s.exec(
            select(AuditEvent.action, AuditEvent.actor).where(AuditEvent.entity_id == ref)
        ).all()
    assert {("case.note", "alice"), ("case.paused", "alice"), ("case.resumed", "alice")} <= set(
        events
    )


def test_another_creditors_case_answers_like_a_missing_one(page, workspace):
    foreign = case_of(workspace.app, "T001")
    sign_in(page, "alice")
    foreign_page = page.goto(f"/cases/{foreign}")
    foreign_main = page.locator("main").inner_html()
    missing_page = page.goto("/cases/REF-NOPE")
    assert foreign_page.status == missing_page.status == 404
    assert foreign_main == page.locator("main").inner_html()
    assert "Thames" not in page.goto("/cases").text()
    response = page.request.post(
        f"/cases/{foreign}/pause",
        form={
            "reason": "x",
            "csrf_token": page.locator("meta[name=csrf-token]").get_attribute("content"),
        },
    )
    assert response.status == 404
