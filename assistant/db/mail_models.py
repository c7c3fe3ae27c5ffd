"""Tables of the mail loop: every inbound message (raw bytes first), mailbox sync state,
and the lease that keeps a single process sending at a time.

Registered with the other tables by `assistant.db.engine`. Nothing here talks to a server.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from assistant.db.models import utcnow

#: InboundMessage.status values.
INBOUND_STATUSES = (
    "received",  # raw stored, not parsed yet (a crash here is retried on the next fetch)
    "unanalysed",  # matched to a case, waiting for the reply analyser
    "analysed",
    "unmatched",  # no case found: officers sort it (`relance inbox unmatched`)
    "quarantined",  # could not be parsed: kept as bytes (`relance inbox quarantine`)
    "auto_reply",
    "bounce",  # a delivery-status report of a letter we sent: the address was invalidated
    "duplicate",  # same Message-ID and same text as an earlier message: kept, not applied twice
)


class InboundMessage(SQLModel, table=True):
    """One message fetched from the agency mailbox, raw bytes kept verbatim."""

    id: int | None = Field(default=None, primary_key=True)
    folder: str
    uidvalidity: int | None = None
    uid: int | None = None
    raw: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    # The same bytes are stored once, even by two fetches racing (the database refuses the
    # second insert); two different messages sharing a Message-ID are both kept.
    raw_sha256: str = Field(unique=True)
    size: int = 0
    message_id: str | None = Field(default=None, index=True)
    in_reply_to: str | None = None
    references: str | None = None
    subject: str | None = None
    from_addr: str | None = Field(default=None, index=True)
    to_addrs: str | None = None
    sent_date: datetime | None = None
    text: str | None = None
    has_html: bool = False
    attachments: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))
    is_auto_reply: bool = False
    is_bounce: bool = False
    bounced_recipients: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    case_id: int | None = Field(default=None, foreign_key="case.id", index=True)
    match_method: str | None = None  # thread | token | sender | domain | invoice | officer
    # Triage: the case the message seems to be about, and why it was not applied to it.
    suggested_case_id: int | None = Field(default=None, foreign_key="case.id")
    triage_reason: str | None = None
    status: str = Field(default="received", index=True)
    reply_text: str | None = None
    analysis: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    received_at: datetime = Field(default_factory=utcnow, index=True)
    error: str | None = None


class MailboxState(SQLModel, table=True):
    """How far a folder has been read: its UIDVALIDITY and the last UID stored."""

    __table_args__ = (UniqueConstraint("account", "folder"),)

    id: int | None = Field(default=None, primary_key=True)
    account: str = Field(default="", index=True)  # user@host, so two mailboxes never mix
    folder: str = Field(index=True)
    uidvalidity: int | None = None
    last_uid: int = 0
    updated_at: datetime = Field(default_factory=utcnow)


class SenderLease(SQLModel, table=True):
    """Who is sending right now: one sender at a time, taken over only when the holder died."""

    name: str = Field(primary_key=True)
    holder: str  # host:pid
    expires_at: datetime
    acquired_at: datetime = Field(default_factory=utcnow)
