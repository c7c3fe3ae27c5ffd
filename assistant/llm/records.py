"""The values the model port takes and returns: call records, results, errors, the call log.

Plain data, no I/O. A `CallRecord` is what one model call was (prompt, output, tokens,
latency, fallback); the port hands it to a `CallLog` given by the calling service, which
stores it in its own session (`assistant.services.llm_calls`) — the port owns no database
connection. The log also answers the two reads the port needs: an earlier identical answer
(the request cache) and the tokens spent today (the budget).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from pydantic import BaseModel

T = TypeVar("T", bound=BaseModel)
Message = dict[str, Any]


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
class CallRecord:
    """One model call as the log keeps it (the `LLMCall` row without id and timestamp)."""

    purpose: str
    model: str
    cache_key: str
    method: str = "chat"
    base_url: str | None = None
    prompt_name: str | None = None
    prompt_hash: str | None = None
    schema_name: str | None = None
    messages: list[dict[str, Any]] = field(default_factory=list)
    output: str | None = None
    parsed: dict[str, Any] | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    latency_ms: int = 0
    attempts: int = 0
    error: str | None = None
    cached: bool = False
    fallback_used: bool = False
    fallback_reason: str | None = None
    case_id: int | None = None
    creditor: str | None = None


class CallLog(Protocol):
    """Where the port writes its call records and reads the cache and the budget."""

    def cached(self, cache_key: str) -> CallRecord | None:
        """Return the latest successful call with this key, if any."""
        ...

    def tokens_used_today(self, creditor: str | None) -> int:
        """Return the tokens paid today (UTC) for `creditor`."""
        ...

    def write(self, record: CallRecord) -> int | None:
        """Store one call record; return its id."""
        ...

    def mark_fallback(self, call_id: int | None, reason: str) -> None:
        """Record that the caller did not use the output of call `call_id`, and why."""
        ...


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


@dataclass(frozen=True)
class ToolTurn:
    """What the model answered with tools bound: text and/or tool calls, or an error."""

    content: str
    tool_calls: list[dict[str, Any]]  # {"id", "name", "args"}
    error: str | None = None
    call_id: int | None = None


def request_key(
    model: str, method: str, schema: dict[str, Any] | None, messages: Sequence[Message]
) -> str:
    """Return the cache key of a request: sha256 of model, method, schema and messages."""
    blob = json.dumps(
        {"model": model, "method": method, "schema": schema, "messages": list(messages)},
        sort_keys=True,
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(blob.encode()).hexdigest()


def structured_result(
    schema: type[T], record: CallRecord, call_id: int | None
) -> StructuredResult[T]:
    """Return what a structured call gives its caller, from its record."""
    parsed = None
    if record.parsed is not None and not record.error:
        parsed = schema.model_validate(record.parsed)
    return StructuredResult(
        parsed=parsed,
        raw_text=record.output,
        error=record.error,
        from_cache=record.cached,
        call_id=call_id,
        tokens_in=record.tokens_in,
        tokens_out=record.tokens_out,
        latency_ms=record.latency_ms,
    )


def chat_result(record: CallRecord, call_id: int | None) -> ChatResult:
    """Return what a free-text call gives its caller, from its record."""
    return ChatResult(
        text=record.output if not record.error else None,
        error=record.error,
        from_cache=record.cached,
        call_id=call_id,
        tokens_in=record.tokens_in,
        tokens_out=record.tokens_out,
        latency_ms=record.latency_ms,
    )
