"""Replies waiting for an officer's reading, and the readings officers gave (labelled examples)."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Field, SQLModel

import assistant.db.mail_models  # noqa: F401  (the inbound table the reviews point at)
from assistant.db.models import utcnow


class ReplyReview(SQLModel, table=True):
    """One reply in the officer's triage queue; once reviewed, a labelled example.

    `status` is `pending` until an officer confirms (`confirmed`) or corrects (`corrected`) the
    suggested reading; reviewed rows are what `relance replies train --with-corrections` reads.
    """

    __tablename__ = "reply_review"

    id: int | None = Field(default=None, primary_key=True)
    inbound_id: int = Field(foreign_key="inboundmessage.id", index=True, unique=True)
    case_id: int | None = Field(default=None, foreign_key="case.id", index=True)
    status: str = Field(default="pending", index=True)  # pending | confirmed | corrected
    handed_off: bool = False  # a possibly sensitive reply was handed off at once
    text: str  # the reply text the reading is about (quoted history removed)
    language: str | None = None
    suggested_intent: str
    confidence: float = 0.0
    intent: str | None = None  # the officer's reading
    promise_amount: str | None = None  # decimal as text, e.g. "1250.00"
    promise_currency: str | None = None
    promise_date: date | None = None
    officer: str | None = None
    created_at: datetime = Field(default_factory=utcnow, index=True)
    reviewed_at: datetime | None = None
