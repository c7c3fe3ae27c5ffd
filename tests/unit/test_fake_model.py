"""The fake model is a real model port: queued replies, logged calls, cache and budget."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from assistant.llm import BudgetExceeded, ChatModelPort, FakeChatModel, MemoryCallLog, ToolTurn

ASK = [{"role": "user", "content": "How are you?"}]


class Mood(BaseModel):
    mood: str
    score: int


def test_structured_replies_come_from_the_queue_and_are_logged():
    log = MemoryCallLog()
    model: ChatModelPort = FakeChatModel(log=log).enqueue(Mood(mood="fine", score=7))
    result = model.structured("test", "mood", ASK, Mood, creditor="acme")
    assert result.ok and result.parsed == Mood(mood="fine", score=7)
    again = model.structured("test", "mood", ASK, Mood, creditor="acme")  # queue is empty now
    assert again.ok and again.from_cache and again.parsed == result.parsed
    assert [r.cached for r in log.records] == [False, True]
    assert log.tokens_used_today("acme") == 15  # the cached call is free


def test_a_bad_or_missing_reply_is_a_failed_call_never_an_answer():
    log = MemoryCallLog()
    model = FakeChatModel(log=log).enqueue({"mood": "fine"}, TimeoutError("slow"))
    invalid = model.structured("t", None, ASK, Mood, use_cache=False)
    failed = model.structured("t", None, ASK, Mood, use_cache=False)
    empty = model.chat("t", None, ASK, use_cache=False)
    assert not invalid.ok and "invalid structured output" in (invalid.error or "")
    assert not failed.ok and "TimeoutError" in (failed.error or "")
    assert empty.text is None and "no reply queued" in (empty.error or "")
    model.mark_fallback(invalid.call_id, "rules used")
    assert log.records[0].fallback_used and log.records[0].fallback_reason == "rules used"


def test_a_spent_budget_refuses_the_call_and_says_why_in_the_log():
    log = MemoryCallLog()
    model = FakeChatModel(log=log, budget=10).enqueue("hello", "again")
    assert model.chat("t", None, ASK, creditor="acme").text == "hello"
    with pytest.raises(BudgetExceeded, match="acme: 15/10"):
        model.chat("t", None, [{"role": "user", "content": "more"}], creditor="acme")
    assert log.records[-1].fallback_reason == "budget"
    turn = model.call_with_tools(ASK, [], creditor="acme")
    assert turn.error and "budget" in turn.error and not turn.tool_calls


def test_tool_turns_are_queued_as_calls_then_text():
    model = FakeChatModel().enqueue([{"name": "find_cases", "args": {"query": "martin"}}], "Done.")
    first = model.call_with_tools(ASK, [{"type": "function"}])
    assert first.tool_calls == [{"id": "call_0", "name": "find_cases", "args": {"query": "martin"}}]
    assert model.call_with_tools(ASK, []) == ToolTurn("Done.", [], call_id=2)


def test_using_another_log_keeps_the_queue():
    model = FakeChatModel().enqueue("one", "two")
    other = MemoryCallLog()
    assert model.using(other).chat("t", None, ASK).text == "one"
    assert model.chat("t", None, [{"role": "user", "content": "b"}]).text == "two"
    assert len(other.records) == 1
