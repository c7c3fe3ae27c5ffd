"""One new user's journey, start to end, in a real browser: the account is created with
`relance users add … --password-stdin`, then the manager clears the queue, reads a case's
timeline, changes a tone, previews it on a real case, publishes it and reads the dashboard."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from assistant.cli.main import app as cli
from tests.web.conftest import ready, sign_in
from tests.web.test_case_browser import case_of

OLD = "{name: reminder_2, days_after_due: 15, template: reminder_2, tone: neutral,"


def test_a_new_manager_works_the_whole_day_in_the_browser(page, workspace, monkeypatch):
    settings = workspace.app.settings
    monkeypatch.setenv("RELANCE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("RELANCE_POLICIES_DIR", str(settings.policies_dir))
    added = CliRunner().invoke(
        cli,
        ["--as", "root", "users", "add", "nadia", "--role", "manager", "--creditor",
         "atelier-bois", "--password-stdin"],
        input="a long enough passphrase\n",
    )  # fmt: skip
    assert added.exit_code == 0, added.output

    sign_in(page, "nadia", "a long enough passphrase")
    assert page.locator("#queue tbody tr[data-href]").count() == 5
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#approve-valid")
    page.wait_for_url(re.compile(r"notice="))
    assert "5 approved" in page.get_by_role("status").inner_text()
    assert page.locator("#queue tbody tr[data-href]").count() == 0  # the queue is clear

    ref = case_of(workspace.app, "B001")
    page.goto(f"/cases/{ref}")
    ready(page)
    kinds = page.locator("#timeline li[data-kind]").evaluate_all(
        "els => els.map(e => e.dataset.kind)"
    )
    assert "letter" in kinds and "audit" in kinds

    page.goto("/policies/atelier-bois")
    ready(page)
    editor = page.locator("#policy-text")
    editor.fill(editor.input_value().replace(OLD, OLD.replace("tone: neutral", "tone: firm")))
    page.locator("#policy-diff pre span.add", has_text="tone: firm").wait_for()
    page.select_option("#preview-step", "reminder_2")
    page.select_option("#preview-case", ref)
    page.click("#preview")
    page.locator("#preview-text").wait_for()
    assert "FA-2026-0001" in page.locator("#preview-text").inner_text()
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#publish")
    page.wait_for_url(re.compile(r"notice=version"))
    assert workspace.app.policies["atelier-bois"].step("reminder_2").tone == "firm"

    page.goto("/dashboard")
    assert page.locator("#figures-atelier-bois").is_visible()
    assert "Thames" not in page.locator("main").inner_text()
