"""The officers' queues narrowed to a person's creditors (hand-offs, mail, tasks, promises).

Reads the queue listings of `queues` and `inbox` and keeps what the scope sees. A row tied to
no case (unmatched or quarantined mail, a task about no case) belongs to no creditor yet: only
a scope covering every creditor (an admin) sees it, so one creditor's officer never reads mail
a debtor of another creditor sent. Nothing here writes.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, col, select

from assistant.db.models import Case, Creditor, Handoff, Task
from assistant.services.inbox import list_inbound
from assistant.services.queues import list_handoffs, list_promises, list_tasks
from assistant.services.users import Scope

if TYPE_CHECKING:
    from assistant.bootstrap import App

#: How far ahead the "promises falling due" queue looks.
PROMISE_HORIZON_DAYS = 7


def _slug_of_cases(session: Session, case_ids: set[int]) -> dict[int, str]:
    if not case_ids:
        return {}
    rows = session.exec(
        select(Case.id, Creditor.slug)
        .join(Creditor, col(Creditor.id) == Case.creditor_id)
        .where(col(Case.id).in_(sorted(case_ids)))
    ).all()
    return {int(i or 0): slug for i, slug in rows}


def _sees_case(scope: Scope, slug: str | None) -> bool:
    return scope.creditors is None if slug is None else scope.sees(slug)


def handoffs_for(session: Session, scope: Scope) -> list[dict[str, Any]]:
    """Return the open hand-offs of the scope's creditors, oldest first."""
    return [h for h in list_handoffs(session, status="open") if scope.sees(h["creditor"])]


def handoff_in_scope(session: Session, scope: Scope, handoff_id: int) -> bool:
    """Tell whether the hand-off exists and belongs to one of the scope's creditors."""
    handoff = session.get(Handoff, handoff_id)
    if handoff is None:
        return False
    return _sees_case(scope, _slug_of_cases(session, {handoff.case_id}).get(handoff.case_id))


def tasks_for(session: Session, scope: Scope) -> list[dict[str, Any]]:
    """Return the open tasks the scope sees, oldest first."""
    rows = list_tasks(session, status="open")
    refs = {r["case"] for r in rows if r["case"]}
    slugs = dict(
        session.exec(
            select(Case.ref, Creditor.slug)
            .join(Creditor, col(Creditor.id) == Case.creditor_id)
            .where(col(Case.ref).in_(sorted(refs)))
        ).all()
    )
    return [
        {**r, "creditor": slugs.get(r["case"])}
        for r in rows
        if _sees_case(scope, slugs.get(r["case"]) if r["case"] else None)
    ]


def task_in_scope(session: Session, scope: Scope, task_id: int) -> bool:
    """Tell whether the task exists and the scope sees it."""
    task = session.get(Task, task_id)
    if task is None:
        return False
    slug = _slug_of_cases(session, {task.case_id}).get(task.case_id) if task.case_id else None
    return _sees_case(scope, slug)


def promises_falling_due(session: Session, scope: Scope, on: date) -> list[dict[str, Any]]:
    """Return pending promises of the scope's creditors due within the horizon (or overdue)."""
    until = on + timedelta(days=PROMISE_HORIZON_DAYS + 1)
    return [
        p
        for p in list_promises(session, status="pending", due_before=until)
        if scope.sees(p["creditor"])
    ]


def inbound_for(app: App, session: Session, scope: Scope, status: str) -> list[dict[str, Any]]:
    """Return stored inbound mail with `status` the scope sees, newest first."""
    messages = list_inbound(app, status)
    slugs = _slug_of_cases(session, {m.case_id for m in messages if m.case_id})
    out = []
    for m in messages:
        slug = slugs.get(m.case_id) if m.case_id else None
        if _sees_case(scope, slug):
            out.append(
                {
                    "id": m.id,
                    "received_at": m.received_at,
                    "from": m.from_addr,
                    "subject": m.subject,
                    "creditor": slug,
                    "excerpt": (m.reply_text or m.text or m.error or "")[:300],
                    "error": m.error,
                }
            )
    return out


def creditors_on_record(session: Session, slugs: list[str]) -> list[str]:
    """Return the creditors of `slugs` that have data in the database, in the same order."""
    known = set(session.exec(select(Creditor.slug).where(col(Creditor.slug).in_(slugs))).all())
    return [s for s in slugs if s in known]
