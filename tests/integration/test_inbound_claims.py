"""Atomic transitions on the inbound side, with real concurrency on a real database.

Several workers filing the stored inbox at once file each message once; two officers
resolving one hand-off (or closing one task) at once: one wins, the other is told who did.
A colleague of the debtor's company counts as the debtor only when the policy says so.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from sqlmodel import select

from assistant.db.engine import session_scope
from assistant.db.mail_models import InboundMessage
from assistant.db.models import Contact, Draft, Handoff, Promise, Task
from assistant.mail.ports import FetchedMessage
from assistant.policy.schema import ReplyRules
from assistant.services.inbox import process_received, store_raw
from assistant.services.queues import QueueError, complete_task, resolve_handoff
from tests.chaos.inbound_scenarios import promise_reply, seed_letters
from tests.helpers import make_app

pytestmark = pytest.mark.integration


@pytest.fixture
def app(db_url):
    application = make_app(db_url)
    application.settings = application.settings.model_copy(
        update={"smtp_from": "recouvrement@recouvra.example"}
    )
    yield application
    application.close()


def race(*calls: Callable[[], object]) -> list[object]:
    """Run `calls` at once in threads; return each one's result or exception."""
    barrier = threading.Barrier(len(calls), timeout=30)
    results: list[object] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = calls[i]()
        except Exception as exc:  # noqa: BLE001 - the loser's error is what the test reads
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    return results


def test_workers_filing_the_stored_inbox_at_once_file_each_reply_once(app):
    letters = seed_letters(app, 30)
    for uid, letter in enumerate(letters, 1):
        inbound_id, new = store_raw(app, FetchedMessage(uid, promise_reply(letter)), "INBOX", 1)
        assert new and inbound_id is not None

    reports = race(*[lambda: process_received(app) for _ in range(3)])

    assert not [r for r in reports if isinstance(r, Exception)], reports
    assert sum(r.analysed for r in reports) == 30  # type: ignore[attr-defined]
    with session_scope(app.engine) as s:
        statuses = [m.status for m in s.exec(select(InboundMessage))]
        assert statuses == ["analysed"] * 30
        assert len(s.exec(select(Promise)).all()) == 30
        assert len(s.exec(select(Draft).where(Draft.kind == "ack_promise")).all()) == 30


def test_the_same_bytes_are_stored_once(app):
    [letter] = seed_letters(app, 1)
    raw = promise_reply(letter)
    first = store_raw(app, FetchedMessage(1, raw), "INBOX", 1)
    again = store_raw(app, FetchedMessage(7, raw), "INBOX", 2)  # re-fetched, new UIDVALIDITY
    assert first[1] is True and again == (first[0], False)


def _handoff_and_task(app) -> tuple[int, int]:
    [letter] = seed_letters(app, 1)
    with session_scope(app.engine) as s:
        handoff = Handoff(case_id=letter.case_id, reason="dispute", summary="…")
        task = Task(case_id=letter.case_id, kind="verify_payment", detail="…")
        s.add_all([handoff, task])
        s.flush()
        return handoff.id, task.id


def _resolve(app, handoff_id: int, who: str) -> str:
    with session_scope(app.engine) as s:
        return resolve_handoff(s, handoff_id, who, f"decided by {who}", resume=True)


def test_two_officers_resolving_one_handoff_at_once_one_wins_the_other_is_told(app):
    handoff_id, _ = _handoff_and_task(app)

    results = race(
        lambda: _resolve(app, handoff_id, "alice"), lambda: _resolve(app, handoff_id, "bob")
    )

    [won] = [r for r in results if isinstance(r, str)]
    [lost] = [r for r in results if isinstance(r, QueueError)]
    with session_scope(app.engine) as s:
        handoff = s.get(Handoff, handoff_id)
    winner = handoff.resolved_by
    assert won.startswith(f"hand-off {handoff_id} resolved")
    assert handoff.resolution == f"decided by {winner}"
    assert str(lost) == (
        f"hand-off {handoff_id} was resolved at {handoff.resolved_at:%H:%M} UTC by {winner}; "
        "your resolution was not saved"
    )


def _done(app, task_id: int, who: str) -> None:
    with session_scope(app.engine) as s:
        complete_task(s, task_id, who)


def test_a_task_closed_twice_at_once_is_closed_once(app):
    _, task_id = _handoff_and_task(app)

    results = race(lambda: _done(app, task_id, "alice"), lambda: _done(app, task_id, "bob"))

    [lost] = [r for r in results if isinstance(r, QueueError)]
    with session_scope(app.engine) as s:
        task = s.get(Task, task_id)
    assert task.status == "done" and f"by {task.done_by}; your change was not saved" in str(lost)


def test_a_colleague_of_the_same_domain_applies_only_if_the_policy_trusts_domains(app):
    [letter] = seed_letters(app, 1)
    colleague = letter.email.replace("compta@", "direction@")
    raw = promise_reply(letter).replace(letter.email.encode(), colleague.encode())
    slug = letter.creditor
    store_raw(app, FetchedMessage(1, raw), "INBOX", 1)
    process_received(app)
    with session_scope(app.engine) as s:
        row = s.exec(select(InboundMessage)).one()
        assert row.status == "unmatched" and "trust_sender_domain" in row.triage_reason

    policy = app.policies[slug]
    app.policies[slug] = policy.model_copy(update={"replies": ReplyRules(trust_sender_domain=True)})
    store_raw(app, FetchedMessage(2, raw.replace(b"reply-", b"again-")), "INBOX", 1)
    process_received(app)

    with session_scope(app.engine) as s:
        second = s.exec(select(InboundMessage).where(InboundMessage.id == 2)).one()
        assert (second.status, second.match_method) == ("analysed", "thread")
        assert len(s.exec(select(Promise)).all()) == 1


def test_an_address_only_suggested_in_a_reply_is_not_a_known_contact(app):
    [letter] = seed_letters(app, 1)
    suggested = "nouveau@ailleurs.example"
    with session_scope(app.engine) as s:
        debtor_id = s.exec(select(Contact.debtor_id).where(Contact.email == letter.email)).one()
        s.add(
            Contact(
                debtor_id=debtor_id,
                email=suggested,
                valid=False,
                invalid_reason="suggested in a reply: officer to confirm",
            )
        )
    raw = promise_reply(letter).replace(letter.email.encode(), suggested.encode())
    store_raw(app, FetchedMessage(1, raw), "INBOX", 1)

    process_received(app)

    with session_scope(app.engine) as s:
        row = s.exec(select(InboundMessage)).one()
        assert row.status == "unmatched" and row.case_id is None
        assert row.triage_reason == f"sender {suggested} is not a known contact of {letter.ref}"
        assert s.exec(select(Promise)).all() == []
