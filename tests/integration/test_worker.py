"""The worker against Dovecot and aiosmtpd: cycle once a day, IDLE inbox, outbox, clean stop."""

from __future__ import annotations

import asyncio
import queue
import threading
import time

import pytest
from sqlmodel import select

from assistant.db.engine import session_scope
from assistant.db.mail_models import InboundMessage
from assistant.mail import build_mailbox, build_sender
from assistant.services.worker import WorkerStats, run_worker
from tests.integration.mailworld import NOW, add_draft, get_draft, seed_case
from tests.integration.test_inbox import mail

pytestmark = pytest.mark.integration


def inbound_count(app) -> int:
    with session_scope(app.engine) as s:
        return len(s.exec(select(InboundMessage)).all())


def first_line_with(stream, text: str, timeout: float) -> str:
    """Return the first line of `stream` containing `text`, read in a thread (bounded)."""
    found: queue.Queue[str] = queue.Queue()

    def read() -> None:
        for line in stream:
            if text in line:
                found.put(line)
                return
        found.put("")

    threading.Thread(target=read, daemon=True).start()
    try:
        return found.get(timeout=timeout)
    except queue.Empty:
        return ""


async def wait_until(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def test_worker_runs_the_loop_wakes_on_idle_and_stops_cleanly(
    mail_app, smtp_server, imap_account
):
    mail_app.settings = mail_app.settings.model_copy(update={"imap_poll_seconds": 60})
    case = seed_case(
        mail_app,
        "C001",
        "Boulangerie Martin SARL",
        "compta@boulangerie-martin.fr",
        [("FA-2026-0101", 12, 125000)],
        "REF-7Q2K",
    )
    draft_id = add_draft(mail_app, case)
    client = imap_account.client()
    client.append("INBOX", mail("compta@boulangerie-martin.fr", "Paiement", "Payé hier."))
    cycles = []

    def fake_cycle(app, on, creditor=None):
        cycles.append((creditor, on))

    def start(stop, stats=None):
        return asyncio.create_task(
            run_worker(
                mail_app,
                sender=build_sender(mail_app.settings),
                mailbox_factory=lambda: build_mailbox(mail_app.settings),
                stop=stop,
                clock=lambda: NOW,
                cycle=fake_cycle,
                tick=0.1,
                outbox_every=0.1,
                stats=stats,
            )
        )

    stop = asyncio.Event()
    worker = start(stop)
    await wait_until(
        lambda: len(smtp_server.messages) == 1 and inbound_count(mail_app) == 1 and cycles
    )
    # a reply arriving now wakes the IDLE wait well before the 60 s poll
    client.append("INBOX", mail("compta@boulangerie-martin.fr", "Re: Paiement", "Virement parti."))
    await wait_until(lambda: inbound_count(mail_app) == 2, timeout=5)
    stop.set()
    stats = await asyncio.wait_for(worker, timeout=10)

    assert sorted(cycles) == sorted((slug, NOW.date()) for slug in mail_app.policies)
    assert stats.cycles == cycles
    assert get_draft(mail_app, draft_id).status == "sent" and stats.errors == []

    # a restart the same day neither re-runs the cycle nor resends anything
    stop = asyncio.Event()
    restarted = WorkerStats()
    worker = start(stop, restarted)
    # two full rounds of each loop: the cycle was due-checked and the outbox looked twice
    await wait_until(lambda: restarted.rounds["cycle"] >= 2 and restarted.rounds["outbox"] >= 2)
    stop.set()
    stats = await asyncio.wait_for(worker, timeout=10)
    client.logout()
    assert (
        stats.cycles == []
        and len(cycles) == len(mail_app.policies)
        and len(smtp_server.messages) == 1
    )


def test_relance_worker_stops_cleanly_on_sigterm(mail_app, smtp_server, imap_account, tmp_path):
    """The real command in a child process: SIGTERM → clean exit, status 0."""
    import os
    import signal
    import subprocess
    import sys

    s = mail_app.settings
    env = dict(os.environ)
    env.update(
        {
            "RELANCE_DATABASE_URL": s.database_url,
            "RELANCE_POLICIES_DIR": str(s.policies_dir),
            "RELANCE_TEMPLATES_DIR": str(s.templates_dir),
            "RELANCE_SMTP_HOST": s.smtp_host,
            "RELANCE_SMTP_PORT": str(s.smtp_port),
            "RELANCE_SMTP_SECURITY": "none",
            "RELANCE_SMTP_FROM": s.smtp_from,
            "RELANCE_IMAP_HOST": s.imap_host,
            "RELANCE_IMAP_PORT": str(s.imap_port),
            "RELANCE_IMAP_SECURITY": "none",
            "RELANCE_IMAP_USERNAME": s.imap_username,
            "RELANCE_IMAP_PASSWORD": s.imap_password.get_secret_value(),
        }
    )
    code = (
        "import typer\n"
        "from assistant.cli.mail import worker_command\n"
        "app = typer.Typer()\n"
        "app.command()(worker_command)\n"
        "app()\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert "started" in proc.stdout.readline()
        # its loops run (and the signal handlers are in place) once it logs this line
        assert "worker running" in first_line_with(proc.stderr, "worker running", timeout=20)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "stopped cleanly" in out
    assert s.imap_password.get_secret_value() not in out + err
