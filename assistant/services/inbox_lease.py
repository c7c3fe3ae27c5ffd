"""One fetch per mailbox (account + folder) at a time: a lease row with an expiry.

A second fetch of the same mailbox waits (up to `wait` seconds) or is refused with who holds
the lease. A holder that died on this host, or let its lease expire, is taken over. Even
when two fetches do run at once (an expired lease), the inbox stays correct: the database
refuses a second copy of the same bytes and each message is filed by one process only.
`fetch_lease` is the only entry point, so the lease store can be swapped in one place.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from assistant.db.mail_models import SenderLease
from assistant.db.models import utcnow
from assistant.mail.ports import MailboxError
from assistant.mail.window import aware
from assistant.services.leases import holder_dead

#: A fetch renews its lease after every batch; a lease not renewed for this long is dead.
FETCH_LEASE_TTL = timedelta(minutes=10)


class MailboxBusy(MailboxError):
    """Another fetch holds the lease of this mailbox (a worker retries later)."""


def _holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}#{uuid.uuid4().hex[:6]}"


def _dead(holder: str) -> bool:
    return holder_dead(holder.partition("#")[0])


def _try_take(engine: Engine, name: str, holder: str, ttl: timedelta) -> str | None:
    """Take lease `name`; return None, or who holds it and until when."""
    now = utcnow()
    with Session(engine) as session:
        row = session.get(SenderLease, name)
        if row is None:
            session.add(SenderLease(name=name, holder=holder, expires_at=now + ttl))
            try:
                session.commit()
                return None
            except IntegrityError:
                return "another fetch took the lease just now"
        until = aware(row.expires_at)
        if until > now and not _dead(row.holder):
            return (
                f"{row.holder.partition('#')[0]} is fetching it (lease until {until:%H:%M:%S} UTC)"
            )
        taken = session.execute(
            update(SenderLease)
            .where(col(SenderLease.name) == name, col(SenderLease.holder) == row.holder)
            .values(holder=holder, expires_at=now + ttl, acquired_at=now)
        )
        session.commit()
        return None if taken.rowcount == 1 else "another fetch took the lease just now"  # type: ignore[attr-defined]


@dataclass
class FetchLease:
    """A held fetch lease; `renew()` after each batch keeps it."""

    engine: Engine
    name: str
    holder: str
    ttl: timedelta

    def renew(self) -> None:
        """Push the expiry forward."""
        with Session(self.engine) as session:
            session.execute(
                update(SenderLease)
                .where(col(SenderLease.name) == self.name, col(SenderLease.holder) == self.holder)
                .values(expires_at=utcnow() + self.ttl)
            )
            session.commit()


@contextmanager
def fetch_lease(
    engine: Engine,
    account: str,
    folder: str,
    *,
    wait: float = 0,
    ttl: timedelta = FETCH_LEASE_TTL,
) -> Iterator[FetchLease]:
    """Hold the fetch lease of `account`/`folder`; raise MailboxBusy if it stays taken."""
    name, holder = f"fetch:{account}:{folder}"[:255], _holder()
    deadline = time.monotonic() + max(wait, 0)
    while (busy := _try_take(engine, name, holder, ttl)) is not None:
        if time.monotonic() >= deadline:
            raise MailboxBusy(f"mailbox {account} {folder}: {busy}")
        time.sleep(min(1.0, max(deadline - time.monotonic(), 0.05)))
    try:
        yield FetchLease(engine, name, holder, ttl)
    finally:
        with Session(engine) as session:
            session.execute(
                delete(SenderLease).where(
                    col(SenderLease.name) == name, col(SenderLease.holder) == holder
                )
            )
            session.commit()
