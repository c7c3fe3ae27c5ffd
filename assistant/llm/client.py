"""THE adapter to language models: the only module that imports LangChain or openai.

`LLMClient` builds one `ChatOpenAI` from the settings (any OpenAI-compatible endpoint), asks
for structured output or free text, retries transient failures (timeouts, 429, 5xx) with a
bounded exponential backoff, serves identical requests from the call log, enforces the daily
token budget per creditor, and writes every call to the `LLMCall` table. It never decides
what an answer means: callers check the output and mark the call when they fall back.
LangChain is imported on first use (≈1 s), never at import time.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from datetime import time as dtime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from assistant.config import Settings
from assistant.db.llm_models import LLMCall

T = TypeVar("T", bound=BaseModel)
Message = dict[str, str]

DUMMY_API_KEY = "not-needed"  # local servers (Ollama, vLLM, llama.cpp) ignore the key
RETRYABLE_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})


class LLMError(RuntimeError):
    """The model layer cannot be used as configured."""


class LLMNotConfigured(LLMError):
    """No OpenAI-compatible endpoint is configured."""

    HOWTO = (
        "No LLM endpoint is configured. Set OPENAI_API_KEY (OpenAI, Azure OpenAI, Mistral…) "
        "and/or OPENAI_BASE_URL (e.g. http://127.0.0.1:11434/v1 for Ollama, "
        "http://127.0.0.1:8000/v1 for vLLM, http://127.0.0.1:8080/v1 for llama.cpp), and "
        "RELANCE_LLM_MODEL; see docs/llm.md."
    )

    def __init__(self, message: str | None = None):
        super().__init__(message or self.HOWTO)


class BudgetExceeded(LLMError):
    """The creditor's daily token budget is spent: the caller falls back."""

    def __init__(self, creditor: str | None, used: int, budget: int):
        self.creditor, self.used, self.budget = creditor, used, budget
        who = creditor or "(no creditor)"
        super().__init__(f"daily LLM token budget spent for {who}: {used}/{budget} tokens")


@dataclass(frozen=True)
class StructuredResult(Generic[T]):
    """The outcome of a structured call: `parsed` is None when `error` says why."""

    parsed: T | None
    raw_text: str | None
    error: str | None
    from_cache: bool
    call_id: int | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    latency_ms: int = 0

    @property
    def ok(self) -> bool:
        """Tell whether a parsed answer is available."""
        return self.parsed is not None and self.error is None


@dataclass(frozen=True)
class ChatResult:
    """The outcome of a free-text call: `text` is None when `error` says why."""

    text: str | None
    error: str | None
    from_cache: bool
    call_id: int | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    latency_ms: int = 0

    @property
    def ok(self) -> bool:
        """Tell whether an answer is available."""
        return self.text is not None and self.error is None


@dataclass
class _Outcome:
    """What one attempt loop produced (before it is logged)."""

    message: Any = None  # the AIMessage, when an answer arrived
    parsed: Any = None
    error: str | None = None
    attempts: int = 0
    started: float | None = None  # when the first attempt began (after any queueing)


def request_key(
    model: str, method: str, schema: dict[str, Any] | None, messages: Sequence[Message]
) -> str:
    """Return the cache key of a request: sha256 of model, method, schema and messages."""
    blob = json.dumps(
        {"model": model, "method": method, "schema": schema, "messages": list(messages)},
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(blob.encode()).hexdigest()


def is_transient(exc: BaseException) -> bool:
    """Tell whether a failure is worth retrying: timeouts, connection errors, 429 and 5xx."""
    import httpx
    import openai

    if isinstance(exc, openai.APIConnectionError | httpx.TimeoutException | httpx.TransportError):
        return True  # APITimeoutError is an APIConnectionError
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code in RETRYABLE_STATUS or exc.status_code >= 500
    return isinstance(exc, TimeoutError)


def describe_error(exc: BaseException) -> str:
    """Return a one-line description of a failure for the log."""
    status = getattr(exc, "status_code", None)
    text = " ".join(str(exc).split())[:500]
    name = type(exc).__name__
    return f"{name} (HTTP {status}): {text}" if status else f"{name}: {text}"


def _retry_after(exc: BaseException) -> float | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if not headers:
        return None
    value = headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _to_langchain(messages: Sequence[Message]) -> list[tuple[str, str]]:
    roles = {"system": "system", "user": "human", "human": "human", "assistant": "ai", "ai": "ai"}
    return [(roles.get(m["role"], "human"), m["content"]) for m in messages]


def _usage(message: Any) -> tuple[int, int]:
    usage = getattr(message, "usage_metadata", None) or {}
    return int(usage.get("input_tokens") or 0), int(usage.get("output_tokens") or 0)


def _raw_text(message: Any) -> str | None:
    """Return what the model wrote: the content, else the tool call arguments."""
    if message is None:
        return None
    content = message.content
    if isinstance(content, list):
        content = "".join(c if isinstance(c, str) else str(c.get("text", "")) for c in content)
    if content:
        return str(content)
    for call in getattr(message, "tool_calls", None) or []:
        return json.dumps(call.get("args"), ensure_ascii=False)
    for call in getattr(message, "invalid_tool_calls", None) or []:
        return str(call.get("args"))
    return None


class LLMClient:
    """Call an OpenAI-compatible chat endpoint through LangChain, logging every call."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
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
        self.settings = settings
        self.engine = engine
        self.model = settings.llm_model
        self.method = settings.llm_structured_method
        self.base_url = settings.openai_base_url
        self.budget = settings.llm_daily_token_budget
        self.max_attempts = max(1, max_attempts)
        self.max_concurrency = max(1, settings.llm_max_concurrency)
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self._clock = clock
        self._http_client = http_client
        self._http_async_client = http_async_client
        self._chat_model: Any = None
        self._async_model: Any = None
        self._async_http: Any = None
        self._async_loop: weakref.ReferenceType[asyncio.AbstractEventLoop] | None = None
        self._runnables: dict[tuple[type[BaseModel], str, int], tuple[Any, Any]] = {}
        self._slots: asyncio.Semaphore | None = None
        self._slots_loop: weakref.ReferenceType[asyncio.AbstractEventLoop] | None = None
        self._schemas: dict[type[BaseModel], dict[str, Any]] = {}

    # --- the LangChain side -------------------------------------------------------------------

    def _build(self, http_async_client: Any = None) -> Any:
        from langchain_openai import ChatOpenAI

        key = self.settings.openai_api_key
        kwargs: dict[str, Any] = {
            "model": self.model,
            "api_key": key.get_secret_value() if key else DUMMY_API_KEY,
            "timeout": self.settings.llm_timeout,
            "max_retries": 0,  # we retry ourselves, and log each attempt count
        }
        if self.base_url:
            kwargs["base_url"] = self.base_url
        if self._http_client is not None:
            kwargs["http_client"] = self._http_client
        if http_async_client is not None:
            kwargs["http_async_client"] = http_async_client
        return ChatOpenAI(**kwargs)

    def chat_model(self) -> Any:
        """Return the `ChatOpenAI` instance for blocking calls (built on first use)."""
        if self._chat_model is None:
            self._chat_model = self._build(self._http_async_client)
        return self._chat_model

    def async_chat_model(self) -> Any:
        """Return the `ChatOpenAI` instance bound to the running event loop.

        An async HTTP client belongs to the loop that opened its connections, and
        langchain-openai shares one default client per base URL; each `asyncio.run` would
        then reuse connections of a closed loop. So each loop gets its own client.
        """
        if self._http_async_client is not None:
            return self.chat_model()
        loop = asyncio.get_running_loop()
        if self._async_loop is None or self._async_loop() is not loop:
            import openai

            old = self._async_model
            self._runnables = {k: v for k, v in self._runnables.items() if v[0] is not old}
            self._async_http = openai.DefaultAsyncHttpxClient()
            self._async_model = self._build(self._async_http)
            self._async_loop = weakref.ref(loop)
        return self._async_model

    async def aclose(self) -> None:
        """Close the HTTP client this loop's calls used (when the client created it)."""
        if self._async_http is not None:
            await self._async_http.aclose()
            self._async_http = None
            self._async_model = None
            self._async_loop = None

    def _call_slots(self) -> asyncio.Semaphore:
        """Return the semaphore bounding concurrent calls in the running loop."""
        loop = asyncio.get_running_loop()
        if self._slots is None or self._slots_loop is None or self._slots_loop() is not loop:
            self._slots = asyncio.Semaphore(self.max_concurrency)
            self._slots_loop = weakref.ref(loop)
        return self._slots

    def _structured_runnable(self, schema: type[BaseModel], method: str, model: Any) -> Any:
        """Return the structured runnable; it yields dicts, validated by us (raw text kept)."""
        key = (schema, method, id(model))
        runnable = self._runnables.get(key)
        if runnable is None or runnable[0] is not model:
            from langchain_core.utils.function_calling import convert_to_openai_function

            # A dict schema, not the class: with a class the openai SDK parses (and raises)
            # before we see the raw answer; we validate with pydantic ourselves.
            fn = convert_to_openai_function(schema, strict=method == "json_schema")
            spec: dict[str, Any] = {"name": fn["name"], "description": fn.get("description", "")}
            if method == "json_schema":
                spec.update(schema=fn["parameters"], strict=True)
            else:
                spec["parameters"] = fn["parameters"]
            runnable = (model, model.with_structured_output(spec, method=method, include_raw=True))
            self._runnables[key] = runnable
        return runnable[1]

    def _backoff(self, attempt: int, exc: BaseException) -> float:
        delay = min(self.backoff_cap, self.backoff_base * 2 ** (attempt - 1))
        hinted = _retry_after(exc)
        if hinted is not None:
            delay = min(self.backoff_cap, max(delay, hinted))
        return delay * (1 + random.random() * 0.1)

    def _settle(self, outcome: _Outcome, result: Any, schema: type[BaseModel] | None) -> None:
        if schema is None:
            outcome.message = result
            return
        outcome.message = result.get("raw")
        data, err = result.get("parsed"), result.get("parsing_error")
        if data is None:
            outcome.error = (
                f"invalid structured output: {describe_error(err)}"
                if err
                else "invalid structured output: no parsable answer (malformed JSON or no tool call)"
            )
            return
        try:
            outcome.parsed = schema.model_validate(data)
        except ValidationError as exc:
            outcome.error = f"invalid structured output: {describe_error(exc)}"

    def _failed(self, outcome: _Outcome, exc: BaseException) -> float | None:
        """Record a failed attempt; return the delay before retrying, or None to stop."""
        outcome.error = describe_error(exc)
        if is_transient(exc) and outcome.attempts < self.max_attempts:
            return self._backoff(outcome.attempts, exc)
        return None

    def _run_sync(
        self, runnable: Any, messages: Sequence[Message], schema: type[BaseModel] | None
    ) -> _Outcome:
        outcome = _Outcome()
        lc_messages = _to_langchain(messages)
        while True:
            outcome.attempts += 1
            try:
                result = runnable.invoke(lc_messages)
            except Exception as exc:  # noqa: BLE001 - logged, never raised
                delay = self._failed(outcome, exc)
                if delay is None:
                    return outcome
                time.sleep(delay)
                continue
            outcome.error = None
            self._settle(outcome, result, schema)
            return outcome

    async def _run_async(
        self, runnable: Any, messages: Sequence[Message], schema: type[BaseModel] | None
    ) -> _Outcome:
        outcome = _Outcome()
        lc_messages = _to_langchain(messages)
        async with self._call_slots():  # at most RELANCE_LLM_MAX_CONCURRENCY calls in flight
            outcome.started = self._clock()
            return await self._attempts_async(runnable, lc_messages, schema, outcome)

    async def _attempts_async(
        self, runnable: Any, lc_messages: Any, schema: type[BaseModel] | None, outcome: _Outcome
    ) -> _Outcome:
        while True:
            outcome.attempts += 1
            try:
                result = await runnable.ainvoke(lc_messages)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - logged, never raised
                delay = self._failed(outcome, exc)
                if delay is None:
                    return outcome
                await asyncio.sleep(delay)
                continue
            outcome.error = None
            self._settle(outcome, result, schema)
            return outcome

    # --- the log side -------------------------------------------------------------------------

    def _from_log(self, key: str, schema: type[BaseModel] | None) -> LLMCall | None:
        """Return an earlier successful call with the same request, if any."""
        stmt = (
            select(LLMCall)
            .where(col(LLMCall.cache_key) == key, col(LLMCall.error).is_(None))
            .order_by(col(LLMCall.id).desc())
            .limit(1)
        )
        with Session(self.engine) as session:
            row = session.exec(stmt).first()
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

    def tokens_used_today(self, creditor: str | None, now: datetime | None = None) -> int:
        """Return the tokens paid today (UTC) for `creditor` (calls served from the log are free)."""
        now = now or datetime.now(UTC)
        start = datetime.combine(now.date(), dtime.min, tzinfo=UTC)
        is_none = col(LLMCall.creditor).is_(None)
        who = is_none if creditor is None else col(LLMCall.creditor) == creditor
        stmt = select(func.coalesce(func.sum(LLMCall.tokens_in + LLMCall.tokens_out), 0)).where(
            who, col(LLMCall.cached).is_(False), col(LLMCall.created_at) >= start
        )
        with Session(self.engine) as session:
            return int(session.exec(stmt).one())

    def _check_budget(self, creditor: str | None) -> None:
        if self.budget <= 0:
            return
        used = self.tokens_used_today(creditor)
        if used >= self.budget:
            raise BudgetExceeded(creditor, used, self.budget)

    def _record(self, **fields: Any) -> LLMCall:
        row = LLMCall(model=self.model, base_url=self.base_url, **fields)
        with Session(self.engine, expire_on_commit=False) as session:
            session.add(row)
            session.commit()  # the id is set at flush; no refresh needed
        return row

    def mark_fallback(self, call_id: int | None, reason: str) -> None:
        """Record that the caller did not use the output of call `call_id`, and why."""
        if call_id is None:
            return
        with Session(self.engine) as session:
            row = session.get(LLMCall, call_id)
            if row is not None:
                row.fallback_used = True
                row.fallback_reason = reason[:2000]
                session.add(row)
                session.commit()

    # --- public calls ---------------------------------------------------------------------------

    def _prepare(
        self, schema: type[BaseModel] | None, messages: Sequence[Message], method: str | None
    ) -> tuple[str, dict[str, Any] | None, str]:
        chosen = (method or self.method) if schema is not None else "chat"
        schema_json = None
        if schema is not None:
            schema_json = self._schemas.get(schema)
            if schema_json is None:
                schema_json = self._schemas[schema] = schema.model_json_schema()
        return chosen, schema_json, request_key(self.model, chosen, schema_json, messages)

    def _before(
        self,
        key: str,
        schema: type[BaseModel] | None,
        use_cache: bool,
        log: dict[str, Any],
    ) -> LLMCall | None:
        """Serve from the log or check the budget; return the log row to serve, if any."""
        started = self._clock()
        if use_cache:
            hit = self._from_log(key, schema)
            if hit is not None:
                latency = int((self._clock() - started) * 1000)
                row = self._record(
                    **log, output=hit.output, parsed=hit.parsed, cached=True, latency_ms=latency
                )
                return row
        try:
            self._check_budget(log.get("creditor"))
        except BudgetExceeded as exc:
            self._record(**log, error=str(exc), fallback_used=True, fallback_reason="budget")
            raise
        return None

    def _after(self, outcome: _Outcome, started: float, log: dict[str, Any]) -> LLMCall:
        started = outcome.started if outcome.started is not None else started
        tokens_in, tokens_out = _usage(outcome.message)
        parsed = (
            outcome.parsed.model_dump(mode="json")
            if isinstance(outcome.parsed, BaseModel)
            else None
        )
        return self._record(
            **log,
            output=_raw_text(outcome.message),
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

    def _structured_result(self, schema: type[T], row: LLMCall) -> StructuredResult[T]:
        parsed = (
            schema.model_validate(row.parsed) if row.parsed is not None and not row.error else None
        )
        return StructuredResult(
            parsed=parsed,
            raw_text=row.output,
            error=row.error,
            from_cache=row.cached,
            call_id=row.id,
            tokens_in=row.tokens_in,
            tokens_out=row.tokens_out,
            latency_ms=row.latency_ms,
        )

    @staticmethod
    def _chat_result(row: LLMCall) -> ChatResult:
        return ChatResult(
            text=row.output if not row.error else None,
            error=row.error,
            from_cache=row.cached,
            call_id=row.id,
            tokens_in=row.tokens_in,
            tokens_out=row.tokens_out,
            latency_ms=row.latency_ms,
        )

    def structured(
        self,
        purpose: str,
        prompt_name: str | None,
        messages: Sequence[Message],
        schema: type[T],
        *,
        case_id: int | None = None,
        creditor: str | None = None,
        prompt_hash: str | None = None,
        method: str | None = None,
        use_cache: bool = True,
    ) -> StructuredResult[T]:
        """Ask for an answer in `schema`; raise BudgetExceeded, never a model error."""
        chosen, _, key = self._prepare(schema, messages, method)
        log = self._log_fields(
            purpose, prompt_name, prompt_hash, messages, chosen, schema, key, case_id, creditor
        )
        served = self._before(key, schema, use_cache, log)
        if served is not None:
            return self._structured_result(schema, served)
        runnable = self._structured_runnable(schema, chosen, self.chat_model())  # before the clock
        started = self._clock()
        outcome = self._run_sync(runnable, messages, schema)
        return self._structured_result(schema, self._after(outcome, started, log))

    async def astructured(
        self,
        purpose: str,
        prompt_name: str | None,
        messages: Sequence[Message],
        schema: type[T],
        *,
        case_id: int | None = None,
        creditor: str | None = None,
        prompt_hash: str | None = None,
        method: str | None = None,
        use_cache: bool = True,
    ) -> StructuredResult[T]:
        """Ask for an answer in `schema` without blocking the event loop on the network."""
        chosen, _, key = self._prepare(schema, messages, method)
        log = self._log_fields(
            purpose, prompt_name, prompt_hash, messages, chosen, schema, key, case_id, creditor
        )
        # Log reads and writes run in a worker thread: the event loop keeps serving answers.
        served = await asyncio.to_thread(self._before, key, schema, use_cache, log)
        if served is not None:
            return self._structured_result(schema, served)
        runnable = self._structured_runnable(schema, chosen, self.async_chat_model())
        started = self._clock()
        outcome = await self._run_async(runnable, messages, schema)
        row = await asyncio.to_thread(self._after, outcome, started, log)
        return self._structured_result(schema, row)

    def chat(
        self,
        purpose: str,
        prompt_name: str | None,
        messages: Sequence[Message],
        *,
        case_id: int | None = None,
        creditor: str | None = None,
        prompt_hash: str | None = None,
        use_cache: bool = True,
    ) -> ChatResult:
        """Ask for free text; raise BudgetExceeded, never a model error."""
        chosen, _, key = self._prepare(None, messages, None)
        log = self._log_fields(
            purpose, prompt_name, prompt_hash, messages, chosen, None, key, case_id, creditor
        )
        served = self._before(key, None, use_cache, log)
        if served is not None:
            return self._chat_result(served)
        model = self.chat_model()
        started = self._clock()
        outcome = self._run_sync(model, messages, None)
        return self._chat_result(self._after(outcome, started, log))

    async def achat(
        self,
        purpose: str,
        prompt_name: str | None,
        messages: Sequence[Message],
        *,
        case_id: int | None = None,
        creditor: str | None = None,
        prompt_hash: str | None = None,
        use_cache: bool = True,
    ) -> ChatResult:
        """Ask for free text without blocking the event loop on the network."""
        chosen, _, key = self._prepare(None, messages, None)
        log = self._log_fields(
            purpose, prompt_name, prompt_hash, messages, chosen, None, key, case_id, creditor
        )
        served = await asyncio.to_thread(self._before, key, None, use_cache, log)
        if served is not None:
            return self._chat_result(served)
        model = self.async_chat_model()
        started = self._clock()
        outcome = await self._run_async(model, messages, None)
        return self._chat_result(await asyncio.to_thread(self._after, outcome, started, log))


def recent_calls(engine: Engine, *, limit: int = 20, purpose: str | None = None) -> list[LLMCall]:
    """Return the latest logged calls, newest first (optionally of one purpose)."""
    stmt = select(LLMCall).order_by(col(LLMCall.id).desc()).limit(limit)
    if purpose:
        stmt = stmt.where(LLMCall.purpose == purpose)
    with Session(engine) as session:
        return list(session.exec(stmt))
