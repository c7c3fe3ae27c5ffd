"""The LLM adapter: real ChatOpenAI against a scripted OpenAI-compatible server on loopback."""

from __future__ import annotations

import json
from typing import Literal

import pytest
from pydantic import BaseModel
from sqlmodel import Session, select

from assistant.config import Settings
from assistant.db.llm_models import LLMCall
from assistant.llm import BudgetExceeded, LLMClient, LLMNotConfigured
from tests.integration.llm_server import Reply, ScriptedLLMServer, scripted_server

pytestmark = pytest.mark.integration


class Mood(BaseModel):
    mood: Literal["happy", "sad"]
    reasons: list[str]


MESSAGES = [
    {"role": "system", "content": "Classify the mood."},
    {"role": "user", "content": "I got paid today!"},
]
GOOD = {"mood": "happy", "reasons": ["got paid"]}


@pytest.fixture
def server():
    with scripted_server() as srv:
        yield srv


def make_settings(server: ScriptedLLMServer, db_url: str, **extra) -> Settings:
    values = {
        "database_url": db_url,
        "OPENAI_BASE_URL": server.base_url,
        "llm_model": "scripted-model",
        "llm_timeout": 2.0,
        "_env_file": None,
    }
    values.update(extra)
    return Settings(**values)  # type: ignore[arg-type]


def make_client(server, db_url, engine, **extra) -> LLMClient:
    return LLMClient(make_settings(server, db_url, **extra), engine, backoff_base=0.01)


def calls(engine) -> list[LLMCall]:
    with Session(engine) as session:
        return list(session.exec(select(LLMCall).order_by(LLMCall.id)))


@pytest.mark.parametrize("method", ["json_schema", "function_calling"])
def test_good_structured_output_is_parsed_and_logged(server, db_url, engine, method):
    client = make_client(server, db_url, engine, llm_structured_method=method)
    server.enqueue(Reply(data=GOOD, usage=(321, 45)))
    result = client.structured(
        "test", "mood", MESSAGES, Mood, case_id=7, creditor="acme", prompt_hash="abc"
    )
    assert result.ok and result.parsed == Mood(**GOOD)
    assert not result.from_cache
    request = server.requests[0]
    assert request["model"] == "scripted-model"
    assert ("tools" in request) == (method == "function_calling")
    assert ("response_format" in request) == (method == "json_schema")
    [row] = calls(engine)
    assert (row.purpose, row.prompt_name, row.prompt_hash, row.case_id, row.creditor) == (
        "test",
        "mood",
        "abc",
        7,
        "acme",
    )
    assert (row.tokens_in, row.tokens_out, row.method, row.attempts) == (321, 45, method, 1)
    assert row.latency_ms >= 0 and row.error is None and row.parsed == GOOD
    assert row.messages == MESSAGES and row.model == "scripted-model"


@pytest.mark.parametrize("method", ["json_schema", "function_calling"])
@pytest.mark.parametrize("bad", ['{"mood": "happy", "reas', '{"mood": "furious", "reasons": []}'])
def test_malformed_output_is_an_error_not_an_exception(server, db_url, engine, method, bad):
    client = make_client(server, db_url, engine, llm_structured_method=method)
    server.enqueue(Reply(data=bad))
    result = client.structured("test", "mood", MESSAGES, Mood)
    assert result.parsed is None and "invalid structured output" in (result.error or "")
    assert result.raw_text and "mood" in result.raw_text
    assert server.calls == 1  # a bad answer is not retried by the client
    [row] = calls(engine)
    assert row.error and row.output and row.tokens_in == 120


def test_429_then_success_is_retried(server, db_url, engine):
    client = make_client(server, db_url, engine)
    server.enqueue(
        Reply(status=429, headers={"Retry-After": "0"}), Reply(status=503), Reply(data=GOOD)
    )
    result = client.structured("test", None, MESSAGES, Mood)
    assert result.ok and server.calls == 3
    [row] = calls(engine)
    assert row.attempts == 3 and row.error is None


def test_4xx_is_not_retried(server, db_url, engine):
    client = make_client(server, db_url, engine)
    server.enqueue(Reply(status=400, error="bad schema"), Reply(data=GOOD))
    result = client.structured("test", None, MESSAGES, Mood)
    assert not result.ok and "400" in (result.error or "") and server.calls == 1


def test_timeout_gives_up_after_bounded_retries(server, db_url, engine):
    client = LLMClient(
        make_settings(server, db_url, llm_timeout=0.3),
        engine,
        max_attempts=2,
        backoff_base=0.01,
    )
    server.enqueue(Reply(data=GOOD, delay=1.0), Reply(data=GOOD, delay=1.0))
    result = client.structured("test", None, MESSAGES, Mood)
    assert not result.ok and "Timeout" in (result.error or "")
    [row] = calls(engine)
    assert row.attempts == 2 and row.error


async def test_async_call_and_cache_hit_costs_no_http_call(server, db_url, engine):
    client = make_client(server, db_url, engine)
    server.enqueue(Reply(data=GOOD))
    first = await client.astructured("test", None, MESSAGES, Mood, creditor="acme")
    second = await client.astructured("test", None, MESSAGES, Mood, creditor="acme")
    assert first.ok and second.ok and second.parsed == first.parsed
    assert second.from_cache and server.calls == 1
    rows = calls(engine)
    assert [r.cached for r in rows] == [False, True]
    assert rows[1].tokens == 0 and client.tokens_used_today("acme") == 160
    other = await client.astructured(
        "test", None, [*MESSAGES[:1], {"role": "user", "content": "x"}], Mood
    )
    assert not other.ok and server.calls == 4  # not served from the log: 500, retried twice


def test_failed_calls_are_not_served_from_the_log(server, db_url, engine):
    client = make_client(server, db_url, engine)
    server.enqueue(Reply(data="not json"), Reply(data=GOOD))
    assert not client.structured("test", None, MESSAGES, Mood).ok
    assert client.structured("test", None, MESSAGES, Mood).ok
    assert server.calls == 2


def test_budget_exceeded_raises_and_is_logged(server, db_url, engine):
    client = make_client(server, db_url, engine, llm_daily_token_budget=300)
    server.enqueue(Reply(data=GOOD, usage=(250, 60)), Reply(data=GOOD))
    assert client.structured("test", None, MESSAGES, Mood, creditor="acme").ok
    with pytest.raises(BudgetExceeded) as info:
        client.structured(
            "test", None, [{"role": "user", "content": "again"}], Mood, creditor="acme"
        )
    assert info.value.used == 310 and info.value.budget == 300
    assert server.calls == 1
    # another creditor has its own budget
    assert client.structured(
        "test", None, [{"role": "user", "content": "b"}], Mood, creditor="other"
    ).ok
    refused = [r for r in calls(engine) if r.error and "budget" in r.error]
    assert len(refused) == 1 and refused[0].fallback_used


def test_chat_and_mark_fallback(server, db_url, engine):
    client = make_client(server, db_url, engine)
    server.enqueue(Reply(content="Bonjour !", usage=(10, 3)))
    result = client.chat("check", None, [{"role": "user", "content": "Say hello"}])
    assert result.ok and result.text == "Bonjour !"
    client.mark_fallback(result.call_id, "rejected by the caller")
    [row] = calls(engine)
    assert row.fallback_used and row.fallback_reason == "rejected by the caller"
    assert (row.method, row.tokens_in, row.tokens_out) == ("chat", 10, 3)


def test_unconfigured_settings_refuse(db_url, engine, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(LLMNotConfigured, match="OPENAI_BASE_URL"):
        LLMClient(Settings(database_url=db_url, _env_file=None), engine)  # type: ignore[call-arg]


def test_cli_check_and_log(server, db_url, monkeypatch):
    from typer.testing import CliRunner

    from assistant.cli.llm import app

    monkeypatch.setenv("RELANCE_DATABASE_URL", db_url)
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    server.enqueue(
        Reply(content="OK"), Reply(data={"answer": "ok", "number": 42}), Reply(data="not json")
    )
    runner = CliRunner()
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 0, result.output
    assert "json_schema" in result.output and "function_calling" in result.output
    log = runner.invoke(app, ["log", "--json", "--purpose", "check"])
    rows = [json.loads(line) for line in log.output.splitlines()]
    assert len(rows) == 3 and rows[0]["method"] == "function_calling" and rows[0]["error"]
    monkeypatch.delenv("OPENAI_BASE_URL")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    unconfigured = runner.invoke(app, ["check"])
    assert unconfigured.exit_code == 1 and "OPENAI_BASE_URL" in unconfigured.output
