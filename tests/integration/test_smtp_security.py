"""The SMTP adapter's three security modes against aiosmtpd (STARTTLS and implicit TLS with a
throw-away certificate), and its typed errors. Skipped only when `openssl` is missing."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from assistant.db.models import Draft
from assistant.mail.compose import SenderIdentity, compose_message
from assistant.mail.ports import PermanentSendError, SendReceipt, TransientSendError
from assistant.mail.smtp import SmtpConfig, SmtpSender
from tests.integration.dovecot import free_port
from tests.integration.servers import RecordingHandler

pytestmark = pytest.mark.integration

ME = SenderIdentity("Cabinet Recouvra", "recouvrement@recouvra.example")


def message(i: int = 1):
    d = Draft(
        id=i,
        case_id=1,
        step="reminder_1",
        subject="Relance",
        body_text="Bonjour",
        body_html="<p>Bonjour</p>",
        message_id=f"t{i}@recouvra.example",
    )
    return compose_message(
        d,
        sender=ME,
        to=["compta@client.fr"],
        case_ref="REF-7Q2K",
        date=datetime(2026, 11, 26, 9, tzinfo=UTC),
    )


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    base = tmp_path_factory.mktemp("tls")
    cert, key = base / "cert.pem", base / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    return ctx


@pytest.mark.parametrize("security", ["starttls", "tls"])
async def test_starttls_and_implicit_tls_deliver_with_a_verified_certificate(certificate, security):
    cert, key = certificate
    handler = RecordingHandler()
    port = free_port()
    kwargs = (
        {"tls_context": server_context(cert, key), "require_starttls": True}
        if security == "starttls"
        else {"ssl_context": server_context(cert, key)}
    )
    controller = Controller(handler, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        client_ctx = ssl.create_default_context(cafile=str(cert))
        sender = SmtpSender(
            SmtpConfig(
                "127.0.0.1", port, security=security, rate_per_second=0, tls_context=client_ctx
            )
        )
        [receipt] = await sender.send_batch([message()])
    finally:
        controller.stop()
    assert isinstance(receipt, SendReceipt) and receipt.accepted == ("compta@client.fr",)
    assert len(handler.messages) == 1


async def test_an_untrusted_certificate_is_refused(certificate):
    cert, key = certificate
    port = free_port()
    controller = Controller(
        RecordingHandler(), hostname="127.0.0.1", port=port, ssl_context=server_context(cert, key)
    )
    controller.start()
    try:
        sender = SmtpSender(SmtpConfig("127.0.0.1", port, security="tls", rate_per_second=0))
        with pytest.raises(TransientSendError, match="cannot connect"):
            async with sender.connect():
                pass
    finally:
        controller.stop()


async def test_typed_errors_and_one_connection_for_a_batch(smtp_server):
    smtp_server.handler.refuse_rcpt["compta@client.fr"] = "550 5.1.1 unknown user"
    sender = SmtpSender(
        SmtpConfig(smtp_server.host, smtp_server.port, security="none", rate_per_second=0)
    )
    results = await sender.send_batch([message(1), message(2)])
    assert all(isinstance(r, PermanentSendError) for r in results)
    assert results[0].refused == {"compta@client.fr": "550 5.1.1 unknown user"}
    smtp_server.handler.refuse_rcpt.clear()
    smtp_server.handler.data_replies = ["452 4.3.1 Insufficient system storage"]
    results = await sender.send_batch([message(3), message(4)])
    assert isinstance(results[0], TransientSendError) and results[0].code == 452
    assert isinstance(results[1], SendReceipt) and len(smtp_server.messages) == 1
