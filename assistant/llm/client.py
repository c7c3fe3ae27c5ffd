"""THE adapter to language models: `LLMClient`, the real `ChatModelPort`.

It builds one `ChatOpenAI` from the settings (any OpenAI-compatible endpoint, through
`runtime`), asks for structured output, free text or tool calls, retries transient failures
(timeouts, 429, 5xx) with a bounded exponential backoff, serves identical requests from the
call log, enforces the daily token budget per creditor, and hands a `CallRecord` of every
call to the `CallLog` its caller gave (`using(log)`). It owns no database connection and
never decides what an answer means: callers check the output and mark the call when they
fall back.
"""

from __future__ import annotations

import asyncio
import copy
import json
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy.engine import Engine

from assistant.config import Settings
from assistant.llm.records import (
    BudgetExceeded,
    CallLog,
    CallRecord,
    ChatResult,
    LLMError,
    LLMNotConfigured,
    Message,
    StructuredResult,
    ToolTurn,
    chat_result,
    request_key,
    structured_result,
)
from assistant.llm.runtime import (
    LangChainRuntime,
    Outcome,
    describe_error,
    is_transient,
    raw_text,
    read_tool_answer,
    to_langchain,
    usage,
)

T = TypeVar("T", bound=BaseModel)
R = TypeVar("R")

__all__ = [
    "BudgetExceeded",
    "ChatResult",
    "LLMClient",
    "LLMError",
    "LLMNotConfigured",
    "StructuredResult",
    "describe_error",
    "is_transient",
    "request_key",
]


def _as_log(log: CallLog | Engine | None) -> CallLog:
    """Accept a CallLog, or an Engine for standalone use (one short transaction per write)."""
    if log is None:
        from assistant.llm.fake import MemoryCallLog

        return MemoryCallLog()
    if isinstance(log, Engine):
        from assistant.services.llm_calls import EngineCallLog

        return EngineCallLog(log)
    return log


class LLMClient:
    """Call an OpenAI-compatible chat endpoint through LangChain, logging every call."""

    def __init__(
        self,
        settings: Settings,
        log: CallLog | Engine | None = None,
        *,
        http_client: Any = None,
        http_async_client: Any = None,
        max_attempts: int = 3,
        backoff_base: float = 0.5,
        backoff_cap: float = 8.0,
        clock: Callable[[], float] = time.perf_counter,
    ):
        if not settings.llm_configured:
            raise LLMNotConfigured()
        self.log = _as_log(log)
        self.model = settings.llm_model
        self.method = settings.llm_structured_method
        self.base_url = settings.openai_base_url
        self.budget = settings.llm_daily_token_budget
        self.runtime = LangChainRuntime(
            settings,
            http_client=http_client,
            http_async_client=http_async_client,
            max_attempts=max_attempts,
            backoff_base=backoff_base,
            backoff_cap=backoff_cap,
            clock=clock,
        )
        self.max_attempts = self.runtime.max_attempts
        self.max_concurrency = self.runtime.max_concurrency
        self._clock = clock
        self._schemas: dict[type[BaseModel], dict[str, Any]] = {}

    @property
    def settings(self) -> Settings:
        """Return the settings the calls run with."""
        return self.runtime.settings

    @settings.setter
    def settings(self, value: Settings) -> None:
        self.runtime.settings = value

    def using(self, log: CallLog) -> LLMClient:
        """Return this client (same model and connections) writing to `log`."""
        bound = copy.copy(self)
        bound.log = log
        return bound

    def chat_model(self) -> Any:
        """Return the `ChatOpenAI` instance for blocking calls (built on first use)."""
        return self.runtime.chat_model()

    async def aclose(self) -> None:
        """Close the HTTP client async calls opened in this loop."""
        await self.runtime.aclose()

    # --- the log side -------------------------------------------------------------------------

    async def _log_io(self, fn: Callable[..., R], *args: Any) -> R:
        """Run a log read or write; off the event loop when the log allows it."""
        if getattr(self.log, "threadsafe", False):
            return await asyncio.to_thread(fn, *args)
        return fn(*args)

    def _from_log(self, key: str, schema: type[BaseModel] | None) -> CallRecord | None:
        """Return an earlier successful call with the same request, if usable."""
        row = self.log.cached(key)
        if row is None:
            return None
        if schema is not None:
            if row.parsed is None:
                return None
            try:
                schema.model_validate(row.parsed)
            except ValidationError:
                return None
        elif row.output is None:
            return None
        return row

    def tokens_used_today(self, creditor: str | None) -> int:
        """Return the tokens paid today (UTC) for `creditor` (calls served from the log are free)."""
        return self.log.tokens_used_today(creditor)

    def check_budget(self, creditor: str | None) -> None:
        """Raise BudgetExceeded when `creditor`'s daily token budget is spent."""
        if self.budget <= 0:
            return
        used = self.tokens_used_today(creditor)
        if used >= self.budget:
            raise BudgetExceeded(creditor, used, self.budget)

    def _record(self, **fields: Any) -> tuple[CallRecord, int | None]:
        record = CallRecord(model=self.model, base_url=self.base_url, **fields)
        return record, self.log.write(record)

    def mark_fallback(self, call_id: int | None, reason: str) -> None:
        """Record that the caller did not use the output of call `call_id`, and why."""
        if call_id is not None:
            self.log.mark_fallback(call_id, reason[:2000])

    # --- one call, sync or async -----------------------------------------------------------------

    def _prepare(
        self, schema: type[BaseModel] | None, messages: Sequence[Message], method: str | None
    ) -> tuple[str, str]:
        chosen = (method or self.method) if schema is not None else "chat"
        schema_json = None
        if schema is not None:
            schema_json = self._schemas.get(schema)
            if schema_json is None:
                schema_json = self._schemas[schema] = schema.model_json_schema()
        return chosen, request_key(self.model, chosen, schema_json, messages)

    def _before(
        self, key: str, schema: type[BaseModel] | None, use_cache: bool, log: dict[str, Any]
    ) -> tuple[CallRecord, int | None] | None:
        """Serve from the log or check the budget; return the record served, if any."""
        started = self._clock()
        if use_cache:
            hit = self._from_log(key, schema)
            if hit is not None:
                latency = int((self._clock() - started) * 1000)
                return self._record(
                    **log, output=hit.output, parsed=hit.parsed, cached=True, latency_ms=latency
                )
        try:
            self.check_budget(log.get("creditor"))
        except BudgetExceeded as exc:
            self._record(**log, error=str(exc), fallback_used=True, fallback_reason="budget")
            raise
        return None

    def _after(
        self, outcome: Outcome, started: float, log: dict[str, Any]
    ) -> tuple[CallRecord, int | None]:
        started = outcome.started if outcome.started is not None else started
        tokens_in, tokens_out = usage(outcome.message)
        parsed = (
            outcome.parsed.model_dump(mode="json")
            if isinstance(outcome.parsed, BaseModel)
            else None
        )
        return self._record(
            **log,
            output=raw_text(outcome.message),
            parsed=parsed,
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            latency_ms=int((self._clock() - started) * 1000),
            attempts=outcome.attempts,
            error=outcome.error,
        )

    @staticmethod
    def _log_fields(
        purpose: str,
        prompt_name: str | None,
        prompt_hash: str | None,
        messages: Sequence[Message],
        method: str,
        schema: type[BaseModel] | None,
        key: str,
        case_id: int | None,
        creditor: str | None,
    ) -> dict[str, Any]:
        return {
            "purpose": purpose,
            "prompt_name": prompt_name,
            "prompt_hash": prompt_hash,
            "messages": [dict(m) for m in messages],
            "method": method,
            "schema_name": schema.__name__ if schema is not None else None,
            "cache_key": key,
            "case_id": case_id,
            "creditor": creditor,
        }

    def _call(
        self, schema: type[BaseModel] | None, messages: Sequence[Message], *, use_cache: bool,
        method: str | None, meta: dict[str, Any],
    ) -> tuple[CallRecord, int | None]:  # fmt: skip
        chosen, key = self._prepare(schema, messages, method)
        log = self._log_fields(messages=messages, method=chosen, schema=schema, key=key, **meta)
        served = self._before(key, schema, use_cache, log)
        if served is not None:
            return served
        model = self.chat_model()
        runnable = (
            model if schema is None else self.runtime.structured_runnable(schema, chosen, model)
        )
        started = self._clock()
        outcome = self.runtime.run_sync(runnable, to_langchain(messages), schema)
        return self._after(outcome, started, log)

    async def _acall(
        self, schema: type[BaseModel] | None, messages: Sequence[Message], *, use_cache: bool,
        method: str | None, meta: dict[str, Any],
    ) -> tuple[CallRecord, int | None]:  # fmt: skip
        chosen, key = self._prepare(schema, messages, method)
        log = self._log_fields(messages=messages, method=chosen, schema=schema, key=key, **meta)
        served = await self._log_io(self._before, key, schema, use_cache, log)
        if served is not None:
            return served
        model = self.runtime.async_chat_model()
        runnable = (
            model if schema is None else self.runtime.structured_runnable(schema, chosen, model)
        )
        started = self._clock()
        outcome = await self.runtime.run_async(runnable, to_langchain(messages), schema)
        return await self._log_io(self._after, outcome, started, log)

    # --- public calls ---------------------------------------------------------------------------

    def structured(
        self, purpose: str, prompt_name: str | None, messages: Sequence[Message],
        schema: type[T], *, case_id: int | None = None, creditor: str | None = None,
        prompt_hash: str | None = None, method: str | None = None, use_cache: bool = True,
    ) -> StructuredResult[T]:  # fmt: skip
        """Ask for an answer in `schema`; raise BudgetExceeded, never a model error."""
        meta = _meta(purpose, prompt_name, prompt_hash, case_id, creditor)
        logged = self._call(schema, messages, use_cache=use_cache, method=method, meta=meta)
        return structured_result(schema, *logged)

    async def astructured(
        self, purpose: str, prompt_name: str | None, messages: Sequence[Message],
        schema: type[T], *, case_id: int | None = None, creditor: str | None = None,
        prompt_hash: str | None = None, method: str | None = None, use_cache: bool = True,
    ) -> StructuredResult[T]:  # fmt: skip
        """Ask for an answer in `schema` without blocking the event loop on the network."""
        meta = _meta(purpose, prompt_name, prompt_hash, case_id, creditor)
        logged = await self._acall(schema, messages, use_cache=use_cache, method=method, meta=meta)
        return structured_result(schema, *logged)

    def chat(
        self, purpose: str, prompt_name: str | None, messages: Sequence[Message], *,
        case_id: int | None = None, creditor: str | None = None,
        prompt_hash: str | None = None, use_cache: bool = True,
    ) -> ChatResult:  # fmt: skip
        """Ask for free text; raise BudgetExceeded, never a model error."""
        meta = _meta(purpose, prompt_name, prompt_hash, case_id, creditor)
        return chat_result(*self._call(None, messages, use_cache=use_cache, method=None, meta=meta))

    async def achat(
        self, purpose: str, prompt_name: str | None, messages: Sequence[Message], *,
        case_id: int | None = None, creditor: str | None = None,
        prompt_hash: str | None = None, use_cache: bool = True,
    ) -> ChatResult:  # fmt: skip
        """Ask for free text without blocking the event loop on the network."""
        meta = _meta(purpose, prompt_name, prompt_hash, case_id, creditor)
        logged = await self._acall(None, messages, use_cache=use_cache, method=None, meta=meta)
        return chat_result(*logged)

    def call_with_tools(
        self,
        messages: Sequence[Message],
        tools: list[dict[str, Any]],
        *,
        purpose: str = "chat",
        prompt_name: str | None = None,
        prompt_hash: str | None = None,
        creditor: str | None = None,
    ) -> ToolTurn:
        """Ask with OpenAI function tools bound; retry transient failures; log it (no cache)."""
        key = request_key(self.model, "tools", {"tools": tools}, messages)
        log = {
            "purpose": purpose,
            "prompt_name": prompt_name,
            "prompt_hash": prompt_hash,
            "messages": [dict(m) for m in messages],
            "method": "tools",
            "cache_key": key,
            "creditor": creditor,
        }
        try:
            self.check_budget(creditor)
        except BudgetExceeded as exc:
            self._record(**log, error=str(exc), fallback_used=True, fallback_reason="budget")
            return ToolTurn("", [], error=str(exc))
        model = self.chat_model().bind_tools(tools)
        started = self._clock()
        outcome = self.runtime.run_sync(model, list(messages))
        content, calls, error, (tokens_in, tokens_out) = read_tool_answer(outcome)
        output = (
            json.dumps({"content": content, "tool_calls": calls}, ensure_ascii=False)
            if calls
            else content
        )
        _, call_id = self._record(
            **log,
            output=output,
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            latency_ms=int((self._clock() - started) * 1000),
            attempts=outcome.attempts,
            error=error,
        )
        return ToolTurn(content, calls, error=error, call_id=call_id)


def _meta(
    purpose: str,
    prompt_name: str | None,
    prompt_hash: str | None,
    case_id: int | None,
    creditor: str | None,
) -> dict[str, Any]:
    return {
        "purpose": purpose,
        "prompt_name": prompt_name,
        "prompt_hash": prompt_hash,
        "case_id": case_id,
        "creditor": creditor,
    }
