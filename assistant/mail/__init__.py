"""Mail adapters (SMTP out, IMAP in) and the pure composition of outgoing messages.

`build_sender` / `build_mailbox` turn Settings into adapters for the composition root;
they connect to nothing until first used. Services import `assistant.mail.ports` only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistant.config import Settings
    from assistant.mail.imap import ImapMailbox
    from assistant.mail.smtp import SmtpSender


class MailNotConfigured(RuntimeError):
    """A mail setting the command needs is missing."""


def _secret(value: object) -> str | None:
    return value.get_secret_value() if value is not None else None  # type: ignore[attr-defined]


def build_sender(settings: Settings, *, rate_per_second: float | None = None) -> SmtpSender:
    """Return the SMTP sender described by RELANCE_SMTP_* (connects on first batch)."""
    from assistant.mail.smtp import SmtpConfig, SmtpSender

    if not settings.smtp_host:
        raise MailNotConfigured("RELANCE_SMTP_HOST is not set")
    return SmtpSender(
        SmtpConfig(
            host=settings.smtp_host,
            port=settings.smtp_port,
            security=settings.smtp_security,
            username=settings.smtp_username,
            password=_secret(settings.smtp_password),
            timeout=settings.smtp_timeout,
            rate_per_second=settings.smtp_rate_per_second
            if rate_per_second is None
            else rate_per_second,
        )
    )


def build_mailbox(settings: Settings) -> ImapMailbox:
    """Return the IMAP mailbox described by RELANCE_IMAP_* (connects on first use)."""
    from assistant.mail.imap import ImapConfig, ImapMailbox

    if not settings.imap_host or not settings.imap_username:
        raise MailNotConfigured("RELANCE_IMAP_HOST and RELANCE_IMAP_USERNAME must be set")
    return ImapMailbox(
        ImapConfig(
            host=settings.imap_host,
            port=settings.imap_port,
            security=settings.imap_security,
            username=settings.imap_username,
            password=_secret(settings.imap_password),
            poll_seconds=settings.imap_poll_seconds,
        )
    )


def imap_configured(settings: Settings) -> bool:
    """Tell whether an IMAP mailbox is configured (username set)."""
    return bool(settings.imap_host and settings.imap_username)


__all__ = ["MailNotConfigured", "build_mailbox", "build_sender", "imap_configured"]
