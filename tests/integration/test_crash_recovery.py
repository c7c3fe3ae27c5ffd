"""A sender killed between SMTP acceptance and the database update neither loses nor
duplicates the message: on restart, the Sent folder decides (found → sent, else → unknown)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import select

from assistant.db.engine import session_scope
from assistant.db.models import AuditEvent, Task
from assistant.mail import build_mailbox, build_sender
from assistant.services.outbox import recover_sending, send_outbox
from tests.integration.mailworld import NOW, add_draft, get_draft, seed_case

pytestmark = pytest.mark.integration

CHILD = Path(__file__).with_name("crash_sender.py")


def crash_while_sending(app, event: str) -> None:
    """Run the real outbox in a child process that dies right after `event`."""
    values = json.loads(app.settings.model_dump_json(exclude={"smtp_password", "openai_api_key"}))
    values["imap_password"] = app.settings.imap_password.get_secret_value()
    values = {k: v for k, v in values.items() if v is not None and k not in ("openai_base_url",)}
    values["now"] = NOW.isoformat()
    proc = subprocess.run(
        [sys.executable, str(CHILD), event],
        input=json.dumps(values),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 86, proc.stdout + proc.stderr


@pytest.fixture
def one_draft(mail_app):
    case = seed_case(
        mail_app,
        "C001",
        "Boulangerie Martin SARL",
        "compta@boulangerie-martin.fr",
        [("FA-2026-0101", 12, 125000)],
        "REF-7Q2K",
    )
    return add_draft(mail_app, case)


async def test_killed_after_the_sent_copy_the_restart_marks_it_sent_without_resending(
    mail_app, smtp_server, one_draft
):
    crash_while_sending(mail_app, "appended")
    assert get_draft(mail_app, one_draft).status == "sending"
    assert len(smtp_server.messages) == 1

    mailbox = build_mailbox(mail_app.settings)
    try:
        report = await send_outbox(mail_app, build_sender(mail_app.settings), mailbox, NOW)
    finally:
        mailbox.close()

    assert report.recovered == [(one_draft, "sent: found in Sent")]
    draft = get_draft(mail_app, one_draft)
    assert draft.status == "sent" and draft.sent_at is not None
    assert len(smtp_server.messages) == 1  # exactly one copy reached the server
    with session_scope(mail_app.engine) as s:
        events = s.exec(
            select(AuditEvent.action).where(AuditEvent.entity_id == str(one_draft))
        ).all()
    assert events[-2:] == ["draft.sent", "draft.recovered"]


async def test_killed_before_the_sent_copy_the_draft_goes_to_unknown_never_resent(
    mail_app, smtp_server, one_draft
):
    crash_while_sending(mail_app, "accepted")
    assert len(smtp_server.messages) == 1

    mailbox = build_mailbox(mail_app.settings)
    try:
        recovered = recover_sending(mail_app, mailbox, NOW)
        report = await send_outbox(mail_app, build_sender(mail_app.settings), mailbox, NOW)
    finally:
        mailbox.close()

    assert recovered == [(one_draft, "unknown: not found in Sent")]
    assert report.sent == [] and len(smtp_server.messages) == 1
    draft = get_draft(mail_app, one_draft)
    assert draft.status == "unknown" and "not found in Sent" in draft.last_error
    with session_scope(mail_app.engine) as s:
        [task] = s.exec(select(Task)).all()
    assert task.kind == "send_unknown" and draft.message_id in task.detail
