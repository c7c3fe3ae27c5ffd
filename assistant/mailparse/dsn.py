"""Read a delivery-status report (RFC 3464) strictly: what failed, and which message it was.

A bounce is believed only in this shape: `multipart/report; report-type=delivery-status`
with a `message/delivery-status` part whose per-recipient blocks say `Action: failed`, and
the Message-ID of the original (from the attached headers, In-Reply-To or References).
Anything looser (a plain-text "Undelivered" notice, X-Failed-Recipients) is not a report.
"""

from __future__ import annotations

import email
import re
from dataclasses import dataclass
from email import policy
from email.message import Message

from assistant.mailparse.mime import _status_blocks as status_blocks

_MSG_ID = re.compile(r"<([^<>\s]+)>")
_ORIGINAL_TYPES = ("text/rfc822-headers", "message/rfc822", "message/global-headers")


@dataclass(frozen=True)
class DeliveryReport:
    """A delivery-status report: the recipients that failed and the messages it is about."""

    failed: tuple[str, ...]
    original_ids: tuple[str, ...]
    status: str | None


def _ids(value: str | None) -> list[str]:
    return [m[:900] for m in _MSG_ID.findall(value or "")]


def _original_ids(part: Message) -> list[str]:
    """Return the Message-ID of the attached original (its headers or the whole message)."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return [i for sub in payload if isinstance(sub, Message) for i in _ids(sub["Message-ID"])]
    raw = part.get_payload(decode=True)
    headers = email.message_from_bytes(raw if isinstance(raw, bytes) else b"")
    return _ids(headers["Message-ID"])


def read_delivery_report(raw: bytes) -> DeliveryReport | None:
    """Return the report in `raw`, or None when it is not a delivery-status report."""
    try:
        msg = email.message_from_bytes(bytes(raw), policy=policy.compat32)
        if msg.get_content_type() != "multipart/report":
            return None
        if str(msg.get_param("report-type") or "").lower() != "delivery-status":
            return None
        failed: list[str] = []
        status: str | None = None
        ids = _ids(msg["In-Reply-To"]) + _ids(msg["References"])
        payload = msg.get_payload()
        for part in payload if isinstance(payload, list) else []:
            if not isinstance(part, Message):
                continue
            ctype = part.get_content_type()
            if ctype == "message/delivery-status":
                for block in status_blocks(part):
                    addr = block.get("final-recipient", "").split(";", 1)[-1].strip(" <>")
                    if addr and "@" in addr and block.get("action", "").lower() == "failed":
                        failed.append(addr.lower())
                        status = status or block.get("status")
            elif ctype in _ORIGINAL_TYPES:
                ids = _original_ids(part) + ids
    except Exception:  # noqa: BLE001 - a report we cannot read is not believed
        return None
    if not failed:
        return None
    return DeliveryReport(tuple(dict.fromkeys(failed)), tuple(dict.fromkeys(ids)), status)
