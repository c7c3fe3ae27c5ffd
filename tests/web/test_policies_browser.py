"""A credit manager edits, previews and publishes a policy in a real browser."""

from __future__ import annotations

import re

from sqlmodel import select

from assistant.db.engine import session_scope
from assistant.db.models import AuditEvent
from assistant.db.user_models import PolicyVersion
from tests.web.conftest import ready, sign_in
from tests.web.test_case_browser import case_of

OLD = "{name: reminder_2, days_after_due: 15, template: reminder_2, tone: neutral,"


def _file(workspace):  # type: ignore[no-untyped-def]
    return workspace.app.settings.policies_dir / "atelier-bois.yaml"


def _open_editor(page):  # type: ignore[no-untyped-def]
    sign_in(page, "mia")
    page.goto("/policies/atelier-bois")
    ready(page)
    return page.locator("#policy-text")


def test_officers_cannot_open_policies_and_managers_only_their_creditors(page, workspace):
    sign_in(page, "alice")
    assert page.goto("/policies").status == 403
    assert page.goto("/policies/atelier-bois").status == 403
    assert page.locator("h1").inner_text() == "Not allowed"
    sign_in(page, "mia")
    assert page.goto("/policies/thames-supplies").status == 404
    assert page.goto("/policies/no-such-creditor").status == 404
    page.goto("/policies")
    assert page.locator("#policy-list").inner_text().split() == ["atelier-bois"]


def test_an_error_is_shown_at_its_line_as_you_type(page, workspace):
    original = _file(workspace).read_text(encoding="utf-8")
    line = next(n for n, t in enumerate(original.splitlines(), 1) if "name: reminder_2" in t)
    editor = _open_editor(page)
    assert "Valid" in page.locator("#policy-errors").inner_text()
    editor.fill(original.replace(OLD, OLD.replace("tone: neutral", "tone: rude")))
    error = page.locator("#policy-errors li.blocking")
    error.wait_for()
    assert error.get_attribute("data-line") == str(line)
    assert "tone" in error.inner_text()
    error.locator("button.goto").click()
    selected = editor.evaluate("t => t.value.substring(t.selectionStart, t.selectionEnd)")
    assert "name: reminder_2" in selected
    page.click("#preview")
    refusal = page.locator("#policy-preview [role=alert]")
    refusal.wait_for()
    assert "Fix the errors first" in refusal.inner_text()


def test_change_a_tone_preview_it_on_a_real_case_then_publish(page, workspace):
    original = _file(workspace).read_text(encoding="utf-8")
    edited = original.replace(OLD, OLD.replace("tone: neutral", "tone: courteous"))
    ref = case_of(workspace.app, "B001")
    editor = _open_editor(page)
    editor.fill(edited)
    page.locator("#policy-diff pre span.add", has_text="tone: courteous").wait_for()
    assert "tone: neutral" in page.locator("#policy-diff pre span.del").inner_text()
    page.select_option("#preview-step", "reminder_2")
    page.select_option("#preview-case", ref)
    page.click("#preview")
    page.locator("#preview-text").wait_for()
    assert "FA-2026-0001" in page.locator("#preview-text").inner_text()  # the case's own invoice
    page.click("#save-draft")
    page.wait_for_url(re.compile(r"notice=draft"))
    assert _file(workspace).read_text(encoding="utf-8") == original  # a draft changes nothing
    assert "tone: courteous" in page.locator("#policy-text").input_value()  # the draft reopens
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#publish")
    page.wait_for_url(re.compile(r"notice=version"))
    assert _file(workspace).read_text(encoding="utf-8") == edited
    assert workspace.app.policies["atelier-bois"].step("reminder_2").tone == "courteous"
    assert "mia" in page.locator("#policy-history tbody").inner_text()
    assert "(0 lines)" in page.locator("#policy-diff summary").inner_text()
    with session_scope(workspace.app.engine) as s:
        statuses = s.exec(select(PolicyVersion.status).order_by(PolicyVersion.id)).all()
        actions = s.exec(
            select(AuditEvent.action).where(
                AuditEvent.actor == "mia", AuditEvent.entity == "policy"
            )
        ).all()
    assert statuses == ["draft", "published"]
    assert actions == ["policy.draft_saved", "policy.published"]


def test_an_invalid_text_is_never_published(page, workspace):
    original = _file(workspace).read_text(encoding="utf-8")
    editor = _open_editor(page)
    editor.fill(original.replace("slug: atelier-bois", "slug: thames-supplies"))
    page.locator("#policy-errors li.blocking").wait_for()
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_response(re.compile(r"/publish$")) as response:
        page.click("#publish")
    assert response.value.status == 409
    assert "not published" in page.get_by_role("alert").inner_text()
    assert _file(workspace).read_text(encoding="utf-8") == original
    assert [p.name for p in _file(workspace).parent.iterdir() if p.name.startswith("_")] == []
