"""Inbound chaos scenarios, reusable by the tests and by a long-running bench.

Each scenario takes a database URL (empty), a fresh IMAP account on a running Dovecot (an
object with host, port, username, password and `client()`, like
`tests.integration.servers.ImapAccount`) and a scratch folder, runs real fetches against
real servers and returns an `Outcome`: how many runs, and how many duplicates, losses and
case changes by a stranger it saw. All three must be 0.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from sqlmodel import Session, select

from assistant.bootstrap import reply_handler
from assistant.db.engine import session_scope
from assistant.db.mail_models import InboundMessage
from assistant.services.inbound_triage import attach_inbound
from tests.chaos.inbound_world import (
    SLUGS,
    Imap,
    Letter,
    Outcome,
    append,
    counts,
    dsn,
    fetch,
    fetch_env,
    fetched_count,
    inbox_outcome,
    make_app,
    message,
    promise_reply,
    seed_letters,
    snapshot,
    triaged,
)

__all__ = ["SCENARIOS", "Imap", "Letter", "Outcome", "promise_reply", "seed_letters"]


def two_fetches(
    db_url: str, imap: Imap, workdir: Path, *, replies: int = 150, lease: bool = True
) -> Outcome:
    """Two fetches at once in two processes on `replies` debtor replies.

    `lease` True: two real `relance fetch --wait` commands (the lease serialises them).
    False: two fetches with the lease bypassed, racing on every message: only the database
    (unique bytes, compare-and-set claims) keeps each reply stored once and applied once.
    """
    app = make_app(db_url, imap)
    try:
        letters = seed_letters(app, replies)
        append(imap, [promise_reply(letter) for letter in letters])
        if lease:
            command = [sys.executable, "-m", "assistant.cli.main", "fetch", "--json"]
            command += ["--wait", "600"]
        else:
            command = [sys.executable, "-m", "tests.chaos.fetch_without_lease"]
        env = fetch_env(app, imap)
        procs = [
            subprocess.Popen(
                command, cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
            for _ in range(2)
        ]
        results = [(p.wait(timeout=900), *p.communicate()) for p in procs]
        return inbox_outcome(
            f"two fetches at once ({'lease' if lease else 'lease bypassed'}, {replies} replies)",
            app,
            replies,
            exit_codes=[r[0] for r in results],
            fetched=[fetched_count(r[1]) for r in results],
            stderr=[r[2].decode(errors="replace")[-2000:] for r in results],
        )
    finally:
        app.close()


def fetch_killed(db_url: str, imap: Imap, workdir: Path, *, replies: int = 150) -> Outcome:
    """`relance fetch` killed (SIGKILL) mid-way, then run again: every reply once."""
    app = make_app(db_url, imap)
    try:
        letters = seed_letters(app, replies)
        append(imap, [promise_reply(letter) for letter in letters])
        command = [sys.executable, "-m", "assistant.cli.main", "fetch", "--json"]
        proc = subprocess.Popen(
            command,
            cwd=workdir,
            env=fetch_env(app, imap),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 300
        while counts(app)["analysed"] < replies // 3 and proc.poll() is None:
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)  # polling a condition, bounded by the deadline
        proc.kill()
        proc.wait(timeout=60)
        at_kill = counts(app)
        fetch(app, wait=60)
        return inbox_outcome(
            f"fetch killed mid-way, then run again ({replies} replies)",
            app,
            replies,
            at_kill=at_kill,
        )
    finally:
        app.close()


def stranger_mail(db_url: str, imap: Imap, workdir: Path) -> Outcome:
    """Strangers (and a debtor of another creditor) write about cases that are not theirs."""
    app = make_app(db_url, imap)
    try:
        [x] = seed_letters(app, 1, SLUGS[0], "X")
        [y] = seed_letters(app, 1, SLUGS[1], "Y")
        stranger = "inconnu@tiers.example"
        insolvency = "Nous sommes en redressement judiciaire depuis le 2 novembre."
        append(imap, [
            message(stranger, "Facture contestée",
                    f"Nous contestons la facture {x.invoice}, jamais livrée.", msgid="s1@tiers"),
            message(stranger, f"Procédure collective [{y.ref}]", insolvency, msgid="s2@tiers"),
            message(x.email, f"Procédure [{y.ref}]", insolvency, msgid="s3@x"),
            message(stranger, "RE: Relance", f"Nous contestons la facture {y.invoice}.",
                    msgid="s4@tiers", in_reply_to=y.message_id),
            message(x.email, f"RE: Relance [{y.ref}]", "Nous contestons tout.",
                    msgid="s5@x", in_reply_to=x.message_id),
        ])  # fmt: skip
        before = snapshot(app)
        report = fetch(app)
        after = snapshot(app)
        triage = triaged(app)
        changes = sum(1 for k in before if before[k] != after[k])
        losses = 5 - sum(1 for status, _, why in triage.values() if status == "unmatched" and why)
        # an officer attaches the first one to its case: now it applies (a dispute hand-off)
        with session_scope(app.engine) as s:
            first = s.exec(
                select(InboundMessage).where(InboundMessage.message_id == "s1@tiers")
            ).one()
            attached = attach_inbound(s, first.id or 0, x.ref, "alice", reply_handler(app))
        return Outcome(
            "stranger's mail (invoice number, other creditor's token, forged In-Reply-To)",
            stranger_changes=changes,
            losses=max(losses, 0),
            details={"triage": triage, "report": report.as_dict(), "attached": attached,
                     "after_attach": snapshot(app)},
        )  # fmt: skip
    finally:
        app.close()


def forged_bounce(db_url: str, imap: Imap, workdir: Path) -> Outcome:
    """Forged bounces (plain notice, unknown Message-ID, another debtor's letter) then a real one."""
    app = make_app(db_url, imap)
    try:
        x, other = seed_letters(app, 2, SLUGS[0], "B")
        plain = message(
            "MAILER-DAEMON@evil.example", "Undelivered Mail Returned to Sender",
            f"Delivery to the following recipient failed permanently:\n\n    {x.email}\n",
            msgid="forged-plain@evil.example",
        )  # fmt: skip
        append(imap, [
            plain,
            dsn(x.email, "never-sent@recouvra.example", host="evil.example"),
            dsn(x.email, other.message_id, host="evil.example"),
        ])  # fmt: skip
        before = snapshot(app)
        fetch(app)
        forged_changes = sum(1 for k in before if before[k] != snapshot(app)[k])
        kept = sum(1 for status, _, why in triaged(app).values() if status == "unmatched" and why)
        append(imap, [dsn(x.email, x.message_id)])
        real = fetch(app)
        return Outcome(
            "forged bounces",
            stranger_changes=forged_changes,
            losses=(3 - kept) + (real.invalidated != [x.email]),
            details={"triage": triaged(app), "real_bounce": real.as_dict()},
        )
    finally:
        app.close()


def same_message_id(db_url: str, imap: Imap, workdir: Path) -> Outcome:
    """Two different messages with one Message-ID: both stored; the second waits for an officer."""
    app = make_app(db_url, imap)
    try:
        [x] = seed_letters(app, 1, SLUGS[0], "M")
        first = promise_reply(x)
        second = message(
            x.email, f"RE: Relance [{x.ref}]",
            "Nous vous informons de l'ouverture d'une procédure de redressement judiciaire.",
            msgid=f"reply-{x.message_id}", in_reply_to=x.message_id,
        )  # fmt: skip
        append(imap, [first, second])
        fetch(app)
        with Session(app.engine) as s:
            rows = s.exec(select(InboundMessage).order_by(InboundMessage.id)).all()
        stored = len(rows)
        waiting = [r for r in rows if r.status == "unmatched"]
        attached = ""
        if waiting:
            with session_scope(app.engine) as s:
                attached = attach_inbound(s, waiting[0].id or 0, x.ref, "alice", reply_handler(app))
        after = snapshot(app)
        return Outcome(
            "two messages with one Message-ID",
            losses=(2 - stored) + (len(waiting) != 1),
            details={"statuses": [r.status for r in rows], "reasons": [r.triage_reason for r in rows],
                     "attached": attached, "after_attach": after},
        )  # fmt: skip
    finally:
        app.close()


SCENARIOS = {
    "two_fetches": two_fetches,
    "stranger_mail": stranger_mail,
    "forged_bounce": forged_bounce,
    "same_message_id": same_message_id,
    "fetch_killed": fetch_killed,
}
