"""The officers' queues: hand-offs to resolve, promises to watch, tasks to do.

Reads return JSON-ready dicts; each write records who did it in the audit trail. Nothing
here sends mail or commits: the caller owns the transaction.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from assistant.db.models import Case, Creditor, Debtor, Handoff, Invoice, Promise, Task, utcnow
from assistant.domain import from_cents
from assistant.services.audit import record
from assistant.services.transitions import StaleTransition, compare_and_set, when

#: Invoice statuses a reply can set, which `resolve_handoff(undispute=True)` lifts.
REPLY_FROZEN = ("disputed", "frozen")


class QueueError(Exception):
    """The hand-off or task cannot be changed as asked."""


def _lost(what: str, row_id: int, row: Any, yours: str) -> str:
    """Word the error of the officer whose change lost the race (or came too late)."""
    if row is None:
        return f"{what} {row_id} no longer exists; your {yours} was not saved"
    by = getattr(row, "resolved_by", None) or getattr(row, "done_by", None)
    at = getattr(row, "resolved_at", None) or getattr(row, "done_at", None)
    who = f" {when(at)} by {by}" if by else ""
    return f"{what} {row_id} was {row.status}{who}; your {yours} was not saved"


def _case_columns() -> Any:
    return (
        select(Case.ref, Creditor.slug, Debtor.account_ref, Debtor.legal_name)
        .join(Creditor, col(Creditor.id) == Case.creditor_id)
        .join(Debtor, col(Debtor.id) == Case.debtor_id)
    )


def _who(ref: str, slug: str, account: str, name: str) -> dict[str, Any]:
    return {"case": ref, "creditor": slug, "debtor_ref": account, "debtor": name}


# -- hand-offs ----------------------------------------------------------------------------------
def _handoff_row(h: Handoff, who: tuple[str, str, str, str]) -> dict[str, Any]:
    return {
        "id": h.id,
        **_who(*who),
        "reason": h.reason,
        "status": h.status,
        "summary": h.summary,
        "evidence": list(h.evidence or []),
        "created_at": h.created_at,
        "resolved_by": h.resolved_by,
        "resolved_at": h.resolved_at,
        "resolution": h.resolution,
    }


def list_handoffs(session: Session, *, status: str | None = "open") -> list[dict[str, Any]]:
    """Return hand-offs (open ones by default), oldest first."""
    query = _case_columns().add_columns(Handoff).join(Handoff, col(Handoff.case_id) == Case.id)
    if status:
        query = query.where(Handoff.status == status)
    rows = session.exec(query.order_by(col(Handoff.created_at), col(Handoff.id))).all()
    return [_handoff_row(row[4], tuple(row[:4])) for row in rows]  # type: ignore[arg-type]


def handoff_details(session: Session, handoff_id: int) -> dict[str, Any] | None:
    """Return one hand-off with its case (status, open invoices) and the replies received."""
    from assistant.db.mail_models import InboundMessage

    handoff = session.get(Handoff, handoff_id)
    if handoff is None:
        return None
    case = session.get(Case, handoff.case_id)
    assert case is not None
    who = session.exec(_case_columns().where(Case.id == case.id)).one()
    invoices = session.exec(
        select(Invoice).where(Invoice.debtor_id == case.debtor_id).order_by(col(Invoice.due_date))
    ).all()
    replies = session.exec(
        select(InboundMessage)
        .where(InboundMessage.case_id == case.id)
        .order_by(col(InboundMessage.received_at).desc(), col(InboundMessage.id).desc())
        .limit(5)
    ).all()
    return {
        **_handoff_row(handoff, tuple(who)),  # type: ignore[arg-type]
        "case_status": case.status,
        "invoices": [
            {
                "number": i.number,
                "due_date": i.due_date,
                "outstanding": from_cents(i.outstanding_cents),
                "currency": i.currency,
                "status": i.status,
            }
            for i in invoices
            if i.status not in ("paid", "written_off")
        ],
        "replies": [
            {
                "id": m.id,
                "received_at": m.received_at,
                "from": m.from_addr,
                "subject": m.subject,
                "intent": (m.analysis or {}).get("intent"),
                "reply_text": m.reply_text,
            }
            for m in replies
        ],
    }


def record_release(session: Session, case: Case, on: date) -> None:
    """Record an officer's "resume" with the facts it was taken on (balance, broken promises).

    The planner will not hand the case off again on the same facts.
    """
    case.resumed_on = on
    case.resumed_balance_cents = int(
        session.exec(
            select(func.coalesce(func.sum(Invoice.outstanding_cents), 0)).where(
                Invoice.debtor_id == case.debtor_id, Invoice.status == "open"
            )
        ).one()
    )
    case.resumed_broken_promises = len(
        session.exec(
            select(Promise.id).where(Promise.case_id == case.id, Promise.status == "broken")
        ).all()
    )


def resolve_handoff(
    session: Session,
    handoff_id: int,
    actor: str,
    note: str,
    *,
    resume: bool = False,
    close: bool = False,
    undispute: bool = False,
) -> str:
    """Resolve an open hand-off; optionally resume or close its case. Return what was done."""
    if not note.strip():
        raise QueueError("a note is required to resolve a hand-off")
    if resume and close:
        raise QueueError("choose --resume or --close, not both")
    if undispute and not resume:
        raise QueueError("--undispute only makes sense with --resume")
    handoff = session.get(Handoff, handoff_id)
    if handoff is None:
        raise QueueError(f"hand-off {handoff_id} does not exist")
    case = session.get(Case, handoff.case_id)
    assert case is not None
    action = "resume" if resume else "close" if close else "keep"
    values = {"status": "resolved", "resolved_by": actor, "resolved_at": utcnow()}
    try:
        compare_and_set(
            session, Handoff, handoff_id, "open", {**values, "resolution": note.strip()},
            lambda h: _lost("hand-off", handoff_id, h, "resolution"),
        )  # fmt: skip
    except StaleTransition as exc:
        raise QueueError(str(exc)) from None
    record(
        session, actor, "handoff.resolved", "handoff", handoff.id, case=case.ref, note=note,
        then=action,
    )  # fmt: skip
    done = [f"hand-off {handoff_id} resolved"]
    others = session.exec(
        select(Handoff.id).where(
            Handoff.case_id == case.id, Handoff.status == "open", Handoff.id != handoff.id
        )
    ).all()
    if (resume or close) and others:
        done.append(f"case {case.ref} left as is: hand-off(s) {list(others)} still open")
        return "; ".join(done)
    if undispute:
        for inv in session.exec(
            select(Invoice).where(
                Invoice.debtor_id == case.debtor_id, col(Invoice.status).in_(REPLY_FROZEN)
            )
        ):
            record(
                session, actor, "invoice.reopened", "invoice", inv.number, case=case.ref,
                was=inv.status,
            )  # fmt: skip
            inv.status = "open"
            inv.updated_at = utcnow()
            session.add(inv)
            done.append(f"invoice {inv.number} back in dunning")
    if resume:
        record_release(session, case, utcnow().date())
    if resume or close:
        case.status = "active" if resume else "closed"
        case.updated_at = utcnow()
        session.add(case)
        record(session, actor, f"case.{'resumed' if resume else 'closed'}", "case", case.ref)
        done.append(f"case {case.ref} {case.status}")
    else:
        done.append(f"case {case.ref} stays {case.status} (no automated dunning)")
    return "; ".join(done)


# -- promises -----------------------------------------------------------------------------------
def list_promises(
    session: Session, *, status: str | None = None, due_before: date | None = None
) -> list[dict[str, Any]]:
    """Return promises to pay, soonest first (`due_before`: due strictly before that day)."""
    query = _case_columns().add_columns(Promise).join(Promise, col(Promise.case_id) == Case.id)
    if status:
        query = query.where(Promise.status == status)
    if due_before:
        query = query.where(Promise.due_on < due_before)
    rows = session.exec(query.order_by(col(Promise.due_on), col(Promise.id))).all()
    out = []
    for row in rows:
        p: Promise = row[4]
        out.append(
            {
                "id": p.id,
                **_who(*row[:4]),
                "amount": None if p.amount_cents is None else from_cents(p.amount_cents),
                "currency": p.currency,
                "due_on": p.due_on,
                "grace_until": p.due_on + timedelta(days=p.grace_days),
                "status": p.status,
                "source": p.source,
                "resolved_on": p.resolved_on,
            }
        )
    return out


# -- tasks --------------------------------------------------------------------------------------
def list_tasks(session: Session, *, status: str | None = "open") -> list[dict[str, Any]]:
    """Return officer tasks (open ones by default), oldest first."""
    query = select(Task, Case.ref).join(Case, col(Case.id) == Task.case_id, isouter=True)
    if status:
        query = query.where(Task.status == status)
    rows = session.exec(query.order_by(col(Task.created_at), col(Task.id))).all()
    return [
        {
            "id": t.id,
            "case": ref,
            "kind": t.kind,
            "detail": t.detail,
            "status": t.status,
            "created_at": t.created_at,
            "done_by": t.done_by,
            "done_at": t.done_at,
        }
        for t, ref in rows
    ]


def complete_task(session: Session, task_id: int, actor: str) -> None:
    """Mark an open task done."""
    task = session.get(Task, task_id)
    if task is None:
        raise QueueError(f"task {task_id} does not exist")
    try:
        compare_and_set(
            session, Task, task_id, "open", {"status": "done", "done_by": actor, "done_at": utcnow()},
            lambda t: _lost("task", task_id, t, "change"),
        )  # fmt: skip
    except StaleTransition as exc:
        raise QueueError(str(exc)) from None
    record(session, actor, "task.done", "task", task.id, kind=task.kind)
