"""Database adapter: build an engine, create tables, open sessions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, create_engine

from assistant.db import (  # noqa: F401  (registers the tables)
    document_models,
    llm_models,
    mail_models,
    models,
    officer_models,
    reply_models,
    user_models,
)


def metadata() -> MetaData:
    """Return the metadata of every Relance table (what the migrations must produce)."""
    return SQLModel.metadata


def make_engine(url: str) -> Engine:
    """Create an engine for `url`; SQLite gets WAL and foreign keys."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            if ":memory:" not in url:
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def create_schema(engine: Engine) -> None:
    """Create every table of the current models at once and mark it as migrated to head.

    Fast path for tests and throw-away databases; real databases go through
    `assistant.db.migrations.upgrade` (`relance db upgrade`).
    """
    from assistant.db.migrations import stamp_head

    SQLModel.metadata.create_all(engine)
    stamp_head(engine)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """Open a session that commits on success and rolls back on error."""
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
