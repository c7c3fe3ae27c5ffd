"""One case as a timeline: letters, replies, promises, hand-offs, payments, tasks, audit events.

Read-only, built on `case_view.case_details` plus the rows it does not carry (payments, the
full text of replies, the case's audit trail). The caller checks the reader's scope.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select

from assistant.db.mail_models import InboundMessage
from assistant.db.models import AuditEvent, Case, Payment
from assistant.domain import from_cents
from assistant.services.case_view import case_details


def _moment(value: datetime | date | None) -> datetime:
    if value is None:
        return datetime.min.replace(tzinfo=UTC)
    if not isinstance(value, datetime):
        value = datetime.combine(value, time.min)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _entry(at: datetime | date | None, kind: str, title: str, **data: Any) -> dict[str, Any]:
    return {"at": at, "kind": kind, "title": title, **data}


def case_timeline(session: Session, ref: str, on: date) -> dict[str, Any] | None:
    """Return `case_details` of `ref` with `timeline`: every event of the case, newest first."""
    details = case_details(session, ref, on)
    if details is None:
        return None
    case = session.exec(select(Case).where(Case.ref == details["ref"])).one()
    entries: list[dict[str, Any]] = []
    for d in details["drafts"]:
        at = d["sent_at"] or d["created_at"]
        entries.append(_entry(at, "letter", f"Letter {d['step']} ({d['status']})", draft=d))
    full_text = _reply_texts(session, case.id or 0)
    for m in details["messages"]:
        reading = m["analysis"] or {}
        entries.append(
            _entry(
                m["received_at"],
                "reply",
                f"Reply from {m['from'] or 'unknown sender'}",
                message=m,
                reading=reading,
                full_text=full_text.get(m["id"]),
            )
        )
    for p in details["promises"]:
        entries.append(_entry(p["due_on"], "promise", f"Promise due {p['due_on']}", promise=p))
    for h in details["handoffs"]:
        entries.append(_entry(h["created_at"], "handoff", f"Hand-off: {h['reason']}", handoff=h))
    for t in details["tasks"]:
        entries.append(_entry(None, "task", f"Task {t['kind']} ({t['status']})", task=t))
    for p in _payments(session, case.debtor_id):
        entries.append(_entry(p["paid_on"], "payment", f"Payment {p['reference']}", payment=p))
    for e in _audit(session, case, details):
        kind = {"case.note": "note", "case.call": "call"}.get(e["action"], "audit")
        title = f"Call ({e['payload'].get('outcome')})" if kind == "call" else e["action"]
        entries.append(_entry(e["at"], kind, title, event=e))
    entries.sort(key=lambda e: _moment(e["at"]), reverse=True)
    return {**details, "timeline": entries}


def _reply_texts(session: Session, case_id: int) -> dict[int, str | None]:
    rows = session.exec(
        select(InboundMessage.id, InboundMessage.text).where(InboundMessage.case_id == case_id)
    ).all()
    return {int(i or 0): text for i, text in rows}


def _payments(session: Session, debtor_id: int) -> list[dict[str, Any]]:
    rows = session.exec(
        select(Payment).where(Payment.debtor_id == debtor_id).order_by(col(Payment.paid_on))
    ).all()
    return [
        {
            "reference": p.reference,
            "amount": from_cents(p.amount_cents),
            "currency": p.currency,
            "paid_on": p.paid_on,
        }
        for p in rows
    ]


def _audit(session: Session, case: Case, details: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the audit events about the case or one of its drafts, hand-offs and tasks."""
    about = [(col(AuditEvent.entity) == "case") & (col(AuditEvent.entity_id) == case.ref)]
    for entity, key in (("draft", "drafts"), ("handoff", "handoffs"), ("task", "tasks")):
        ids = [str(x["id"]) for x in details[key]]
        if ids:
            about.append((col(AuditEvent.entity) == entity) & col(AuditEvent.entity_id).in_(ids))
    rows = session.exec(
        select(AuditEvent).where(or_(*about)).order_by(col(AuditEvent.at), col(AuditEvent.id))
    ).all()
    return [
        {
            "at": e.at,
            "actor": e.actor,
            "action": e.action,
            "entity": e.entity,
            "entity_id": e.entity_id,
            "payload": e.payload,
        }
        for e in rows
    ]
