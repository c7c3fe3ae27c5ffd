"""An officer works the approval queue in a real browser."""

from __future__ import annotations

import re

from sqlmodel import select

from assistant.db.engine import session_scope
from assistant.db.models import AuditEvent, Case, Creditor, Draft
from tests.web.conftest import ready, sign_in


def _drafts(app, slug):  # type: ignore[no-untyped-def]
    with session_scope(app.engine) as s:
        return s.exec(
            select(Draft)
            .join(Case, Case.id == Draft.case_id)
            .join(Creditor, Creditor.id == Case.creditor_id)
            .where(Creditor.slug == slug)
            .order_by(Draft.id)
        ).all()


def test_the_queue_needs_a_signed_in_officer(page):
    page.goto("/")
    assert page.url.endswith("/login?next=/")
    sign_in(page, "alice", "not the password")
    assert page.get_by_role("alert").inner_text() == "wrong user name or password"


def test_an_officer_sees_only_the_drafts_of_their_creditors(page, workspace):
    sign_in(page, "alice")
    rows = page.locator("#queue tbody tr[data-href]")
    assert rows.count() == len(_drafts(workspace.app, "atelier-bois")) == 5
    assert "Thames" not in page.locator("#queue").inner_text()
    foreign = _drafts(workspace.app, "thames-supplies")[0].id
    foreign_page = page.goto(f"/drafts/{foreign}")
    foreign_main = page.locator("main").inner_html()
    missing_page = page.goto("/drafts/999999")
    assert page.locator("h1").inner_text() == "Not found"
    assert foreign_page.status == missing_page.status == 404
    assert foreign_main == page.locator("main").inner_html()


def test_approve_with_the_keyboard_moves_to_the_next_draft(page, workspace):
    first, second = _drafts(workspace.app, "atelier-bois")[:2]
    sign_in(page, "alice")
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/drafts/{first.id}$"))
    ready(page)
    assert "FA-2026-0001" in page.locator("#text").inner_text()
    page.keyboard.press("a")
    page.wait_for_url(re.compile(rf"/drafts/{second.id}\?notice="))
    assert "approved" in page.get_by_role("status").inner_text()
    with session_scope(workspace.app.engine) as s:
        draft = s.get(Draft, first.id)
        assert draft.status == "approved" and draft.decided_by == "alice"
        actors = s.exec(
            select(AuditEvent.actor).where(
                AuditEvent.action == "draft.approved", AuditEvent.entity_id == str(first.id)
            )
        ).all()
        assert actors == ["alice"]


def test_reject_needs_a_reason_and_records_it(page, workspace):
    target = _drafts(workspace.app, "atelier-bois")[0]
    sign_in(page, "alice")
    page.goto(f"/drafts/{target.id}")
    ready(page)
    page.keyboard.press("r")
    page.keyboard.type("Client paid by cheque yesterday")
    page.click("#reject")
    page.wait_for_url(re.compile(r"notice="))
    with session_scope(workspace.app.engine) as s:
        draft = s.get(Draft, target.id)
        assert draft.status == "rejected"
        assert draft.reject_reason == "Client paid by cheque yesterday"


def test_an_edit_is_revalidated_as_you_type_and_saved_back_to_pending(page, workspace):
    target = _drafts(workspace.app, "atelier-bois")[0]
    sign_in(page, "alice")
    page.goto(f"/drafts/{target.id}")
    ready(page)
    page.keyboard.press("e")
    body = page.locator("#edit-body")
    body.fill(body.input_value() + "\nNous vous rappelons aussi la facture FA-2099-9999.")
    finding = page.locator("#edit-findings li.blocking")
    finding.wait_for()
    assert "FA-2099-9999" in finding.inner_text()
    page.click("#save-edit")
    page.wait_for_url(re.compile(rf"/drafts/{target.id}\?notice="))
    assert page.locator("mark.finding.blocking").first.inner_text() == "FA-2099-9999"
    assert page.locator("#approve").is_disabled()
    with session_scope(workspace.app.engine) as s:
        draft = s.get(Draft, target.id)
        assert draft.status == "pending" and "FA-2099-9999" in draft.body_text


def test_bulk_approval_takes_the_valid_drafts_of_the_officer_only(page, workspace):
    sign_in(page, "alice")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#approve-valid")
    page.wait_for_url(re.compile(r"notice="))
    assert "Nothing was sent" in page.get_by_role("status").inner_text()
    assert {d.status for d in _drafts(workspace.app, "atelier-bois")} == {"approved"}
    assert {d.status for d in _drafts(workspace.app, "thames-supplies")} == {"pending"}


def test_a_disabled_account_is_signed_out_at_once(page, workspace):
    from assistant.services.users import disable_user

    sign_in(page, "alice")
    assert page.locator("#queue").is_visible()
    with session_scope(workspace.app.engine) as s:
        disable_user(s, "alice", "root")
    page.goto("/")
    assert "/login" in page.url
