"""Build the e-mail of an approved draft (pure: no session, no clock, no network).

Headers follow docs/domain.md §5: one thread per case (Message-ID / In-Reply-To / References),
the case token in the subject, a plus-addressed Reply-To, text + HTML alternatives and the
letter's PDF when the step has one. Recipients are passed in by the caller, who keeps only
the debtor's valid contacts: this module never adds an address of its own.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, formataddr, getaddresses, make_msgid

from assistant.db.models import Draft
from assistant.policy.schema import Policy

_MSGID_RE = re.compile(r"<([^<>\s]+)>")
_SAFE_FILE = re.compile(r"[^A-Za-z0-9._-]+")


class ComposeError(ValueError):
    """The draft cannot become an e-mail (no sender address, no recipient…)."""


@dataclass(frozen=True)
class SenderIdentity:
    """Who the message is from: a display name and the mailbox address."""

    name: str
    address: str

    def header(self) -> str:
        """Return the `From` header value."""
        return formataddr((self.name, self.address))

    @property
    def domain(self) -> str:
        """Return the domain of the address (for Message-IDs)."""
        return self.address.rpartition("@")[2]


def sender_identity(policy: Policy, from_address: str | None) -> SenderIdentity:
    """Return the policy's sender: the agency in agency mode, else the creditor."""
    if policy.mode == "agency" and policy.agency is not None:
        name, fallback = policy.agency.name, policy.agency.email
    else:
        name = policy.creditor.sender_name or policy.creditor.name
        fallback = policy.creditor.email
    address = (from_address or fallback or "").strip()
    if "@" not in address:
        raise ComposeError(
            "no sender address: set RELANCE_SMTP_FROM (e.g. recouvrement@example.fr)"
        )
    return SenderIdentity(name=name, address=parseaddr_address(address))


def parseaddr_address(value: str) -> str:
    """Return the bare address of `value` (`Name <a@b>` → `a@b`)."""
    pairs = getaddresses([value])
    return pairs[0][1] if pairs and pairs[0][1] else value


def split_addresses(value: str | None) -> list[str]:
    """Split a stored address list (commas, semicolons or newlines) into bare addresses."""
    if not value:
        return []
    pairs = getaddresses([value.replace(";", ",").replace("\n", ",")])
    return list(dict.fromkeys(addr.strip() for _n, addr in pairs if "@" in addr))


def message_ids(value: str | None) -> list[str]:
    """Return the bare ids (no angle brackets) of a Message-ID / References value, in order."""
    if not value:
        return []
    found = _MSGID_RE.findall(value)
    return found or [v.strip("<>,") for v in value.split() if v.strip("<>,")]


def bracket(message_id: str) -> str:
    """Return `message_id` in its header form `<id>` (ids are stored bare)."""
    return f"<{message_id.strip().strip('<>')}>"


def new_message_id(sender: SenderIdentity, case_ref: str | None = None) -> str:
    """Return a fresh bare Message-ID in the sender's domain."""
    return make_msgid(idstring=case_ref, domain=sender.domain).strip("<>")


def reply_to_address(template: str | None, case_ref: str) -> str | None:
    """Return RELANCE_REPLY_TO with `{token}` replaced by the case reference."""
    if not template:
        return None
    return template.replace("{token}", case_ref)


def subject_with_token(subject: str, case_ref: str) -> str:
    """Return `subject` carrying `[case_ref]` (added at the end when absent)."""
    subject = " ".join(subject.split())
    if case_ref.upper() in subject.upper():
        return subject
    return f"{subject} [{case_ref}]"


_SEALED = "_relance_wire_bytes"


def seal(message: EmailMessage) -> bytes:
    """Compute the wire form of `message` once: `message_bytes` returns it from then on.

    For a letter that no longer changes (the outbox seals each one once composed), so that the
    SMTP adapter and the Sent copy send the same bytes without formatting them twice.
    """
    raw = message_bytes(message)
    setattr(message, _SEALED, raw)
    return raw


def message_bytes(message: EmailMessage) -> bytes:
    """Return the wire form of `message`: CRLF line ends, Bcc removed."""
    sealed = getattr(message, _SEALED, None)
    if isinstance(sealed, bytes):
        return sealed
    if "Bcc" in message:
        message = copy.deepcopy(message)
        del message["Bcc"]
    return message.as_bytes(policy=SMTP_POLICY)


def attachment_name(case_ref: str, step: str) -> str:
    """Return the PDF file name of a draft's letter."""
    return _SAFE_FILE.sub("-", f"{case_ref}-{step}") + ".pdf"


def compose_message(
    draft: Draft,
    *,
    sender: SenderIdentity,
    to: Sequence[str],
    case_ref: str,
    date: datetime,
    reply_to: str | None = None,
    to_names: dict[str, str] | None = None,
    attachments: Sequence[tuple[str, str, bytes]] = (),
) -> EmailMessage:
    """Build the EmailMessage for `draft` addressed to `to` (already filtered by the caller).

    `attachments` are further files (name, content type, bytes), e.g. invoice copies.
    """
    if not to:
        raise ComposeError(f"draft {draft.id}: no valid recipient")
    if not draft.message_id:
        raise ComposeError(f"draft {draft.id}: no Message-ID (assigned at approval)")
    names = {k.lower(): v for k, v in (to_names or {}).items()}
    msg = EmailMessage()
    msg["From"] = sender.header()
    msg["To"] = [_address(a, names.get(a.lower())) for a in to]
    if reply_to:
        msg["Reply-To"] = reply_to
    msg["Subject"] = subject_with_token(draft.subject, case_ref)
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = bracket(draft.message_id)
    parents = message_ids(draft.in_reply_to)
    refs = message_ids(draft.references)
    if parents:
        msg["In-Reply-To"] = bracket(parents[-1])
        if parents[-1] not in refs:
            refs.append(parents[-1])
    if refs:
        msg["References"] = " ".join(bracket(r) for r in refs)
    msg.set_content(draft.body_text or "", subtype="plain", charset="utf-8", cte="quoted-printable")
    if draft.body_html:
        msg.add_alternative(
            draft.body_html, subtype="html", charset="utf-8", cte="quoted-printable"
        )
    if draft.pdf:
        msg.add_attachment(
            draft.pdf,
            maintype="application",
            subtype="pdf",
            filename=attachment_name(case_ref, draft.step),
        )
    for name, content_type, content in attachments:
        maintype, _, subtype = content_type.partition("/")
        msg.add_attachment(content, maintype=maintype, subtype=subtype, filename=name)
    return msg


def _address(addr: str, name: str | None) -> Address:
    local, _, domain = addr.rpartition("@")
    return Address(display_name=name or "", username=local, domain=domain)
