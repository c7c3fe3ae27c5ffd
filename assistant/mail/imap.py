"""IMAP adapter (imapclient): the `Mailbox` of a real server.

The only module that imports imapclient. It fetches with BODY.PEEK[] (never marks mail read),
works in UID space, waits with IDLE when the server offers it and polls otherwise.
Every imapclient/socket failure surfaces as `MailboxError`; the password never appears in one.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from assistant.mail.ports import FetchedMessage, FolderStatus, MailboxError

Security = Literal["none", "starttls", "tls"]
IDLE_RENEW_SECONDS = 25 * 60  # RFC 2177: re-issue IDLE at least every 29 minutes


@dataclass(frozen=True)
class ImapConfig:
    """Where and how to connect; `password` is never logged nor put in an error."""

    host: str
    port: int
    security: Security = "tls"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 60.0
    poll_seconds: float = 60.0
    ssl_context: ssl.SSLContext | None = None


def _flags(flags: Sequence[str]) -> list[bytes]:
    return [f.encode() for f in flags]


class ImapMailbox:
    """A connected IMAP mailbox; connect lazily, one folder selected at a time."""

    def __init__(self, config: ImapConfig):
        self.config = config
        self._client: IMAPClient | None = None
        self._selected: str | None = None
        self._capabilities: tuple[bytes, ...] = ()

    def __repr__(self) -> str:  # never show the password
        c = self.config
        return f"ImapMailbox({c.host}:{c.port}, {c.security}, user={c.username!r})"

    # -- connection ------------------------------------------------------------------------
    def _connect(self) -> IMAPClient:
        cfg = self.config
        try:
            client = IMAPClient(
                cfg.host,
                port=cfg.port,
                ssl=cfg.security == "tls",
                ssl_context=cfg.ssl_context,
                timeout=cfg.timeout,
            )
            client.normalise_times = False  # keep INTERNALDATE's offset (tz-aware)
            if cfg.security == "starttls":
                client.starttls(cfg.ssl_context)
            if cfg.username:
                client.login(cfg.username, cfg.password or "")
            self._capabilities = tuple(client.capabilities())
        except IMAPClientError as exc:
            raise MailboxError(
                f"IMAP login failed for user {cfg.username!r} on {cfg.host}:{cfg.port}: "
                f"{_strip(exc)}"
            ) from None
        except OSError as exc:
            raise MailboxError(
                f"cannot connect to IMAP server {cfg.host}:{cfg.port}: {exc}"
            ) from None
        return client

    @property
    def client(self) -> IMAPClient:
        """Return the live client, connecting on first use."""
        if self._client is None:
            self._client = self._connect()
            self._selected = None
        return self._client

    def close(self) -> None:
        """Log out and drop the connection."""
        client, self._client, self._selected = self._client, None, None
        if client is not None:
            try:
                client.logout()
            except Exception:  # noqa: BLE001 - closing anyway
                try:
                    client.shutdown()
                except Exception:  # noqa: BLE001
                    pass

    def _call(self, what: str, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except (IMAPClientError, OSError) as exc:
            self._broken()
            raise MailboxError(f"IMAP {what} failed: {_strip(exc)}") from None

    def _broken(self) -> None:
        client, self._client, self._selected = self._client, None, None
        if client is not None:
            try:
                client.shutdown()
            except Exception:  # noqa: BLE001
                pass

    def _select(self, folder: str) -> dict[bytes, Any]:
        info = self._call(f"SELECT {folder!r}", lambda: self.client.select_folder(folder))
        self._selected = folder
        return info

    def _ensure_selected(self, folder: str) -> None:
        if self._selected != folder or self._client is None:
            self._select(folder)

    # -- Mailbox -----------------------------------------------------------------------------
    def folder_status(self, folder: str) -> FolderStatus:
        """Select `folder` (read-write) and return its UIDVALIDITY and counts."""
        info = self._select(folder)
        return FolderStatus(
            uidvalidity=int(info[b"UIDVALIDITY"]),
            uidnext=int(info[b"UIDNEXT"]) if b"UIDNEXT" in info else None,
            exists=int(info.get(b"EXISTS", 0)),
        )

    def uids_after(self, folder: str, last_uid: int) -> list[int]:
        """Return the UIDs greater than `last_uid`, ascending (`N:*` may echo the last one)."""
        self._ensure_selected(folder)
        uids = self._call("SEARCH", lambda: self.client.search(["UID", f"{last_uid + 1}:*"]))
        return sorted(int(u) for u in uids if int(u) > last_uid)

    def fetch(self, folder: str, uids: Sequence[int]) -> list[FetchedMessage]:
        """Fetch raw bytes of `uids` with BODY.PEEK[] (a vanished UID is skipped)."""
        if not uids:
            return []
        self._ensure_selected(folder)
        data = self._call(
            "FETCH", lambda: self.client.fetch(list(uids), ["BODY.PEEK[]", "INTERNALDATE"])
        )
        out = []
        for uid in uids:
            item = data.get(uid)
            body = item.get(b"BODY[]") if item else None
            if body is None:  # expunged meanwhile (another worker moved it): BODY[] NIL
                continue
            when = item.get(b"INTERNALDATE")
            out.append(
                FetchedMessage(
                    uid=uid,
                    raw=bytes(body),
                    internaldate=when if isinstance(when, datetime) else None,
                )
            )
        return out

    def append(
        self,
        folder: str,
        raw: bytes,
        *,
        flags: Sequence[str] = ("\\Seen",),
        when: datetime | None = None,
    ) -> None:
        """Store a copy of `raw` in `folder`."""
        self._call(
            f"APPEND to {folder!r}",
            lambda: self.client.append(folder, raw, flags=_flags(flags), msg_time=when),
        )

    def find_message_id(self, folder: str, message_id: str) -> list[int]:
        """Return the UIDs in `folder` whose Message-ID header contains `message_id`."""
        self._ensure_selected(folder)
        uids = self._call(
            "SEARCH HEADER", lambda: self.client.search(["HEADER", "Message-ID", message_id])
        )
        return sorted(int(u) for u in uids)

    def ensure_folder(self, folder: str) -> str:
        """Create `folder` if it does not exist; return its name."""
        if not self._call("LIST", lambda: self.client.folder_exists(folder)):
            self._call(f"CREATE {folder!r}", lambda: self.client.create_folder(folder))
            try:
                self.client.subscribe_folder(folder)
            except (IMAPClientError, OSError):
                pass  # subscription is a nicety for mail clients
        return folder

    def sent_folder(self, configured: str) -> str:
        """Return `configured` if it exists, else the special-use \\Sent folder, else create it."""
        if self._call("LIST", lambda: self.client.folder_exists(configured)):
            return configured
        special = None
        if b"SPECIAL-USE" in self._capabilities or b"XLIST" in self._capabilities:
            special = self._call(
                "LIST special-use", lambda: self.client.find_special_folder(b"\\Sent")
            )
        return special or self.ensure_folder(configured)

    def move(self, folder: str, uids: Sequence[int], target: str) -> None:
        """Move `uids` to `target` (MOVE, else COPY + \\Deleted + UID EXPUNGE)."""
        if not uids:
            return
        self._ensure_selected(folder)
        if b"MOVE" in self._capabilities:
            self._call(f"MOVE to {target!r}", lambda: self.client.move(list(uids), target))
            return
        self._call(f"COPY to {target!r}", lambda: self.client.copy(list(uids), target))
        self._call("STORE \\Deleted", lambda: self.client.delete_messages(list(uids)))
        if b"UIDPLUS" in self._capabilities:
            self._call("UID EXPUNGE", lambda: self.client.uid_expunge(list(uids)))

    def add_flags(self, folder: str, uids: Sequence[int], flags: Sequence[str]) -> None:
        """Add `flags` to `uids` in `folder`."""
        if not uids:
            return
        self._ensure_selected(folder)
        self._call("STORE", lambda: self.client.add_flags(list(uids), _flags(flags), silent=True))

    def wait_for_changes(
        self,
        folder: str,
        timeout: float,
        should_stop: Callable[[], bool] = lambda: False,
        after_uid: int | None = None,
    ) -> bool:
        """Wait in IDLE (or poll) until `folder` gets mail, `timeout` passes or `should_stop()`."""
        self._ensure_selected(folder)
        if after_uid is not None and self.uids_after(folder, after_uid):
            return True  # arrived between the last fetch and now
        deadline = time.monotonic() + timeout
        if b"IDLE" not in self._capabilities:
            while time.monotonic() < deadline and not should_stop():
                time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
            return True  # polling: always look
        client = self.client
        self._call("IDLE", client.idle)
        changed = False
        renew_at = time.monotonic() + IDLE_RENEW_SECONDS
        try:
            while not should_stop():
                now = time.monotonic()
                if now >= deadline:
                    break
                if now >= renew_at:
                    self._call("IDLE DONE", client.idle_done)
                    self._call("IDLE", client.idle)
                    renew_at = now + IDLE_RENEW_SECONDS
                wait = max(0.05, min(1.0, deadline - now))
                responses = self._idle_check(client, wait)
                if any(len(r) > 1 and r[1] in (b"EXISTS", b"RECENT") for r in responses):
                    changed = True
                    break
        finally:
            live = self._client  # None when the connection broke during IDLE
            if live is not None and live is client:
                self._call("IDLE DONE", live.idle_done)
        return changed

    def _idle_check(self, client: IMAPClient, wait: float) -> list[Any]:
        return list(self._call("IDLE check", lambda: client.idle_check(timeout=wait)))


def _strip(exc: BaseException) -> str:
    """Return a one-line error text (server replies never contain our password)."""
    text = str(exc)
    if isinstance(exc, bytes):
        text = exc.decode(errors="replace")
    return text.replace("\r", " ").replace("\n", " ")[:300]
