"""Write the audit trail: every state change records who did what, when."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table
from sqlmodel import Session

from assistant.db.bulk import insert_rows
from assistant.db.models import AuditEvent, utcnow
from assistant.redact import redact_url

_AUDIT: Table = AuditEvent.__table__  # type: ignore[attr-defined]


def record(
    session: Session,
    actor: str,
    action: str,
    entity: str | None = None,
    entity_id: object | None = None,
    **payload: Any,
) -> AuditEvent:
    """Add an audit event to the session (committed with the change it describes)."""
    event = AuditEvent(
        actor=actor,
        action=action,
        entity=entity,
        entity_id=None if entity_id is None else str(entity_id),
        payload=_jsonable(payload),
    )
    session.add(event)
    return event


def event_row(
    actor: str,
    action: str,
    entity: str | None = None,
    entity_id: object | None = None,
    **payload: Any,
) -> dict[str, Any]:
    """Return the column values of an audit event, for `record_many` (same fields as `record`)."""
    return {
        "at": utcnow(),
        "actor": actor,
        "action": action,
        "entity": entity,
        "entity_id": None if entity_id is None else str(entity_id),
        "payload": _jsonable(payload),
    }


def record_many(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert many audit events (built by `event_row`) in one statement, in the session's
    transaction: the bulk form of `record` for loops over thousands of cases.

    The events the session holds are written first, so the trail keeps the order of the work.
    """
    if rows:
        session.flush()
        insert_rows(session.connection(), _AUDIT, rows)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact_url(str(value))  # a URL's password never reaches the audit trail
