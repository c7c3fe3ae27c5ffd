"""An officer's actions on a case, on SQLite and PostgreSQL: contacts, notes, calls, promises.

Each action is audited with the officer's name and changes what the cycle and approval do.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlmodel import select

from assistant.db.engine import session_scope
from assistant.db.models import AuditEvent, Contact, Draft, Promise
from assistant.services.approval import approve_draft
from assistant.services.case_control import add_note
from assistant.services.case_journal import add_promise, log_call, parse_amount
from assistant.services.case_timeline import case_timeline
from assistant.services.case_view import case_details
from assistant.services.contacts import (
    add_contact,
    confirm_contact,
    invalidate_contact,
    list_contacts,
)
from assistant.services.cycle import run_cycle
from assistant.services.officer_common import OfficerActionError
from tests.integration.test_reply_effects import SLUG, TODAY, app, case_ref, load, reply

__all__ = ["app", "case_ref"]

WRONG_CONTACT = (
    "Hello,\n\nI am not the right person for this. Please contact our accounts payable team "
    "at ap@martin-group.example instead.\n\nRegards"
)


def events(app, action: str) -> list[AuditEvent]:
    with session_scope(app.engine) as s:
        return list(s.exec(select(AuditEvent).where(AuditEvent.action == action)))


def approve_next_reminder(app, on):
    """Run the cycle on `on`, approve the reminder it drafts, return its recipients."""
    run_cycle(app, on, creditor=SLUG)
    with session_scope(app.engine) as s:
        [reminder] = s.exec(select(Draft).where(Draft.status == "pending")).all()
        approve_draft(s, reminder.id, "alice", app.policies)
        return s.get(Draft, reminder.id).to_addrs


def test_a_contact_given_in_a_reply_is_used_only_once_an_officer_confirms_it(app, case_ref):
    reply(app, case_ref, WRONG_CONTACT)
    with session_scope(app.engine) as s:
        states = {c["email"]: c["state"] for c in list_contacts(s, case_ref)}
        assert states == {"compta@c001.example": "valid", "ap@martin-group.example": "to_confirm"}
        message = confirm_contact(s, case_ref, "AP@martin-group.example", "alice")
    assert "confirmed" in message
    [event] = events(app, "contact.confirmed")
    assert event.actor == "alice" and event.payload["email"] == "ap@martin-group.example"
    assert "suggested in a reply" in event.payload["previous_reason"]
    with session_scope(app.engine) as s:
        contact = s.exec(select(Contact).where(Contact.email == "ap@martin-group.example")).one()
        assert contact.valid and contact.confirmed_by == "alice"
        with pytest.raises(OfficerActionError, match="already a valid contact"):
            confirm_contact(s, case_ref, "ap@martin-group.example", "alice")
    assert "ap@martin-group.example" in approve_next_reminder(app, TODAY + timedelta(days=10))


def test_a_bounced_address_is_invalidated_then_revalidated_by_adding_it(app, case_ref):
    with session_scope(app.engine) as s:
        with pytest.raises(OfficerActionError, match="reason"):
            invalidate_contact(s, case_ref, "compta@c001.example", "alice", "  ")
        invalidate_contact(s, case_ref, "compta@c001.example", "alice", "bounced 550")
        add_contact(s, case_ref, "Jean.Petit@Martin.example", "alice", name="Jean Petit", role="ap")
    assert approve_next_reminder(app, TODAY + timedelta(days=10)) == "jean.petit@martin.example"
    with session_scope(app.engine) as s:
        [row] = [c for c in list_contacts(s, case_ref) if c["email"] == "compta@c001.example"]
        assert row["state"] == "invalid" and row["invalid_reason"] == "bounced 550"
        message = add_contact(s, case_ref, "compta@c001.example", "bob")
    assert "re-validated" in message
    [event] = events(app, "contact.revalidated")
    assert event.actor == "bob" and event.payload["previous_reason"] == "bounced 550"
    with session_scope(app.engine) as s:
        assert all(c["valid"] for c in list_contacts(s, case_ref))


@pytest.mark.parametrize(
    ("email", "role", "error"),
    [
        ("not-an-address", None, "invalid email"),
        ("a b@x.example", None, "invalid email"),
        ("ok@x.example", "boss", "unknown role"),
        ("compta@c001.example", None, "already a valid contact"),
    ],
)
def test_bad_contacts_are_refused_with_the_reason(app, case_ref, email, role, error):
    with session_scope(app.engine) as s, pytest.raises(OfficerActionError, match=error):
        add_contact(s, case_ref, email, "alice", role=role)


def test_notes_and_calls_show_on_the_case_timeline_and_details(app, case_ref):
    with session_scope(app.engine) as s:
        add_note(s, case_ref, "alice", "Le comptable rappelle lundi")
        log_call(s, case_ref, "alice", "voicemail", "message laissé")
        with pytest.raises(OfficerActionError, match="unknown outcome"):
            log_call(s, case_ref, "alice", "busy")
    with session_scope(app.engine) as s:
        timeline = case_timeline(s, case_ref, TODAY)
        details = case_details(s, case_ref, TODAY)
    kinds = {e["kind"]: e for e in timeline["timeline"] if e["kind"] in ("note", "call")}
    assert kinds["call"]["title"] == "Call (voicemail)"
    assert kinds["call"]["event"]["payload"]["text"] == "message laissé"
    assert kinds["note"]["event"]["actor"] == "alice"
    assert [(j["kind"], j["outcome"], j["text"]) for j in details["journal"]] == [
        ("note", None, "Le comptable rappelle lundi"),
        ("call", "voicemail", "message laissé"),
    ]


def test_a_phone_promise_is_a_reply_promise_and_pauses_the_ladder(app, case_ref):
    due = TODAY + timedelta(days=7)
    with session_scope(app.engine) as s:
        first = add_promise(
            s, case_ref, "alice", app.policies, amount=Decimal("500"), due_on=due - timedelta(1),
            via="phone", on=TODAY,
        )  # fmt: skip
        row = add_promise(
            s, case_ref, "alice", app.policies, amount=parse_amount("1 730,50"), due_on=due,
            via="phone", on=TODAY, note="appel du comptable",
        )  # fmt: skip
    assert row["grace_until"] == due + timedelta(days=3) and row["case_status"] == "promise"
    case, _, _, _, promises, _ = load(app, case_ref)
    assert case.status == "promise"
    by_id = {p.id: p for p in promises}
    assert by_id[first["id"]].status == "cancelled"  # the latest word counts
    latest = by_id[row["id"]]
    assert (latest.status, latest.source, latest.amount_cents) == ("pending", "phone", 173050)
    [recorded, _] = sorted(events(app, "promise.recorded"), key=lambda e: e.id, reverse=True)
    assert recorded.actor == "alice" and recorded.payload["note"] == "appel du comptable"
    # The ladder waits until the date plus grace, then the promise is settled by the cycle.
    run_cycle(app, due + timedelta(days=2), creditor=SLUG)
    with session_scope(app.engine) as s:
        assert s.exec(select(Draft).where(Draft.status == "pending")).all() == []
    run_cycle(app, due + timedelta(days=4), creditor=SLUG)
    with session_scope(app.engine) as s:
        assert s.get(Promise, row["id"]).status == "broken"


@pytest.mark.parametrize(
    ("amount", "days", "error"),
    [
        ("0", 3, "positive"),
        ("12,345", 3, "cents"),
        ("abc", 3, "invalid amount"),
        ("10", -1, "past"),
    ],
)
def test_bad_promises_are_refused(app, case_ref, amount, days, error):
    with session_scope(app.engine) as s, pytest.raises(OfficerActionError, match=error):
        add_promise(
            s, case_ref, "alice", app.policies, amount=parse_amount(amount),
            due_on=TODAY + timedelta(days=days), via="phone", on=TODAY,
        )  # fmt: skip
