"""Real mail servers as pytest fixtures: a private Dovecot (IMAP) and aiosmtpd (SMTP).

Imported by `tests/integration/conftest.py` and by the mail end-to-end test.

Dovecot starts once per session (it needs 1-3 s to stop); each test gets its own IMAP user,
so each test has a fresh mailbox. The SMTP server is per test and records what it accepts.
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from imapclient import IMAPClient

from assistant.bootstrap import App, build_app
from assistant.config import Settings
from tests.integration.dovecot import DovecotServer, free_port, start_dovecot

ROOT = Path(__file__).resolve().parents[2]
_users = itertools.count(1)


@pytest.fixture(scope="session")
def dovecot() -> Iterator[DovecotServer]:
    """Run one unprivileged Dovecot for the session; fail loudly when it is not installed."""
    # Not under pytest's tmp dir: it is 0700 when run as root, and Dovecot's unprivileged
    # processes must traverse every parent of the maildir and passwd file.
    base = Path(tempfile.mkdtemp(prefix="relance-dovecot-"))
    try:
        server = start_dovecot(base)
    except RuntimeError as exc:
        shutil.rmtree(base, ignore_errors=True)
        pytest.fail(str(exc), pytrace=False)
    yield server
    server.stop()
    shutil.rmtree(base, ignore_errors=True)


@dataclass(frozen=True)
class ImapAccount:
    """A fresh IMAP user on the test Dovecot."""

    host: str
    port: int
    username: str
    password: str

    def client(self) -> IMAPClient:
        """Return a logged-in IMAPClient (plain loopback: ssl=False)."""
        c = IMAPClient(self.host, port=self.port, ssl=False, timeout=10)
        c.login(self.username, self.password)
        return c


@pytest.fixture
def imap_account(dovecot: DovecotServer) -> ImapAccount:
    """Return a user of the running Dovecot whose mailbox no other test touched."""
    name = f"user{next(_users)}"
    password = f"pw-{name}"
    return ImapAccount(dovecot.host, dovecot.port, name, password)


@dataclass
class Received:
    """One message the test SMTP server accepted."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes


@dataclass
class RecordingHandler:
    """aiosmtpd handler: records messages; can refuse recipients or fail DATA on demand."""

    messages: list[Received] = field(default_factory=list)
    refuse_rcpt: dict[str, str] = field(default_factory=dict)  # address -> "550 ..." reply
    data_replies: list[str] = field(default_factory=list)  # replies used before accepting

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        reply = self.refuse_rcpt.get(address.lower())
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.data_replies:
            return self.data_replies.pop(0)
        self.messages.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content)
        )
        return "250 2.0.0 Message accepted for delivery"


@dataclass
class SmtpServer:
    """The running aiosmtpd server."""

    host: str
    port: int
    handler: RecordingHandler

    @property
    def messages(self) -> list[Received]:
        """Return what the server accepted so far."""
        return self.handler.messages


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """Run an aiosmtpd server on loopback for one test."""
    handler = RecordingHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", port, handler)
    finally:
        controller.stop()


def mail_settings(
    db_url: str, smtp: SmtpServer | None, imap: ImapAccount | None, **extra
) -> Settings:
    """Return Settings pointing at the test database and mail servers."""
    values: dict = {
        "database_url": db_url,
        "policies_dir": ROOT / "policies",
        "templates_dir": ROOT / "templates",
        "smtp_from": "recouvrement@recouvra.example",
        "reply_to": "recouvrement+{token}@recouvra.example",
        "smtp_rate_per_second": 0,
    }
    if smtp is not None:
        values.update(smtp_host=smtp.host, smtp_port=smtp.port, smtp_security="none")
    if imap is not None:
        values.update(
            imap_host=imap.host,
            imap_port=imap.port,
            imap_security="none",
            imap_username=imap.username,
            imap_password=imap.password,
            imap_processed_folder="Processed",
            imap_sent_folder="Sent",
        )
    values.update(extra)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def mail_app(db_url: str, smtp_server: SmtpServer, imap_account: ImapAccount) -> Iterator[App]:
    """An App wired to the test database, aiosmtpd and Dovecot."""
    app = build_app(mail_settings(db_url, smtp_server, imap_account), actor="tester")
    yield app
    app.close()


TODAY = date(2026, 11, 26)  # a Thursday, not a public holiday in France
