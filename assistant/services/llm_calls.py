"""Persist the model port's call records: the `CallLog` a service gives the port.

`SessionCallLog` writes `LLMCall` rows in the caller's session (flushed, never committed), so
a model call made inside a transaction — the inbox reading a reply on SQLite — never waits on
a second connection for the writer lock. `EngineCallLog` opens one short session per write,
for the calls made outside any transaction (`relance llm check`, the cycle's batch drafting).
"""

from __future__ import annotations

from dataclasses import asdict, fields
from datetime import UTC, datetime
from datetime import time as dtime

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from assistant.db.llm_models import LLMCall
from assistant.llm.records import CallRecord

_RECORD_FIELDS = tuple(f.name for f in fields(CallRecord))


def record_of(row: LLMCall) -> CallRecord:
    """Return the call record a log row holds."""
    return CallRecord(**{name: getattr(row, name) for name in _RECORD_FIELDS})


def _cached(session: Session, cache_key: str) -> CallRecord | None:
    row = session.exec(
        select(LLMCall)
        .where(col(LLMCall.cache_key) == cache_key, col(LLMCall.error).is_(None))
        .order_by(col(LLMCall.id).desc())
        .limit(1)
    ).first()
    return None if row is None else record_of(row)


def _tokens_today(session: Session, creditor: str | None, now: datetime | None = None) -> int:
    now = now or datetime.now(UTC)
    start = datetime.combine(now.date(), dtime.min, tzinfo=UTC)
    who = col(LLMCall.creditor).is_(None) if creditor is None else col(LLMCall.creditor) == creditor
    stmt = select(func.coalesce(func.sum(LLMCall.tokens_in + LLMCall.tokens_out), 0)).where(
        who, col(LLMCall.cached).is_(False), col(LLMCall.created_at) >= start
    )
    return int(session.exec(stmt).one())


def _write(session: Session, record: CallRecord) -> int | None:
    row = LLMCall(**asdict(record))
    session.add(row)
    session.flush()
    return row.id


def _mark(session: Session, call_id: int, reason: str) -> None:
    row = session.get(LLMCall, call_id)
    if row is not None:
        row.fallback_used = True
        row.fallback_reason = reason[:2000]
        session.add(row)
        session.flush()


class SessionCallLog:
    """Write call records in the caller's session (the caller commits or rolls back)."""

    threadsafe = False  # a session is used by one thread at a time

    def __init__(self, session: Session):
        self.session = session

    def cached(self, cache_key: str) -> CallRecord | None:
        """Return the latest successful call with this key, if any."""
        return _cached(self.session, cache_key)

    def tokens_used_today(self, creditor: str | None) -> int:
        """Return the tokens paid today (UTC) for `creditor`."""
        return _tokens_today(self.session, creditor)

    def write(self, record: CallRecord) -> int | None:
        """Add `record` to the session; return its id."""
        return _write(self.session, record)

    def mark_fallback(self, call_id: int | None, reason: str) -> None:
        """Mark call `call_id` as not used, and why."""
        if call_id is not None:
            _mark(self.session, call_id, reason)


class EngineCallLog:
    """Write each call record in its own short transaction (calls made outside one)."""

    threadsafe = True

    def __init__(self, engine: Engine):
        self.engine = engine

    def cached(self, cache_key: str) -> CallRecord | None:
        """Return the latest successful call with this key, if any."""
        with Session(self.engine) as session:
            return _cached(session, cache_key)

    def tokens_used_today(self, creditor: str | None) -> int:
        """Return the tokens paid today (UTC) for `creditor`."""
        with Session(self.engine) as session:
            return _tokens_today(session, creditor)

    def write(self, record: CallRecord) -> int | None:
        """Store `record` and commit; return its id."""
        with Session(self.engine) as session:
            call_id = _write(session, record)
            session.commit()
        return call_id

    def mark_fallback(self, call_id: int | None, reason: str) -> None:
        """Mark call `call_id` as not used, and why."""
        if call_id is None:
            return
        with Session(self.engine) as session:
            _mark(session, call_id, reason)
            session.commit()


def recent_calls(engine: Engine, *, limit: int = 20, purpose: str | None = None) -> list[LLMCall]:
    """Return the latest logged calls, newest first (optionally of one purpose)."""
    stmt = select(LLMCall).order_by(col(LLMCall.id).desc()).limit(limit)
    if purpose:
        stmt = stmt.where(LLMCall.purpose == purpose)
    with Session(engine) as session:
        return list(session.exec(stmt))
