"""The model port: the few calls drafting, the reply engine and the chat make of a model.

`LLMClient` (LangChain over any OpenAI-compatible endpoint) and `FakeChatModel` (queued
replies, for tests) both implement it. A port never opens a database session: `using(log)`
returns the same model writing its call records to the caller's `CallLog`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel

from assistant.llm.records import CallLog, ChatResult, Message, StructuredResult, ToolTurn

T = TypeVar("T", bound=BaseModel)


class ChatModelPort(Protocol):
    """Ask a chat model for structured output, free text or tool calls; log every call."""

    model: str
    max_concurrency: int

    def using(self, log: CallLog) -> ChatModelPort:
        """Return this model writing its call records to `log`."""
        ...

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
        ...

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
        """Ask for an answer in `schema` without blocking the event loop."""
        ...

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
        ...

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
        """Ask with OpenAI function tools bound; a spent budget or a failure is in `error`."""
        ...

    def mark_fallback(self, call_id: int | None, reason: str) -> None:
        """Record that the caller did not use the output of call `call_id`, and why."""
        ...

    async def aclose(self) -> None:
        """Release what async calls opened (HTTP connections)."""
        ...
