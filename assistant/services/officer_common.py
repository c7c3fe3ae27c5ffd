"""What the officer's verbs share: finding a case by reference, and their error."""

from __future__ import annotations

from collections.abc import Mapping

from sqlmodel import Session, select

from assistant.db.models import Case, Creditor, Invoice
from assistant.policy.schema import Policy


class OfficerActionError(Exception):
    """An officer's action cannot be done as asked (the message says why)."""


def case_by_ref(session: Session, ref: str) -> Case:
    """Return the case `ref`, or raise OfficerActionError."""
    case = session.exec(select(Case).where(Case.ref == ref)).first()
    if case is None:
        raise OfficerActionError(f"no case {ref}")
    return case


def case_policy(session: Session, case: Case, policies: Mapping[str, Policy]) -> Policy:
    """Return the policy of the case's creditor, or raise OfficerActionError."""
    creditor = session.get(Creditor, case.creditor_id)
    policy = policies.get(creditor.slug) if creditor else None
    if policy is None:
        raise OfficerActionError(f"no policy for the creditor of case {case.ref}")
    return policy


def case_currency(session: Session, case: Case) -> str:
    """Return the currency of the case's open invoices (EUR when none is open)."""
    currency = session.exec(
        select(Invoice.currency).where(
            Invoice.debtor_id == case.debtor_id, Invoice.status == "open"
        )
    ).first()
    return currency or "EUR"
