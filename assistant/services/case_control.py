"""An officer pauses or resumes automated dunning on a case (audited)."""

from __future__ import annotations

from sqlmodel import Session, select

from assistant.db.models import Case, Handoff, utcnow
from assistant.services.audit import record


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
    record(session, actor, "case.paused", "case", ref, reason=reason, previous=previous)
    return f"case {ref} paused (was {previous})"


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
