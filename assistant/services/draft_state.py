"""Compare-and-set status changes of drafts: the loser of a race gets a clear error.

Every change is `UPDATE draft SET status=…, version=version+1 … WHERE id=? AND status=? AND
version=?` with the status and version the writer read; zero rows means someone else moved
the draft first, and `DraftConflict` says who, what and when ("draft 12 was sent at 10:02 UTC
by worker; your edit was not saved"). Nothing is written by the loser.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from assistant.db.models import AuditEvent, Draft, draft_live_key
from assistant.mail.window import aware


class ApprovalError(Exception):
    """The draft cannot be approved, rejected, edited or resolved as asked."""


class DraftConflict(ApprovalError):
    """Another writer changed the draft since it was read; nothing was saved."""


_WAS = {
    "pending": "changed",
    "approved": "approved",
    "rejected": "rejected",
    "sending": "claimed for sending",
    "sent": "sent",
    "failed": "marked failed",
    "unknown": "marked unknown",
}


def conflict(session: Session, draft_id: int, attempt: str) -> DraftConflict:
    """Return the error telling who moved draft `draft_id` and that `attempt` was not saved."""
    status = session.execute(select(Draft.status).where(col(Draft.id) == draft_id)).scalar()
    if status is None:
        return DraftConflict(f"draft {draft_id} no longer exists; your {attempt} was not saved")
    last = session.execute(
        select(AuditEvent.actor, AuditEvent.at)
        .where(AuditEvent.entity == "draft", AuditEvent.entity_id == str(draft_id))
        .order_by(col(AuditEvent.id).desc())
        .limit(1)
    ).first()
    when = f" at {aware(last.at):%H:%M} UTC by {last.actor}" if last else ""
    return DraftConflict(
        f"draft {draft_id} was {_WAS.get(status, status)}{when} (now {status}); "
        f"your {attempt} was not saved"
    )


def move_draft(
    session: Session,
    draft: Draft,
    to: str,
    *,
    attempt: str,
    version: int | None = None,
    **values: Any,
) -> None:
    """Move `draft` from the status and version it was read with to `to`, with `values`.

    `version` overrides the expected version (an edit passes the one read before the officer
    started). Raises DraftConflict when the row moved meanwhile; the in-memory draft then
    stays as it was.
    """
    expected = draft.version if version is None else version
    key = draft_live_key(draft.case_id, draft.kind, draft.step, to)
    res = session.execute(
        update(Draft)
        .where(
            col(Draft.id) == draft.id,
            col(Draft.status) == draft.status,
            col(Draft.version) == expected,
        )
        .values(status=to, version=expected + 1, live_key=key, **values)
        .execution_options(synchronize_session=False)
    )
    if res.rowcount != 1:  # type: ignore[attr-defined]
        raise conflict(session, draft.id or 0, attempt)
    for name, value in {"status": to, "version": expected + 1, "live_key": key, **values}.items():
        set_committed_value(draft, name, value)
