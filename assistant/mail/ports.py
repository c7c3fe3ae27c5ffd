"""The two mail seams: an SMTP sender and an IMAP mailbox, as small Protocols.

Services depend on these and on the typed errors below, never on aiosmtplib or imapclient.
Tests use the real adapters against aiosmtpd and Dovecot, or hand-written fakes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from typing import Protocol


class SendError(Exception):
    """Base class of SMTP delivery errors; `code` is the SMTP reply code when known."""

    def __init__(self, message: str, code: int | None = None):
        super().__init__(message)
        self.code = code


class TransientSendError(SendError):
    """A 4xx reply or a connection lost before the message data: safe to retry later."""


class PermanentSendError(SendError):
    """A 5xx reply: retrying will not help; `refused` maps refused recipients to replies."""

    def __init__(
        self, message: str, code: int | None = None, refused: dict[str, str] | None = None
    ):
        super().__init__(message, code)
        self.refused = refused or {}


class AmbiguousSendError(SendError):
    """The connection broke after the message data was sent: it may have been accepted.

    Never retried: the draft goes to `unknown` for an officer (exactly-once over at-least-once).
    """


class MailboxError(Exception):
    """The IMAP server refused a command or the connection broke; reconnect and retry."""


@dataclass(frozen=True)
class SendReceipt:
    """The server accepted the message, possibly for only some recipients."""

    accepted: tuple[str, ...]
    refused: dict[str, str] = field(default_factory=dict)  # address -> "550 5.1.1 reason"
    response: str = ""


class MailConnection(Protocol):
    """One open SMTP session, reused for every message of a batch."""

    async def send(self, message: EmailMessage) -> SendReceipt:
        """Send one message to its To/Cc recipients; raise a `SendError` subclass on failure."""
        ...


class MailSender(Protocol):
    """Something that can open an SMTP session and send a batch of messages."""

    def connect(self) -> AbstractAsyncContextManager[MailConnection]:
        """Open a session (connect, secure, log in) for a batch; close it on exit."""
        ...


@dataclass(frozen=True)
class FolderStatus:
    """What a folder's SELECT tells us."""

    uidvalidity: int
    uidnext: int | None
    exists: int


@dataclass(frozen=True)
class FetchedMessage:
    """One message as fetched with BODY.PEEK[] (never marks it read)."""

    uid: int
    raw: bytes
    internaldate: datetime | None = None


class Mailbox(Protocol):
    """An IMAP mailbox: enough to fetch new mail, file it, and keep copies of what we send."""

    def folder_status(self, folder: str) -> FolderStatus:
        """Select `folder` (read-write) and return its UIDVALIDITY and counts."""
        ...

    def uids_after(self, folder: str, last_uid: int) -> list[int]:
        """Return the UIDs greater than `last_uid` in `folder`, ascending."""
        ...

    def fetch(self, folder: str, uids: Sequence[int]) -> list[FetchedMessage]:
        """Fetch the raw bytes of `uids` without setting \\Seen."""
        ...

    def append(
        self,
        folder: str,
        raw: bytes,
        *,
        flags: Sequence[str] = ("\\Seen",),
        when: datetime | None = None,
    ) -> None:
        """Store a copy of `raw` in `folder` (creating nothing: the folder must exist)."""
        ...

    def find_message_id(self, folder: str, message_id: str) -> list[int]:
        """Return the UIDs in `folder` whose Message-ID header is `message_id`."""
        ...

    def ensure_folder(self, folder: str) -> str:
        """Create `folder` if missing; return its name."""
        ...

    def sent_folder(self, configured: str) -> str:
        """Return `configured` if it exists, else the special-use \\Sent folder, else create it."""
        ...

    def move(self, folder: str, uids: Sequence[int], target: str) -> None:
        """Move `uids` from `folder` to `target` (MOVE, or COPY + delete where unsupported)."""
        ...

    def add_flags(self, folder: str, uids: Sequence[int], flags: Sequence[str]) -> None:
        """Add `flags` (e.g. \\Seen) to `uids` in `folder`."""
        ...

    def wait_for_changes(
        self,
        folder: str,
        timeout: float,
        should_stop: Callable[[], bool] = lambda: False,
        after_uid: int | None = None,
    ) -> bool:
        """Block until `folder` changes (IDLE, else a poll), `timeout` passes or `should_stop`.

        With `after_uid`, return at once when a UID above it is already there (mail that
        arrived between the last fetch and the IDLE command is not waited for).
        """
        ...

    def close(self) -> None:
        """Log out and drop the connection."""
        ...
