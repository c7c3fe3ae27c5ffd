"""An officer attests a figure the validator cannot match (audited), instead of a dead end.

Only figure findings can be attested — a date, an amount, a rate, an invoice number the
officer knows from outside the ledger ("confirmé par téléphone le 28 novembre"). The
finding stays on the draft, marked attested by whom and why, and stops blocking approval.
Legal, tone and contact findings can never be attested.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from assistant.db.models import Case, Draft, utcnow
from assistant.services.audit import record
from assistant.services.officer_common import OfficerActionError

ATTESTABLE = ("date_mismatch", "amount_mismatch", "rate_mismatch", "unknown_invoice")


def attested(
    findings: list[dict[str, Any]], codes: set[str], reason: str, actor: str, at: str
) -> tuple[list[dict[str, Any]], int]:
    """Return the findings with the blocking ones of `codes` attested, and how many (pure)."""
    refused = sorted(codes - set(ATTESTABLE))
    if refused:
        raise OfficerActionError(
            f"cannot attest {', '.join(refused)}: only {', '.join(ATTESTABLE)} can be attested"
        )
    out, n = [], 0
    for f in findings:
        if f.get("code") in codes and f.get("blocking"):
            f = {**f, "blocking": False, "attested_by": actor, "attested_reason": reason}
            f["attested_at"] = at
            n += 1
        out.append(f)
    return out, n


def attest_findings(
    session: Session, draft_id: int, codes: list[str], reason: str, actor: str
) -> str:
    """Mark a pending draft's blocking findings of `codes` as attested by `actor`."""
    if not reason.strip():
        raise OfficerActionError("a reason is required to attest a finding")
    if not codes:
        raise OfficerActionError(f"name the finding(s) to attest: {', '.join(ATTESTABLE)}")
    draft = session.get(Draft, draft_id)
    if draft is None:
        raise OfficerActionError(f"draft {draft_id} does not exist")
    if draft.status != "pending":
        raise OfficerActionError(f"draft {draft_id} is {draft.status}: only pending drafts")
    findings, n = attested(
        list(draft.findings), set(codes), reason.strip(), actor, utcnow().isoformat()
    )
    if n == 0:
        raise OfficerActionError(
            f"draft {draft_id} has no blocking finding {', '.join(sorted(set(codes)))}"
        )
    draft.findings = findings  # a new list: the JSON column sees the change
    session.add(draft)
    case = session.get(Case, draft.case_id)
    record(
        session, actor, "draft.attested", "draft", draft.id, case=case.ref if case else None,
        codes=sorted(set(codes)), reason=reason.strip(), findings=n,
    )  # fmt: skip
    left = sum(1 for f in findings if f.get("blocking"))
    tail = f"; {left} blocking finding(s) left" if left else "; no blocking finding left"
    return f"draft {draft_id}: {n} finding(s) attested by {actor}{tail}"
