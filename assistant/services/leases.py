"""Named leases: one holder at a time for a job ('cycle:<creditor>:<date>', 'send', 'fetch:…').

    with hold_lease(engine, "cycle:atelier-bois:2026-11-26", timedelta(minutes=10)) as held:
        ...  # raises LeaseBusy(holder) when another live process holds it

PostgreSQL: a session-level advisory lock on a connection kept open while the lease is held;
the server drops it the moment the holder's connection dies (kill -9 included). A lease row
(`SenderLease`, name → holder host:pid) is written alongside, only to say who holds it.
SQLite: the lease row itself, with an expiry pushed forward by a keep-alive thread; taken over
once it expired or its holder (same host) is dead.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, text, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, col

from assistant.db.mail_models import SenderLease
from assistant.db.models import utcnow
from assistant.mail.window import aware

POLL_SECONDS = 0.2  # between two tries while waiting for a busy lease


class LeaseBusy(Exception):
    """Another live process holds the lease."""

    def __init__(self, name: str, holder: str, until: datetime | None = None):
        self.name, self.holder, self.until = name, holder, until
        when = f" (lease until {aware(until):%H:%M:%S} UTC)" if until else ""
        super().__init__(f"{name} is held by {holder}{when}")


def lease_holder() -> str:
    """Return this process's holder name: host:pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


def holder_dead(holder: str) -> bool:
    """Return True when `holder` (host:pid) is a process of this host that no longer exists."""
    host, _, pid = holder.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


# The advisory-lock key of a lease: its name hashed with the current schema, so that two
# databases kept as schemas of one PostgreSQL server (tenants, test runs) never block each other.
_KEY = "hashtextextended(current_schema() || '/' || :k, 0)"


def is_postgres(engine: Engine) -> bool:
    """Return True on PostgreSQL (advisory locks, SKIP LOCKED)."""
    return engine.dialect.name == "postgresql"


@dataclass
class Lease:
    """A held lease; `renew()` pushes its expiry (the keep-alive thread does it too)."""

    engine: Engine
    name: str
    holder: str
    ttl: timedelta
    _conn: Connection | None = None  # PostgreSQL: the connection holding the advisory lock
    _stop: threading.Event = field(default_factory=threading.Event)
    _noted: bool = True  # a lease row says who holds it

    def renew(self) -> None:
        """Push the expiry of the lease row forward."""
        with Session(self.engine) as session:
            session.execute(
                update(SenderLease)
                .where(col(SenderLease.name) == self.name, col(SenderLease.holder) == self.holder)
                .values(expires_at=utcnow() + self.ttl)
            )
            session.commit()

    def _keep_alive(self) -> None:
        while not self._stop.wait(self.ttl.total_seconds() / 3):
            try:
                self.renew()
            except OperationalError:  # the database is busy: try again next period
                continue


def _try_row(engine: Engine, name: str, holder: str, ttl: timedelta) -> LeaseBusy | None:
    """Take the lease row (SQLite); return LeaseBusy when a live holder has it."""
    wall = utcnow()
    with Session(engine) as session:
        row = session.get(SenderLease, name)
        if row is None:
            session.add(SenderLease(name=name, holder=holder, expires_at=wall + ttl))
            try:
                session.commit()
                return None
            except IntegrityError:
                session.rollback()
                return LeaseBusy(name, "another process (took it just now)")
        if row.holder != holder and aware(row.expires_at) > wall and not holder_dead(row.holder):
            return LeaseBusy(name, row.holder, row.expires_at)
        taken = session.execute(
            update(SenderLease)
            .where(col(SenderLease.name) == name, col(SenderLease.holder) == row.holder)
            .values(holder=holder, expires_at=wall + ttl, acquired_at=wall)
        )
        session.commit()
        if taken.rowcount == 1:  # type: ignore[attr-defined]
            return None
        return LeaseBusy(name, "another process (took it just now)")


def _try_advisory(
    engine: Engine, name: str, holder: str, ttl: timedelta, note: bool
) -> Connection | LeaseBusy:
    """Take the advisory lock (PostgreSQL) and, with `note`, write who holds it."""
    conn = engine.connect()
    try:
        got = conn.execute(text(f"SELECT pg_try_advisory_lock({_KEY})"), {"k": name})
        if not got.scalar():
            conn.rollback()
            conn.close()
            row = _row(engine, name)
            return LeaseBusy(name, row.holder if row else "another process")
        if not note:
            conn.commit()
            return conn
        conn.execute(delete(SenderLease).where(col(SenderLease.name) == name))
        conn.execute(
            SenderLease.__table__.insert().values(  # type: ignore[attr-defined]
                name=name, holder=holder, expires_at=utcnow() + ttl, acquired_at=utcnow()
            )
        )
        conn.commit()
    except BaseException:
        conn.close()
        raise
    return conn


def _row(engine: Engine, name: str) -> SenderLease | None:
    with Session(engine) as session:
        return session.get(SenderLease, name)


def acquire(
    engine: Engine, name: str, ttl: timedelta, *, holder: str | None = None, note: bool = True
) -> Lease:
    """Take the lease `name` now, or raise LeaseBusy; pair with `release`.

    `note=False` (PostgreSQL only) skips the row saying who holds it: for short, frequent
    locks such as one draft in flight.
    """
    holder = holder or lease_holder()
    if is_postgres(engine):
        got = _try_advisory(engine, name, holder, ttl, note)
        if isinstance(got, LeaseBusy):
            raise got
        return Lease(engine, name, holder, ttl, _conn=got, _noted=note)
    busy = _try_row(engine, name, holder, ttl)
    if busy is not None:
        raise busy
    lease = Lease(engine, name, holder, ttl)
    threading.Thread(target=lease._keep_alive, name=f"lease {name}", daemon=True).start()
    return lease


def release(lease: Lease) -> None:
    """Give the lease back (its row, and on PostgreSQL the advisory lock)."""
    lease._stop.set()
    try:
        if not lease._noted:
            return
        with Session(lease.engine) as session:
            session.execute(
                delete(SenderLease).where(
                    col(SenderLease.name) == lease.name, col(SenderLease.holder) == lease.holder
                )
            )
            session.commit()
    finally:
        if lease._conn is not None:
            conn, lease._conn = lease._conn, None
            try:
                conn.execute(text(f"SELECT pg_advisory_unlock({_KEY})"), {"k": lease.name})
                conn.commit()
            finally:
                conn.close()


@contextmanager
def hold_lease(
    engine: Engine, name: str, ttl: timedelta, *, wait: float = 0.0, holder: str | None = None
) -> Iterator[Lease]:
    """Hold the lease `name` for the block; wait up to `wait` seconds, then raise LeaseBusy."""
    deadline = time.monotonic() + wait
    while True:
        try:
            lease = acquire(engine, name, ttl, holder=holder)
            break
        except LeaseBusy:
            if time.monotonic() >= deadline:
                raise
            time.sleep(POLL_SECONDS)
    try:
        yield lease
    finally:
        release(lease)


def lock_free(engine: Engine, name: str) -> bool:
    """Return True when nobody holds the advisory lock `name` (PostgreSQL only)."""
    with engine.connect() as conn:
        if not conn.execute(text(f"SELECT pg_try_advisory_lock({_KEY})"), {"k": name}).scalar():
            return False
        conn.execute(text(f"SELECT pg_advisory_unlock({_KEY})"), {"k": name})
        return True
