"""SMTP adapter (aiosmtplib): one connection per batch, bounded rate, typed errors.

The only module that imports aiosmtplib. It knows nothing of drafts or the database.
Errors are sorted by phase so the outbox can be exactly-once: a failure before the message
data is definite (4xx → `TransientSendError`, 5xx → `PermanentSendError`); a connection lost
while the data is in flight is `AmbiguousSendError` (it may have been delivered: never retry).
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr
from typing import Literal

import aiosmtplib

from assistant.mail.compose import message_bytes
from assistant.mail.ports import (
    AmbiguousSendError,
    PermanentSendError,
    SendError,
    SendReceipt,
    TransientSendError,
)

Security = Literal["none", "starttls", "tls"]


@dataclass(frozen=True)
class SmtpConfig:
    """Where and how to connect; `password` is never logged nor put in an error."""

    host: str
    port: int
    security: Security = "starttls"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 30.0
    rate_per_second: float | None = 5.0  # None or 0: unbounded (benchmarks)
    tls_context: ssl.SSLContext | None = None


def _code_error(
    exc: aiosmtplib.SMTPResponseException, what: str
) -> TransientSendError | PermanentSendError:
    text = f"{what}: {exc.code} {exc.message}".strip()
    if 400 <= exc.code < 500:
        return TransientSendError(text, exc.code)
    return PermanentSendError(text, exc.code)


def envelope(message: EmailMessage) -> tuple[str, list[str]]:
    """Return the envelope sender and recipients (To, Cc, Bcc) of `message`."""
    sender = parseaddr(str(message.get("Sender") or message.get("From") or ""))[1]
    fields = [str(v) for h in ("To", "Cc", "Bcc") for v in message.get_all(h, [])]
    recipients = [addr for _name, addr in getaddresses(fields) if addr]
    return sender, list(dict.fromkeys(recipients))


class SmtpConnection:
    """An open aiosmtplib session that reconnects lazily after a transient loss."""

    def __init__(self, config: SmtpConfig):
        self._config = config
        self._client: aiosmtplib.SMTP | None = None
        self._last_send = 0.0
        self._slot = False  # `pace` already waited for the next send

    async def open(self) -> None:
        """Connect, secure and log in (raises TransientSendError/PermanentSendError)."""
        cfg = self._config
        client = aiosmtplib.SMTP(
            hostname=cfg.host,
            port=cfg.port,
            timeout=cfg.timeout,
            use_tls=cfg.security == "tls",
            start_tls=cfg.security == "starttls",
            tls_context=cfg.tls_context,
        )
        try:
            await client.connect()
            if cfg.username:
                await client.login(cfg.username, cfg.password or "")
        except aiosmtplib.SMTPAuthenticationError as exc:
            raise PermanentSendError(
                f"SMTP login refused for user {cfg.username!r} on {cfg.host}:{cfg.port}: {exc.code}",
                exc.code,
            ) from None
        except aiosmtplib.SMTPResponseException as exc:
            await _quiet_close(client)
            raise _code_error(exc, f"SMTP server {cfg.host}:{cfg.port}") from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            await _quiet_close(client)
            raise TransientSendError(
                f"cannot connect to SMTP server {cfg.host}:{cfg.port}: {type(exc).__name__}: {exc}"
            ) from None
        self._client = client

    async def close(self) -> None:
        """Say QUIT and drop the connection."""
        if self._client is not None:
            client, self._client = self._client, None
            try:
                if client.is_connected:
                    await client.quit()
            except (aiosmtplib.SMTPException, OSError):
                client.close()

    async def pace(self) -> None:
        """Wait for the rate limit's next slot; the next `send` uses it without waiting."""
        rate = self._config.rate_per_second
        if not rate or self._slot:
            return
        wait = self._last_send + 1.0 / rate - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        self._last_send = time.monotonic()
        self._slot = True

    async def send(self, message: EmailMessage) -> SendReceipt:
        """Send `message`; raise Transient/Permanent/AmbiguousSendError on failure."""
        sender, recipients = envelope(message)
        if not recipients:
            raise PermanentSendError("the message has no recipient")
        data = message_bytes(message)
        await self.pace()
        self._slot = False
        if self._client is None or not self._client.is_connected:
            self._client = None
            await self.open()
        client = self._client
        assert client is not None
        try:
            await client.mail(sender)
        except aiosmtplib.SMTPResponseException as exc:
            await self._reset()
            raise _code_error(exc, "MAIL FROM refused") from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            await self._drop()
            raise TransientSendError(f"connection lost before sending: {exc}") from None
        accepted: list[str] = []
        refused: dict[str, str] = {}
        temporary: dict[str, str] = {}
        for rcpt in recipients:
            try:
                await client.rcpt(rcpt)
                accepted.append(rcpt)
            except aiosmtplib.SMTPResponseException as exc:
                target = temporary if 400 <= exc.code < 500 else refused
                target[rcpt] = f"{exc.code} {exc.message}"
            except (aiosmtplib.SMTPException, OSError) as exc:
                await self._drop()
                raise TransientSendError(f"connection lost before sending: {exc}") from None
        if not accepted:
            await self._reset()
            if temporary:
                first = next(iter(temporary.values()))
                raise TransientSendError(f"recipient(s) deferred: {first}", int(first[:3]))
            first = next(iter(refused.values()))
            raise PermanentSendError(f"recipient(s) refused: {first}", int(first[:3]), refused)
        if temporary:
            # Partial delivery now would split the thread; retry the whole message later.
            await self._reset()
            first = next(iter(temporary.values()))
            raise TransientSendError(f"recipient(s) deferred: {first}", int(first[:3]))
        try:
            response = await client.data(data)
        except aiosmtplib.SMTPResponseException as exc:
            await self._reset()
            raise _code_error(exc, "message refused") from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            await self._drop()
            raise AmbiguousSendError(
                f"connection lost while the message was in flight: {type(exc).__name__}: {exc}"
            ) from None
        return SendReceipt(
            accepted=tuple(accepted),
            refused=refused,
            response=f"{response.code} {response.message}",
        )

    async def _reset(self) -> None:
        try:
            if self._client is not None and self._client.is_connected:
                await self._client.rset()
        except (aiosmtplib.SMTPException, OSError):
            await self._drop()

    async def _drop(self) -> None:
        if self._client is not None:
            self._client.close()
        self._client = None


async def _quiet_close(client: aiosmtplib.SMTP) -> None:
    try:
        client.close()
    except Exception:  # noqa: BLE001 - already failing; keep the first error
        pass


class SmtpSender:
    """The `MailSender` for a real SMTP server."""

    def __init__(self, config: SmtpConfig):
        self.config = config

    def __repr__(self) -> str:  # never show the password
        c = self.config
        return f"SmtpSender({c.host}:{c.port}, {c.security}, user={c.username!r})"

    async def send_batch(self, messages: Iterable[EmailMessage]) -> list[SendReceipt | SendError]:
        """Send `messages` over one connection; return each one's receipt or error, in order.

        The outbox does not use this (it records each outcome before the next message);
        it serves scripts and benchmarks. An ambiguous failure stops the batch.
        """
        out: list[SendReceipt | SendError] = []
        async with self.connect() as conn:
            for message in messages:
                try:
                    out.append(await conn.send(message))
                except AmbiguousSendError as exc:
                    out.append(exc)
                    break
                except SendError as exc:
                    out.append(exc)
        return out

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[SmtpConnection]:
        """Open one session for a batch; it reconnects by itself after a transient loss."""
        conn = SmtpConnection(self.config)
        await conn.open()
        try:
            yield conn
        finally:
            await conn.close()
