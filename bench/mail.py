"""Benchmark: send 1,000 messages to a local aiosmtpd server, ingest 1,000 from Dovecot.

    python bench/mail.py [--messages 1000] [--database-url URL] [--json]

Starts its own servers on loopback (aiosmtpd in-process, an unprivileged Dovecot like the
tests: `apt-get install dovecot-imapd`) and a temp SQLite database (or `--database-url`).
Prints messages per second for:
  * smtp adapter — composed messages over one reused connection (no database);
  * outbox       — the real `send_outbox`: re-check, claim (`sending`, committed), SMTP,
                   APPEND of the copy to the IMAP Sent folder, mark sent, audit;
  * inbox        — the real `ingest_inbox` over messages APPENDed first: FETCH BODY.PEEK[]
                   in batches, raw stored first, parse, match, reply extraction, MOVE.
The rate limit (RELANCE_SMTP_RATE_PER_SECOND) is off here: it measures the machinery.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import shutil
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiosmtpd.controller import Controller  # noqa: E402
from imapclient import IMAPClient  # noqa: E402

from assistant.bootstrap import build_app  # noqa: E402
from assistant.config import Settings  # noqa: E402
from assistant.db.engine import session_scope  # noqa: E402
from assistant.db.models import Case, Contact, Debtor, Draft, Invoice  # noqa: E402
from assistant.mail import build_mailbox, build_sender  # noqa: E402
from assistant.mail.compose import SenderIdentity, compose_message  # noqa: E402
from assistant.services.approval import approve_draft  # noqa: E402
from assistant.services.inbox import ingest_inbox  # noqa: E402
from assistant.services.outbox import send_outbox  # noqa: E402
from assistant.services.portfolio import ensure_creditor  # noqa: E402
from assistant.services.tokens import ALPHABET  # noqa: E402
from tests.integration.dovecot import DovecotServer, free_port, start_dovecot  # noqa: E402

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)  # Thursday 10:00 in Paris
SLUG = "atelier-bois"


class Counter:
    """aiosmtpd handler that only counts."""

    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.count += 1
        return "250 OK"


def ref(i: int) -> str:
    """Return a valid, unique case token for debtor `i` (base-32 in the token alphabet)."""
    digits = "".join(ALPHABET[(i >> (5 * k)) & 31] for k in range(4))
    return f"REF-{digits}"


def seed(app, n: int) -> list[int]:
    """Add `n` debtors with one case, one invoice and one approved draft each."""
    with session_scope(app.engine) as s:
        creditor = ensure_creditor(s, app.policies[SLUG])
        ids = []
        for i in range(n):
            d = Debtor(creditor_id=creditor.id, account_ref=f"B{i:05d}", legal_name=f"Client {i}")
            s.add(d)
            s.flush()
            s.add(Contact(debtor_id=d.id, email=f"compta@client{i}.example"))
            s.add(
                Invoice(
                    creditor_id=creditor.id,
                    debtor_id=d.id,
                    number=f"FB-{i:05d}",
                    due_date=date(2026, 10, 1),
                    amount_cents=120000,
                    outstanding_cents=120000,
                )
            )
            c = Case(ref=ref(i), creditor_id=creditor.id, debtor_id=d.id)
            s.add(c)
            s.flush()
            draft = Draft(
                case_id=c.id,
                step="reminder_1",
                subject=f"Relance — facture FB-{i:05d} [{c.ref}]",
                body_text=f"Madame, Monsieur,\n\nSauf erreur, la facture FB-{i:05d} reste "
                "impayée.\n\nCordialement,\nCabinet Recouvra",
                body_html="<p>Madame, Monsieur,</p><p>Sauf erreur, la facture reste impayée.</p>",
                facts={"invoices": [{"number": f"FB-{i:05d}", "outstanding": "1200.00"}]},
                created_at=NOW - timedelta(hours=1),
            )
            s.add(draft)
            s.flush()
            ids.append(draft.id)
    with session_scope(app.engine) as s:
        for draft_id in ids:
            approve_draft(s, draft_id, "bench", app.policies, app.settings.smtp_from)
    return ids


def reply(i: int, message_id: str | None) -> bytes:
    """A debtor reply: threaded, token-only, sender-only or unmatched, in turn."""
    m = EmailMessage()
    kind = i % 4
    m["From"] = f"compta@client{i}.example" if kind != 3 else f"someone{i}@gmail.com"
    m["To"] = "recouvrement@recouvra.example"
    m["Subject"] = f"RE: Relance [{ref(i)}]" if kind == 1 else "RE: Relance"
    m["Date"] = format_datetime(NOW)
    m["Message-ID"] = make_msgid(domain=f"client{i}.example")
    if kind == 0 and message_id:
        m["In-Reply-To"] = m["References"] = f"<{message_id}>"
    m.set_content(
        "Bonjour,\n\nNous réglerons la facture la semaine prochaine.\n\nCordialement,\nLa compta\n\n"
        "Le jeu. 26 nov. 2026 à 10:00, Cabinet Recouvra a écrit :\n> Madame, Monsieur,\n"
        "> Sauf erreur, la facture reste impayée.\n"
    )
    return bytes(m)


def adapter_messages(n: int) -> list[EmailMessage]:
    """Compose `n` small letters to distinct recipients (no database)."""
    me = SenderIdentity("Cabinet Recouvra", "recouvrement@recouvra.example")
    messages = []
    for i in range(n):
        d = Draft(
            id=i,
            case_id=1,
            step="reminder_1",
            subject="Relance",
            body_text="Bonjour",
            body_html="<p>Bonjour</p>",
            message_id=f"bench-{i}@recouvra.example",
        )
        messages.append(
            compose_message(
                d, sender=me, to=[f"x{i}@client.example"], case_ref="REF-AAAA", date=NOW
            )
        )
    return messages


async def bench_adapter(settings: Settings, n: int) -> float:
    sender = build_sender(settings)
    messages = adapter_messages(n)
    start = time.perf_counter()
    results = await sender.send_batch(messages)
    elapsed = time.perf_counter() - start
    assert all(not isinstance(r, Exception) for r in results) and len(results) == n
    return elapsed


def scratch_database(url: str | None, work: Path):
    """Return (url, cleanup): a temp SQLite file, or a throw-away schema on PostgreSQL."""
    if not url:
        return f"sqlite:///{work / 'bench.db'}", lambda: None
    import uuid

    import sqlalchemy as sa

    schema = f"bench_mail_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))

    def drop() -> None:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{schema}", drop


def settings_for(database_url: str, smtp_port: int, dovecot: DovecotServer) -> Settings:
    """Return the Settings of one run: loopback servers, no rate limit."""
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        policies_dir=ROOT / "policies",
        templates_dir=ROOT / "templates",
        smtp_host="127.0.0.1",
        smtp_port=smtp_port,
        smtp_security="none",
        smtp_from="recouvrement@recouvra.example",
        smtp_rate_per_second=0,
        reply_to="recouvrement+{token}@recouvra.example",
        imap_host="127.0.0.1",
        imap_port=dovecot.port,
        imap_security="none",
        imap_username=dovecot.username,
        imap_password=dovecot.password,
        imap_processed_folder="Processed",
        imap_batch_size=100,
    )


def main() -> None:
    """Run the three measurements and print them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    n = args.messages
    work = Path(tempfile.mkdtemp(prefix="relance-bench-mail-"))
    work.chmod(0o755)
    dovecot = start_dovecot(work / "dovecot")
    counter = Counter()
    smtp_port = free_port()
    controller = Controller(counter, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    database_url, drop_database = scratch_database(args.database_url, work)
    try:
        settings = settings_for(database_url, smtp_port, dovecot)
        app = build_app(settings, actor="bench")

        adapter_s = asyncio.run(bench_adapter(settings, n))

        ids = seed(app, n)
        with session_scope(app.engine) as s:
            mids = [s.get(Draft, i).message_id for i in ids]
        mailbox = build_mailbox(settings)
        start = time.perf_counter()
        report = asyncio.run(send_outbox(app, build_sender(settings), mailbox, NOW))
        outbox_s = time.perf_counter() - start
        mailbox.close()
        assert len(report.sent) == n, report.as_dict()

        client = IMAPClient("127.0.0.1", port=dovecot.port, ssl=False)
        client.login(dovecot.username, dovecot.password)
        for i in range(n):
            client.append("INBOX", reply(i, mids[i]))
        client.logout()
        mailbox = build_mailbox(settings)
        start = time.perf_counter()
        ingest = ingest_inbox(app, mailbox, analyse=False)
        inbox_s = time.perf_counter() - start
        mailbox.close()
        assert ingest.stored == n, ingest.as_dict()
        app.close()
    finally:
        controller.stop()
        dovecot.stop()
        drop_database()
        shutil.rmtree(work, ignore_errors=True)

    figures = {
        "messages": n,
        "smtp_adapter_per_s": round(n / adapter_s, 1),
        "outbox_per_s": round(n / outbox_s, 1),
        "inbox_per_s": round(n / inbox_s, 1),
        "matched": ingest.matched,
        "unmatched": len(ingest.unmatched),
        "database": "postgresql" if args.database_url else "sqlite",
        "python": platform.python_version(),
    }
    if args.json:
        print(json.dumps(figures))
        return
    print(f"| mail benchmark ({n} messages, {figures['database']}) | messages/s |")
    print("|---|---:|")
    print(f"| SMTP adapter, one connection (aiosmtpd) | {figures['smtp_adapter_per_s']} |")
    print(
        f"| outbox: re-check, claim, SMTP, Sent copy (Dovecot), mark sent | {figures['outbox_per_s']} |"
    )
    print(
        f"| inbox: fetch (Dovecot), store raw, parse, match, extract, move | {figures['inbox_per_s']} |"
    )
    print(f"matched by method: {ingest.matched}; unmatched: {len(ingest.unmatched)}")


if __name__ == "__main__":
    main()
