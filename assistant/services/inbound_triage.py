"""Triage: the messages no case took on its own, and an officer attaching one to a case.

Attaching applies the message as if it had been matched (analysis and effects), audited
with who decided. The change is a compare-and-set on the `unmatched` status: two officers
attaching the same message at once cannot both apply it.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from assistant.db.mail_models import InboundMessage
from assistant.db.models import Case
from assistant.services.audit import record
from assistant.services.inbound_filing import ReplyHandler, analyse, ref_of
from assistant.services.transitions import StaleTransition, compare_and_set


class TriageError(Exception):
    """The message cannot be attached as asked."""


def triage_rows(session: Session, status: str, *, limit: int = 200) -> list[dict[str, Any]]:
    """Return messages with `status`, newest first, with their suggested case and reason."""
    rows = session.exec(
        select(InboundMessage, Case.ref)
        .join(Case, col(Case.id) == InboundMessage.suggested_case_id, isouter=True)
        .where(InboundMessage.status == status)
        .order_by(col(InboundMessage.received_at).desc(), col(InboundMessage.id).desc())
        .limit(limit)
    ).all()
    out = []
    for m, suggested in rows:
        snippet = " ".join((m.reply_text or m.text or "").split())[:160]
        out.append(
            {
                "id": m.id,
                "received_at": m.received_at,
                "from": m.from_addr,
                "subject": m.subject,
                "message_id": m.message_id,
                "size": m.size,
                "snippet": snippet,
                "error": m.error,
                "attachments": [a.get("filename") for a in m.attachments],
                "suggested_case": suggested,
                "reason": m.triage_reason,
            }
        )
    return out


def attach_inbound(
    session: Session, inbound_id: int, ref: str, actor: str, handler: ReplyHandler | None
) -> str:
    """Attach an unmatched message to case `ref` and apply it; return what was done."""
    inbound = session.get(InboundMessage, inbound_id)
    if inbound is None:
        raise TriageError(f"no inbound message {inbound_id}")
    case = session.exec(select(Case).where(Case.ref == ref.strip().upper())).first()
    if case is None:
        raise TriageError(f"no case {ref}")
    status = (
        "bounce" if inbound.is_bounce else "auto_reply" if inbound.is_auto_reply else "unanalysed"
    )
    try:
        compare_and_set(
            session, InboundMessage, inbound_id, "unmatched",
            {"status": status, "case_id": case.id, "match_method": "officer"},
            lambda m: _lost(session, inbound_id, m),
        )  # fmt: skip
    except StaleTransition as exc:
        raise TriageError(str(exc)) from None
    record(
        session, actor, "inbound.attached", "inbound", inbound_id, case=case.ref,
        suggested=ref_of(session, inbound.suggested_case_id), reason=inbound.triage_reason,
    )  # fmt: skip
    done = f"message {inbound_id} attached to {case.ref}"
    if inbound.is_bounce:
        return f"{done}; no contact invalidated (an unverified bounce proves nothing)"
    if handler is None:
        return f"{done}; not analysed"
    outcome = analyse(session, handler, inbound, case)
    session.add(inbound)
    if isinstance(outcome, str):
        return f"{done}; {outcome} (kept as unanalysed)"
    actions = list(getattr(outcome, "actions", []) or [])
    return f"{done}; " + ("; ".join(actions) if actions else "read, no change to the case")


def _lost(session: Session, inbound_id: int, row: Any) -> str:
    if row is None:
        return f"message {inbound_id} no longer exists"
    where = ref_of(session, row.case_id)
    return (
        f"message {inbound_id} is {row.status}"
        + (f" (case {where})" if where else "")
        + ("; it was not attached again")
    )
