"""Draft transitions race safely: compare-and-set, clear loser errors, resolvable `unknown`."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from assistant.db.engine import session_scope
from assistant.db.models import AuditEvent, Case, Draft, Task
from assistant.mail import build_mailbox, build_sender
from assistant.mail.imap import ImapMailbox
from assistant.services.approval import approve_draft, reject_draft
from assistant.services.cycle import LiveDraftExists, run_cycle, store_draft
from assistant.services.draft_state import ApprovalError, DraftConflict
from assistant.services.editing import edit_draft
from assistant.services.outbox import recover_sending, send_outbox
from assistant.services.outbox_state import resolve_unknown
from tests.integration.mailworld import NOW, SLUG, add_draft, get_draft, parse, seed_case

pytestmark = pytest.mark.integration
WAIT = 20.0  # bound on every wait for the other thread


@pytest.fixture
def mailbox(mail_app) -> Iterator[ImapMailbox]:
    box = build_mailbox(mail_app.settings)
    yield box
    box.close()


async def send(app, mailbox):
    return await send_outbox(app, build_sender(app.settings), mailbox, NOW)


@pytest.fixture
def cycle_draft(mail_app) -> int:
    """A real pending letter drafted by the cycle for one debtor."""
    seed_case(
        mail_app,
        "C001",
        "Boulangerie Martin SARL",
        "compta@bm.fr",
        [("FA-1", 12, 125000)],
        "REF-AAA1",
    )
    report = run_cycle(mail_app, NOW.date(), creditor=SLUG)
    [draft_id] = report.draft_ids
    return draft_id


def approve(app, draft_id: int, actor: str = "alice") -> None:
    with session_scope(app.engine) as s:
        approve_draft(s, draft_id, actor, app.policies, app.settings.smtp_from)


def edit(app, draft_id: int, text: str, **kw):
    with session_scope(app.engine) as s:
        draft = s.get(Draft, draft_id)
        return edit_draft(s, draft_id, "bob", app.policies, draft.subject, text, NOW.date(), **kw)


async def test_an_edit_racing_a_send_is_refused_and_the_sent_text_is_the_stored_one(
    mail_app, smtp_server, mailbox, cycle_draft
):
    approve(mail_app, cycle_draft)
    original = get_draft(mail_app, cycle_draft).body_text
    revalidated, go = threading.Event(), threading.Event()
    errors: list[Exception] = []

    def slow_edit() -> None:
        def hold() -> None:  # the re-validation is slow: the send happens meanwhile
            revalidated.set()
            assert go.wait(WAIT)

        try:
            edit(mail_app, cycle_draft, original + "\nP.S. edited", checked=hold)
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            errors.append(exc)

    editor = threading.Thread(target=slow_edit)
    editor.start()
    assert revalidated.wait(WAIT)
    report = await send(mail_app, mailbox)
    go.set()
    editor.join(WAIT)

    assert report.sent == [cycle_draft]
    [error] = errors
    assert isinstance(error, DraftConflict)
    assert f"draft {cycle_draft} was sent at" in str(error) and "by tester" in str(error)
    assert "your edit was not saved" in str(error)
    draft = get_draft(mail_app, cycle_draft)
    assert draft.status == "sent" and draft.body_text == original
    sent = parse(smtp_server.messages[0].data)
    assert "P.S. edited" not in sent.get_body(("plain",)).get_content()
    assert sent["Message-ID"].strip() == f"<{draft.message_id}>"


def test_a_stale_edit_after_an_approval_says_who_approved_and_saves_nothing(mail_app, cycle_draft):
    read = get_draft(mail_app, cycle_draft)
    approve(mail_app, cycle_draft, actor="carol")

    with pytest.raises(DraftConflict, match=r"was approved at \d\d:\d\d UTC by carol"):
        edit(mail_app, cycle_draft, read.body_text + "\nlate", version=read.version)

    after = get_draft(mail_app, cycle_draft)
    assert after.status == "approved" and after.body_text == read.body_text


def test_an_edit_after_the_send_can_never_bring_a_sent_draft_back_to_pending(mail_app, cycle_draft):
    approve(mail_app, cycle_draft)
    with session_scope(mail_app.engine) as s:
        reject_draft(s, cycle_draft, "dave", "wrong tone")
    with pytest.raises(ApprovalError, match="rejected: it can no longer be edited"):
        edit(mail_app, cycle_draft, "new text")
    assert get_draft(mail_app, cycle_draft).status == "rejected"


def test_the_database_refuses_a_second_live_letter_for_one_case_and_step(mail_app, cycle_draft):
    draft = get_draft(mail_app, cycle_draft)
    with Session(mail_app.engine) as s:
        s.add(
            Draft(
                case_id=draft.case_id, step=draft.step, subject="dup", body_text="x", body_html="x"
            )
        )
        with pytest.raises(IntegrityError):
            s.flush()
        s.rollback()
    with session_scope(mail_app.engine) as s:
        reject_draft(s, cycle_draft, "dave", "redo")
    report = run_cycle(mail_app, NOW.date(), creditor=SLUG)
    assert len(report.draft_ids) == 1  # the rejected letter no longer blocks a new one


def test_store_draft_names_the_live_draft_it_collides_with(mail_app, cycle_draft):
    draft = get_draft(mail_app, cycle_draft)
    from assistant.letters.facts_json import letter_facts_from_dict
    from assistant.letters.render import Letter

    with session_scope(mail_app.engine) as s:
        case = s.get(Case, draft.case_id)
        facts = letter_facts_from_dict(draft.facts)
        letter = Letter(
            step=draft.step,
            language="fr",
            tone="courteous",
            subject="again",
            text="again",
            html="again",
            facts=facts,
            pdf=None,
        )
        with pytest.raises(LiveDraftExists, match=f"case {case.ref} already has a live"):
            store_draft(s, case, letter, [], policy=mail_app.policies[SLUG], actor="chat")


async def _unknown_draft(app, mailbox) -> int:
    """A draft claimed by a sender that died before the server got it: `unknown`."""
    case = seed_case(app, "C009", "Perdu SARL", "p@perdu.fr", [("FA-9", 20, 5000)], "REF-UNK1")
    draft_id = add_draft(app, case)
    with session_scope(app.engine) as s:
        draft = s.get(Draft, draft_id)
        from assistant.services.outbox_state import claim

        assert claim(s, draft_id, draft.version, None, "dead-sender")
    assert recover_sending(app, mailbox, NOW) == [(draft_id, "unknown: not found in Sent")]
    return draft_id


async def test_resolve_not_sent_makes_it_approvable_with_the_same_message_id(
    mail_app, smtp_server, mailbox
):
    draft_id = await _unknown_draft(mail_app, mailbox)
    message_id = get_draft(mail_app, draft_id).message_id
    with session_scope(mail_app.engine) as s:
        with pytest.raises(ApprovalError, match="a reason is required"):
            resolve_unknown(s, draft_id, sent=False, reason=" ", actor="erin")
    with session_scope(mail_app.engine) as s:
        summary = resolve_unknown(
            s, draft_id, sent=False, reason="provider logs: never received", actor="erin"
        )
    assert "back to pending" in summary
    assert get_draft(mail_app, draft_id).status == "pending"
    approve(mail_app, draft_id)
    report = await send(mail_app, mailbox)

    assert report.sent == [draft_id] and len(smtp_server.messages) == 1
    assert parse(smtp_server.messages[0].data)["Message-ID"].strip() == f"<{message_id}>"
    with session_scope(mail_app.engine) as s:
        tasks = s.exec(select(Task).where(Task.kind == "send_unknown")).all()
        [event] = s.exec(select(AuditEvent).where(AuditEvent.action == "draft.resolved")).all()
    assert [t.status for t in tasks] == ["done"] and tasks[0].done_by == "erin"
    assert event.actor == "erin" and event.payload["outcome"] == "not_sent"
    assert event.payload["reason"] == "provider logs: never received"


async def test_resolve_sent_records_the_send_and_moves_the_case_on(mail_app, smtp_server, mailbox):
    draft_id = await _unknown_draft(mail_app, mailbox)
    with session_scope(mail_app.engine) as s:
        resolve_unknown(s, draft_id, sent=True, reason="debtor confirmed", actor="erin")
    draft = get_draft(mail_app, draft_id)
    assert draft.status == "sent" and draft.sent_at is not None
    with session_scope(mail_app.engine) as s:
        case = s.get(Case, draft.case_id)
        assert case.step_name == draft.step and case.last_contact_on is not None
        with pytest.raises(ApprovalError, match="only an `unknown` draft"):
            resolve_unknown(s, draft_id, sent=False, reason="again", actor="erin")
    assert smtp_server.messages == []  # resolving never sends


async def test_with_imap_down_a_stuck_draft_waits_for_the_next_run(mail_app, smtp_server, mailbox):
    case = seed_case(
        mail_app, "C010", "Attente SARL", "a@att.fr", [("FA-10", 20, 5000)], "REF-WAI1"
    )
    draft_id = add_draft(mail_app, case)
    with session_scope(mail_app.engine) as s:
        from assistant.services.outbox_state import claim

        assert claim(s, draft_id, s.get(Draft, draft_id).version, None, "dead-sender")
    from tests.integration.dovecot import free_port

    down = mail_app.settings.model_copy(update={"imap_port": free_port()})
    dead_box = build_mailbox(down)
    try:
        recovered = recover_sending(mail_app, dead_box, NOW)
    finally:
        dead_box.close()

    assert [r[0] for r in recovered] == [draft_id]
    assert recovered[0][1].startswith("still sending")
    assert get_draft(mail_app, draft_id).status == "sending"
    assert recover_sending(mail_app, mailbox, NOW) == [(draft_id, "unknown: not found in Sent")]


async def test_a_draft_listing_an_open_credit_note_is_sent(mail_app, smtp_server, mailbox):
    case = seed_case(
        mail_app,
        "C011",
        "Avoir SARL",
        "av@avoir.fr",
        [("FA-11", 20, 50000), ("AV-11", 5, -10000)],
        "REF-AVO1",
    )
    draft_id = add_draft(mail_app, case, outstanding={"FA-11": "500.00", "AV-11": "-100.00"})

    report = await send(mail_app, mailbox)

    assert report.sent == [draft_id] and report.returned == []


async def test_relance_drafts_resolve_on_the_command_line(mail_app, mailbox, monkeypatch, tmp_path):
    from typer.testing import CliRunner

    from assistant.cli.main import app as cli

    draft_id = await _unknown_draft(mail_app, mailbox)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RELANCE_DATABASE_URL", mail_app.settings.database_url)
    monkeypatch.setenv("RELANCE_POLICIES_DIR", str(mail_app.settings.policies_dir))
    runner = CliRunner()

    def run(*args: str) -> tuple[int, str]:
        result = runner.invoke(cli, ["drafts", "resolve", str(draft_id), *args])
        return result.exit_code, result.output

    code, out = run("--reason", "checked")
    assert code == 1 and "--sent or --not-sent" in out
    code, out = run("--not-sent", "--reason", "not in the provider log", "--as", "frank")
    assert code == 0 and "back to pending" in out
    assert get_draft(mail_app, draft_id).status == "pending"
    code, out = run("--sent", "--reason", "again")
    assert code == 1 and "only an `unknown` draft can be resolved" in out
