"""Payment plans, attested findings and insolvency claims, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlmodel import select

from assistant.db.engine import session_scope
from assistant.db.models import AuditEvent, Draft, Payment, Task
from assistant.services.approval import ApprovalError, approve_draft
from assistant.services.attestation import attest_findings
from assistant.services.case_view import case_details
from assistant.services.cycle import run_cycle
from assistant.services.editing import edit_draft
from assistant.services.insolvency import add_months, insolvency_claim, record_publication
from assistant.services.officer_common import OfficerActionError
from assistant.services.payment_plans import add_plan, check_plans_all, list_plans, show_plan
from tests.integration.test_reply_effects import SIGN, SLUG, TODAY, app, case_ref, load, reply

__all__ = ["app", "case_ref"]

FIRST, SECOND = TODAY + timedelta(days=10), TODAY + timedelta(days=40)


def pay(app, ref: str, cents: int, on: date) -> None:
    """Import a payment of the case's debtor as the payment import stores it."""
    case, *_ = load(app, ref)
    with session_scope(app.engine) as s:
        s.add(
            Payment(creditor_id=case.creditor_id, debtor_id=case.debtor_id,
                    reference=f"VIR-{on.isoformat()}", amount_cents=cents, paid_on=on)
        )  # fmt: skip


@pytest.fixture
def plan_id(app, case_ref):
    """A plan of two instalments (865,25 € each) accepted today."""
    with session_scope(app.engine) as s:
        return add_plan(
            s, case_ref, "alice", app.policies,
            [(Decimal("865.25"), SECOND), (Decimal("865.25"), FIRST)], TODAY, "accord téléphone",
        )  # fmt: skip


def test_a_plan_keeps_the_ladder_waiting_and_is_kept_instalment_by_instalment(
    app, case_ref, plan_id
):
    case, *_ = load(app, case_ref)
    assert case.status == "promise"
    run_cycle(app, FIRST - timedelta(days=1), creditor=SLUG)
    assert load(app, case_ref)[2] == []  # no reminder while the plan runs
    pay(app, case_ref, 86525, FIRST)
    with session_scope(app.engine) as s:
        assert check_plans_all(s, FIRST + timedelta(days=4), "relance") == {
            "kept": 1, "broken": 0, "completed": 0,
        }  # fmt: skip
        plan = show_plan(s, plan_id)
    assert [i["status"] for i in plan["instalments"]] == ["kept", "pending"]
    assert plan["next_due"] == SECOND and plan["note"] == "accord téléphone"
    pay(app, case_ref, 86525, SECOND - timedelta(days=2))
    with session_scope(app.engine) as s:
        counts = check_plans_all(s, SECOND + timedelta(days=4), "relance")
        assert counts == {"kept": 1, "broken": 0, "completed": 1}
        assert [p["status"] for p in list_plans(s, "all")] == ["completed"]
        assert list_plans(s, "broken") == []


def test_a_broken_instalment_breaks_the_plan_opens_a_task_and_resumes_the_ladder(
    app, case_ref, plan_id
):
    pay(app, case_ref, 50000, FIRST)  # short of the first instalment
    with session_scope(app.engine) as s:
        # Within the grace period nothing is decided yet.
        assert check_plans_all(s, FIRST + timedelta(days=3), "relance")["broken"] == 0
        assert check_plans_all(s, FIRST + timedelta(days=4), "relance")["broken"] == 1
        plan = show_plan(s, plan_id)
        [task] = s.exec(select(Task).where(Task.kind == "plan_broken")).all()
        broken = s.exec(select(AuditEvent).where(AuditEvent.action == "plan.broken")).one()
    assert plan["status"] == "broken" and broken.payload["task"] == task.id
    case, _, _, _, promises, _ = load(app, case_ref)
    assert case.status == "active" and case.broken_promise_pending and case.paused_until is None
    assert [(p.status, p.source) for p in promises] == [("broken", "plan")]
    run_cycle(app, FIRST + timedelta(days=5), creditor=SLUG)
    [letter] = load(app, case_ref)[2]
    assert letter.status == "pending"  # the ladder resumed after the broken plan


@pytest.mark.parametrize(
    ("instalments", "error"),
    [
        ([], "at least one"),
        ([(Decimal("10"), TODAY - timedelta(days=1))], "in the past"),
        ([(Decimal("10"), FIRST), (Decimal("20"), FIRST)], "share a date"),
    ],
)
def test_bad_plans_are_refused(app, case_ref, instalments, error):
    with session_scope(app.engine) as s, pytest.raises(OfficerActionError, match=error):
        add_plan(s, case_ref, "alice", app.policies, instalments, TODAY)


def test_a_second_active_plan_is_refused(app, case_ref, plan_id):
    with session_scope(app.engine) as s, pytest.raises(OfficerActionError, match="already"):
        add_plan(s, case_ref, "bob", app.policies, [(Decimal("10"), FIRST)], TODAY)


def test_an_attested_date_lets_an_edited_draft_through_and_stays_visible(app, case_ref):
    on = TODAY + timedelta(days=10)
    run_cycle(app, on, creditor=SLUG)
    [draft] = load(app, case_ref)[2]
    text = draft.body_text.replace(
        "\n\n", "\n\nComme confirmé par téléphone le 28 novembre, nous attendons votre virement."
        "\n\n", 1,
    )  # fmt: skip
    with session_scope(app.engine) as s:
        edit_draft(s, draft.id, "alice", app.policies, draft.subject, text, on)
        edited = s.get(Draft, draft.id)
    codes = {f["code"] for f in edited.findings if f["blocking"]}
    assert codes == {"date_mismatch"}, edited.findings
    with session_scope(app.engine) as s, pytest.raises(ApprovalError, match="blocking"):
        approve_draft(s, draft.id, "alice", app.policies)
    with session_scope(app.engine) as s:
        with pytest.raises(OfficerActionError, match="reason"):
            attest_findings(s, draft.id, ["date_mismatch"], " ", "alice")
        with pytest.raises(OfficerActionError, match="cannot attest threat"):
            attest_findings(s, draft.id, ["threat"], "sure", "alice")
        message = attest_findings(
            s, draft.id, ["date_mismatch"], "date confirmée par le débiteur au téléphone", "alice"
        )
    assert "no blocking finding left" in message
    with session_scope(app.engine) as s:
        [finding] = [f for f in s.get(Draft, draft.id).findings if f["code"] == "date_mismatch"]
        assert finding["attested_by"] == "alice" and not finding["blocking"]
        event = s.exec(select(AuditEvent).where(AuditEvent.action == "draft.attested")).one()
        assert event.payload["reason"] == "date confirmée par le débiteur au téléphone"
        approve_draft(s, draft.id, "bob", app.policies)
        assert s.get(Draft, draft.id).status == "approved"
        with pytest.raises(OfficerActionError, match="only pending"):
            attest_findings(s, draft.id, ["date_mismatch"], "again", "alice")


def test_an_insolvent_case_shows_the_claim_with_frozen_invoices_and_its_deadline(app, case_ref):
    with session_scope(app.engine) as s:
        assert insolvency_claim(s, case_ref) is None
    reply(
        app,
        case_ref,
        "Bonjour,\n\nNotre société a été placée en redressement judiciaire le 20 novembre. "
        "Veuillez adresser votre déclaration de créance à Maître Dupont, mandataire "
        "judiciaire." + SIGN,
    )
    with session_scope(app.engine) as s:
        details = case_details(s, case_ref, TODAY)
        claim = insolvency_claim(s, case_ref)
    assert details["balance"] == 0  # every invoice is frozen …
    assert claim["amount"] == Decimal("1730.50")  # … and all of them are claimed
    assert {i["status"] for i in claim["invoices"]} == {"frozen"}
    assert claim["deadline_from"] == "handoff"
    assert claim["deadline"] == add_months(claim["handed_off_on"], 2)
    assert details["insolvency"]["amount"] == claim["amount"]
    with session_scope(app.engine) as s:
        record_publication(s, case_ref, date(2026, 12, 31), "alice")
        claim = insolvency_claim(s, case_ref)
    assert claim["deadline"] == date(2027, 2, 28) and claim["deadline_from"] == "publication"


def test_the_daily_cycle_follows_the_plans(app, case_ref, plan_id):
    report = run_cycle(app, FIRST + timedelta(days=4), creditor=SLUG)  # nothing paid
    assert report.counts[SLUG]["plan_instalments_broken"] == 1
    with session_scope(app.engine) as s:
        assert show_plan(s, plan_id)["status"] == "broken"
    [letter] = load(app, case_ref)[2]
    assert letter.status == "pending"  # the same cycle resumed the ladder
