"""The outbox against a real SMTP server (aiosmtpd) and a real IMAP Sent folder (Dovecot)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select

from assistant.db.engine import session_scope
from assistant.db.mail_models import SenderLease
from assistant.db.models import AuditEvent, Case, Contact, Handoff, Invoice, Promise, Task
from assistant.mail import build_mailbox, build_sender
from assistant.mail.imap import ImapMailbox
from assistant.services.outbox import plan_outbox, send_outbox
from tests.integration.mailworld import NOW, PDF, add_draft, get_draft, parse, seed_case

pytestmark = pytest.mark.integration


async def no_sleep(_seconds: float) -> None:
    """Skip backoff pauses in tests."""


@pytest.fixture
def mailbox(mail_app) -> Iterator[ImapMailbox]:
    box = build_mailbox(mail_app.settings)
    yield box
    box.close()


async def send(app, mailbox, now=NOW, **kw):
    return await send_outbox(app, build_sender(app.settings), mailbox, now, sleep=no_sleep, **kw)


def actions(app, draft_id: int) -> list[str]:
    with session_scope(app.engine) as s:
        rows = s.exec(
            select(AuditEvent.action)
            .where(AuditEvent.entity == "draft", AuditEvent.entity_id == str(draft_id))
            .order_by(AuditEvent.id)
        ).all()
    return list(rows)


async def test_a_letter_goes_out_threaded_with_text_html_and_pdf(
    mail_app, smtp_server, mailbox, imap_account
):
    case = seed_case(
        mail_app,
        "C001",
        "Boulangerie Martin SARL",
        "compta@boulangerie-martin.fr",
        [("FA-2026-0101", 12, 125000)],
        "REF-7Q2K",
    )
    first = add_draft(mail_app, case)

    report = await send(mail_app, mailbox)

    assert report.sent == [first] and not report.failed
    assert len(smtp_server.messages) == 1
    got = smtp_server.messages[0]
    assert got.rcpt_tos == ["compta@boulangerie-martin.fr"]
    assert got.mail_from == "recouvrement@recouvra.example"
    msg = parse(got.data)
    d1 = get_draft(mail_app, first)
    assert d1.status == "sent" and d1.sent_at is not None and d1.attempts == 1
    assert msg["Message-ID"].strip() == f"<{d1.message_id}>"
    assert msg["From"] == "Cabinet Recouvra <recouvrement@recouvra.example>"
    assert msg["To"] == "compta@boulangerie-martin.fr"
    assert msg["Reply-To"] == "recouvrement+REF-7Q2K@recouvra.example"
    assert "[REF-7Q2K]" in msg["Subject"]
    assert msg["In-Reply-To"] is None and msg["Date"]
    assert msg.get_content_type() == "multipart/alternative"
    assert "FA-2026-0101" in msg.get_body(("plain",)).get_content()
    assert "<b>FA-2026-0101</b>" in msg.get_body(("html",)).get_content()
    assert actions(mail_app, first)[-3:] == ["draft.approved", "draft.sending", "draft.sent"]
    # a copy sits in the Sent folder, findable by Message-ID (crash recovery relies on it)
    assert mailbox.find_message_id("Sent", f"<{d1.message_id}>")

    second = add_draft(mail_app, case, step="formal_notice", pdf=PDF)
    report = await send(mail_app, mailbox)

    assert report.sent == [second]
    msg2 = parse(smtp_server.messages[1].data)
    assert msg2["In-Reply-To"].strip() == f"<{d1.message_id}>"
    assert f"<{d1.message_id}>" in msg2["References"]
    assert msg2.get_content_type() == "multipart/mixed"
    pdfs = [p for p in msg2.iter_attachments() if p.get_content_type() == "application/pdf"]
    assert len(pdfs) == 1 and pdfs[0].get_content() == PDF
    assert pdfs[0].get_filename() == "REF-7Q2K-formal_notice.pdf"
    with session_scope(mail_app.engine) as s:
        row = s.get(Case, case.case_id)
        assert row.last_contact_on == NOW.date() and row.step_name == "formal_notice"


async def test_send_time_recheck_returns_or_holds_drafts_and_sends_nothing(
    mail_app, smtp_server, mailbox
):
    paid = seed_case(mail_app, "C010", "Payé SARL", "a@paye.fr", [("FA-10", 20, 10000)], "REF-AAA2")
    promised = seed_case(
        mail_app, "C011", "Promis SA", "b@promis.fr", [("FA-11", 20, 10000)], "REF-AAA3"
    )
    handed = seed_case(
        mail_app, "C012", "Litige SAS", "c@litige.fr", [("FA-12", 20, 10000)], "REF-AAA4"
    )
    changed = seed_case(
        mail_app, "C013", "Acompte SARL", "d@acompte.fr", [("FA-13", 20, 10000)], "REF-AAA5"
    )
    ids = {
        "paid": add_draft(mail_app, paid),
        "promised": add_draft(mail_app, promised),
        "handed": add_draft(mail_app, handed),
        "changed": add_draft(mail_app, changed, outstanding={"FA-13": "100.00"}),
    }
    with session_scope(mail_app.engine) as s:
        inv = s.exec(select(Invoice).where(Invoice.number == "FA-10")).one()
        inv.status, inv.outstanding_cents = "paid", 0
        s.add(Promise(case_id=promised.case_id, due_on=date(2026, 12, 5), amount_cents=10000))
        s.add(Handoff(case_id=handed.case_id, reason="dispute", summary="contests FA-12"))
        part = s.exec(select(Invoice).where(Invoice.number == "FA-13")).one()
        part.outstanding_cents = 6000

    plan = {i.draft_id: i for i in plan_outbox(mail_app, NOW)}
    assert all(plan[i].review for i in ids.values())  # the dry run says so, changes nothing
    assert get_draft(mail_app, ids["paid"]).status == "approved"

    report = await send(mail_app, mailbox)

    assert smtp_server.messages == [] and report.sent == []
    reasons = {d: get_draft(mail_app, d).review_reason for d in ids.values()}
    assert all(get_draft(mail_app, d).status == "pending" for d in ids.values())
    assert "FA-10 is paid" in reasons[ids["paid"]]
    assert "promise" in reasons[ids["promised"]]
    assert "hand-off" in reasons[ids["handed"]]
    assert "changed from 100.00 to 60.00" in reasons[ids["changed"]]
    assert "draft.returned_for_review" in actions(mail_app, ids["paid"])


@pytest.mark.parametrize(
    ("now", "why"),
    [
        (datetime(2026, 11, 26, 19, 30, tzinfo=UTC), "outside sending hours"),  # 20:30 Paris
        (datetime(2026, 11, 28, 10, 0, tzinfo=UTC), "not a sending day"),  # Saturday
        (datetime(2026, 12, 25, 10, 0, tzinfo=UTC), "public holiday"),  # Christmas, a Friday
    ],
)
async def test_outside_the_sending_window_a_draft_goes_back_to_review(
    mail_app, smtp_server, mailbox, now, why
):
    case = seed_case(mail_app, "C020", "Tard SARL", "x@tard.fr", [("FA-20", 20, 10000)], "REF-BBB2")
    draft_id = add_draft(mail_app, case)

    report = await send(mail_app, mailbox, now=now)

    assert smtp_server.messages == []
    assert report.returned and why in report.returned[0][1]
    draft = get_draft(mail_app, draft_id)
    assert draft.status == "pending" and why in draft.review_reason


async def test_the_worker_keeps_an_approved_draft_waiting_for_the_window(
    mail_app, smtp_server, mailbox
):
    case = seed_case(mail_app, "C022", "Nuit SARL", "n@nuit.fr", [("FA-22", 20, 10000)], "REF-BBB4")
    draft_id = add_draft(mail_app, case)
    late = datetime(2026, 11, 26, 19, 30, tzinfo=UTC)

    report = await send(mail_app, mailbox, now=late, hold_timing=True)

    assert smtp_server.messages == [] and report.held
    assert get_draft(mail_app, draft_id).status == "approved"


async def test_contact_cap_holds_a_third_message_in_seven_days(mail_app, smtp_server, mailbox):
    case = seed_case(
        mail_app, "C021", "Souvent SARL", "y@souvent.fr", [("FA-21", 20, 10000)], "REF-BBB3"
    )
    for offset in (1, 2):  # policy cap: 2 messages per 7 days
        d = add_draft(mail_app, case)
        await send(mail_app, mailbox, now=NOW - timedelta(days=offset))
        assert get_draft(mail_app, d).status == "sent"
    third = add_draft(mail_app, case)

    report = await send(mail_app, mailbox, hold_timing=True)

    assert report.held and "contact cap" in report.held[0][1]
    assert get_draft(mail_app, third).status == "approved" and len(smtp_server.messages) == 2
    report = await send(mail_app, mailbox)
    assert get_draft(mail_app, third).status == "pending" and len(smtp_server.messages) == 2
    assert "contact cap" in get_draft(mail_app, third).review_reason


async def test_a_4xx_is_retried_with_backoff_then_sent_once(mail_app, smtp_server, mailbox):
    case = seed_case(mail_app, "C030", "Lent SARL", "z@lent.fr", [("FA-30", 20, 10000)], "REF-CCC2")
    draft_id = add_draft(mail_app, case)
    smtp_server.handler.data_replies = ["451 4.3.0 Temporary local problem, try again"]
    pauses: list[float] = []

    async def sleep(seconds: float) -> None:
        pauses.append(seconds)

    report = await send_outbox(mail_app, build_sender(mail_app.settings), mailbox, NOW, sleep=sleep)

    assert report.sent == [draft_id] and report.retries == 1 and pauses == [2.0]
    assert len(smtp_server.messages) == 1
    assert get_draft(mail_app, draft_id).attempts == 2


async def test_persistent_4xx_leaves_the_draft_approved_for_a_later_run(
    mail_app, smtp_server, mailbox
):
    case = seed_case(mail_app, "C031", "Gris SARL", "g@gris.fr", [("FA-31", 20, 10000)], "REF-CCC3")
    draft_id = add_draft(mail_app, case)
    smtp_server.handler.data_replies = ["451 4.7.1 greylisted"] * 3

    report = await send(mail_app, mailbox)

    assert report.deferred and report.sent == [] and smtp_server.messages == []
    draft = get_draft(mail_app, draft_id)
    assert draft.status == "approved" and draft.attempts == 3 and "451" in draft.last_error
    report = await send(mail_app, mailbox)  # the server recovered
    assert report.sent == [draft_id] and len(smtp_server.messages) == 1


async def test_a_5xx_recipient_marks_the_contact_invalid_and_opens_a_task(
    mail_app, smtp_server, mailbox
):
    case = seed_case(
        mail_app, "C040", "Parti SARL", "old@parti.fr", [("FA-40", 20, 10000)], "REF-DDD2"
    )
    draft_id = add_draft(mail_app, case)
    smtp_server.handler.refuse_rcpt["old@parti.fr"] = (
        "550 5.1.1 <old@parti.fr>: Recipient address rejected"
    )

    report = await send(mail_app, mailbox)

    assert report.failed and report.failed[0][0] == draft_id and smtp_server.messages == []
    draft = get_draft(mail_app, draft_id)
    assert draft.status == "failed" and "550" in draft.last_error
    with session_scope(mail_app.engine) as s:
        contact = s.exec(select(Contact).where(Contact.email == "old@parti.fr")).one()
        assert contact.valid is False and "550 5.1.1" in contact.invalid_reason
        tasks = s.exec(select(Task).where(Task.case_id == case.case_id)).all()
        assert [t.kind for t in tasks] == ["contact_invalid"]
        assert "old@parti.fr" in tasks[0].detail
    assert "draft.failed" in actions(mail_app, draft_id)


async def test_one_refused_recipient_of_two_still_sends_to_the_other(
    mail_app, smtp_server, mailbox
):
    case = seed_case(
        mail_app,
        "C041",
        "Deux SARL",
        "compta@deux.fr",
        [("FA-41", 20, 10000)],
        "REF-DDD3",
        extra_emails=("gone@deux.fr",),
    )
    draft_id = add_draft(mail_app, case)
    smtp_server.handler.refuse_rcpt["gone@deux.fr"] = "550 5.1.1 no such user"

    report = await send(mail_app, mailbox)

    assert report.sent == [draft_id]
    assert smtp_server.messages[0].rcpt_tos == ["compta@deux.fr"]
    with session_scope(mail_app.engine) as s:
        valid = {
            c.email: c.valid
            for c in s.exec(select(Contact).where(Contact.debtor_id == case.debtor_id))
        }
    assert valid == {"compta@deux.fr": True, "gone@deux.fr": False}


async def test_an_unreachable_server_aborts_the_batch_and_keeps_drafts_approved(mail_app, mailbox):
    from tests.integration.dovecot import free_port

    case = seed_case(mail_app, "C050", "Ok SARL", "ok@ok.fr", [("FA-50", 20, 10000)], "REF-EEE2")
    draft_id = add_draft(mail_app, case)
    settings = mail_app.settings.model_copy(update={"smtp_port": free_port()})

    report = await send_outbox(mail_app, build_sender(settings), mailbox, NOW, sleep=no_sleep)

    assert report.aborted and "cannot open the SMTP session" in report.aborted
    assert get_draft(mail_app, draft_id).status == "approved"


async def test_a_second_sender_is_refused_while_the_first_holds_the_lease(
    mail_app, smtp_server, mailbox
):
    if mail_app.engine.dialect.name == "postgresql":
        pytest.skip("on PostgreSQL senders share the outbox (SKIP LOCKED): tests/chaos")
    case = seed_case(mail_app, "C060", "Seul SARL", "s@seul.fr", [("FA-60", 20, 10000)], "REF-FFF2")
    draft_id = add_draft(mail_app, case)
    with session_scope(mail_app.engine) as s:  # a live sender on another host
        s.add(
            SenderLease(
                name="outbox",
                holder="other-host:4242",
                expires_at=datetime.now(UTC) + timedelta(minutes=5),
            )
        )

    report = await send(mail_app, mailbox)

    assert report.aborted and "other-host:4242 is sending" in report.aborted
    assert smtp_server.messages == [] and get_draft(mail_app, draft_id).status == "approved"


async def test_a_paused_case_is_never_emailed(mail_app, smtp_server, mailbox):
    from assistant.services.case_control import pause_case

    paused = seed_case(
        mail_app, "C020", "Pause SARL", "a@pause.fr", [("FA-20", 20, 10000)], "REF-AAB1"
    )
    draft_id = add_draft(mail_app, paused)
    with session_scope(mail_app.engine) as s:  # paused by another process after approval
        case = s.get(Case, paused.case_id)
        case.status = "paused"
        s.add(case)

    report = await send(mail_app, mailbox)

    assert smtp_server.messages == [] and report.sent == []
    draft = get_draft(mail_app, draft_id)
    assert draft.status == "pending" and "paused" in draft.review_reason

    other = seed_case(
        mail_app, "C021", "Litige Tel", "b@tel.fr", [("FA-21", 20, 10000)], "REF-AAB2"
    )
    other_id = add_draft(mail_app, other)
    with session_scope(mail_app.engine) as s:
        message = pause_case(s, "REF-AAB2", "alice", "litige au téléphone")
    assert "1 unsent draft(s) withdrawn" in message
    assert get_draft(mail_app, other_id).status == "rejected"
    await send(mail_app, mailbox)
    assert smtp_server.messages == []
