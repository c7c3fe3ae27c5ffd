"""The assistant in the workspace runs as the signed-in person, within their creditors."""

from __future__ import annotations

import json

from sqlmodel import select

from assistant.db.engine import session_scope
from assistant.db.models import AuditEvent
from assistant.llm import FakeChatModel
from tests.web.conftest import sign_in


def test_without_a_model_endpoint_the_page_says_how_to_enable_it(page, workspace):
    assert workspace.app.llm is None
    sign_in(page, "alice")
    page.goto("/chat")
    assert "not available" in page.locator("#chat-unavailable").inner_text()
    assert page.locator("#chat-form").count() == 0
    token = page.locator("meta[name=csrf-token]").get_attribute("content")
    refused = page.request.post("/chat/ask", form={"question": "hello", "csrf_token": token})
    assert refused.status == 503


def test_the_chat_runs_as_the_officer_with_their_creditors_only(page, workspace):
    fake = FakeChatModel().enqueue(
        [{"name": "find_cases", "args": {"query": "client"}}],
        "Client Bois 1 SARL owes 1 012,34 EUR.",
    )
    workspace.app.llm_override = fake
    sign_in(page, "alice")
    page.goto("/chat")
    page.fill("#chat-question", "Which clients are late?")
    page.click("#chat-send")
    answer = page.locator("#chat-log .a")
    answer.wait_for()
    assert answer.inner_text() == "Client Bois 1 SARL owes 1 012,34 EUR."
    assert "find_cases" in page.locator("#chat-log .tool").inner_text()
    assert page.locator("#chat-question").input_value() == ""
    found = json.loads(fake.prompts[1][-1]["content"])
    assert found["cases"] and {c["creditor"] for c in found["cases"]} == {"atelier-bois"}
    assert "alice" in fake.prompts[0][0]["content"]
    with session_scope(workspace.app.engine) as s:
        actors = s.exec(select(AuditEvent.actor).where(AuditEvent.action == "chat.tool")).all()
    assert actors == ["alice"]
