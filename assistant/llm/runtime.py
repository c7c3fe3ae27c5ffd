"""The LangChain side of `LLMClient`: building `ChatOpenAI`, attempt loops, error triage.

The only module with `langchain_openai`/`openai`/`httpx` imports, all made on first use
(≈1 s), never at import time. Knows nothing of logs, budgets or databases.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from assistant.config import Settings
from assistant.llm.records import Message

DUMMY_API_KEY = "not-needed"  # local servers (Ollama, vLLM, llama.cpp) ignore the key
RETRYABLE_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})


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


def to_langchain(messages: Sequence[Message]) -> list[tuple[str, str]]:
    """Convert role/content dicts to LangChain message tuples."""
    roles = {"system": "system", "user": "human", "human": "human", "assistant": "ai", "ai": "ai"}
    return [(roles.get(m["role"], "human"), m["content"]) for m in messages]


def usage(message: Any) -> tuple[int, int]:
    """Return the input and output tokens an answer reports."""
    meta = getattr(message, "usage_metadata", None) or {}
    return int(meta.get("input_tokens") or 0), int(meta.get("output_tokens") or 0)


def content_text(message: Any) -> str:
    """Return the text content of an answer (parts joined), stripped."""
    if message is None:
        return ""
    content = message.content
    if isinstance(content, list):
        content = "".join(c if isinstance(c, str) else str(c.get("text", "")) for c in content)
    return str(content or "").strip()


def raw_text(message: Any) -> str | None:
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


def read_tool_answer(
    outcome: Outcome,
) -> tuple[str, list[dict[str, Any]], str | None, tuple[int, int]]:
    """Return the text, tool calls, error and tokens of a tool-calling answer."""
    answer = outcome.message
    calls = [
        {"id": c.get("id") or f"call_{i}", "name": c["name"], "args": c.get("args") or {}}
        for i, c in enumerate(getattr(answer, "tool_calls", None) or [])
    ]
    bad = getattr(answer, "invalid_tool_calls", None) or []
    error = outcome.error or (f"invalid tool call(s): {bad}" if bad and not calls else None)
    return content_text(answer), calls, error, usage(answer)


@dataclass
class Outcome:
    """What one attempt loop produced (before it is logged)."""

    message: Any = None  # the AIMessage, when an answer arrived
    parsed: Any = None
    error: str | None = None
    attempts: int = 0
    started: float | None = None  # when the first attempt began (after any queueing)


class LangChainRuntime:
    """Build `ChatOpenAI` models and run calls with bounded retries."""

    def __init__(
        self,
        settings: Settings,
        *,
        http_client: Any = None,
        http_async_client: Any = None,
        max_attempts: int = 3,
        backoff_base: float = 0.5,
        backoff_cap: float = 8.0,
        clock: Callable[[], float] = time.perf_counter,
    ):
        self.settings = settings
        self.max_attempts = max(1, max_attempts)
        self.max_concurrency = max(1, settings.llm_max_concurrency)
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.clock = clock
        self._http_client = http_client
        self._http_async_client = http_async_client
        self._chat_model: Any = None
        self._async_model: Any = None
        self._async_http: Any = None
        self._async_loop: weakref.ReferenceType[asyncio.AbstractEventLoop] | None = None
        self._runnables: dict[tuple[type[BaseModel], str, int], tuple[Any, Any]] = {}
        self._slots: asyncio.Semaphore | None = None
        self._slots_loop: weakref.ReferenceType[asyncio.AbstractEventLoop] | None = None

    def _build(self, http_async_client: Any = None) -> Any:
        from langchain_openai import ChatOpenAI

        key = self.settings.openai_api_key
        kwargs: dict[str, Any] = {
            "model": self.settings.llm_model,
            "api_key": key.get_secret_value() if key else DUMMY_API_KEY,
            "timeout": self.settings.llm_timeout,
            "max_retries": 0,  # we retry ourselves, and log each attempt count
        }
        if self.settings.openai_base_url:
            kwargs["base_url"] = self.settings.openai_base_url
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
        """Close the HTTP client this loop's calls used (when the runtime created it)."""
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

    def structured_runnable(self, schema: type[BaseModel], method: str, model: Any) -> Any:
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

    def backoff(self, attempt: int, exc: BaseException) -> float:
        """Return the delay before attempt `attempt + 1` (exponential, capped, Retry-After)."""
        delay = min(self.backoff_cap, self.backoff_base * 2 ** (attempt - 1))
        hinted = _retry_after(exc)
        if hinted is not None:
            delay = min(self.backoff_cap, max(delay, hinted))
        return delay * (1 + random.random() * 0.1)

    @staticmethod
    def _settle(outcome: Outcome, result: Any, schema: type[BaseModel] | None) -> None:
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

    def _failed(self, outcome: Outcome, exc: BaseException) -> float | None:
        """Record a failed attempt; return the delay before retrying, or None to stop."""
        outcome.error = describe_error(exc)
        if is_transient(exc) and outcome.attempts < self.max_attempts:
            return self.backoff(outcome.attempts, exc)
        return None

    def run_sync(
        self, runnable: Any, messages: Any, schema: type[BaseModel] | None = None
    ) -> Outcome:
        """Invoke `runnable` (LangChain messages or tuples), retrying transient failures."""
        outcome = Outcome()
        while True:
            outcome.attempts += 1
            try:
                result = runnable.invoke(messages)
            except Exception as exc:  # noqa: BLE001 - logged, never raised
                delay = self._failed(outcome, exc)
                if delay is None:
                    return outcome
                time.sleep(delay)
                continue
            outcome.error = None
            self._settle(outcome, result, schema)
            return outcome

    async def run_async(
        self, runnable: Any, messages: Any, schema: type[BaseModel] | None = None
    ) -> Outcome:
        """Await `runnable` within the concurrency bound, retrying transient failures."""
        outcome = Outcome()
        async with self._call_slots():  # at most RELANCE_LLM_MAX_CONCURRENCY calls in flight
            outcome.started = self.clock()
            while True:
                outcome.attempts += 1
                try:
                    result = await runnable.ainvoke(messages)
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
