"""Officers work the hand-off, task, promise and mail queues in a real browser."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from sqlmodel import select

from assistant.db.engine import session_scope
from assistant.db.mail_models import InboundMessage
from assistant.db.models import AuditEvent, Case, Handoff, Promise, Task
from tests.web.conftest import sign_in
from tests.web.test_case_browser import case_of


def _seed(app) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """A hand-off, a promise and a task on one case of each creditor; two stray messages."""
    ids: dict[str, int] = {}
    with session_scope(app.engine) as s:
        for account in ("B003", "T002"):
            case = s.exec(select(Case).where(Case.ref == case_of(app, account))).one()
            case.status = "handoff"
            s.add(case)
            handoff = Handoff(
                case_id=case.id, reason="dispute", summary=f"{account} disputes the delivery",
                evidence=["livraison incomplète"],
            )  # fmt: skip
            task = Task(case_id=case.id, kind="call", detail=f"Call {account} about the cheque")
            s.add_all([handoff, task])
            s.add(Promise(case_id=case.id, amount_cents=45000, currency="EUR",
                          due_on=date.today() + timedelta(days=2), source="reply"))  # fmt: skip
            s.flush()
            ids[f"handoff-{account}"], ids[f"task-{account}"] = handoff.id, task.id
        for status, sender in (("unmatched", "stranger@nowhere.example"), ("quarantined", None)):
            s.add(
                InboundMessage(
                    folder="INBOX", raw=b"x", raw_sha256=status * 4, from_addr=sender,
                    subject=f"a {status} message", text="Bonjour, voici notre règlement.",
                    status=status, received_at=datetime.now(UTC),
                )
            )  # fmt: skip
    return ids


def test_an_officer_sees_the_queues_of_their_creditors_only(page, workspace):
    _seed(workspace.app)
    sign_in(page, "alice")
    page.goto("/queues")
    assert "B003 disputes the delivery" in page.locator("#handoff-list").inner_text()
    assert "T002" not in page.locator("main").inner_text()
    assert page.locator("#promise-list tbody tr").count() == 1
    assert "Call B003" in page.locator("#task-list").inner_text()
    assert "stranger@nowhere.example" not in page.locator("#unmatched-list").inner_text()
    assert "a quarantined message" not in page.locator("#quarantined-list").inner_text()


def test_an_admin_sees_mail_not_yet_tied_to_a_case(page, workspace):
    _seed(workspace.app)
    sign_in(page, "root")
    page.goto("/queues")
    assert "stranger@nowhere.example" in page.locator("#unmatched-list").inner_text()
    assert "a quarantined message" in page.locator("#quarantined-list").inner_text()
    assert page.locator("#handoff-list tbody tr[id]").count() == 2


def test_resolving_a_hand_off_and_resuming_the_case(page, workspace):
    ids = _seed(workspace.app)
    sign_in(page, "alice")
    page.goto("/queues")
    row = page.locator(f"#handoff-{ids['handoff-B003']}")
    row.locator("input[name=note]").fill("Credit note issued for the missing pallet")
    row.locator("select[name=then]").select_option("resume")
    row.locator("button").click()
    page.wait_for_url(re.compile(r"notice="))
    assert "resolved" in page.get_by_role("status").inner_text()
    assert page.locator("#handoff-list tbody tr[id]").count() == 0
    page.locator(f"#task-{ids['task-B003']} button").click()
    page.wait_for_url(re.compile(r"notice="))
    assert page.locator("#task-list tbody tr[id]").count() == 0
    with session_scope(workspace.app.engine) as s:
        handoff = s.get(Handoff, ids["handoff-B003"])
        assert handoff.status == "resolved" and handoff.resolved_by == "alice"
        assert s.get(Case, handoff.case_id).status == "active"
        assert s.get(Task, ids["task-B003"]).done_by == "alice"
        actors = s.exec(
            select(AuditEvent.actor).where(AuditEvent.action == "handoff.resolved")
        ).all()
        assert actors == ["alice"]


def test_another_creditors_hand_off_and_task_answer_404(page, workspace):
    ids = _seed(workspace.app)
    sign_in(page, "alice")
    page.goto("/queues")
    token = page.locator("meta[name=csrf-token]").get_attribute("content")
    foreign = page.request.post(
        f"/handoffs/{ids['handoff-T002']}/resolve",
        form={"note": "x", "then": "resume", "csrf_token": token},
    )
    missing = page.request.post("/handoffs/999999/resolve", form={"note": "x", "csrf_token": token})
    assert foreign.status == missing.status == 404
    assert (
        page.request.post(f"/tasks/{ids['task-T002']}/done", form={"csrf_token": token}).status
        == 404
    )
    no_token = page.request.post(f"/handoffs/{ids['handoff-B003']}/resolve", form={"note": "x"})
    assert no_token.status == 403
    with session_scope(workspace.app.engine) as s:
        assert s.get(Handoff, ids["handoff-T002"]).status == "open"
        assert s.get(Handoff, ids["handoff-B003"]).status == "open"
