"""An admin manages accounts; a manager reads the dashboard — in a real browser."""

from __future__ import annotations

import re
from datetime import date

from sqlmodel import select

from assistant.db.engine import session_scope
from assistant.db.models import AuditEvent, Case, Creditor, Draft
from assistant.services.portfolio_figures import creditor_figures
from tests.web.conftest import PASSWORD, sign_in


def test_only_admins_manage_users(page, workspace):
    sign_in(page, "mia")
    assert page.goto("/users").status == 403
    assert page.locator("nav").get_by_text("Users").count() == 0
    token = page.locator("meta[name=csrf-token]").get_attribute("content")
    refused = page.request.post(
        "/users", form={"name": "eve", "role": "admin", "password": PASSWORD, "csrf_token": token}
    )
    assert refused.status == 403
    sign_in(page, "root")
    assert "eve" not in page.goto("/users").text()


def test_an_admin_adds_an_officer_who_then_signs_in_within_their_creditor(page, workspace):
    sign_in(page, "root")
    page.goto("/users")
    page.fill("#new-name", "olga")
    page.select_option("#new-role", "officer")
    page.check("input[name=creditor][value=thames-supplies]")
    page.fill("#new-password", "short")
    page.evaluate("document.getElementById('new-password').removeAttribute('minlength')")
    page.click("#add")
    assert "at least 10 characters" in page.get_by_role("alert").inner_text()
    assert page.locator("#new-name").input_value() == "olga"  # the form is kept
    page.fill("#new-password", PASSWORD)
    page.click("#add")
    page.wait_for_url(re.compile(r"notice="))
    assert "thames-supplies" in page.locator("#user-olga").inner_text()
    page.context.clear_cookies()
    sign_in(page, "olga")
    assert page.locator("#queue tbody tr[data-href]").count() == 2  # Thames' two drafts
    with session_scope(workspace.app.engine) as s:
        added = s.exec(select(AuditEvent.actor).where(AuditEvent.action == "user.added")).all()
    assert added[-1] == "root"


def test_an_admin_disables_an_account(page, workspace):
    sign_in(page, "root")
    page.goto("/users")
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#user-bob button").click()
    page.wait_for_url(re.compile(r"notice="))
    assert page.locator("#user-bob .active").inner_text() == "no"
    page.context.clear_cookies()
    sign_in(page, "bob")
    assert page.get_by_role("alert").inner_text() == "wrong user name or password"


def test_the_dashboard_shows_the_managers_creditors_figures(page, workspace):
    with session_scope(workspace.app.engine) as s:
        expected = creditor_figures(s, "atelier-bois", date.today())
        pending = s.exec(
            select(Draft.id)
            .join(Case, Case.id == Draft.case_id)
            .join(Creditor, Creditor.id == Case.creditor_id)
            .where(Creditor.slug == "atelier-bois", Draft.status == "pending")
        ).all()
    sign_in(page, "alice")
    assert page.goto("/dashboard").status == 403
    sign_in(page, "mia")
    page.goto("/dashboard")
    assert page.locator("section.creditor-figures").count() == 1
    section = page.locator("#figures-atelier-bois")
    assert section.locator(".pending-drafts").inner_text() == str(len(pending)) == "5"
    money = expected["money"][0]
    row = section.locator("tr[data-bucket='0-30']")
    assert row.locator("td.num").first.inner_text() == str(money["overdue"]["0-30"]["count"])
    assert money["overdue"]["0-30"]["count"] == 5  # the seeded invoices are 11 to 15 days late
    assert "Thames" not in page.locator("main").inner_text()
