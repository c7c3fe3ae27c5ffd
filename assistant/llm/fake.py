"""A fake model with queued replies, and a call log kept in memory: for tests and dry runs.

`FakeChatModel` is a real `ChatModelPort`: it logs a `CallRecord` per call to its log, honours
the daily budget and the request cache like `LLMClient`, and answers from a queue filled with
`enqueue()` (a pydantic model or dict for structured calls, a string for free text, a
`ToolTurn` or a list of tool calls for the chat, an exception to simulate a failed call).
An empty queue is a failed call, never a made-up answer.
"""

from __future__ import annotations

import copy
import json
from collections import deque
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from assistant.llm.records import (
    BudgetExceeded,
    CallLog,
    CallRecord,
    ChatResult,
    Message,
    StructuredResult,
    ToolTurn,
    request_key,
)

T = TypeVar("T", bound=BaseModel)


class MemoryCallLog:
    """A `CallLog` in a list (ids are positions + 1); budgets count every uncached call."""

    def __init__(self) -> None:
        self.records: list[CallRecord] = []

    def cached(self, cache_key: str) -> CallRecord | None:
        """Return the latest successful call with this key, if any."""
        for row in reversed(self.records):
            if row.cache_key == cache_key and row.error is None:
                return row
        return None

    def tokens_used_today(self, creditor: str | None) -> int:
        """Return the tokens paid for `creditor` (the log holds one day)."""
        return sum(
            r.tokens_in + r.tokens_out
            for r in self.records
            if r.creditor == creditor and not r.cached
        )

    def write(self, record: CallRecord) -> int | None:
        """Keep `record`; return its id."""
        self.records.append(record)
        return len(self.records)

    def mark_fallback(self, call_id: int | None, reason: str) -> None:
        """Mark call `call_id` as not used."""
        if call_id is not None and 0 < call_id <= len(self.records):
            row = self.records[call_id - 1]
            self.records[call_id - 1] = replace(row, fallback_used=True, fallback_reason=reason)


class FakeChatModel:
    """A `ChatModelPort` answering from a queue; every call is logged like the real one."""

    def __init__(
        self,
        *,
        model: str = "fake-model",
        log: CallLog | None = None,
        budget: int = 0,
        tokens_per_call: tuple[int, int] = (10, 5),
    ):
        self.model = model
        self.max_concurrency = 4
        self.log: CallLog = log if log is not None else MemoryCallLog()
        self.budget = budget
        self.tokens_per_call = tokens_per_call
        self.queue: deque[Any] = deque()
        self.prompts: list[list[Message]] = []  # what each call asked, in order

    def enqueue(self, *replies: Any) -> FakeChatModel:
        """Queue the next replies, in order."""
        self.queue.extend(replies)
        return self

    def using(self, log: CallLog) -> FakeChatModel:
        """Return this model (same queue) writing to `log`."""
        bound = copy.copy(self)
        bound.log = log
        return bound

    def mark_fallback(self, call_id: int | None, reason: str) -> None:
        """Record that the caller did not use call `call_id`'s output."""
        if call_id is not None:
            self.log.mark_fallback(call_id, reason)

    async def aclose(self) -> None:
        """Nothing to release."""

    def _budget(self, creditor: str | None, base: dict[str, Any]) -> None:
        if self.budget > 0:
            used = self.log.tokens_used_today(creditor)
            if used >= self.budget:
                exc = BudgetExceeded(creditor, used, self.budget)
                self.log.write(
                    CallRecord(**base, error=str(exc), fallback_used=True, fallback_reason="budget")
                )
                raise exc

    def _next(self, base: dict[str, Any]) -> tuple[Any, CallRecord]:
        """Pop the next reply; return it and the record of a (failed or good) call."""
        tokens_in, tokens_out = self.tokens_per_call
        done = {**base, "tokens_in": tokens_in, "tokens_out": tokens_out, "attempts": 1}
        if not self.queue:
            return None, CallRecord(**done, error="FakeChatModel: no reply queued")
        reply = self.queue.popleft()
        if isinstance(reply, BaseException):
            return None, CallRecord(**done, error=f"{type(reply).__name__}: {reply}")
        return reply, CallRecord(**done)

    def _base(
        self, purpose: str, prompt_name: str | None, messages: Sequence[Message], method: str,
        schema: dict[str, Any] | None, **meta: Any,
    ) -> dict[str, Any]:  # fmt: skip
        self.prompts.append([dict(m) for m in messages])
        return {
            "purpose": purpose,
            "model": self.model,
            "prompt_name": prompt_name,
            "method": method,
            "messages": [dict(m) for m in messages],
            "cache_key": request_key(self.model, method, schema, messages),
            **meta,
        }

    def structured(
        self, purpose: str, prompt_name: str | None, messages: Sequence[Message],
        schema: type[T], *, case_id: int | None = None, creditor: str | None = None,
        prompt_hash: str | None = None, method: str | None = None, use_cache: bool = True,
    ) -> StructuredResult[T]:  # fmt: skip
        """Answer with the next queued reply, validated against `schema`."""
        base = self._base(
            purpose, prompt_name, messages, method or "json_schema",
            schema.model_json_schema(), schema_name=schema.__name__, case_id=case_id,
            creditor=creditor, prompt_hash=prompt_hash,
        )  # fmt: skip
        hit = self.log.cached(base["cache_key"]) if use_cache else None
        if hit is not None and hit.parsed is not None:
            call_id = self.log.write(
                CallRecord(**base, output=hit.output, parsed=hit.parsed, cached=True)
            )
            return StructuredResult(
                schema.model_validate(hit.parsed), hit.output, None, True, call_id
            )
        self._budget(creditor, base)
        reply, record = self._next(base)
        parsed: T | None = None
        if reply is not None:
            data = reply.model_dump(mode="json") if isinstance(reply, BaseModel) else reply
            raw = json.dumps(data, ensure_ascii=False) if not isinstance(data, str) else data
            try:
                parsed = schema.model_validate(json.loads(raw))
                record = replace(record, output=raw, parsed=parsed.model_dump(mode="json"))
            except (ValidationError, ValueError) as exc:
                record = replace(record, output=raw, error=f"invalid structured output: {exc}")
        call_id = self.log.write(record)
        return StructuredResult(
            parsed, record.output, record.error, False, call_id,
            record.tokens_in, record.tokens_out,
        )  # fmt: skip

    async def astructured(self, *args: Any, **kwargs: Any) -> StructuredResult[Any]:
        """Async `structured`."""
        return self.structured(*args, **kwargs)

    def chat(
        self, purpose: str, prompt_name: str | None, messages: Sequence[Message], *,
        case_id: int | None = None, creditor: str | None = None,
        prompt_hash: str | None = None, use_cache: bool = True,
    ) -> ChatResult:  # fmt: skip
        """Answer with the next queued text."""
        base = self._base(
            purpose, prompt_name, messages, "chat", None, case_id=case_id, creditor=creditor,
            prompt_hash=prompt_hash,
        )  # fmt: skip
        hit = self.log.cached(base["cache_key"]) if use_cache else None
        if hit is not None and hit.output is not None:
            call_id = self.log.write(CallRecord(**base, output=hit.output, cached=True))
            return ChatResult(hit.output, None, True, call_id)
        self._budget(creditor, base)
        reply, record = self._next(base)
        if reply is not None:
            record = replace(record, output=str(reply))
        call_id = self.log.write(record)
        text = None if record.error else record.output
        return ChatResult(text, record.error, False, call_id, record.tokens_in, record.tokens_out)

    async def achat(self, *args: Any, **kwargs: Any) -> ChatResult:
        """Async `chat`."""
        return self.chat(*args, **kwargs)

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
        """Answer with the next queued turn: a ToolTurn, a list of tool calls, or text."""
        base = self._base(
            purpose, prompt_name, messages, "tools", {"tools": tools}, creditor=creditor,
            prompt_hash=prompt_hash,
        )  # fmt: skip
        try:
            self._budget(creditor, base)
        except BudgetExceeded as exc:
            return ToolTurn("", [], error=str(exc))
        reply, record = self._next(base)
        if isinstance(reply, list):
            reply = ToolTurn("", [
                {"id": c.get("id") or f"call_{i}", "name": c["name"], "args": c.get("args") or {}}
                for i, c in enumerate(reply)
            ])  # fmt: skip
        elif isinstance(reply, str):
            reply = ToolTurn(reply, [])
        turn: ToolTurn = reply if isinstance(reply, ToolTurn) else ToolTurn("", [], record.error)
        output = (
            json.dumps({"content": turn.content, "tool_calls": turn.tool_calls}, ensure_ascii=False)
            if turn.tool_calls
            else turn.content
        )
        call_id = self.log.write(replace(record, output=output))
        return replace(turn, call_id=call_id)
