"""Parse raw RFC 5322 bytes into a ``ParsedMessage`` value object.

Pure: bytes in, frozen dataclass out; no network, no clock, no database. Lenient by
design: wrong or unknown charsets fall back to Windows-1252 / Latin-1, broken headers are
read raw, and ``MalformedMessage`` is raised only when no header at all can be read.
It classifies auto-replies (RFC 3834 and common vendor headers/subjects) and bounces
(RFC 3464 delivery-status reports, MAILER-DAEMON notices) but decides nothing else.
"""

from __future__ import annotations

import email
import email.utils
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.header import decode_header, make_header
from email.message import Message
from email.policy import EmailPolicy
from functools import lru_cache
from types import MappingProxyType

from assistant.mailparse.html_text import html_to_text


class MalformedMessage(ValueError):
    """Raised when raw bytes hold nothing that can be read as an e-mail."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Attachment:
    """A non-body MIME part: its file name, media type and decoded size in bytes."""

    filename: str | None
    content_type: str
    size: int


@dataclass(frozen=True)
class ParsedMessage:
    """What the assistant needs from one inbound e-mail.

    Message ids are stored without angle brackets. ``recipient_addrs`` holds every
    address the message was delivered to (To, Cc, Delivered-To, X-Original-To,
    Envelope-To), lowercased and deduplicated: the candidates for plus-address matching.
    A bounce is never also flagged as an auto-reply. ``headers`` is a read-only view
    of a few raw headers kept for audit (Auto-Submitted, Precedence, X-Mailer, …).
    """

    message_id: str | None
    in_reply_to: str | None
    references: tuple[str, ...]
    subject: str
    from_name: str
    from_addr: str
    to_addrs: tuple[str, ...]
    cc_addrs: tuple[str, ...]
    delivered_to: tuple[str, ...]
    recipient_addrs: tuple[str, ...]
    date: datetime | None
    text: str
    html: str | None
    attachments: tuple[Attachment, ...]
    is_auto_reply: bool
    is_bounce: bool
    bounced_recipients: tuple[str, ...]
    bounce_status: str | None
    headers: Mapping[str, str] = field(default_factory=dict, hash=False)


_KEPT_HEADERS = (
    "Return-Path", "Reply-To", "Auto-Submitted", "X-Autoreply", "X-Autorespond", "Precedence",
    "X-Mailer", "User-Agent", "List-Id", "Content-Type", "X-Failed-Recipients",
    "X-Auto-Response-Suppress",
)  # fmt: skip
_AUTO_SUBJECT = re.compile(
    r"^\s*(?:\[[^\]]*\]\s*)*(?:r[ée]ponse\s+automatique|automatic\s+reply|auto[- ]?reply|"
    r"auto[- ]?response|autor[ée]ponse|out\s+of\s+(?:the\s+)?office|absen(?:ce|t|te)\s+du\s+bureau|"
    r"message\s+d['’]absence|je\s+suis\s+absente?|abwesenheitsnotiz|respuesta\s+autom[áa]tica|"
    r"risposta\s+automatica|absence\s*:|en\s+cong[ée]s?\s*:|vacation\s+(?:reply|notice))",
    re.IGNORECASE,
)
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|undelivered|delivery\s+(?:status\s+notification|failure|has\s+failed)|"
    r"mail\s+delivery\s+(?:failed|failure|system)|returned\s+mail|failure\s+notice|"
    r"non\s+remis|non\s+distribuable|[ée]chec\s+de\s+(?:la\s+)?(?:remise|distribution)|"
    r"message\s+non\s+d[ée]livr[ée]|impossible\s+de\s+remettre|rejected|unzustellbar",
    re.IGNORECASE,
)
_DAEMON = re.compile(r"^(?:mailer-daemon|postmaster|mail-daemon|mailerdaemon)@", re.IGNORECASE)
_MSG_ID = re.compile(r"<([^<>\s]+)>")
_STATUS = re.compile(r"\b([245]\.\d{1,3}\.\d{1,3})\b")
_ADDR = re.compile(r"[\w.+%'-]+@[\w-]+(?:\.[\w-]+)+")


class _MemoisedPolicy(EmailPolicy):
    """`policy.default`, with each header parsed once: the stdlib parses a header again on every
    read (a part's Content-Type is read dozens of times while walking a message)."""

    def header_fetch_parse(self, name, value):  # type: ignore[no-untyped-def]
        if hasattr(value, "name") or not isinstance(value, str):
            return super().header_fetch_parse(name, value)
        return _fetch_header(name, value)


@lru_cache(maxsize=4096)
def _fetch_header(name: str, value: str):  # type: ignore[no-untyped-def]
    """Parse one header as `policy.default` does (header objects are immutable strings)."""
    return policy.default.header_fetch_parse(name, value)


_POLICY = _MemoisedPolicy()


def parse_message(raw: bytes) -> ParsedMessage:
    """Parse raw message bytes; raise ``MalformedMessage`` only if nothing is readable."""
    if not isinstance(raw, bytes | bytearray):
        raise MalformedMessage(f"expected bytes, got {type(raw).__name__}")
    if not raw.strip():
        raise MalformedMessage("empty message")
    try:
        msg = email.message_from_bytes(bytes(raw), policy=_POLICY)
    except Exception as exc:  # the stdlib parser is lenient; this is a last resort
        raise MalformedMessage(f"unparseable: {exc}") from exc
    names = {k.lower() for k, _ in _raw_items(msg)}
    if not names & {"from", "to", "subject", "date", "message-id", "received", "content-type"}:
        raise MalformedMessage("no RFC 5322 header found")

    subject = _header(msg, "Subject")
    from_name, from_addr = _first_address(_header(msg, "From"))
    to_addrs = _addresses(msg, "To")
    cc_addrs = _addresses(msg, "Cc")
    delivered = _dedupe(
        _addresses(msg, "Delivered-To")
        + _addresses(msg, "X-Original-To")
        + _addresses(msg, "Envelope-To")
    )
    text, html, attachments, reports = _walk(msg)
    if not text.strip() and html:
        text = html_to_text(html)
    headers = {h: _header(msg, h) for h in _KEPT_HEADERS if _header(msg, h)}  # read-only below
    is_bounce = _is_bounce(msg, from_addr, subject, bool(reports))
    bounced, status = _bounce_details(reports, headers, text) if is_bounce else ((), None)
    return ParsedMessage(
        message_id=_first_id(_header(msg, "Message-ID")),
        in_reply_to=_first_id(_header(msg, "In-Reply-To")),
        references=tuple(_ids(_header(msg, "References"))),
        subject=subject,
        from_name=from_name,
        from_addr=from_addr,
        to_addrs=to_addrs,
        cc_addrs=cc_addrs,
        delivered_to=delivered,
        recipient_addrs=_dedupe(to_addrs + cc_addrs + delivered),
        date=_date(_header(msg, "Date")),
        text=text.replace("\r\n", "\n").replace("\r", "\n"),
        html=html,
        attachments=tuple(attachments),
        is_auto_reply=not is_bounce and _is_auto_reply(msg, subject),
        is_bounce=is_bounce,
        bounced_recipients=bounced,
        bounce_status=status,
        headers=MappingProxyType(headers),
    )


# --------------------------------------------------------------------------- headers
def _raw_items(msg: Message) -> list[tuple[str, str]]:
    try:
        return [(str(k), str(v)) for k, v in msg.raw_items()]
    except Exception:
        return []


def _header(msg: Message, name: str) -> str:
    """Return a decoded header value, falling back to the raw value when it is broken."""
    try:
        value = msg.get(name)
        if value is not None:
            return " ".join(str(value).split())
        return ""
    except Exception:
        pass
    for key, value in _raw_items(msg):
        if key.lower() == name.lower():
            try:
                return " ".join(str(make_header(decode_header(value))).split())
            except Exception:
                return " ".join(value.split())
    return ""


def _first_address(value: str) -> tuple[str, str]:
    pairs = email.utils.getaddresses([value]) if value else []
    for name, addr in pairs:
        if "@" in addr:
            return name.strip(), addr.strip().lower()
    found = _ADDR.search(value or "")
    return "", found.group(0).lower() if found else ""


def _addresses(msg: Message, name: str) -> tuple[str, ...]:
    values: list[str] = []
    try:
        values = [str(v) for v in (msg.get_all(name) or [])]
    except Exception:
        values = [v for k, v in _raw_items(msg) if k.lower() == name.lower()]
    out = [addr.strip().lower() for _, addr in email.utils.getaddresses(values) if "@" in addr]
    return _dedupe(tuple(out))


def _dedupe(items: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(i for i in items if i))


def _ids(value: str) -> list[str]:
    found = _MSG_ID.findall(value or "")
    return found or [v.strip("<>") for v in (value or "").split() if v.strip("<>")]


def _first_id(value: str) -> str | None:
    ids = _ids(value)
    return ids[0] if ids else None


def _date(value: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except Exception:
        return None
    if parsed is None:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# --------------------------------------------------------------------------- body walk
def _decode(payload: bytes, charset: str | None) -> str:
    """Decode bytes with the declared charset, falling back the way mail clients do."""
    declared = (charset or "").strip().strip('"').lower()
    if declared in ("iso-8859-1", "latin-1", "latin1", "iso8859-1", "us-ascii", "ascii", ""):
        candidates = ["utf-8", "cp1252"] if declared in ("us-ascii", "ascii", "") else ["cp1252"]
    else:
        candidates = [declared, "utf-8", "cp1252"]
    for name in candidates:
        try:
            return payload.decode(name)
        except (LookupError, UnicodeDecodeError):
            continue
    return payload.decode("latin-1")


def _part_bytes(part: Message) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if isinstance(data, bytes):
        return data
    raw = part.get_payload()
    if isinstance(raw, list):  # message/rfc822: the attached message itself
        try:
            return b"".join(sub.as_bytes() for sub in raw if isinstance(sub, Message))
        except Exception:
            return b""
    return raw.encode("utf-8", "replace") if isinstance(raw, str) else b""


def _walk(msg: Message) -> tuple[str, str | None, list[Attachment], list[Message]]:
    text: str | None = None
    html: str | None = None
    attachments: list[Attachment] = []
    reports: list[Message] = []
    for part in _iter_parts(msg):
        ctype = part.get_content_type()
        if ctype in ("message/delivery-status", "message/global-delivery-status"):
            reports.append(part)
            continue
        filename = _filename(part)
        disposition = (part.get_content_disposition() or "").lower()
        if ctype in ("text/plain", "text/html") and disposition != "attachment" and not filename:
            body = _decode(_part_bytes(part), part.get_content_charset())
            if ctype == "text/plain" and text is None:
                text = body
            elif ctype == "text/html" and html is None:
                html = body
            continue
        if ctype.startswith("multipart/"):
            continue
        attachments.append(Attachment(filename, ctype, len(_part_bytes(part))))
    return text or "", html, attachments, reports


def _iter_parts(msg: Message) -> Iterator[Message]:
    """Yield leaf parts, without descending into attached messages (history, not body)."""
    if msg.get_content_maintype() == "multipart":
        payload = msg.get_payload()
        for sub in payload if isinstance(payload, list) else []:
            if isinstance(sub, Message):
                yield from _iter_parts(sub)
        return
    yield msg


def _filename(part: Message) -> str | None:
    try:
        name = part.get_filename()
    except Exception:
        name = None
    if not name and part.get_content_type() == "message/rfc822":
        return "message.eml"
    return name


# --------------------------------------------------------------------------- classification
def _is_auto_reply(msg: Message, subject: str) -> bool:
    auto = _header(msg, "Auto-Submitted").lower()
    if auto and auto.split(";")[0].strip() != "no":
        return True
    if _header(msg, "X-Autoreply") or _header(msg, "X-Autorespond"):
        return True
    if _header(msg, "X-Autogenerated").lower() == "reply":
        return True
    precedence = _header(msg, "Precedence").lower()
    if precedence == "auto_reply":
        return True
    return bool(_AUTO_SUBJECT.search(subject))


def _is_bounce(msg: Message, from_addr: str, subject: str, has_report: bool) -> bool:
    if msg.get_content_type() == "multipart/report":
        report_type = str(msg.get_param("report-type") or "").lower()
        if report_type == "delivery-status" or has_report:
            return True
    if has_report:
        return True
    return bool(_DAEMON.match(from_addr)) and bool(_BOUNCE_SUBJECT.search(subject))


def _bounce_details(
    reports: list[Message], headers: dict[str, str], text: str
) -> tuple[tuple[str, ...], str | None]:
    recipients: list[str] = []
    status: str | None = None
    for report in reports:
        for block in _status_blocks(report):
            action = block.get("action", "failed").lower()
            addr = block.get("final-recipient") or block.get("original-recipient") or ""
            addr = addr.split(";", 1)[-1].strip().strip("<>").lower()
            if addr and action in ("failed", "delayed", ""):
                recipients.append(addr)
            if status is None and block.get("status"):
                found = _STATUS.search(block["status"])
                status = found.group(1) if found else block["status"].strip()
    if not recipients and headers.get("X-Failed-Recipients"):
        recipients = [a.lower() for a in _ADDR.findall(headers["X-Failed-Recipients"])]
    if status is None:
        found = _STATUS.search(text)
        status = found.group(1) if found else None
    return _dedupe(tuple(recipients)), status


def _status_blocks(report: Message) -> list[dict[str, str]]:
    """Read the header blocks of a delivery-status part, whatever shape the parser gave."""
    payload = report.get_payload()
    blocks: list[dict[str, str]] = []
    if isinstance(payload, list):
        for sub in payload:
            if isinstance(sub, Message):
                blocks.append({k.lower(): " ".join(str(v).split()) for k, v in _raw_items(sub)})
        if blocks:
            return blocks
    raw = _decode(_part_bytes(report), report.get_content_charset())
    for chunk in re.split(r"\n\s*\n", raw.replace("\r\n", "\n")):
        block: dict[str, str] = {}
        for line in chunk.split("\n"):
            key, sep, value = line.partition(":")
            if sep and key.strip():
                block[key.strip().lower()] = value.strip()
        if block:
            blocks.append(block)
    return blocks
