"""Sending chaos scenarios with real processes, shared by `tests/chaos` and `bench/chaos.py`.

Each scenario takes a `Rig` (a fresh database, a recording aiosmtpd, an IMAP account) and
returns an `Outcome`: letters delivered or drafted twice (duplicates), letters that should
exist or go out and did not (losses), and `unknown` drafts whose message never reached the
server (needless: the sender could have known). Loopback only; every wait is bounded.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import select

from assistant.bootstrap import App, build_app
from assistant.db.engine import session_scope
from assistant.db.models import Draft
from assistant.mail import build_mailbox, build_sender
from assistant.services.cycle import run_cycle
from assistant.services.editing import edit_draft
from assistant.services.outbox import send_outbox
from tests.integration.mailworld import NOW, SLUG, add_draft, parse, seed_case
from tests.integration.servers import ImapAccount, SmtpServer, mail_settings

ROOT = Path(__file__).resolve().parents[2]
CHILD = ROOT / "tests" / "integration" / "crash_sender.py"
TIMEOUT = 120.0  # bound on any child process


@dataclass
class Rig:
    """What a scenario runs against."""

    db_url: str
    smtp: SmtpServer
    imap: ImapAccount | None
    workdir: Path

    def app(self, **settings: object) -> App:
        """Build an App on the rig's database and servers."""
        return build_app(
            mail_settings(self.db_url, self.smtp, self.imap, **settings), actor="chaos"
        )


@dataclass(frozen=True)
class Outcome:
    """What went wrong in one run (all zero when the guarantees held)."""

    duplicates: int = 0
    losses: int = 0
    needless_unknown: int = 0
    detail: str = ""
    stranger_changes: int = 0  # case changes made by mail from someone else (inbound)


def seed(app: App, n: int, *, approve: bool) -> list[int]:
    """Add `n` debtors with one overdue invoice; with `approve`, an approved letter each."""
    ids = []
    for i in range(n):
        case = seed_case(
            app,
            f"K{i:04d}",
            f"Client {i} SARL",
            f"compta{i}@client{i}.example",
            [(f"FA-{i:04d}", 12, 10000 + i)],
            f"REF-K{i:04d}",
        )
        ids.append(add_draft(app, case) if approve else case.case_id)
    return ids


def _env(app: App) -> dict[str, str]:
    s = app.settings
    env = dict(os.environ)
    env.update(
        RELANCE_DATABASE_URL=s.database_url,
        RELANCE_POLICIES_DIR=str(s.policies_dir),
        RELANCE_TEMPLATES_DIR=str(s.templates_dir),
    )
    return env


def _sender_input(app: App, **extra: object) -> str:
    values = json.loads(app.settings.model_dump_json(exclude={"smtp_password", "openai_api_key"}))
    if app.settings.imap_password is not None:
        values["imap_password"] = app.settings.imap_password.get_secret_value()
    values = {k: v for k, v in values.items() if v is not None and k != "openai_base_url"}
    values.update(extra, now=NOW.isoformat())
    return json.dumps(values)


def start_sender(app: App, rig: Rig, **extra: object) -> subprocess.Popen[str]:
    """Start the real outbox (`send_outbox`, as `relance send --yes`) in a child process."""
    proc = subprocess.Popen(
        [sys.executable, str(CHILD), "never"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=rig.workdir,
    )
    assert proc.stdin is not None
    proc.stdin.write(_sender_input(app, **extra))  # on stdin: passwords stay out of `ps`
    proc.stdin.close()
    proc.stdin = None  # written and closed: `communicate` must not touch it
    return proc


def _finish(proc: subprocess.Popen[str]) -> tuple[int, str]:
    try:
        out, err = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    return proc.returncode, out + err


def _deliveries(rig: Rig) -> Counter[str]:
    """Count the messages the SMTP server accepted, by Message-ID."""
    return Counter(str(parse(m.data)["Message-ID"]).strip("<> ") for m in rig.smtp.messages)


def _drafts(app: App) -> list[Draft]:
    with session_scope(app.engine) as s:
        return list(s.exec(select(Draft).order_by(Draft.id)).all())


async def _send_rest(app: App) -> None:
    """Finish the outbox in this process (recovery included), as the next run would."""
    mailbox = build_mailbox(app.settings) if app.settings.imap_host else None
    try:
        await send_outbox(app, build_sender(app.settings, rate_per_second=0), mailbox, NOW)
    finally:
        if mailbox is not None:
            mailbox.close()


def _delivery_outcome(app: App, rig: Rig, ids: list[int], detail: str) -> Outcome:
    seen = _deliveries(rig)
    drafts = {d.id: d for d in _drafts(app)}
    duplicates = sum(n - 1 for n in seen.values() if n > 1)
    losses = needless = 0
    for draft_id in ids:
        d = drafts[draft_id]
        delivered = bool(d.message_id and seen[d.message_id])
        if d.status == "sent" and not delivered:
            losses += 1
        elif d.status == "unknown" and not delivered:
            needless += 1
        elif d.status not in ("sent", "unknown"):
            losses += 1
    return Outcome(duplicates, losses, needless, detail)


# -- scenarios ----------------------------------------------------------------------------------
async def two_cycles(rig: Rig, n: int = 30) -> Outcome:
    """Two `relance cycle` processes at once: every due letter drafted exactly once."""
    app = rig.app()
    try:
        cases = seed(app, n, approve=False)
        cmd = [
            sys.executable,
            "-m",
            "assistant.cli.main",
            "cycle",
            "--date",
            NOW.date().isoformat(),
        ]
        procs = [
            subprocess.Popen(
                [*cmd, "--creditor", SLUG, "--json"],
                cwd=rig.workdir,
                env=_env(app),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        results = [_finish(p) for p in procs]
        per_case = Counter(d.case_id for d in _drafts(app) if d.kind == "step")
        duplicates = sum(c - 1 for c in per_case.values() if c > 1)
        losses = sum(1 for c in cases if per_case[c] == 0)
        failed = [out for code, out in results if code != 0]
        return Outcome(duplicates, losses + len(failed), 0, "; ".join(failed)[:500])
    finally:
        app.close()


async def two_senders(rig: Rig, n: int = 20) -> Outcome:
    """Approve, then two senders at once: every debtor gets each letter once."""
    app = rig.app()
    try:
        ids = seed(app, n, approve=True)
        procs = [start_sender(app, rig) for _ in range(2)]
        results = [_finish(p) for p in procs]
        await _send_rest(app)  # a sender refused by the lease leaves nothing behind
        detail = "; ".join(out[-300:] for code, out in results if code != 0)
        return _delivery_outcome(app, rig, ids, detail)
    finally:
        app.close()


async def kill_during_send(rig: Rig, n: int = 6, kill_after: int = 2) -> Outcome:
    """SIGKILL a paced sender right after the server took `kill_after` messages."""
    app = rig.app()
    try:
        ids = seed(app, n, approve=True)
        proc = start_sender(app, rig, smtp_rate_per_second=2.0)
        deadline = time.monotonic() + TIMEOUT
        while len(rig.smtp.messages) < kill_after and proc.poll() is None:
            if time.monotonic() > deadline:
                break
            time.sleep(0.005)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        _finish(proc)
        await _send_rest(app)
        return _delivery_outcome(app, rig, ids, f"killed after {len(rig.smtp.messages)} sent")
    finally:
        app.close()


async def edit_vs_send(rig: Rig, n: int = 5) -> Outcome:
    """Officers edit (slow re-validation) while the outbox sends: no sent draft with other text,
    no sent draft back to pending."""
    app = rig.app()
    try:
        for i in range(n):
            seed_case(
                app,
                f"E{i:03d}",
                f"Edit {i} SARL",
                f"e{i}@edit{i}.example",
                [(f"FE-{i:03d}", 12, 20000 + i)],
                f"REF-E{i:03d}",
            )
        ids = run_cycle(app, NOW.date(), creditor=SLUG).draft_ids
        with session_scope(app.engine) as s:
            from assistant.services.approval import approve_draft

            for draft_id in ids:
                approve_draft(s, draft_id, "alice", app.policies, app.settings.smtp_from)
        started = threading.Barrier(len(ids) + 1, timeout=TIMEOUT)
        go = threading.Event()

        def slow_edit(draft_id: int) -> None:
            def hold() -> None:
                started.wait()
                go.wait(TIMEOUT)

            try:
                with session_scope(app.engine) as s:
                    d = s.get(Draft, draft_id)
                    assert d is not None
                    edit_draft(
                        s,
                        draft_id,
                        "bob",
                        app.policies,
                        d.subject,
                        d.body_text + "\nP.S.",
                        NOW.date(),
                        checked=hold,
                    )
            except Exception:  # noqa: BLE001, S110 - losing the race is the expected outcome
                pass

        threads = [threading.Thread(target=slow_edit, args=(i,)) for i in ids]
        for t in threads:
            t.start()
        started.wait()
        await _send_rest(app)
        go.set()
        for t in threads:
            t.join(TIMEOUT)
        sent_text = {
            str(parse(m.data)["Message-ID"]).strip("<> "): parse(m.data).get_body(("plain",))
            for m in rig.smtp.messages
        }
        outcome = _delivery_outcome(app, rig, ids, "")
        wrong = sum(
            1
            for d in _drafts(app)
            if d.status == "sent" and (d.message_id not in sent_text or "P.S." in d.body_text)
        )
        back = sum(1 for d in _drafts(app) if d.id in ids and d.status == "pending")
        return Outcome(outcome.duplicates + back, outcome.losses + wrong, outcome.needless_unknown)
    finally:
        app.close()
