"""An officer lists, adds, confirms and invalidates a debtor's email contacts (audited).

A contact a debtor gave in a reply is stored unconfirmed (not valid, source "reply"): no
letter goes to it until an officer confirms it here.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from assistant.db.models import Contact, utcnow
from assistant.services.audit import record
from assistant.services.officer_common import OfficerActionError, case_by_ref

ROLES = ("ap", "finance", "manager", "legal", "other")
SUGGESTED_PREFIX = "suggested in a reply"
_EMAIL = re.compile(
    r"^[^@\s<>(),;:\"]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$"
)


def normalise_email(email: str) -> str:
    """Return `email` checked and lower-cased, or raise OfficerActionError (pure)."""
    address = email.strip().lower()
    if not _EMAIL.match(address) or ".." in address:
        raise OfficerActionError(f"invalid email {email!r}: expected name@domain.tld")
    return address


def contact_state(contact: Contact) -> str:
    """Return valid, to_confirm or invalid (pure)."""
    if contact.valid:
        return "valid"
    reason = contact.invalid_reason or ""
    if contact.source == "reply" or reason.startswith(SUGGESTED_PREFIX):
        return "to_confirm"
    return "invalid"


def _row(c: Contact) -> dict[str, Any]:
    return {
        "email": c.email,
        "name": c.name,
        "role": c.role,
        "state": contact_state(c),
        "valid": c.valid,
        "invalid_reason": c.invalid_reason,
        "source": c.source,
        "confirmed_by": c.confirmed_by,
        "confirmed_at": c.confirmed_at,
    }


def list_contacts(session: Session, ref: str) -> list[dict[str, Any]]:
    """Return the contacts of the case's debtor, valid ones first."""
    case = case_by_ref(session, ref)
    rows = session.exec(
        select(Contact).where(Contact.debtor_id == case.debtor_id).order_by(col(Contact.id))
    ).all()
    return sorted((_row(c) for c in rows), key=lambda r: not r["valid"])


def _find(session: Session, debtor_id: int, email: str) -> Contact | None:
    return session.exec(
        select(Contact).where(Contact.debtor_id == debtor_id, func.lower(Contact.email) == email)
    ).first()


def add_contact(
    session: Session,
    ref: str,
    email: str,
    actor: str,
    *,
    name: str | None = None,
    role: str | None = None,
) -> str:
    """Add a valid contact, or re-validate a known one (bounced or to confirm)."""
    if role is not None and role not in ROLES:
        raise OfficerActionError(f"unknown role {role!r}: one of {', '.join(ROLES)}")
    case = case_by_ref(session, ref)
    address = normalise_email(email)
    contact = _find(session, case.debtor_id, address)
    if contact is not None and contact.valid:
        raise OfficerActionError(f"{address} is already a valid contact of case {ref}")
    if contact is None:
        contact = Contact(debtor_id=case.debtor_id, email=address, source="officer")
        action, previous = "contact.added", None
    else:
        action, previous = "contact.revalidated", contact.invalid_reason
    contact.valid, contact.invalid_reason = True, None
    contact.name = name or contact.name
    contact.role = role or contact.role
    contact.confirmed_by, contact.confirmed_at = actor, utcnow()
    session.add(contact)
    record(
        session, actor, action, "case", case.ref, email=address, name=name, role=role,
        previous_reason=previous,
    )  # fmt: skip
    verb = "added to" if action == "contact.added" else "re-validated on"
    return f"{address} {verb} case {case.ref}"


def confirm_contact(session: Session, ref: str, email: str, actor: str) -> str:
    """Confirm an address a debtor gave (or any invalid one): letters may now go to it."""
    case = case_by_ref(session, ref)
    address = email.strip().lower()
    contact = _find(session, case.debtor_id, address)
    if contact is None:
        raise OfficerActionError(f"no contact {address} on case {ref}: add it instead")
    if contact.valid:
        raise OfficerActionError(f"{address} is already a valid contact of case {ref}")
    previous = contact.invalid_reason
    contact.valid, contact.invalid_reason = True, None
    contact.confirmed_by, contact.confirmed_at = actor, utcnow()
    session.add(contact)
    record(
        session, actor, "contact.confirmed", "case", case.ref, email=address,
        previous_reason=previous,
    )  # fmt: skip
    return f"{address} confirmed on case {case.ref}"


def invalidate_contact(session: Session, ref: str, email: str, actor: str, reason: str) -> str:
    """Stop writing to an address (bounced, left the company…), with a reason."""
    if not reason.strip():
        raise OfficerActionError("a reason is required to invalidate a contact")
    case = case_by_ref(session, ref)
    address = email.strip().lower()
    contact = _find(session, case.debtor_id, address)
    if contact is None:
        raise OfficerActionError(f"no contact {address} on case {ref}")
    if not contact.valid:
        raise OfficerActionError(f"{address} is already invalid ({contact.invalid_reason})")
    contact.valid, contact.invalid_reason = False, reason.strip()
    session.add(contact)
    record(
        session, actor, "contact.invalidated", "case", case.ref, email=address,
        reason=reason.strip(),
    )  # fmt: skip
    return f"{address} invalidated on case {case.ref}"
