"""Take a case out of automated dunning (hand-off, pause) or put it back (audited).

`open_handoff` is the one way a hand-off is opened, whoever opens it (a reply's effects,
the cycle, an officer): it always withdraws the case's drafts still waiting to be sent.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from assistant.db.models import Case, Draft, Handoff, utcnow
from assistant.services.audit import record
from assistant.services.transitions import StaleTransition, compare_and_set

#: Drafts still waiting for an officer or the outbox, withdrawn when a human takes over.
WITHDRAWABLE = ("pending", "approved")


class CaseControlError(Exception):
    """The case cannot be paused or resumed as asked."""


def _case(session: Session, ref: str) -> Case:
    case = session.exec(select(Case).where(Case.ref == ref)).first()
    if case is None:
        raise CaseControlError(f"no case {ref}")
    return case


def pause_case(session: Session, ref: str, actor: str, reason: str) -> str:
    """Stop automated dunning on a case until an officer resumes it."""
    if not reason.strip():
        raise CaseControlError("a reason is required to pause a case")
    case = _case(session, ref)
    if case.status in ("closed", "paused"):
        raise CaseControlError(f"case {ref} is {case.status}")
    previous, case.status, case.updated_at = case.status, "paused", utcnow()
    session.add(case)
    withdrawn = withdraw_live_drafts(session, case, f"case paused: {reason}", actor)
    record(
        session, actor, "case.paused", "case", ref, reason=reason, previous=previous,
        withdrawn=withdrawn,
    )  # fmt: skip
    note = f"; {len(withdrawn)} unsent draft(s) withdrawn" if withdrawn else ""
    return f"case {ref} paused (was {previous}){note}"


def hand_off_case(session: Session, ref: str, actor: str, note: str) -> str:
    """An officer takes a case over: open a hand-off and withdraw its live drafts."""
    if not note.strip():
        raise CaseControlError("a note is required to hand a case off")
    case = _case(session, ref)
    if case.status == "closed":
        raise CaseControlError(f"case {ref} is closed")
    handoff, withdrawn = open_handoff(session, case, "officer", note.strip(), actor)
    return f"hand-off {handoff.id} opened on {ref}; {len(withdrawn)} draft(s) withdrawn"


def resume_case(session: Session, ref: str, actor: str, note: str = "") -> str:
    """Put a paused case, or a hand-off case whose hand-offs are resolved, back into dunning."""
    case = _case(session, ref)
    if case.status not in ("paused", "handoff"):
        raise CaseControlError(f"case {ref} is {case.status}: only paused or hand-off cases resume")
    open_handoffs = session.exec(
        select(Handoff.id).where(Handoff.case_id == case.id, Handoff.status == "open")
    ).all()
    if open_handoffs:
        raise CaseControlError(
            f"case {ref} has open hand-off(s) {list(open_handoffs)}: "
            "resolve them first (`relance handoffs resolve ID --note … --resume`)"
        )
    previous, case.status, case.updated_at = case.status, "active", utcnow()
    session.add(case)
    record(session, actor, "case.resumed", "case", ref, note=note, previous=previous)
    return f"case {ref} back in automated dunning (was {previous})"


def add_note(session: Session, ref: str, actor: str, text: str) -> str:
    """Write an officer's note on a case (kept in the audit trail, shown on its timeline)."""
    if not text.strip():
        raise CaseControlError("a note cannot be empty")
    case = _case(session, ref)
    record(session, actor, "case.note", "case", case.ref, text=text.strip())
    return f"note added to case {case.ref}"


def withdraw_live_drafts(session: Session, case: Case, reason: str, actor: str) -> list[int]:
    """Reject the case's pending and approved drafts; return the ids withdrawn.

    A draft the outbox claimed meanwhile (`sending`) is left alone: it is on its way.
    """
    ids = session.exec(
        select(Draft.id).where(Draft.case_id == case.id, col(Draft.status).in_(WITHDRAWABLE))
    ).all()
    withdrawn = []
    for draft_id in ids:
        values = {"status": "rejected", "reject_reason": reason, "decided_by": actor}
        try:
            compare_and_set(
                session, Draft, draft_id or 0, WITHDRAWABLE, {**values, "decided_at": utcnow()},
            )  # fmt: skip
        except StaleTransition:
            continue
        record(session, actor, "draft.withdrawn", "draft", draft_id, case=case.ref, reason=reason)
        withdrawn.append(draft_id or 0)
    return withdrawn


def open_handoff(
    session: Session,
    case: Case,
    reason: str,
    summary: str,
    actor: str,
    evidence: Sequence[str] = (),
) -> tuple[Handoff, list[int]]:
    """Open a hand-off on `case`, take it out of dunning and withdraw its live drafts."""
    handoff = Handoff(case_id=case.id or 0, reason=reason, summary=summary, evidence=list(evidence))
    session.add(handoff)
    case.status = "handoff"
    case.updated_at = utcnow()
    session.add(case)
    session.flush()
    withdrawn = withdraw_live_drafts(session, case, f"hand-off: {reason}", actor)
    record(session, actor, "case.handoff", "case", case.ref, reason=reason, summary=summary)
    return handoff, withdrawn
