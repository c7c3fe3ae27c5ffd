"""The chat agent over the model port, driven by the fake model: no HTTP, a real database."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlmodel import select

from assistant.chat.agent import ChatSession
from assistant.db.engine import session_scope
from assistant.db.llm_models import LLMCall
from assistant.db.models import AuditEvent, Case, Draft
from assistant.llm import FakeChatModel
from assistant.services.portfolio import ensure_creditor
from tests.helpers import make_app, seed_debtor

TODAY = date(2026, 11, 26)
ATELIER, DISTRIB = "atelier-bois", "distrib-pro"


@pytest.fixture
def app(db_url):
    application = make_app(db_url, actor="alice")
    with session_scope(application.engine) as session:
        for slug, ref, name, case_ref in [
            (ATELIER, "C001", "Boulangerie Martin SARL", "REF-MART"),
            (DISTRIB, "D001", "Boulangerie Martin Lyon", "REF-DPRO"),
        ]:
            creditor = ensure_creditor(session, application.policies[slug])
            debtor = seed_debtor(session, creditor, ref, name, [(f"{ref}-1", 20, 50000)], TODAY)
            session.add(Case(ref=case_ref, creditor_id=creditor.id, debtor_id=debtor.id))
    yield application
    application.close()


def test_the_chat_runs_tools_and_logs_every_model_call_in_the_database(app):
    fake = FakeChatModel().enqueue(
        [{"name": "find_cases", "args": {"query": "boulangerie martin"}}],
        "Boulangerie Martin SARL (REF-MART) owes 500.00 EUR.",
    )
    chat = ChatSession(app, "alice", {ATELIER}, on=TODAY, client=fake)
    answer = chat.ask("What does Martin owe?")
    assert answer.text.startswith("Boulangerie Martin SARL") and answer.error is None
    [call] = answer.tool_calls
    assert call.name == "find_cases" and call.ok
    # The second prompt carries the tool's result: only the visible creditor's case.
    tool_message = fake.prompts[1][-1]
    found = json.loads(tool_message["content"])
    assert [c["ref"] for c in found["cases"]] == ["REF-MART"]
    with session_scope(app.engine) as s:
        calls = s.exec(select(LLMCall).order_by(LLMCall.id)).all()
        audits = s.exec(select(AuditEvent).where(AuditEvent.action == "chat.tool")).all()
    assert [(c.purpose, c.method, c.model) for c in calls] == [("chat", "tools", "fake-model")] * 2
    assert json.loads(calls[0].output or "")["tool_calls"][0]["name"] == "find_cases"
    assert len(audits) == 1


def test_a_draft_asked_in_chat_uses_the_fake_model_and_stays_pending(app):
    fake = FakeChatModel().enqueue(
        [{"name": "create_draft", "args": {"ref": "REF-MART", "instruction": "be gentle"}}],
        {
            "opening": "Nous revenons vers vous au sujet de votre compte.",
            "body": ["Un règlement rapide nous aiderait."],
            "closing": "Nous restons à votre disposition.",
        },  # fmt: skip
        "Draft queued for approval.",
    )
    chat = ChatSession(app, "alice", {ATELIER}, on=TODAY, client=fake)
    answer = chat.ask("Write to Martin, gently")
    assert answer.text == "Draft queued for approval." and answer.tool_calls[0].ok
    with session_scope(app.engine) as s:
        [draft] = s.exec(select(Draft)).all()
        purposes = [c.purpose for c in s.exec(select(LLMCall).order_by(LLMCall.id))]
    assert draft.status == "pending" and "be gentle" in (draft.engine_note or "")
    assert purposes == ["chat", "draft_letter", "chat"]
