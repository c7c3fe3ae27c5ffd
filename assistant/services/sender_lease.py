"""One sender at a time: a lease row, taken over only when it expired or its holder died.

Without it, two `relance send` (or a worker and a CLI run) could each take a draft in
`sending` for a crashed one and resolve it while the other is still talking to the server.
"""

from __future__ import annotations

import os
import socket
from datetime import timedelta

from sqlalchemy import delete, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from assistant.db.engine import session_scope
from assistant.db.mail_models import SenderLease
from assistant.db.models import utcnow
from assistant.mail.window import aware

LEASE_NAME = "outbox"


def lease_holder() -> str:
    """Return this process's lease name: host:pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _holder_dead(holder: str) -> bool:
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


def acquire_lease(engine: Engine, holder: str, ttl: timedelta) -> str | None:
    """Take the outbox lease for `holder`; return None, or who holds it until when."""
    wall = utcnow()
    with Session(engine) as session:
        row = session.get(SenderLease, LEASE_NAME)
        if row is None:
            session.add(SenderLease(name=LEASE_NAME, holder=holder, expires_at=wall + ttl))
            try:
                session.commit()
                return None
            except IntegrityError:
                session.rollback()
                return "another sender took the lease just now"
        if row.holder != holder and aware(row.expires_at) > wall and not _holder_dead(row.holder):
            return f"{row.holder} is sending (lease until {aware(row.expires_at):%H:%M:%S} UTC)"
        taken = session.execute(
            update(SenderLease)
            .where(col(SenderLease.name) == LEASE_NAME, col(SenderLease.holder) == row.holder)
            .values(holder=holder, expires_at=wall + ttl, acquired_at=wall)
        )
        session.commit()
        return None if taken.rowcount == 1 else "another sender took the lease just now"  # type: ignore[attr-defined]


def renew_lease(engine: Engine, holder: str, ttl: timedelta) -> None:
    """Push the lease expiry of `holder` forward."""
    with session_scope(engine) as session:
        session.execute(
            update(SenderLease)
            .where(col(SenderLease.name) == LEASE_NAME, col(SenderLease.holder) == holder)
            .values(expires_at=utcnow() + ttl)
        )


def release_lease(engine: Engine, holder: str) -> None:
    """Give the lease back."""
    with session_scope(engine) as session:
        session.execute(
            delete(SenderLease).where(
                col(SenderLease.name) == LEASE_NAME, col(SenderLease.holder) == holder
            )
        )
