"""Officers' readings of debtor replies, kept as labelled examples for retraining."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Field, SQLModel

import assistant.db.mail_models  # noqa: F401  (the inbound table the labels point at)
from assistant.db.models import utcnow


class ReplyLabel(SQLModel, table=True):
    """An officer's confirmed or corrected reading of one reply (a labelled example)."""

    __tablename__ = "reply_label"

    id: int | None = Field(default=None, primary_key=True)
    inbound_id: int = Field(foreign_key="inboundmessage.id", index=True)
    case_id: int | None = Field(default=None, foreign_key="case.id", index=True)
    text: str  # the reply text the reading is about (quoted history removed)
    language: str | None = None
    suggested_intent: str
    intent: str
    promise_amount: str | None = None  # decimal as text, e.g. "1250.00"
    promise_currency: str | None = None
    promise_date: date | None = None
    corrected: bool = False
    officer: str
    created_at: datetime = Field(default_factory=utcnow, index=True)
