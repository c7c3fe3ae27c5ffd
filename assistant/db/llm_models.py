"""The model-call log: one `LLMCall` row per request made (or served from the log).

Written only by the call logs of `assistant.services.llm_calls`, from the call records the model
port produces; read by `relance llm log`, the daily token budget and the request cache.
Nothing here talks to a model.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Text
from sqlmodel import Field, SQLModel

from assistant.db.models import utcnow


class LLMCall(SQLModel, table=True):
    """One model call: what was asked, what came back, what it cost, what it was used for."""

    __tablename__ = "llm_call"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    # No foreign key on purpose: the log outlives cases (and may be written outside their session).
    case_id: int | None = Field(default=None, index=True)
    creditor: str | None = Field(default=None, index=True)  # creditor slug (budget bucket)
    purpose: str = Field(index=True)  # reply_analysis | draft_letter | check | chat…
    prompt_name: str | None = None
    prompt_hash: str | None = None  # sha256 of the prompt file (its version)
    model: str
    base_url: str | None = None
    method: str = "chat"  # chat | json_schema | function_calling
    schema_name: str | None = None
    cache_key: str = Field(index=True)  # sha256(model, method, schema, messages)
    messages: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))
    output: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    parsed: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    tokens_in: int = 0
    tokens_out: int = 0
    latency_ms: int = 0
    attempts: int = 0
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    cached: bool = False  # served from an earlier identical call: nothing was paid
    fallback_used: bool = Field(default=False, index=True)  # the caller did not use the output
    fallback_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))

    @property
    def tokens(self) -> int:
        """Return the tokens paid for this call (0 when served from the log)."""
        return 0 if self.cached else self.tokens_in + self.tokens_out
